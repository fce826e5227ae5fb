//! Configuration loading: defaults, then `uslugi.toml` (given by `--config`, or in the working
//! directory), then the environment and the command line (clap merges those two).

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use uslugi_core::{
    Config, Mode,
    kernel::config::{
        AuthConfig, BankConfig, CaptchaConfig, DeliveryConfig, EsiaConfig, RegistriesConfig,
        SupportConfig, WebConfig, WorkerConfig,
    },
};

const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const DEFAULT_DATABASE_URL: &str = "sqlite://data/uslugi.db?mode=rwc";

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: ./uslugi.toml if it exists).
    #[arg(long, global = true, env = "USLUGI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://… or postgres://… [default: sqlite://data/uslugi.db?mode=rwc]
    #[arg(long, global = true, env = "USLUGI_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Production mode: refuses to start without configured keys or with the development outbox.
    #[arg(long, global = true, env = "USLUGI_PRODUCTION")]
    pub production: bool,
    /// Key file for personal-data encryption (required in production).
    #[arg(long, global = true, env = "USLUGI_KEYS_FILE")]
    pub keys_file: Option<PathBuf>,
    /// Directory for local state: development keys, uploads [default: data]
    #[arg(long, global = true, env = "USLUGI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Options of `serve`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "USLUGI_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Public URL of the portal, used in links sent by SMS and e-mail and as the OIDC issuer
    /// [default: http:// + the address]
    #[arg(long, env = "USLUGI_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve a development portal on an address other hosts can reach. Development mode
    /// publishes every code it "sends" at /dev/outbox, so this is refused unless asked for.
    #[arg(long, env = "USLUGI_ALLOW_PUBLIC_DEVELOPMENT")]
    pub allow_public_development: bool,
}

/// The file format; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    mode: Option<Mode>,
    addr: Option<SocketAddr>,
    database_url: Option<String>,
    database_max_connections: Option<u32>,
    database_read_connections: Option<u32>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    keys_file: Option<PathBuf>,
    delivery: Option<DeliveryConfig>,
    web: Option<WebConfig>,
    worker: Option<WorkerConfig>,
    support: Option<SupportConfig>,
    auth: Option<AuthConfig>,
    registries: Option<RegistriesConfig>,
    captcha: Option<CaptchaConfig>,
    esia: Option<EsiaConfig>,
    banks: Option<Vec<BankConfig>>,
}

/// Builds the configuration.
pub fn load(global: &GlobalArgs, serve: &ServeArgs) -> anyhow::Result<Config> {
    let path = global.config.clone().or_else(|| {
        let p = PathBuf::from("uslugi.toml");
        p.exists().then_some(p)
    });
    let file: FileConfig = match &path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("invalid {}", p.display()))?
        }
        None => FileConfig::default(),
    };
    let addr = match serve.addr.or(file.addr) {
        Some(a) => a,
        None => DEFAULT_ADDR.parse().context("default address")?,
    };
    let mode = if global.production {
        Mode::Production
    } else {
        file.mode.unwrap_or_default()
    };
    if mode == Mode::Development && !addr.ip().is_loopback() && !serve.allow_public_development {
        anyhow::bail!(
            "refusing to serve a development portal on {addr}: it publishes every code it sends at /dev/outbox; listen on 127.0.0.1, run with --production, or pass --allow-public-development"
        );
    }
    let public_url = serve
        .public_url
        .clone()
        .or(file.public_url)
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
        anyhow::bail!("public URL must start with http:// or https://");
    }
    Ok(Config {
        mode,
        addr,
        database_url: global
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
        database_max_connections: file.database_max_connections.unwrap_or(10),
        database_read_connections: file.database_read_connections.unwrap_or(4),
        public_url,
        data_dir: global
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data")),
        keys_file: global.keys_file.clone().or(file.keys_file),
        delivery: file.delivery.unwrap_or_default(),
        web: file.web.unwrap_or_default(),
        worker: file.worker.unwrap_or_default(),
        support: file.support.unwrap_or_default(),
        auth: file.auth.unwrap_or_default(),
        registries: file.registries.unwrap_or_default(),
        captcha: file.captcha.unwrap_or_default(),
        esia: file.esia.unwrap_or_default(),
        banks: file.banks.unwrap_or_default(),
    })
}
