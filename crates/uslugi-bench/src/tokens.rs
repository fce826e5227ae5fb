//! `uslugi-bench tokens [exchanges] [concurrency] [RS256|ES256]`: code→token exchanges and refresh
//! grants per second, Uslugi next to npm `oidc-provider` doing the same exchange in the same run.
//!
//! Both servers run as child processes (Uslugi: this binary in `serve-for-bench` mode, the same
//! router and SQLite settings as `serve`; oidc-provider: `node e2e/bench/oidc-provider.mjs`), so
//! their CPU time can be read from `/proc/<pid>/stat` apart from the load generator's. The same
//! load generator (this process, `concurrency` keep-alive connections) sends to both:
//! confidential client with `client_secret_basic`, PKCE S256, the ID token signed with the same
//! algorithm on both sides (RS256 with a 2048-bit key, or ES256), rotating refresh tokens. Codes
//! are minted before the timed part — Uslugi's through `oidc::flow::issue_code` on the same
//! database, oidc-provider's through its own models.
//!
//! Reported per server: wall-clock rate, the server's CPU seconds, and the rate per CPU-second
//! of the server ("per core").

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use uslugi_core::{
    Config, Keys,
    sso::oidc::{
        clients::{self, ClientSpec},
        flow::{self, AuthorizeRequest},
    },
};

const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9qgZZhwjtTW1tZmvFWsIxVQfSb8";
/// BASE64URL(SHA-256(VERIFIER)).
const CHALLENGE: &str = "N-Z8QO5YppeTH05n8KraxXMTEcuGYLoP5-ZNQq101D0";
const REDIRECT: &str = "http://127.0.0.1/cb";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// CPU seconds (user + system, all threads) a process has used.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // USER_HZ is 100 on Linux.
    ticks as f64 / 100.0
}

/// The child mode: serves the portal from `dir` on `port` (what `uslugi serve` does, minus the
/// worker, which token requests do not use).
pub async fn serve(dir: &str, port: u16) {
    let dir = std::path::PathBuf::from(dir);
    let keys = Keys::load(&dir.join("keys.toml")).expect("keys");
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let db = uslugi_store::connect(&url, 10).await.expect("db");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut config = Config::development(addr, url);
    config.data_dir = dir;
    let state = uslugi_web::AppState::new(db, config, keys).expect("state");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    uslugi_web::server::serve(listener, state, std::future::pending())
        .await
        .expect("serve");
}

struct Target {
    token_url: String,
    client_id: String,
    client_secret: String,
}

struct Run {
    rate: f64,
    cpu: f64,
    refresh_tokens: Vec<String>,
}

/// Sends one token request per item with `concurrency` clients; every answer must be 200.
async fn load(
    target: &Target,
    concurrency: usize,
    items: Vec<Vec<(&'static str, String)>>,
    pid: u32,
) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let items = Arc::new(items);
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_secs(pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, items, next) = (client.clone(), items.clone(), next.clone());
        let (url, id, secret) = (
            target.token_url.clone(),
            target.client_id.clone(),
            target.client_secret.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut refresh = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(form) = items.get(i) else { break };
                let r = client
                    .post(&url)
                    .basic_auth(&id, Some(&secret))
                    .form(form)
                    .send()
                    .await
                    .expect("send");
                let status = r.status();
                let body: serde_json::Value = r.json().await.expect("json");
                assert_eq!(status, 200, "{body}");
                assert!(body["access_token"].is_string(), "{body}");
                if let Some(t) = body["refresh_token"].as_str() {
                    refresh.push(t.to_owned());
                }
            }
            refresh
        }));
    }
    let mut refresh_tokens = Vec::new();
    for t in tasks {
        refresh_tokens.extend(t.await.expect("task"));
    }
    let secs = started.elapsed().as_secs_f64();
    Run {
        rate: items.len() as f64 / secs,
        cpu: cpu_secs(pid) - cpu_before,
        refresh_tokens,
    }
}

fn exchanges(codes: Vec<String>) -> Vec<Vec<(&'static str, String)>> {
    codes
        .into_iter()
        .map(|code| {
            vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("redirect_uri", REDIRECT.to_owned()),
                ("code_verifier", VERIFIER.to_owned()),
            ]
        })
        .collect()
}

fn refreshes(tokens: Vec<String>) -> Vec<Vec<(&'static str, String)>> {
    tokens
        .into_iter()
        .map(|t| {
            vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", t),
            ]
        })
        .collect()
}

