//! Benchmarks of the registration flow and of the registry check (numbers for
//! `docs/benchmarks.md`; nothing here is a test).
//!
//! `cargo run --release -p uslugi-bench -- [registrations] [concurrency]`
//! `cargo run --release -p uslugi-bench -- scale <accounts> [logins] [concurrency]` (see `scale.rs`)
//! `cargo run --release -p uslugi-bench -- tokens [exchanges] [concurrency] [RS256|ES256]` (see
//! `tokens.rs`)
//! `cargo run --release -p uslugi-bench -- search [services] [seconds]` (see `search.rs`);
//! `… search-catalogue [services] > FILE` writes that catalogue for `uslugi admin catalogue import`
//!
//! 1. Registrations per second, end to end over HTTP on loopback: `POST /api/v1/registrations`
//!    → the SMS goes through the outbox and the HTTP SMS gateway adapter to a receiver in this
//!    process → `POST …/code` → `POST …/complete` (Argon2id at the default strength). The worker
//!    runs in-process as in `serve`. Hourly code limits are lifted for the run.
//! 2. Registry checks per second: every synthetic person of the simulated registries submits
//!    personal data, then the worker drains the `registry.check` jobs.

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark binary: fail loudly, print results"
)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, routing::post};
use serde_json::json;
use uslugi_core::{
    Config, Keys,
    identity::profile::{self, PassportData, PersonalData},
    identity::registries::SimulatedRegistries,
    kernel::config::{HttpSmsConfig, SmsConfig},
};

type Codes = Arc<Mutex<HashMap<String, String>>>;

