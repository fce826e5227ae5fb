//! Run-time configuration. The binary fills it from defaults, an optional `uslugi.toml`, the
//! environment and the command line; every other layer only reads it.

use std::{net::SocketAddr, path::PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

/// Development (local run: generated keys, development outbox) or production (everything
/// configured explicitly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The default for a local run.
    #[default]
    Development,
    /// Refuses to start without configured keys or with the development outbox.
    Production,
}

/// Everything the portal needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Development or production.
    pub mode: Mode,
    /// Listening address.
    pub addr: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Connections in the pool (PostgreSQL; SQLite always writes through one).
    pub database_max_connections: u32,
    /// SQLite: read-only connections kept for page reads beside the one writer.
    pub database_read_connections: u32,
    /// The URL people reach the portal at, without a trailing slash; used in links sent by SMS
    /// and e-mail and as the OIDC issuer.
    pub public_url: String,
    /// Directory for local state (generated development keys, uploads).
    pub data_dir: PathBuf,
    /// Key file to read (production) or to create (development).
    pub keys_file: Option<PathBuf>,
    /// Delivery adapters.
    pub delivery: DeliveryConfig,
    /// Web settings.
    pub web: WebConfig,
    /// Worker settings.
    pub worker: WorkerConfig,
    /// Support contacts shown in the footer.
    pub support: SupportConfig,
    /// Registration, codes and passwords.
    pub auth: AuthConfig,
    /// State registries.
    pub registries: RegistriesConfig,
    /// The captcha asked after repeated failed sign-ins.
    pub captcha: CaptchaConfig,
    /// ESIA-compatible endpoints.
    pub esia: EsiaConfig,
    /// Partner banks people can sign in through («Войти через банк»).
    pub banks: Vec<BankConfig>,
}

/// A partner bank: an OpenID Connect provider the portal is registered with as a client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankConfig {
    /// Short id used in addresses (`/login/bank/{id}`): letters, digits, `-`.
    pub id: String,
    /// The bank's name on the buttons and in the cabinet.
    pub name: String,
    /// The bank's issuer (its discovery document is read from there).
    pub issuer: String,
    /// The portal's client id at the bank.
    pub client_id: String,
    /// The portal's client secret at the bank (never printed by `Debug`).
    pub client_secret: SecretString,
    /// Scopes to ask for.
    #[serde(default = "default_bank_scopes")]
    pub scopes: String,
}

fn default_bank_scopes() -> String {
    "openid profile phone snils".into()
}

/// ESIA-compatible endpoints (`/aas/oauth2/…`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EsiaConfig {
    /// The `iss` of tokens issued there (default: the public URL). ESIA client libraries often
    /// compare it with Gosuslugi's own `http://esia.gosuslugi.ru/`; a region moving such
    /// integrations over sets that here instead of changing their code.
    pub issuer: Option<String>,
}

/// State registries: which adapter, and how long the simulated one takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistriesConfig {
    /// The check runs this long after the data is submitted (the simulated registries answer
    /// through the jobs table, so the waiting state is real).
    pub check_delay_secs: i64,
    /// `simulated` (synthetic people shipped with the portal; refused in production) or `http`.
    pub adapter: RegistriesAdapter,
    /// The HTTP adapter's base URL; `/passport`, `/snils` and `/inn` are appended.
    pub url: Option<String>,
    /// The key the HTTP adapter signs its requests with (HMAC-SHA256, shared with the gateway).
    pub signing_key: Option<SecretString>,
    /// Time allowed for one request, in milliseconds.
    pub timeout_ms: u64,
    /// Further tries after a timeout, an unreachable gateway, 429 or 5xx.
    pub retries: u32,
}

/// Which adapter answers for the state registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistriesAdapter {
    /// Built-in synthetic registries (development and demonstrations).
    Simulated,
    /// A gateway speaking the JSON contract of `docs/registries.md`.
    Http,
}

impl Default for RegistriesConfig {
    fn default() -> Self {
        RegistriesConfig {
            check_delay_secs: 3,
            adapter: RegistriesAdapter::Simulated,
            url: None,
            signing_key: None,
            timeout_ms: 5000,
            retries: 2,
        }
    }
}

