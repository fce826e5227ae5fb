//! `uslugi`: the one binary. `serve` (default) runs the portal with its worker; `migrate` brings
//! the database schema up to date; `worker` runs the background worker alone for scale-out.

mod settings;

/// mimalloc instead of glibc malloc: per-request allocations cost measurably less (see
/// docs/benchmarks.md), and freed memory goes back to the system instead of staying with the
/// thread that freed it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::sync::watch;
use uslugi_core::{Config, Keys, Mode};
use uslugi_web::AppState;

/// Uslugi: citizen identity provider and e-government services portal.
#[derive(Debug, Parser)]
#[command(name = "uslugi", version, about)]
struct Cli {
    #[command(flatten)]
    global: settings::GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the portal (and, by default, the background worker). The default command.
    Serve(settings::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run only the background worker (outbox delivery, jobs).
    Worker,
    /// Administration: client services, signing keys.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Debug, Subcommand)]
enum Admin {
    /// Client services that sign their users in through the portal.
    #[command(subcommand)]
    Clients(Box<ClientsCommand>),
    /// Token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The personal-data key: a rotation in stages (add, activate, re-encrypt, retire).
    #[command(subcommand, name = "data-keys")]
    DataKeys(DataKeysCommand),
    /// Staff roles: operators of service centres, agency officers, administrators.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// The account journal's hash chain.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// The services catalogue.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// A consistent copy of the SQLite database while the portal runs (PostgreSQL: pg_dump).
    Backup {
        /// Where to write the copy (must not exist).
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum CatalogueCommand {
    /// Checks FILE (TOML, as `data/services.toml`) and makes it the catalogue; every node picks
    /// it up within seconds. A malformed definition is refused naming the service and field.
    Import {
        /// The catalogue file.
        file: std::path::PathBuf,
    },
    /// Writes the catalogue in use to FILE ("-" for standard output).
    Export {
        /// Where to write it.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum JournalCommand {
    /// Checks every entry's number, link and hash, the head, and the anchors given; prints the
    /// result as JSON and exits 1 at the first break.
    Verify {
        /// An anchor the worker logged ("journal anchor"), as SEQ:HASH; may be repeated.
        #[arg(long = "anchor")]
        anchors: Vec<String>,
    },
}

/// A role and where it applies.
#[derive(Debug, clap::Args)]
struct RoleArgs {
    /// operator, officer or admin.
    role: String,
    /// The account: its id, or its confirmed phone or e-mail.
    #[arg(long)]
    account: String,
    /// The service centre an operator works at.
    #[arg(long)]
    office: Option<String>,
    /// The agency an officer works for.
    #[arg(long)]
    agency: Option<String>,
}

#[derive(Debug, Subcommand)]
enum RolesCommand {
    /// Grants a role (journaled; the account's sessions end).
    Grant(RoleArgs),
    /// Revokes a role (journaled; the account's sessions end).
    Revoke(RoleArgs),
    /// Lists the grants, as JSON lines.
    List {
        /// Only this account's (id, phone or e-mail).
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ClientsCommand {
    /// Register a client; prints JSON with `client_id` and (confidential clients) `client_secret`.
    Add {
        /// The service's name, shown to people on the consent screen.
        #[arg(long)]
        name: String,
        /// An exact redirect URI (repeat for several).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// The lowest account level the service accepts.
        #[arg(long, default_value = "simplified")]
        min_level: String,
        /// Scopes it may ask for, space- or comma-separated (default: openid profile).
        #[arg(long)]
        scopes: Option<String>,
        /// A public client (a browser or mobile app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// Give this client pairwise subject identifiers.
        #[arg(long)]
        pairwise: bool,
        /// The client's public keys as a JSON Web Key Set (the JSON, or @file): it then
        /// authenticates with private_key_jwt and gets no secret.
        #[arg(long)]
        jwks: Option<String>,
        /// Algorithm of its ID tokens: RS256 or ES256.
        #[arg(long, default_value = "RS256")]
        id_token_alg: String,
        /// An exact address to return people to after logout (repeat for several).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Allow the client_credentials grant (the service acting for itself).
        #[arg(long)]
        client_credentials: bool,
        /// The service's certificate (PEM or DER file) for ESIA-style requests signed with it
        /// (`/aas/oauth2/…`); RSA or GOST R 34.10-2012.
        #[arg(long)]
        certificate: Option<std::path::PathBuf>,
        /// Keep this client id (an ESIA integration's mnemonic) instead of a generated one.
        #[arg(long)]
        client_id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Add a new RS256 and ES256 key and retire the old ones (published until their tokens
    /// expire).
    Rotate,
    /// The personal-data key: the same as `data-keys rotate`.
    RotateData,
}

#[derive(Debug, Subcommand)]
enum DataKeysCommand {
    /// One node: adds a new data key, makes it active and queues the re-encryption, which the
    /// worker does once restarted. Several nodes: use the stages below.
    Rotate,
    /// Adds a new data key to the key file, not yet active. Copy the file to every node and
    /// restart them before `activate`, so each can read what the new key encrypts.
    Add,
    /// Makes KID the key new values are encrypted with and queues the re-encryption; copy the
    /// file and restart every node.
    Activate {
        /// The key id (as `add` printed it).
        kid: String,
    },
    /// Rewrites every encrypted value and stored file under the active key (safe while the
    /// portal runs, and to run again); prints what it did per column.
    Reencrypt {
        /// Rows read per query.
        #[arg(long, default_value_t = 500)]
        batch: u64,
    },
    /// How many values and files each key encrypts.
    Status,
    /// Removes KID from the key file, refused while any value or file still uses it.
    Retire {
        /// The key id.
        kid: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let serve_args = match &cli.command {
        Some(Command::Serve(a)) => a.clone(),
        _ => settings::ServeArgs::default(),
    };
    let config = settings::load(&cli.global, &serve_args)?;
    // An admin command's answer is its standard output; its log goes to standard error.
    init_logging(config.mode, matches!(cli.command, Some(Command::Admin(_))));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            None | Some(Command::Serve(_)) => serve(config).await,
            Some(Command::Migrate) => migrate(config).await,
            Some(Command::Worker) => worker_only(config).await,
            Some(Command::Admin(a)) => admin(config, a).await,
        }
    })
}

fn init_logging(mode: Mode, to_stderr: bool) {
    use tracing_subscriber::{EnvFilter, fmt, prelude::*};
    let filter = EnvFilter::try_from_env("USLUGI_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let writer = move || -> Box<dyn std::io::Write> {
        if to_stderr {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::io::stdout())
        }
    };
    if mode == Mode::Production {
        registry
            .with(fmt::layer().json().flatten_event(true).with_writer(writer))
            .init();
    } else {
        registry
            .with(fmt::layer().compact().with_writer(writer))
            .init();
    }
    // The default hook prints the panic message, which may quote personal data being processed;
    // log only where it happened.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        tracing::error!(location = location.as_deref().unwrap_or("unknown"), "panic");
    }));
}

async fn open(config: &Config) -> anyhow::Result<uslugi_store::Db> {
    uslugi_store::connect(&config.database_url, config.database_max_connections)
        .await
        .with_context(|| "cannot open the database (check --database-url)".to_owned())
}

/// The key file: the configured one, or the development one under the data directory.
fn keys_path(config: &Config) -> std::path::PathBuf {
    config
        .keys_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("keys.toml"))
}

fn keys(config: &Config) -> anyhow::Result<Keys> {
    if let Some(path) = &config.keys_file {
        return Keys::load(path)
            .with_context(|| format!("cannot read keys from {}", path.display()));
    }
    let path = config.data_dir.join("keys.toml");
    let (keys, created) = Keys::load_or_create(&path)
        .with_context(|| format!("cannot create development keys at {}", path.display()))?;
    if created {
        tracing::warn!(path = %path.display(), "DEVELOPMENT MODE: generated new encryption keys; never use this file in production");
    } else {
        tracing::warn!(path = %path.display(), "DEVELOPMENT MODE: using generated development keys");
    }
    Ok(keys)
}

fn check_production(config: &Config) -> anyhow::Result<()> {
    let problems = config.production_problems();
    if problems.is_empty() {
        return Ok(());
    }
    for p in &problems {
        tracing::error!(problem = %p, "production configuration refused");
    }
    anyhow::bail!(
        "refusing to start in production mode: {}",
        problems.join("; ")
    )
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests and jobs in flight");
}

async fn serve(config: Config) -> anyhow::Result<()> {
    check_production(&config)?;
    let keys = keys(&config)?;
    let db = open(&config).await?;
    uslugi_store::db::migrate(&db)
        .await
        .context("cannot apply migrations")?;
    uslugi_core::sso::oidc::keys::ensure(&db, &keys)
        .await
        .context("cannot create the token signing keys")?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let (tx, rx) = watch::channel(false);
    let worker = if config.worker.in_process {
        let w = uslugi_app::worker(&config, db.clone(), &keys)
            .map_err(anyhow::Error::msg)
            .context("cannot set up the worker")?;
        Some(tokio::spawn(w.run(rx.clone())))
    } else {
        None
    };
    let mode = config.mode;
    let public_url = config.public_url.clone();
    let reader = uslugi_store::reader::Reader::open(
        &config.database_url,
        &db,
        usize::try_from(config.database_read_connections).unwrap_or(4),
    )
    .context("cannot open the database for reading")?;
    let state = AppState::with_reader(db.clone(), reader, config, keys)
        .context("cannot set up the portal")?;
    tracing::info!(addr = %listener.local_addr()?, public_url = %public_url, mode = ?mode, "Uslugi is listening");
    let mut rx_server = rx.clone();
    let server = uslugi_web::server::serve(listener, state, async move {
        let _ = rx_server.changed().await;
    });
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = tx.send(true);
    });
    server.await.context("server failed")?;
    signal.abort();
    if let Some(w) = worker {
        let _ = w.await;
    }
    db.close().await.ok();
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = open(&config).await?;
    uslugi_store::db::migrate(&db)
        .await
        .context("cannot apply migrations")?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn worker_only(config: Config) -> anyhow::Result<()> {
    check_production(&config)?;
    let keys = keys(&config)?;
    let db = open(&config).await?;
    if !uslugi_store::db::migrations_current(&db).await? {
        anyhow::bail!("the database schema is not current: run `uslugi migrate` first");
    }
    let (tx, rx) = watch::channel(false);
    let w = uslugi_app::worker(&config, db.clone(), &keys)
        .map_err(anyhow::Error::msg)
        .context("cannot set up the worker")?;
    let handle = tokio::spawn(w.run(rx));
    shutdown_signal().await;
    let _ = tx.send(true);
    let _ = handle.await;
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the command's answer is its output")]
async fn admin(config: Config, command: Admin) -> anyhow::Result<()> {
    let keys = keys(&config)?;
    let db = open(&config).await?;
    uslugi_store::db::migrate(&db)
        .await
        .context("cannot apply migrations")?;
    match command {
        Admin::Clients(command) => {
            let ClientsCommand::Add {
                name,
                redirect_uris,
                min_level,
                scopes,
                public,
                pairwise,
                jwks,
                id_token_alg,
                post_logout_redirect_uris,
                client_credentials,
                certificate,
                client_id,
            } = *command;
            let certificate = certificate
                .map(|p| std::fs::read(&p).with_context(|| format!("cannot read {}", p.display())))
                .transpose()?;
            let jwks = match jwks {
                Some(path) if path.starts_with('@') => Some(
                    std::fs::read_to_string(&path[1..])
                        .with_context(|| format!("cannot read {}", &path[1..]))?,
                ),
                other => other,
            };
            let min_level: uslugi_domain::AccountLevel = min_level.parse().map_err(|_| {
                anyhow::anyhow!("--min-level must be simplified, standard or confirmed")
            })?;
            let scopes = scopes
                .unwrap_or_default()
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let registered = uslugi_core::sso::oidc::clients::register(
                &db,
                &keys,
                uslugi_core::sso::oidc::clients::ClientSpec {
                    name,
                    redirect_uris,
                    min_level,
                    scopes,
                    public,
                    pairwise,
                    jwks,
                    id_token_alg,
                    post_logout_redirect_uris,
                    client_credentials,
                    certificate,
                    client_id,
                },
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&registered)?);
        }
        Admin::Roles(command) => roles(&db, &keys, command).await?,
        Admin::Catalogue(CatalogueCommand::Import { file }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let version = uslugi_core::services::catalogue::import(&db, &text).await?;
            let services = uslugi_core::services::catalogue::Catalogue::parse(&text)?
                .services
                .len();
            println!(
                "{}",
                serde_json::json!({ "version": version, "services": services })
            );
        }
        Admin::Catalogue(CatalogueCommand::Export { file }) => {
            let text = uslugi_core::services::catalogue::export(&db).await?;
            if file.as_os_str() == "-" {
                print!("{text}");
            } else {
                std::fs::write(&file, text)
                    .with_context(|| format!("cannot write {}", file.display()))?;
            }
        }
        Admin::DataKeys(command) => data_keys(&config, &db, &keys, command).await?,
        Admin::Backup { file } => {
            if file.exists() {
                anyhow::bail!("{} exists: choose a new file", file.display());
            }
            uslugi_store::db::backup_sqlite(&db, &file).await?;
            println!(
                "{}",
                serde_json::json!({ "backup": file.display().to_string() })
            );
        }
        Admin::Journal(JournalCommand::Verify { anchors }) => {
            let anchors = anchors
                .iter()
                .map(|a| {
                    let (seq, hash) = a
                        .split_once(':')
                        .context("an anchor is SEQ:HASH, as the worker logs it")?;
                    Ok((
                        seq.trim().parse::<i64>().context("SEQ is a number")?,
                        hash.trim().to_lowercase(),
                    ))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            use uslugi_store::identity::journal::{Verdict, verify};
            match verify(&db, &anchors).await? {
                Verdict::Intact { entries, head } => {
                    println!(
                        "{}",
                        serde_json::json!({ "intact": true, "entries": entries, "head": head })
                    );
                }
                Verdict::Broken { seq, id, reason } => {
                    println!(
                        "{}",
                        serde_json::json!({ "intact": false, "seq": seq, "id": id, "reason": reason })
                    );
                    anyhow::bail!("the journal is broken at entry {seq}: {reason}");
                }
            }
        }
        Admin::Keys(KeysCommand::RotateData) => {
            data_keys(&config, &db, &keys, DataKeysCommand::Rotate).await?;
        }
        Admin::Keys(KeysCommand::Rotate) => {
            uslugi_core::sso::oidc::keys::ensure(&db, &keys).await?;
            let retired = uslugi_core::sso::oidc::keys::rotate(&db, &keys).await?;
            let jwks = uslugi_core::sso::oidc::keys::jwks(&db, &keys).await?;
            let kids: Vec<&str> = jwks["keys"]
                .as_array()
                .map(|a| a.iter().filter_map(|k| k["kid"].as_str()).collect())
                .unwrap_or_default();
            println!(
                "{}",
                serde_json::json!({ "retired": retired, "published": kids })
            );
        }
    }
    db.close().await.ok();
    Ok(())
}

/// Makes `kid` the active data key in the file and queues the worker's re-encryption under it.
#[expect(clippy::print_stdout, reason = "the command's answer is its output")]
async fn activate_data_key(
    db: &uslugi_core::Db,
    mut edit: uslugi_core::KeyFileEdit,
    kid: &str,
    next: &str,
) -> anyhow::Result<()> {
    use uslugi_core::kernel::rekey;
    edit.activate(kid)?;
    edit.save()?;
    let queued = rekey::schedule(
        db,
        &rekey::Slice {
            key: kid.to_owned(),
            cursor: rekey::Cursor::default(),
            round: 0,
        },
    )
    .await?;
    println!(
        "{}",
        serde_json::json!({ "active": kid, "reencryption_queued": queued, "next": next })
    );
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the command's answer is its output")]
async fn data_keys(
    config: &Config,
    db: &uslugi_core::Db,
    keys: &Keys,
    command: DataKeysCommand,
) -> anyhow::Result<()> {
    use uslugi_core::{KeyFileEdit, identity::uploads, kernel::rekey};
    let path = keys_path(config);
    let open = || {
        KeyFileEdit::open(&path)
            .with_context(|| format!("cannot read keys from {}", path.display()))
    };
    let columns = uslugi_app::encrypted_columns();
    let objects = uslugi_app::objects(config);
    match command {
        DataKeysCommand::Rotate => {
            let mut edit = open()?;
            let kid = edit.add()?;
            activate_data_key(
                db,
                edit,
                &kid,
                "restart the portal: its worker then re-encrypts everything under the new key",
            )
            .await?;
        }
        DataKeysCommand::Add => {
            let mut edit = open()?;
            let kid = edit.add()?;
            edit.save()?;
            println!(
                "{}",
                serde_json::json!({
                    "added": kid, "active": edit.active(),
                    "next": "copy the key file to every node and restart them, then `uslugi admin data-keys activate` with this id",
                })
            );
        }
        DataKeysCommand::Activate { kid } => {
            activate_data_key(db, open()?, &kid, "copy the key file to every node and restart them: the worker then re-encrypts everything (or run `uslugi admin data-keys reencrypt`)").await?;
        }
        DataKeysCommand::Reencrypt { batch } => {
            let (reports, _) = uslugi_app::reencrypt_slice(
                db,
                keys.cipher(),
                objects.as_ref(),
                rekey::Cursor::default(),
                batch.clamp(1, 10_000),
                u64::MAX,
            )
            .await
            .map_err(anyhow::Error::msg)?;
            let unreadable: u64 = reports.iter().map(|r| r.unreadable).sum();
            println!(
                "{}",
                serde_json::json!({ "active": keys.cipher().active_key_id(), "columns": reports })
            );
            if unreadable > 0 {
                anyhow::bail!("{unreadable} values no configured key decrypts (see the warnings)");
            }
        }
        DataKeysCommand::Status => {
            let edit = open()?;
            let ids = edit.key_ids();
            let mut by_key: std::collections::BTreeMap<String, u64> =
                ids.iter().map(|k| (k.clone(), 0)).collect();
            let mut lines = Vec::new();
            for (column, kid, n) in rekey::usage(db, &columns, &ids).await? {
                *by_key.entry(kid.clone()).or_default() += n;
                lines.push(serde_json::json!({ "column": column, "key": kid, "values": n }));
            }
            for (kid, n) in uploads::objects_by_key(db, objects.as_ref(), &ids).await? {
                *by_key.entry(kid.clone()).or_default() += n;
                lines.push(
                    serde_json::json!({ "column": "uploads (files)", "key": kid, "values": n }),
                );
            }
            println!(
                "{}",
                serde_json::json!({ "active": edit.active(), "keys": by_key, "columns": lines })
            );
        }
        DataKeysCommand::Retire { kid } => {
            let mut edit = open()?;
            if !edit.key_ids().contains(&kid) {
                anyhow::bail!("{kid:?} is not in {}", path.display());
            }
            let mut left: Vec<(String, u64)> = rekey::anywhere(db, &kid).await?;
            for (k, n) in
                uploads::objects_by_key(db, objects.as_ref(), std::slice::from_ref(&kid)).await?
            {
                if k == kid {
                    left.push(("uploads (files)".into(), n));
                }
            }
            if !left.is_empty() {
                let list = left
                    .iter()
                    .map(|(c, n)| format!("{c}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                anyhow::bail!(
                    "{kid} still encrypts {list}; run `uslugi admin data-keys reencrypt` (with {kid} no longer active) first"
                );
            }
            edit.retire(&kid)?;
            edit.save()?;
            println!(
                "{}",
                serde_json::json!({ "retired": kid, "keys": edit.key_ids(), "active": edit.active() })
            );
        }
    }
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the command's answer is its output")]
async fn roles(db: &uslugi_core::Db, keys: &Keys, command: RolesCommand) -> anyhow::Result<()> {
    use uslugi_core::identity::roles;
    match command {
        RolesCommand::Grant(a) | RolesCommand::Revoke(a)
            if a.role.parse::<uslugi_domain::Role>().is_err() =>
        {
            anyhow::bail!("unknown role {:?}: operator, officer or admin", a.role)
        }
        RolesCommand::Grant(a) => {
            let (account, grant) = role_args(db, keys, &a).await?;
            let changed = roles::grant(db, account, &grant, "command line").await?;
            println!(
                "{}",
                serde_json::json!({ "account": account, "role": grant.role.as_str(), "scope": grant.scope, "granted": changed })
            );
        }
        RolesCommand::Revoke(a) => {
            let (account, grant) = role_args(db, keys, &a).await?;
            let changed = roles::revoke(db, account, &grant, "command line").await?;
            println!(
                "{}",
                serde_json::json!({ "account": account, "role": grant.role.as_str(), "scope": grant.scope, "revoked": changed })
            );
        }
        RolesCommand::List { account } => {
            let account = match account {
                Some(who) => Some(roles::find_account(db, keys, &who).await?),
                None => None,
            };
            for l in roles::list(db, account).await? {
                println!(
                    "{}",
                    serde_json::json!({
                        "account": l.account_id,
                        "role": l.grant.role.as_str(),
                        "scope": l.grant.scope,
                        "granted_at": l.granted_at,
                        "granted_by": l.granted_by,
                    })
                );
            }
        }
    }
    Ok(())
}

async fn role_args(
    db: &uslugi_core::Db,
    keys: &Keys,
    a: &RoleArgs,
) -> anyhow::Result<(uuid::Uuid, uslugi_core::identity::roles::Grant)> {
    let role: uslugi_domain::Role = a.role.parse()?;
    let grant =
        uslugi_core::identity::roles::Grant::new(role, a.office.as_deref(), a.agency.as_deref())?;
    let account = uslugi_core::identity::roles::find_account(db, keys, &a.account).await?;
    Ok((account, grant))
}
