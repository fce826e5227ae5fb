//! `uslugi`: the one binary. `serve` (default) runs the portal with its worker; `migrate` brings
//! the database schema up to date; `worker` runs the background worker alone for scale-out.

mod settings;

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let serve_args = match &cli.command {
        Some(Command::Serve(a)) => a.clone(),
        _ => settings::ServeArgs::default(),
    };
    let config = settings::load(&cli.global, &serve_args)?;
    init_logging(config.mode);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            None | Some(Command::Serve(_)) => serve(config).await,
            Some(Command::Migrate) => migrate(config).await,
            Some(Command::Worker) => worker_only(config).await,
        }
    })
}

fn init_logging(mode: Mode) {
    use tracing_subscriber::{EnvFilter, fmt, prelude::*};
    let filter = EnvFilter::try_from_env("USLUGI_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    if mode == Mode::Production {
        registry
            .with(fmt::layer().json().flatten_event(true))
            .init();
    } else {
        registry.with(fmt::layer().compact()).init();
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
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let (tx, rx) = watch::channel(false);
    let worker = if config.worker.in_process {
        let w = uslugi_core::worker::standard(&config, db.clone(), &keys)
            .map_err(anyhow::Error::msg)
            .context("cannot set up the worker")?;
        Some(tokio::spawn(w.run(rx.clone())))
    } else {
        None
    };
    let mode = config.mode;
    let public_url = config.public_url.clone();
    let state =
        AppState::new(db.clone(), config, keys).context("invalid password hashing settings")?;
    let app = uslugi_web::app(state);
    tracing::info!(addr = %listener.local_addr()?, public_url = %public_url, mode = ?mode, "Uslugi is listening");
    let mut rx_server = rx.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
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
    let w = uslugi_core::worker::standard(&config, db.clone(), &keys)
        .map_err(anyhow::Error::msg)
        .context("cannot set up the worker")?;
    let handle = tokio::spawn(w.run(rx));
    shutdown_signal().await;
    let _ = tx.send(true);
    let _ = handle.await;
    Ok(())
}