/// The captcha: the built-in question, or Yandex SmartCaptcha.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptchaConfig {
    /// `builtin` (a question in Russian words, no third party) or `smartcaptcha`.
    pub provider: CaptchaProvider,
    /// SmartCaptcha's client key (shown in the page).
    pub site_key: Option<String>,
    /// SmartCaptcha's server key (sent only to its validation API).
    pub server_key: Option<SecretString>,
    /// SmartCaptcha's validation API.
    pub validate_url: String,
    /// SmartCaptcha's widget script.
    pub script_url: String,
    /// Time allowed for one validation request, in milliseconds.
    pub timeout_ms: u64,
    /// Production mode refuses the built-in question (a script solves it) unless this is set.
    pub allow_builtin_in_production: bool,
}

/// Which captcha is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptchaProvider {
    /// The built-in question.
    Builtin,
    /// Yandex SmartCaptcha.
    SmartCaptcha,
}

impl Default for CaptchaConfig {
    fn default() -> Self {
        CaptchaConfig {
            provider: CaptchaProvider::Builtin,
            site_key: None,
            server_key: None,
            validate_url: "https://smartcaptcha.yandexcloud.net/validate".into(),
            script_url: "https://smartcaptcha.yandexcloud.net/captcha.js".into(),
            timeout_ms: 3000,
            allow_builtin_in_production: false,
        }
    }
}

/// Limits of one-time codes and links, and the password hashing strength.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// An SMS code is valid this long.
    pub code_ttl_secs: i64,
    /// Wrong tries that void a code.
    pub code_attempts: i32,
    /// Wait before «Получить код повторно».
    pub resend_after_secs: i64,
    /// Codes and links per phone or e-mail per hour.
    pub sends_per_target_per_hour: u64,
    /// Codes and links per client IP per hour.
    pub sends_per_client_per_hour: u64,
    /// An e-mail link is valid this long.
    pub email_link_ttl_hours: i64,
    /// After a confirmed code, the password must be set within this time.
    pub confirmed_ttl_minutes: i64,
    /// Argon2id memory in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id passes.
    pub argon2_iterations: u32,
    /// Argon2id lanes.
    pub argon2_parallelism: u32,
    /// Failed sign-ins per login within 15 minutes before throttling (429).
    pub login_failures_per_login: u64,
    /// Failed sign-ins per client within 15 minutes before throttling (429).
    pub login_failures_per_client: u64,
    /// Failed sign-ins from strangers (within 15 minutes) after which the owner is told. Nothing
    /// is blocked: failures only make the next try wait (see `login_delay_cap_secs`). The old
    /// name `lockout_after_failures` is still read.
    #[serde(alias = "lockout_after_failures")]
    pub notify_owner_after_failures: u64,
    /// The longest wait between sign-in tries after repeated failures (1, 3, 5, 10, 20, 40 s, …).
    pub login_delay_cap_secs: i64,
    /// Failed sign-ins per login or per client within 15 minutes after which the captcha is asked.
    /// A failed sign-in and every answer to a recovery request take at least this long (ms),
    /// so that an existing account's longer path (its journal, its notices, the code sent)
    /// cannot be told from a missing one by the time it takes. 0 turns it off.
    pub even_timing_ms: u64,
    pub captcha_after_failures: u64,
    /// Behind this many trusted reverse proxies, take the client IP from `X-Forwarded-For`,
    /// counting from the right (the entries the proxies appended); 0 uses the peer address.
    pub trusted_proxy_hops: usize,
    /// Adding or removing a second factor needs a sign-in or password check this recent.
    pub reauth_window_secs: i64,
    /// Wrong second-factor codes per account within 15 minutes before throttling.
    pub factor_failures_per_account: u64,
    /// A deactivated account is deleted after this many days unless its owner signs in.
    pub deactivation_grace_days: i64,
    /// A new or changed phone or e-mail takes effect for sign-in and recovery only after this
    /// many hours, during which the old contacts can cancel it (0: at once).
    pub contact_change_delay_hours: i64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            code_ttl_secs: 300,
            code_attempts: 3,
            resend_after_secs: 60,
            sends_per_target_per_hour: 5,
            sends_per_client_per_hour: 5,
            email_link_ttl_hours: 24,
            confirmed_ttl_minutes: 30,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            login_failures_per_login: 10,
            login_failures_per_client: 30,
            notify_owner_after_failures: 10,
            login_delay_cap_secs: 60,
            captcha_after_failures: 3,
            even_timing_ms: 300,
            trusted_proxy_hops: 0,
            reauth_window_secs: 300,
            factor_failures_per_account: 10,
            deactivation_grace_days: 30,
            contact_change_delay_hours: 24,
        }
    }
}

