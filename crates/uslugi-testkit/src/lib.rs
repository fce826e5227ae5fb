//! Test harness: [`TestApp`] runs the whole portal on a real loopback port with its own
//! database, on SQLite (default) or on PostgreSQL when `USLUGI_TEST_DATABASE_URL` names a server
//! (the test command sets it for the second run). Tests share nothing and may run in any order.
//!
//! ```no_run
//! # async fn t() {
//! let app = uslugi_testkit::TestApp::spawn().await;
//! let resp = app.get("/").await;
//! assert_eq!(resp.status(), 200);
//! # }
//! ```

#![expect(
    clippy::expect_used,
    reason = "test harness: a failed set-up must fail the test loudly"
)]

use std::{net::SocketAddr, path::PathBuf, process::Stdio};

use sea_orm::ConnectionTrait;
use uslugi_core::{Config, Keys, kernel::worker::PassStats};
use uslugi_store::{Backend, Db};
use uslugi_web::AppState;

/// Environment variable naming a PostgreSQL server to create test databases on.
pub const DATABASE_ENV: &str = "USLUGI_TEST_DATABASE_URL";

/// The backend the tests run on.
pub fn backend() -> Backend {
    match std::env::var(DATABASE_ENV) {
        Ok(url) if url.starts_with("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// A fresh, empty, migrated database for one test; returns its URL and the open pool.
pub async fn fresh_database() -> (String, Db) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let url = match std::env::var(DATABASE_ENV) {
        Ok(admin) if admin.starts_with("postgres") => {
            let admin_db = uslugi_store::connect(&admin, 2)
                .await
                .expect("connect to PostgreSQL");
            let name = format!("uslugi_test_{id}");
            admin_db
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin_db.close().await.ok();
            replace_database_name(&admin, &name)
        }
        _ => {
            let dir = std::env::temp_dir().join("uslugi-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!(
                "sqlite://{}?mode=rwc",
                dir.join(format!("{id}.db")).display()
            )
        }
    };
    let db = uslugi_store::connect(&url, 5)
        .await
        .expect("connect to the test database");
    uslugi_store::db::migrate(&db)
        .await
        .expect("migrate the test database");
    (url, db)
}

fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[prefix_end..].find('/') {
        Some(slash) => &base[..prefix_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A separate browser (own cookies, no redirects followed) with a User-Agent.
pub fn browser(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .user_agent(user_agent.to_owned())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A password that passes the policy for the test people.
pub const STRONG_PASSWORD: &str = "Зелёный-Чайник#42";

/// The portal running for one test.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The application state (database, configuration, keys).
    pub state: AppState,
    /// A client that keeps cookies, like a browser, and does not follow redirects.
    pub client: reqwest::Client,
    /// Database URL of this test.
    pub database_url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// Starts the portal with the development configuration.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Starts the portal after `adjust` has changed the configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let (database_url, db) = fresh_database().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut config = Config::development(
            listener.local_addr().expect("local addr"),
            database_url.clone(),
        );
        config.data_dir = std::env::temp_dir().join("uslugi-tests");
        config.worker.in_process = false;
        // Cheap hashes keep the suite fast; the production strength is tested in uslugi-core.
        config.auth.argon2_memory_kib = 1024;
        config.auth.argon2_iterations = 1;
        config.registries.check_delay_secs = 0;
        // Answers held for even timing would only slow the suite; its own test turns it on.
        config.auth.even_timing_ms = 0;
        adjust(&mut config);
        let keys = Keys::generate().expect("keys");
        TestApp::start(listener, database_url, db, config, keys)
    }

    /// A second portal over this one's database and configuration, with other keys (a node
    /// restarted after its key file changed).
    pub async fn restarted_with(&self, keys: Keys) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut config = (*self.state.config).clone();
        config.addr = listener.local_addr().expect("local addr");
        config.public_url = format!("http://{}", config.addr);
        TestApp::start(
            listener,
            self.database_url.clone(),
            self.state.db.clone(),
            config,
            keys,
        )
    }

    fn start(
        listener: tokio::net::TcpListener,
        database_url: String,
        db: Db,
        config: Config,
        keys: Keys,
    ) -> TestApp {
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        // The read pool as the binary opens it, so the suite goes through it too.
        let reader = uslugi_store::reader::Reader::open(&database_url, &db, 2).expect("reader");
        let state = AppState::with_reader(db, reader, config, keys).expect("state");
        let serving = state.clone();
        let server = tokio::spawn(async move {
            let _ = uslugi_web::server::serve(listener, serving, std::future::pending()).await;
        });
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            base_url: format!("http://{addr}"),
            state,
            client,
            database_url,
            server,
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// An absolute URL for a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// `GET path`, returning status and body.
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    /// A JSON API call from this origin with the main client's cookies: the status and the
    /// body as JSON (a body that is not JSON comes back as a JSON string).
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .client
            .request(method.parse().expect("method"), self.url(path))
            .header("origin", &self.base_url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// `POST path` with a form, as a browser on this origin would send it.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("origin", &self.base_url)
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// As `client` (another browser): loads `page`, takes its CSRF token and posts `fields` to
    /// `action` from this origin.
    pub async fn submit_as(
        &self,
        client: &reqwest::Client,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let html = client
            .get(self.url(page))
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("body");
        let token = hidden_value(&html, "csrf_token").unwrap_or_else(|| {
            panic!(
                "no form on {page}: {}",
                html.chars().take(300).collect::<String>()
            )
        });
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        client
            .post(self.url(action))
            .header("origin", &self.base_url)
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    /// Loads a page and returns the value of its hidden input `name`.
    pub async fn hidden_field(&self, path: &str, name: &str) -> String {
        let (_, html) = self.get_text(path).await;
        hidden_value(&html, name).unwrap_or_else(|| panic!("no hidden field {name} on {path}"))
    }

    /// Runs one pass of the background worker with the configured adapters.
    pub async fn worker_pass(&self) -> PassStats {
        uslugi_app::worker(&self.state.config, self.state.db.clone(), &self.state.keys)
            .expect("worker")
            .run_pass()
            .await
            .expect("worker pass")
    }

    /// Runs worker passes until one finds nothing due (jobs may enqueue messages).
    pub async fn drain_worker(&self) {
        for _ in 0..10 {
            if self.worker_pass().await == PassStats::default() {
                return;
            }
        }
    }

    /// Runs the worker dry, then returns the newest development message to `to`.
    pub async fn last_message_to(&self, to: &str) -> serde_json::Value {
        self.drain_worker().await;
        self.dev_outbox()
            .await
            .into_iter()
            .find(|m| m["to"] == to)
            .unwrap_or_else(|| panic!("no message to {to}"))
    }

    /// The 6-digit code in the newest SMS to `phone` (E.164).
    pub async fn sms_code(&self, phone: &str) -> String {
        let msg = self.last_message_to(phone).await;
        let body = msg["body"].as_str().expect("body");
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {body}"))
            .to_owned()
    }

    /// The path of the first link to this portal in the newest e-mail to `email`.
    pub async fn email_link(&self, email: &str) -> String {
        let msg = self.last_message_to(email).await;
        let body = msg["body"].as_str().expect("body");
        let base = &self.state.config.public_url;
        let at = body
            .find(base.as_str())
            .unwrap_or_else(|| panic!("no link in {body}"));
        body[at + base.len()..]
            .split_whitespace()
            .next()
            .expect("link")
            .to_owned()
    }

    /// The `Location` of a redirect response.
    pub fn location(resp: &reqwest::Response) -> String {
        resp.headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Confirms the password on `/security/confirm` for the signed-in main client.
    pub async fn reauthenticate(&self, next: &str) {
        let r = self
            .submit_as(
                &self.client,
                &format!("/security/confirm?next={next}"),
                "/security/confirm",
                &[("password", STRONG_PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(TestApp::location(&r), next);
    }

    /// Turns the authenticator app on for the signed-in main client; returns the secret and
    /// the backup codes shown.
    pub async fn enable_totp(&self) -> (String, Vec<String>) {
        self.reauthenticate("/security/factors/totp").await;
        let (status, page) = self.get_text("/security/factors/totp").await;
        assert_eq!(status, 200);
        assert!(page.contains("<svg"), "QR code shown");
        let start = page.find(r#"id="secret">"#).expect("secret shown") + r#"id="secret">"#.len();
        let secret: String = page[start..]
            .split('<')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert_eq!(secret.len(), 32, "160-bit secret in base32");
        let token = hidden_value(&page, "csrf_token").expect("form");
        let r = self
            .post_form(
                "/security/factors/totp",
                &[
                    ("csrf_token", &token),
                    ("code", &oathtool(&secret, now_secs())),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.expect("body");
        assert!(page.contains("Резервные коды"), "{page}");
        let list = page
            .split(r#"id="backup-codes">"#)
            .nth(1)
            .and_then(|l| l.split("</ol>").next())
            .expect("codes listed");
        let codes = list
            .split("<li>")
            .skip(1)
            .map(|c| c.split('<').next().unwrap_or_default().to_owned())
            .collect();
        (secret, codes)
    }

    /// Signs the main client out.
    pub async fn sign_out(&self) {
        let r = self
            .submit_as(&self.client, "/cabinet", "/logout", &[])
            .await;
        assert!(r.status().is_redirection());
    }

    /// Posts the login form for the main client with the test password.
    pub async fn password_step(&self, login: &str) -> reqwest::Response {
        self.submit_as(
            &self.client,
            "/login",
            "/login",
            &[("login", login), ("password", STRONG_PASSWORD)],
        )
        .await
    }

    /// Registers a person by phone through the pages and leaves them signed in.
    pub async fn register_by_phone(&self, last: &str, first: &str, phone_e164: &str) {
        self.register_named(last, first, None, phone_e164).await;
    }

    /// Registers a person with a middle name (when they have one) by phone and leaves them
    /// signed in.
    pub async fn register_named(
        &self,
        last: &str,
        first: &str,
        middle: Option<&str>,
        phone_e164: &str,
    ) {
        let token = self.hidden_field("/register", "csrf_token").await;
        let r = self
            .post_form(
                "/register",
                &[
                    ("csrf_token", &token),
                    ("last_name", last),
                    ("first_name", first),
                    ("middle_name", middle.unwrap_or_default()),
                    ("phone", phone_e164),
                ],
            )
            .await;
        assert_eq!(TestApp::location(&r), "/register/confirm", "start");
        let code = self.sms_code(phone_e164).await;
        let token = self.hidden_field("/register/confirm", "csrf_token").await;
        let r = self
            .post_form(
                "/register/confirm",
                &[("csrf_token", &token), ("code", &code)],
            )
            .await;
        assert_eq!(TestApp::location(&r), "/register/password", "code");
        let token = self.hidden_field("/register/password", "csrf_token").await;
        let r = self
            .post_form(
                "/register/password",
                &[
                    ("csrf_token", &token),
                    ("password", STRONG_PASSWORD),
                    ("password_confirmation", STRONG_PASSWORD),
                    ("consent", "yes"),
                ],
            )
            .await;
        assert_eq!(TestApp::location(&r), "/cabinet", "password");
    }

    /// The development outbox as JSON values, newest first.
    pub async fn dev_outbox(&self) -> Vec<serde_json::Value> {
        self.get("/dev/outbox.json")
            .await
            .json()
            .await
            .expect("outbox JSON")
    }
}

/// A real SMTP server (Python's aiosmtpd, installed by the test command) on a free loopback
/// port, storing what it receives in a Maildir. Stopped when dropped.
#[derive(Debug)]
pub struct SmtpServer {
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Maildir the messages land in.
    pub maildir: PathBuf,
    child: std::process::Child,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

impl SmtpServer {
    /// Starts the server and waits until it accepts connections.
    pub async fn start() -> SmtpServer {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let maildir = std::env::temp_dir()
            .join("uslugi-tests")
            .join(format!("maildir-{}", uuid::Uuid::new_v4().simple()));
        let python = std::env::var("USLUGI_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = std::process::Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd (python3 -m pip install aiosmtpd; scripts/test does this)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return SmtpServer {
                    port,
                    maildir,
                    child,
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start on port {port}: is the aiosmtpd package installed?");
    }

    /// The raw messages received so far.
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for e in entries.flatten() {
                    if let Ok(text) = std::fs::read_to_string(e.path()) {
                        out.push(text);
                    }
                }
            }
        }
        out
    }
}

/// The `value` of the first `<input … name="NAME" … value="…">` in `html`.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let at = html.find(&needle)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + 7;
    let end = tag[v..].find('"')?;
    Some(tag[v..v + end].to_owned())
}

/// The TOTP code for `secret` at `unix` seconds, computed by Debian's `oathtool` (not by our
/// code), as an authenticator app would show it.
pub fn oathtool(secret: &str, unix: i64) -> String {
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", "-N", &format!("@{unix}"), secret])
        .output()
        .expect("oathtool is installed by scripts/test (Debian package oathtool)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("oathtool prints digits")
        .trim()
        .to_owned()
}

/// Now, in Unix seconds.
pub fn now_secs() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs(),
    )
    .expect("seconds fit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_in_postgres_urls() {
        assert_eq!(
            replace_database_name("postgres://u@127.0.0.1:5433/postgres", "t1"),
            "postgres://u@127.0.0.1:5433/t1"
        );
        assert_eq!(
            replace_database_name("postgres://u@127.0.0.1:5433?sslmode=disable", "t1"),
            "postgres://u@127.0.0.1:5433/t1?sslmode=disable"
        );
    }

    #[test]
    fn hidden_value_finds_the_named_input() {
        let html = r#"<form><input type="hidden" name="a" value="1"><input type="hidden" name="csrf_token" value="xyz"></form>"#;
        assert_eq!(hidden_value(html, "csrf_token").as_deref(), Some("xyz"));
        assert_eq!(hidden_value(html, "missing"), None);
    }
}

/// Someone the test builders made: their account and how they sign in.
#[derive(Debug, Clone)]
pub struct Person {
    /// The account.
    pub account_id: uuid::Uuid,
    /// The confirmed phone (E.164), their login.
    pub phone: String,
    /// The demo person whose data they carry (standard accounts).
    pub data: Option<uslugi_core::identity::registries::DemoPerson>,
}

/// A staff member the builders made: the person and the authenticator app's secret.
#[derive(Debug, Clone)]
pub struct StaffMember {
    /// The person.
    pub person: Person,
    /// The TOTP secret of their authenticator app.
    pub totp_secret: String,
    /// Their unused backup codes (one was used to sign in).
    pub backup_codes: Vec<String>,
}

/// A synthetic person of the simulated registries by their case (`ok`, …).
pub fn demo_person(case: &str) -> uslugi_core::identity::registries::DemoPerson {
    uslugi_core::identity::registries::SimulatedRegistries::shared()
        .expect("registries")
        .demo_people()
        .into_iter()
        .find(|p| p.case == case)
        .unwrap_or_else(|| panic!("no demo person of case {case}"))
}

/// The personal-data form of a demo person, as `/profile/personal` takes it.
pub fn personal_form(
    p: &uslugi_core::identity::registries::DemoPerson,
) -> Vec<(&'static str, String)> {
    vec![
        ("sex", p.sex.clone()),
        ("birth_date", p.birth_date.clone()),
        ("birth_place", p.birth_place.clone()),
        ("passport_series", p.passport.series.clone()),
        ("passport_number", p.passport.number.clone()),
        ("passport_issued_on", p.passport.issued_on.clone()),
        ("passport_issuer", p.passport.issuer.clone()),
        ("division_code", p.passport.division_code.clone()),
        ("snils", p.snils.clone()),
        ("inn", p.inn.clone()),
        ("address", p.address.clone()),
    ]
}

impl TestApp {
    /// The account of a confirmed phone.
    pub async fn account_of(&self, phone_e164: &str) -> uuid::Uuid {
        uslugi_core::identity::roles::find_account(self.db(), &self.state.keys, phone_e164)
            .await
            .expect("an account with that phone")
    }

    /// A citizen with a simplified account, registered by phone through the pages and signed in
    /// with the main client.
    pub async fn signed_in_citizen(&self, phone_e164: &str) -> Person {
        self.register_by_phone("Смирнова", "Анна", phone_e164).await;
        Person {
            account_id: self.account_of(phone_e164).await,
            phone: phone_e164.to_owned(),
            data: None,
        }
    }

    /// A citizen with a standard account: registered as the demo person whose data all match,
    /// personal data submitted and verified by the simulated registries; signed in.
    pub async fn standard_citizen(&self, phone_e164: &str) -> Person {
        let p = demo_person("ok");
        self.register_named(
            &p.last_name,
            &p.first_name,
            p.middle_name.as_deref(),
            phone_e164,
        )
        .await;
        let fields = personal_form(&p);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.submit_as(
            &self.client,
            "/profile/personal",
            "/profile/personal",
            &pairs,
        )
        .await;
        self.drain_worker().await;
        Person {
            account_id: self.account_of(phone_e164).await,
            phone: phone_e164.to_owned(),
            data: Some(p),
        }
    }

    /// A staff member with `role` (bound to `scope`: an office for an operator, an agency for an
    /// officer, nothing for an administrator) and the authenticator app on, signed in again after
    /// the grant (which ended their sessions) with the app's code.
    pub async fn staff_member(
        &self,
        phone_e164: &str,
        role: uslugi_domain::Role,
        scope: Option<&str>,
    ) -> StaffMember {
        let person = self.signed_in_citizen(phone_e164).await;
        let (totp_secret, mut backup_codes) = self.enable_totp().await;
        let (office, agency) = match role.scope_kind() {
            uslugi_domain::ScopeKind::Office => (scope, None),
            uslugi_domain::ScopeKind::Agency => (None, scope),
            uslugi_domain::ScopeKind::Portal => (None, None),
        };
        let grant =
            uslugi_core::identity::roles::Grant::new(role, office, agency).expect("a grant");
        uslugi_core::identity::roles::grant(self.db(), person.account_id, &grant, "test")
            .await
            .expect("granted");
        // A backup code, not the app's: the app's code just used to turn it on may still be
        // the current one, and a code is good once.
        let code = backup_codes.remove(0);
        self.sign_in_second_step(phone_e164, "backup", &code).await;
        StaffMember {
            person,
            totp_secret,
            backup_codes,
        }
    }

    /// Signs the main client in with the test password and the authenticator app's next code.
    pub async fn sign_in_with_totp(&self, phone_e164: &str, totp_secret: &str) {
        self.sign_in_second_step(phone_e164, "totp", &oathtool(totp_secret, now_secs() + 30))
            .await;
    }

    /// Signs the main client in with the test password and `code` of the second-step `method`
    /// (`totp`, `backup`): an app's code is good once, so a second sign-in within its 30
    /// seconds takes a backup code.
    pub async fn sign_in_second_step(&self, phone_e164: &str, method: &str, code: &str) {
        self.password_step(phone_e164).await;
        let r = self
            .submit_as(
                &self.client,
                "/login/factor",
                "/login/factor",
                &[("method", method), ("code", code)],
            )
            .await;
        if TestApp::location(&r) != "/cabinet" {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            panic!("not signed in with {method}: {status} {body}");
        }
    }
}
