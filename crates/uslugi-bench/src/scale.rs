//! `uslugi-bench scale <accounts> [logins] [concurrency]`: sign-ins per second with many accounts
//! in the database, and the peak memory under a burst of 200 simultaneous sign-ins.
//!
//! 1. Seeds `<accounts>` accounts straight into a fresh SQLite file, in transactions of 1 000
//!    (encrypted names, phones with their blind indexes, one Argon2id hash shared by all: hashing
//!    a million distinct passwords would take hours and measures nothing about lookups).
//! 2. Signs in `[logins]` times through `POST /api/v1/sessions` as random seeded accounts with
//!    `[concurrency]` clients, next to the raw Argon2id rate.
//! 3. Resets the process's peak-RSS mark, sends 200 sign-ins at once on 200 connections, and
//!    reads the mark again (the clients are in the same process, so this is an upper bound for
//!    the server).

use std::{net::SocketAddr, sync::Arc, time::Instant};

use serde_json::json;
use uslugi_core::{Config, Keys, identity::accounts::StoredName};
use uslugi_store::{
    identity::accounts::{NewAccount, NewContact, insert_bulk},
    sea_orm::TransactionTrait,
};

const PASSWORD: &str = "Зелёный-Чайник#42";

/// The phone of seeded account `n`: +7 951 nnn-nn-nn.
fn phone(n: usize) -> String {
    format!("+7951{n:07}")
}

fn rss_peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Runs the scale benchmark.
pub async fn run(accounts: usize, logins: usize, concurrency: usize) {
    let dir = std::env::temp_dir().join(format!("uslugi-scale-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let db = uslugi_store::connect(&url, 10).await.expect("db");
    uslugi_store::db::migrate(&db).await.expect("migrate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let mut config = Config::development(addr, url.clone());
    config.data_dir = dir.clone();
    // Many clients on one address: the per-client throttles would count them as one person.
    config.auth.login_failures_per_client = u64::MAX;
    let keys = Keys::generate().expect("keys");

    // 1. Seed.
    let passwords =
        uslugi_core::kernel::passwords::Passwords::new(&config.auth).expect("passwords");
    let hash = passwords.hash(PASSWORD.to_owned()).await.expect("hash");
    let started = Instant::now();
    let now = uslugi_store::now_ms();
    let name = uslugi_core::identity::accounts::encrypt_name(
        &keys,
        &StoredName {
            last: "Иванова".into(),
            first: "Мария".into(),
            middle: None,
        },
    )
    .expect("name");
    let batch = 1000;
    let mut n = 0;
    while n < accounts {
        let end = (n + batch).min(accounts);
        let mut new_accounts = Vec::with_capacity(end - n);
        let mut contacts = Vec::with_capacity(end - n);
        for i in n..end {
            let id = uuid::Uuid::now_v7();
            let contact = uslugi_core::identity::accounts::Contact::Phone(
                uslugi_domain::Phone::parse(&phone(i)).expect("phone"),
            );
            new_accounts.push(NewAccount {
                id,
                level: "simplified".into(),
                // The same ciphertext for everyone: decrypting names is not on the sign-in path.
                name: name.clone(),
                password_hash: hash.clone(),
            });
            contacts.push(NewContact {
                account_id: id,
                kind: "phone".into(),
                value: uslugi_core::identity::accounts::encrypt_contact(&keys, &contact)
                    .expect("contact"),
                value_blind: contact.blind(&keys),
            });
        }
        let txn = db.begin().await.expect("begin");
        insert_bulk(&txn, new_accounts, contacts, now)
            .await
            .expect("insert");
        txn.commit().await.expect("commit");
        n = end;
    }
    let seed_secs = started.elapsed().as_secs_f64();
    let file_mib = std::fs::metadata(dir.join("bench.db"))
        .map(|m| m.len() as f64 / 1_048_576.0)
        .unwrap_or(0.0);
    println!(
        "seeded {accounts} accounts in {seed_secs:.1} s ({:.0} accounts/s); database file {file_mib:.0} MiB",
        accounts as f64 / seed_secs
    );

    let state = uslugi_web::AppState::new(db.clone(), config.clone(), keys.clone()).expect("state");
    tokio::spawn(async move {
        uslugi_web::server::serve(listener, state, std::future::pending())
            .await
            .expect("serve")
    });
    let base = format!("http://{addr}");

    // 2. Sign-ins as random accounts (a cheap LCG: the choice must not cost more than a login).
    let sign_in = |client: reqwest::Client, base: String, who: usize| async move {
        let r = client
            .post(format!("{base}/api/v1/sessions"))
            .json(&json!({ "login": phone(who), "password": PASSWORD }))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 201, "login as {}", phone(who));
    };
    sign_in(reqwest::Client::new(), base.clone(), 0).await;
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (base, next) = (base.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut seed = 0x9E37_79B9_7F4A_7C15_u64 ^ (t as u64);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= logins {
                    break;
                }
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let who = usize::try_from(seed >> 33).unwrap_or(0) % accounts;
                sign_in(client.clone(), base.clone(), who).await;
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
    println!(
        "sign-in with {accounts} accounts: {logins} logins in {secs:.2} s with {concurrency} clients = {:.1} logins/s ({:.1} per core)",
        logins as f64 / secs,
        logins as f64 / secs / cores as f64
    );

    // 3. A burst of 200 at once, each on its own connection.
    std::fs::write("/proc/self/clear_refs", "5").ok();
    let before = rss_peak_kib();
    let started = Instant::now();
    let burst: Vec<_> = (0..200)
        .map(|i| {
            let base = base.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let r = client
                    .post(format!("{base}/api/v1/sessions"))
                    .json(&json!({ "login": phone((i * 7919) % accounts), "password": PASSWORD }))
                    .send()
                    .await
                    .expect("login");
                assert_eq!(r.status(), 201);
            })
        })
        .collect();
    for b in burst {
        b.await.expect("burst");
    }
    println!(
        "burst: 200 simultaneous sign-ins in {:.2} s; peak RSS {:.1} MiB (before the burst {:.1} MiB; server and the 200 clients in one process)",
        started.elapsed().as_secs_f64(),
        rss_peak_kib() as f64 / 1024.0,
        before as f64 / 1024.0
    );
    std::fs::remove_dir_all(dir).ok();
}

/// One account with an encrypted name and a confirmed phone (for benchmarks that need a person).
pub async fn seed_one(
    db: &uslugi_store::Db,
    keys: &Keys,
    passwords: &uslugi_core::kernel::passwords::Passwords,
) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    let contact = uslugi_core::identity::accounts::Contact::Phone(
        uslugi_domain::Phone::parse(&phone(0)).expect("phone"),
    );
    insert_bulk(
        db,
        vec![NewAccount {
            id,
            level: "simplified".into(),
            name: uslugi_core::identity::accounts::encrypt_name(
                keys,
                &StoredName {
                    last: "Иванова".into(),
                    first: "Мария".into(),
                    middle: None,
                },
            )
            .expect("name"),
            password_hash: passwords.hash(PASSWORD.to_owned()).await.expect("hash"),
        }],
        vec![NewContact {
            account_id: id,
            kind: "phone".into(),
            value: uslugi_core::identity::accounts::encrypt_contact(keys, &contact)
                .expect("contact"),
            value_blind: contact.blind(keys),
        }],
        uslugi_store::now_ms(),
    )
    .await
    .expect("seed");
    id
}