/// Where SMS and e-mail go.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// SMS adapter.
    pub sms: SmsConfig,
    /// E-mail adapter.
    pub email: EmailConfig,
}

/// SMS adapter choice.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(tag = "adapter", rename_all = "lowercase", deny_unknown_fields)]
pub enum SmsConfig {
    /// Stored in the development outbox.
    #[default]
    Dev,
    /// An HTTP SMS gateway.
    Http(HttpSmsConfig),
}

/// An HTTP SMS gateway: one request per message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSmsConfig {
    /// Gateway URL.
    pub url: String,
    /// Request body; `{to}` (E.164 phone) and `{text}` are replaced, JSON-escaped when the
    /// content type is JSON and form-encoded otherwise.
    #[serde(default = "default_sms_template")]
    pub body_template: String,
    /// Content type of the body.
    #[serde(default = "default_sms_content_type")]
    pub content_type: String,
    /// Sent as `Authorization: Bearer …` when set.
    #[serde(default)]
    pub bearer_token: Option<SecretString>,
    /// Request timeout in seconds.
    #[serde(default = "default_gateway_timeout")]
    pub timeout_secs: u64,
}

fn default_sms_template() -> String {
    r#"{"to":"{to}","text":"{text}"}"#.to_owned()
}
fn default_sms_content_type() -> String {
    "application/json".to_owned()
}
fn default_gateway_timeout() -> u64 {
    10
}

/// E-mail adapter choice.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(tag = "adapter", rename_all = "lowercase", deny_unknown_fields)]
pub enum EmailConfig {
    /// Stored in the development outbox.
    #[default]
    Dev,
    /// An SMTP relay.
    Smtp(SmtpConfig),
}

/// How to talk TLS to the SMTP relay.
#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection (only for a relay on loopback).
    None,
    /// STARTTLS, required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// SMTP relay settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Relay host name.
    pub host: String,
    /// Relay port.
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// TLS mode.
    #[serde(default)]
    pub tls: SmtpTls,
    /// Login, if the relay wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for the login.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// Sender address, e.g. `Госуслуги <noreply@example.ru>`.
    pub from: String,
    /// Timeout in seconds.
    #[serde(default = "default_gateway_timeout")]
    pub timeout_secs: u64,
}

fn default_smtp_port() -> u16 {
    587
}

/// Web-layer settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Largest request body in bytes (uploads get their own limit later).
    pub body_limit_bytes: usize,
    /// Time allowed to handle one request.
    pub request_timeout_secs: u64,
    /// A session ends after this long without a request.
    pub session_idle_minutes: i64,
    /// A session ends this long after it started, whatever the activity.
    pub session_absolute_hours: i64,
    /// Send HSTS and `Secure` cookies; on by default when the public URL is https.
    pub tls: Option<bool>,
    /// When set, `/metrics` requires `Authorization: Bearer <token>`.
    pub metrics_token: Option<SecretString>,
    /// Largest request line and header block in bytes (at least 8192); more gets 431.
    pub header_limit_bytes: usize,
    /// A connection that has not sent a whole request header within this many seconds is closed.
    pub header_read_timeout_secs: u64,
    /// A connection that has sent nothing for this many seconds is closed (after the answer in
    /// progress, if any).
    pub idle_timeout_secs: u64,
    /// Open connections allowed from one address (0: no cap). Not applied when
    /// `auth.trusted_proxy_hops` is set: then every connection comes from the proxy, which must
    /// limit its clients itself.
    pub max_connections_per_client: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            body_limit_bytes: 64 * 1024,
            request_timeout_secs: 30,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            tls: None,
            metrics_token: None,
            header_limit_bytes: 32 * 1024,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections_per_client: 512,
        }
    }
}

/// Background worker settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Run the worker inside `serve`.
    pub in_process: bool,
    /// How often to look for due work, in milliseconds.
    pub poll_interval_ms: u64,
    /// Attempts before a message goes to the dead-letter state.
    pub max_attempts: i32,
    /// First retry delay in seconds; doubles on each attempt.
    pub backoff_base_secs: i64,
    /// Longest retry delay in seconds.
    pub backoff_max_secs: i64,
    /// How long a claim holds before another worker may take the row over.
    pub lease_secs: i64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            in_process: true,
            poll_interval_ms: 500,
            max_attempts: 8,
            backoff_base_secs: 5,
            backoff_max_secs: 3600,
            lease_secs: 60,
        }
    }
}