fn report(server: &str, what: &str, n: usize, run: &Run) {
    println!(
        "{server:<14} {what:<22} {n:>6} in {:>6.0}/s wall, server CPU {:>5.1} s → {:>6.0} per CPU-second",
        run.rate,
        run.cpu,
        n as f64 / run.cpu.max(0.001)
    );
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

async fn wait_ready(url: &str) {
    for _ in 0..300 {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not come up");
}

/// Runs the token benchmark.
pub async fn run(n: usize, concurrency: usize, alg: &str) {
    // --- Uslugi ---
    let dir = std::env::temp_dir().join(format!("uslugi-tokens-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (keys, _) = Keys::load_or_create(&dir.join("keys.toml")).expect("keys");
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let db = uslugi_store::connect(&url, 10).await.expect("db");
    uslugi_store::db::migrate(&db).await.expect("migrate");
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let config = Config::development(addr, url.clone());
    let passwords =
        uslugi_core::kernel::passwords::Passwords::new(&config.auth).expect("passwords");
    let ctx = uslugi_core::Ctx {
        db: &db,
        keys: &keys,
        config: &config,
        passwords: &passwords,
    };
    let registered = clients::register(
        &db,
        &keys,
        ClientSpec {
            name: "Бенчмарк".into(),
            redirect_uris: vec![REDIRECT.into()],
            scopes: vec!["openid".into()],
            id_token_alg: alg.into(),
            ..ClientSpec::default()
        },
    )
    .await
    .expect("client");
    let account_id = super::scale::seed_one(&db, &keys, &passwords).await;
    uslugi_core::sso::oidc::keys::ensure(&db, &keys)
        .await
        .expect("signing keys");
    let exe = std::env::current_exe().expect("exe");
    let child = Killed(
        Command::new(exe)
            .args([
                "serve-for-bench",
                &dir.display().to_string(),
                &port.to_string(),
            ])
            .env("USLUGI_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let base = format!("http://{addr}");
    wait_ready(&format!("{base}/readyz")).await;
    let req = AuthorizeRequest {
        client_id: registered.client_id.clone(),
        client_name: registered.name.clone(),
        redirect_uri: REDIRECT.into(),
        scopes: vec!["openid".into()],
        state: None,
        nonce: Some("n".into()),
        code_challenge: Some(CHALLENGE.into()),
        min_level: "simplified".into(),
        esia: false,
        offline: true,
        prompt_none: false,
    };
    let target = Target {
        token_url: format!("{base}/oauth2/token"),
        client_id: registered.client_id.clone(),
        client_secret: registered.client_secret.clone().expect("secret"),
    };
    let db = &db;
    let mint = |count: usize| {
        let (ctx, req) = (ctx, req.clone());
        async move {
            let mut codes = Vec::with_capacity(count);
            for _ in 0..count {
                let url = flow::issue_code(
                    ctx,
                    &req,
                    account_id,
                    uslugi_domain::AccountLevel::Simplified,
                    uslugi_store::now_ms(),
                    false,
                )
                .await
                .expect("code");
                let code = url.split("code=").nth(1).expect("code").to_owned();
                codes.push(code);
            }
            // Minting takes longer than a code lives; the timed part starts fresh.
            use uslugi_store::sea_orm::ConnectionTrait;
            db.execute_unprepared(&format!(
                "UPDATE oauth_codes SET expires_at = {}",
                uslugi_store::now_ms() + 600_000
            ))
            .await
            .expect("extend");
            codes
        }
    };
    // Warm-up: connections, caches, the signing key.
    load(
        &target,
        concurrency,
        exchanges(mint(200).await),
        child.0.id(),
    )
    .await;
    let codes = mint(n).await;
    let ex = load(&target, concurrency, exchanges(codes), child.0.id()).await;
    report("Uslugi", &format!("code→token ({alg})"), n, &ex);
    let rf = load(
        &target,
        concurrency,
        refreshes(ex.refresh_tokens.clone()),
        child.0.id(),
    )
    .await;
    report("Uslugi", "refresh_token", n, &rf);
    drop(child);

    // --- oidc-provider ---
    let e2e = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e");
    let port = free_port();
    let mut node = Command::new("node")
        .current_dir(&e2e)
        .args(["bench/oidc-provider.mjs", &port.to_string(), alg])
        .stdout(Stdio::piped())
        .spawn()
        .expect("node (run `npm ci` in e2e/ first)");
    let stdout = node.stdout.take().expect("stdout");
    let node = Killed(node);
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("read");
        line
    })
    .await
    .expect("ready line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("ready json");
    let issuer = info["issuer"].as_str().expect("issuer");
    let target = Target {
        token_url: format!("{issuer}/token"),
        client_id: info["client_id"].as_str().expect("id").to_owned(),
        client_secret: info["client_secret"].as_str().expect("secret").to_owned(),
    };
    let mint = |count: usize| {
        let url = format!("{issuer}/bench/codes?n={count}&challenge={CHALLENGE}");
        async move {
            reqwest::get(url)
                .await
                .expect("mint")
                .json::<Vec<String>>()
                .await
                .expect("codes")
        }
    };
    load(
        &target,
        concurrency,
        exchanges(mint(200).await),
        node.0.id(),
    )
    .await;
    let codes = mint(n).await;
    let ex = load(&target, concurrency, exchanges(codes), node.0.id()).await;
    report("oidc-provider", &format!("code→token ({alg})"), n, &ex);
    let rf = load(
        &target,
        concurrency,
        refreshes(ex.refresh_tokens.clone()),
        node.0.id(),
    )
    .await;
    report("oidc-provider", "refresh_token", n, &rf);
    std::fs::remove_dir_all(&dir).ok();
}