async fn sms_receiver(codes: Codes) -> String {
    let app = Router::new().route(
        "/sms",
        post(move |body: String| {
            let codes = codes.clone();
            async move {
                let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let to = v["to"].as_str().unwrap_or_default().to_owned();
                let text = v["text"].as_str().unwrap_or_default();
                if let Some(code) = text
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                {
                    codes.lock().expect("lock").insert(to, code.to_owned());
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/sms", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
    url
}

async fn wait_code(codes: &Codes, phone: &str) -> String {
    for _ in 0..2000 {
        if let Some(c) = codes.lock().expect("lock").remove(phone) {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("no code for {phone}");
}

async fn register(base: &str, codes: &Codes, n: usize) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let phone = format!("+7950{n:07}");
    let r: serde_json::Value = client
        .post(format!("{base}/api/v1/registrations"))
        .json(&json!({ "last_name": "Петрова", "first_name": "Мария", "phone": phone }))
        .send()
        .await
        .expect("start")
        .json()
        .await
        .expect("json");
    let id = r["id"].as_str().expect("id").to_owned();
    let code = wait_code(codes, &phone).await;
    let s = client
        .post(format!("{base}/api/v1/registrations/{id}/code"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .expect("code");
    assert_eq!(s.status(), 200);
    let s = client
        .post(format!("{base}/api/v1/registrations/{id}/complete"))
        .json(&json!({ "password": "Зелёный-Чайник#42", "password_confirmation": "Зелёный-Чайник#42", "consent": true }))
        .send()
        .await
        .expect("complete");
    assert_eq!(s.status(), 201);
}

mod scale;
mod search;
mod tokens;

#[tokio::main]
async fn main() {
    let argv: Vec<String> = std::env::args().collect();
    match argv.get(1).map(String::as_str) {
        Some("serve-for-bench") => {
            tokens::serve(&argv[2], argv[3].parse().expect("port")).await;
            return;
        }
        Some("search-catalogue") => {
            let n = argv.get(2).and_then(|a| a.parse().ok()).unwrap_or(3000);
            print!("{}", search::grown_text(n));
            return;
        }
        Some("search") => {
            search::run(
                argv.get(2).and_then(|a| a.parse().ok()).unwrap_or(3000),
                argv.get(3).and_then(|a| a.parse().ok()).unwrap_or(5),
            );
            return;
        }
        Some("tokens") => {
            tokens::run(
                argv.get(2).and_then(|a| a.parse().ok()).unwrap_or(2000),
                argv.get(3).and_then(|a| a.parse().ok()).unwrap_or(32),
                argv.get(4).map_or("RS256", String::as_str),
            )
            .await;
            return;
        }
        _ => {}
    }
    if std::env::args().nth(1).as_deref() == Some("scale") {
        let args: Vec<usize> = std::env::args()
            .skip(2)
            .filter_map(|a| a.parse().ok())
            .collect();
        scale::run(
            args.first().copied().unwrap_or(1000),
            args.get(1).copied().unwrap_or(400),
            args.get(2).copied().unwrap_or(16),
        )
        .await;
        return;
    }
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(200);
    let concurrency = args.get(1).copied().unwrap_or(16);
    let dir = std::env::temp_dir().join(format!("uslugi-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let db = uslugi_store::connect(&url, 10).await.expect("db");
    uslugi_store::db::migrate(&db).await.expect("migrate");

    let codes: Codes = Arc::default();
    let gateway = sms_receiver(codes.clone()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let mut config = Config::development(addr, url.clone());
    config.data_dir = dir.clone();
    config.auth.sends_per_client_per_hour = u64::MAX;
    config.auth.sends_per_target_per_hour = u64::MAX;
    config.registries.check_delay_secs = 0;
    config.worker.poll_interval_ms = 5;
    if std::env::var("USLUGI_BENCH_KEYCLOAK_STRENGTH").is_ok() {
        // Keycloak's default: Argon2id t=5, m=7 MiB, p=1.
        config.auth.argon2_memory_kib = 7 * 1024;
        config.auth.argon2_iterations = 5;
    }
    config.delivery.sms = SmsConfig::Http(HttpSmsConfig {
        url: gateway,
        body_template: r#"{"to":"{to}","text":"{text}"}"#.into(),
        content_type: "application/json".into(),
        bearer_token: None,
        timeout_secs: 10,
    });
    let keys = Keys::generate().expect("keys");
    let state = uslugi_web::AppState::new(db.clone(), config.clone(), keys.clone()).expect("state");
    tokio::spawn(async move {
        uslugi_web::server::serve(listener, state, std::future::pending())
            .await
            .expect("serve")
    });
    let (stop_worker, rx) = tokio::sync::watch::channel(false);
    let worker = uslugi_app::worker(&config, db.clone(), &keys).expect("worker");
    let worker = tokio::spawn(worker.run(rx));
    let base = format!("http://{addr}");

    println!(
        "machine: {} cores; SQLite file; Argon2id m={} KiB t={} p={}",
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(0),
        config.auth.argon2_memory_kib,
        config.auth.argon2_iterations,
        config.auth.argon2_parallelism
    );
    // Warm-up, not counted.
    register(&base, &codes, 9_999_999).await;

    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (base, codes, next) = (base.clone(), codes.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total {
                    break;
                }
                register(&base, &codes, n).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "registrations: {total} in {secs:.2} s with {concurrency} clients = {:.1} registrations/s (start + SMS via gateway + code + password)",
        total as f64 / secs
    );

    // Sign-in: logins per second through POST /api/v1/sessions next to the raw Argon2id rate.
    login_benchmark(&base, total.min(400), concurrency, &config).await;

    // Registry checks: one account per synthetic person, all submitted, then drained by one
    // worker (the in-process one is stopped so that it does not take a share).
    stop_worker.send(true).expect("stop worker");
    worker.await.expect("worker stopped");
    let people = SimulatedRegistries::shared()
        .expect("registries")
        .people()
        .to_vec();
    let mut accounts = Vec::new();
    for p in &people {
        let id = uuid::Uuid::now_v7();
        let name = uslugi_core::identity::accounts::StoredName {
            last: p.last_name.clone(),
            first: p.first_name.clone(),
            middle: p.middle_name.clone(),
        };
        uslugi_store::identity::accounts::insert_account(
            &db,
            uslugi_store::identity::accounts::NewAccount {
                id,
                level: "simplified".into(),
                name: uslugi_core::identity::accounts::encrypt_name(&keys, &name).expect("name"),
                password_hash: "x".into(),
            },
            uslugi_store::now_ms(),
        )
        .await
        .expect("account");
        accounts.push((id, p.clone()));
    }
    let mut check_config = config.clone();
    check_config.registries.check_delay_secs = 3600; // Queue them all first; run them below.
    for (id, p) in &accounts {
        let data = PersonalData {
            sex: p.sex.clone(),
            birth_date: p.birth_date.clone(),
            birth_place: p.birth_place.clone(),
            passport: PassportData {
                series: p.passport.series.clone(),
                number: p.passport.number.clone(),
                issued_on: p.passport.issued_on.clone(),
                issuer: p.passport.issuer.clone(),
                division_code: p.passport.division_code.clone(),
            },
            snils: p.snils.chars().filter(char::is_ascii_digit).collect(),
            inn: Some(p.inn.clone()),
            address: p.address.clone(),
        };
        profile::submit(&db, &keys, &check_config, *id, data)
            .await
            .expect("submit");
    }
    use uslugi_store::sea_orm::ConnectionTrait;
    db.execute_unprepared("UPDATE jobs SET run_at = 0 WHERE state = 'queued'")
        .await
        .expect("release jobs");
    let started = Instant::now();
    let runner = uslugi_app::worker(&config, db.clone(), &keys).expect("worker");
    let mut done = 0;
    while done < accounts.len() {
        let stats = runner.run_pass().await.expect("pass");
        assert!(
            stats != Default::default(),
            "jobs left undone: {done} of {}",
            accounts.len()
        );
        done += stats.jobs_done;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "registry checks: {} in {secs:.2} s = {:.0} checks/s (decrypt, three registry look-ups, record, level, journal, outbox), one worker",
        accounts.len(),
        accounts.len() as f64 / secs
    );
    std::fs::remove_dir_all(dir).ok();
}

/// Raw Argon2id verifications per second with `threads` blocking threads, at the config's
/// strength, for comparison with the end-to-end sign-in rate.
fn raw_argon2_rate(config: &Config, threads: usize, seconds: f64) -> f64 {
    use argon2::{
        Algorithm, Argon2, Params, Version,
        password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
    };
    let params = Params::new(
        config.auth.argon2_memory_kib,
        config.auth.argon2_iterations,
        config.auth.argon2_parallelism,
        None,
    )
    .expect("params");
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let hash = argon
        .hash_password(b"Benchmark#Password1")
        .expect("hash")
        .to_string();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (argon, hash, count) = (argon.clone(), hash.clone(), count.clone());
            std::thread::spawn(move || {
                let parsed = PasswordHash::new(&hash).expect("parse");
                while Instant::now() < deadline {
                    argon
                        .verify_password(b"Benchmark#Password1", &parsed)
                        .expect("verify");
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    count.load(std::sync::atomic::Ordering::Relaxed) as f64 / seconds
}

async fn login_benchmark(base: &str, total: usize, concurrency: usize, config: &Config) {
    let accounts = 10;
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (base, next) = (base.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().cookie_store(true).build().expect("client");
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let r = client
                    .post(format!("{base}/api/v1/sessions"))
                    .json(&json!({ "login": format!("+7950{:07}", n % accounts), "password": "Зелёный-Чайник#42" }))
                    .send()
                    .await
                    .expect("login");
                assert_eq!(r.status(), 201, "login {n}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    let logins = total as f64 / secs;
    let raw_all = raw_argon2_rate(config, cores, 5.0);
    let raw_one = raw_argon2_rate(config, 1, 5.0);
    println!(
        "sign-in: {total} logins in {secs:.2} s with {concurrency} clients = {logins:.1} logins/s ({:.1} per core); raw Argon2id: {raw_all:.1} verifications/s on {cores} cores, {raw_one:.1} on one; logins reach {:.0}% of the raw rate",
        logins / cores as f64,
        100.0 * logins / raw_all
    );
}