/// Support contacts for the footer.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportConfig {
    /// Phone as shown.
    pub phone: String,
    /// Phone for the `tel:` link.
    pub phone_href: String,
    /// Support e-mail.
    pub email: String,
}

impl Default for SupportConfig {
    fn default() -> Self {
        SupportConfig {
            phone: "8 800 100-70-10".to_owned(),
            phone_href: "+78001007010".to_owned(),
            email: "support@uslugi.local".to_owned(),
        }
    }
}

impl Config {
    /// A development configuration for the given address and database.
    pub fn development(addr: SocketAddr, database_url: String) -> Config {
        Config {
            mode: Mode::Development,
            addr,
            database_url,
            database_max_connections: 10,
            database_read_connections: 4,
            public_url: format!("http://{addr}"),
            data_dir: PathBuf::from("data"),
            keys_file: None,
            delivery: DeliveryConfig::default(),
            web: WebConfig::default(),
            worker: WorkerConfig::default(),
            support: SupportConfig::default(),
            auth: AuthConfig::default(),
            registries: RegistriesConfig::default(),
            captcha: CaptchaConfig::default(),
            esia: EsiaConfig::default(),
            banks: Vec::new(),
        }
    }

    /// Whether the portal is served over TLS (HSTS, `Secure` cookies).
    pub fn serves_tls(&self) -> bool {
        self.web
            .tls
            .unwrap_or_else(|| self.public_url.starts_with("https://"))
    }

    /// Whether the development outbox is in use for any channel.
    pub fn uses_dev_outbox(&self) -> bool {
        matches!(self.delivery.sms, SmsConfig::Dev)
            || matches!(self.delivery.email, EmailConfig::Dev)
    }

    /// Checks the production rules; returns what is wrong, in English for operators.
    pub fn production_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.mode != Mode::Production {
            return problems;
        }
        if self.keys_file.is_none() {
            problems.push(
                "no key file configured: set keys_file in uslugi.toml or USLUGI_KEYS_FILE".into(),
            );
        }
        if matches!(self.delivery.sms, SmsConfig::Dev) {
            problems.push("the development outbox is configured for SMS: configure [delivery.sms] adapter = \"http\"".into());
        }
        if !self.serves_tls() {
            problems.push("the public URL is not https: sessions need TLS (set public_url to https://…, or web.tls = true behind a TLS proxy)".into());
        }
        if let EmailConfig::Smtp(smtp) = &self.delivery.email
            && smtp.tls == SmtpTls::None
            && !matches!(smtp.host.as_str(), "127.0.0.1" | "::1" | "localhost")
        {
            problems.push("SMTP without TLS is allowed only to a relay on loopback".into());
        }
        if self.support.email.ends_with(".local") {
            problems.push("support.email is the placeholder: set the real support address".into());
        }
        if self.captcha.provider == CaptchaProvider::Builtin
            && !self.captcha.allow_builtin_in_production
        {
            problems.push("the built-in captcha is configured: a script answers it; configure [captcha] provider = \"smartcaptcha\" (or set allow_builtin_in_production = true knowingly)".into());
        }
        if self.captcha.provider == CaptchaProvider::SmartCaptcha
            && (self.captcha.site_key.is_none() || self.captcha.server_key.is_none())
        {
            problems
                .push("[captcha] provider = \"smartcaptcha\" needs site_key and server_key".into());
        }
        if self.registries.adapter == RegistriesAdapter::Simulated {
            problems.push("the simulated state registries are configured: real people must never be checked against synthetic data; configure [registries] adapter = \"http\"".into());
        }
        if self.registries.adapter == RegistriesAdapter::Http
            && (self.registries.url.is_none() || self.registries.signing_key.is_none())
        {
            problems.push("[registries] adapter = \"http\" needs url and signing_key".into());
        }
        if matches!(self.delivery.email, EmailConfig::Dev) {
            problems.push("the development outbox is configured for e-mail: configure [delivery.email] adapter = \"smtp\"".into());
        }
        problems
    }
}
