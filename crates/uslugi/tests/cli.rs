//! The binary as a user runs it: start, serve, refuse bad production settings, stop gracefully.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

const BIN: &str = env!("CARGO_BIN_EXE_uslugi");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn work_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir()
        .join("uslugi-tests")
        .join(format!("cli-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn database_url() -> String {
    uslugi_testkit::fresh_database().await.0
}

fn command(dir: &std::path::Path, db: &str) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("USLUGI_DATABASE_URL", db)
        .env("USLUGI_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

async fn wait_ready(port: u16, child: &mut Child) {
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
            && r.status() == 200
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("server exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become ready");
}

fn output_of(child: Child) -> (std::process::ExitStatus, String) {
    let out = child.wait_with_output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status, text)
}

#[tokio::test]
async fn serve_answers_in_russian_and_stops_gracefully_on_sigterm() {
    let dir = work_dir();
    let port = free_port();
    let db = database_url().await;
    let mut child = command(&dir, &db)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    wait_ready(port, &mut child).await;
    let html = reqwest::get(format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Государственные услуги"));
    // Development mode generated a key file under ./data.
    assert!(dir.join("data/keys.toml").exists());

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (status, log) = output_of(child);
    assert!(status.success(), "exit {status}: {log}");
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn the_default_database_is_sqlite_under_data() {
    let dir = work_dir();
    let port = free_port();
    let mut child = Command::new(BIN)
        .current_dir(&dir)
        .env_remove("USLUGI_DATABASE_URL")
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(port, &mut child).await;
    assert!(dir.join("data/uslugi.db").exists());
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn production_mode_refuses_to_start_without_keys_and_with_the_development_outbox() {
    let dir = work_dir();
    let db = database_url().await;
    let child = command(&dir, &db)
        .args([
            "--production",
            "serve",
            "--addr",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .spawn()
        .unwrap();
    let (status, log) = output_of(child);
    assert!(!status.success());
    assert!(
        log.contains("refusing to start in production mode"),
        "{log}"
    );
    assert!(log.contains("no key file"), "{log}");
    assert!(log.contains("development outbox"), "{log}");
    assert!(log.contains("simulated state registries"), "{log}");
    assert!(
        !dir.join("data/keys.toml").exists(),
        "no keys generated in production"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn development_mode_refuses_an_address_other_hosts_can_reach() {
    let dir = work_dir();
    let db = database_url().await;
    let child = command(&dir, &db)
        .args(["serve", "--addr", &format!("0.0.0.0:{}", free_port())])
        .spawn()
        .unwrap();
    let (status, log) = output_of(child);
    assert!(!status.success());
    assert!(
        log.contains("refusing to serve a development portal"),
        "{log}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn migrate_applies_the_schema_and_exits() {
    let dir = work_dir();
    let db = database_url().await;
    let (status, log) = output_of(command(&dir, &db).arg("migrate").spawn().unwrap());
    assert!(status.success(), "{log}");
    assert!(log.contains("migrations applied"), "{log}");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_bad_database_url_is_a_clear_error() {
    let dir = work_dir();
    let (status, log) = output_of(
        command(&dir, "mysql://nowhere/db")
            .arg("migrate")
            .spawn()
            .unwrap(),
    );
    assert!(!status.success());
    assert!(log.contains("cannot open the database"), "{log}");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_config_file_sets_the_support_phone() {
    let dir = work_dir();
    let port = free_port();
    let db = database_url().await;
    std::fs::write(
        dir.join("uslugi.toml"),
        "[support]\nphone = \"8 800 555-35-35\"\nphone_href = \"+78005553535\"\nemail = \"help@region.example\"\n",
    )
    .unwrap();
    let mut child = command(&dir, &db)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    wait_ready(port, &mut child).await;
    let html = reqwest::get(format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("8 800 555-35-35"));
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn admin_registers_clients_and_rotates_keys() {
    let dir = work_dir();
    let db = database_url().await;
    let out = command(&dir, &db)
        .args([
            "admin",
            "clients",
            "add",
            "--name",
            "Электронный дневник",
            "--redirect-uri",
            "https://school.example.ru/callback",
            "--min-level",
            "standard",
            "--scopes",
            "openid fullname snils",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let client: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(client["client_id"].as_str().unwrap().len(), 22);
    assert_eq!(client["client_secret"].as_str().unwrap().len(), 43);
    assert_eq!(client["min_level"], "standard");
    assert_eq!(
        client["scopes"],
        serde_json::json!(["openid", "fullname", "snils"])
    );

    // A public client gets no secret; a plain-http redirect elsewhere than localhost is refused.
    let out = command(&dir, &db)
        .args([
            "admin",
            "clients",
            "add",
            "--name",
            "SPA",
            "--redirect-uri",
            "http://localhost:3000/cb",
            "--public",
        ])
        .output()
        .unwrap();
    let client: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(client.get("client_secret").is_none());
    let out = command(&dir, &db)
        .args([
            "admin",
            "clients",
            "add",
            "--name",
            "Bad",
            "--redirect-uri",
            "http://evil.example/cb",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be https"));

    // A client with keys (private_key_jwt) from a file: no secret; a private key is refused.
    let public_jwk = serde_json::json!({ "keys": [{ "kty": "EC", "crv": "P-256", "kid": "k1",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" }] });
    std::fs::write(dir.join("jwks.json"), public_jwk.to_string()).unwrap();
    let out = command(&dir, &db)
        .args([
            "admin",
            "clients",
            "add",
            "--name",
            "Реестр",
            "--redirect-uri",
            "https://registry.example.ru/cb",
            "--jwks",
            "@jwks.json",
            "--id-token-alg",
            "ES256",
            "--client-credentials",
            "--post-logout-redirect-uri",
            "https://registry.example.ru/bye",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let client: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(client.get("client_secret").is_none());
    assert_eq!(client["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(client["id_token_signed_response_alg"], "ES256");
    assert_eq!(
        client["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    let mut private = public_jwk.clone();
    private["keys"][0]["d"] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI".into();
    let out = command(&dir, &db)
        .args([
            "admin",
            "clients",
            "add",
            "--name",
            "Bad",
            "--redirect-uri",
            "https://registry.example.ru/cb",
            "--jwks",
            &private.to_string(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("private key"));

    let rotate = || {
        let out = command(&dir, &db)
            .args(["admin", "keys", "rotate"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = rotate();
    assert_eq!(first["retired"], 2, "the pair made at first use is retired");
    assert_eq!(first["published"].as_array().unwrap().len(), 4);
    let second = rotate();
    assert_eq!(
        second["published"].as_array().unwrap().len(),
        6,
        "retired keys stay published for an hour"
    );
}

#[tokio::test]
async fn admin_grants_lists_and_revokes_roles_and_journals_them() {
    let dir = work_dir();
    let (db_url, db) = uslugi_testkit::fresh_database().await;
    let account = an_account(&db).await;
    let run = |args: &[&str]| {
        let mut all = vec!["admin", "roles"];
        all.extend_from_slice(args);
        output_of(command(&dir, &db_url).args(all).spawn().unwrap())
    };
    let id = account.to_string();
    let (status, out) = run(&[
        "grant",
        "operator",
        "--account",
        &id,
        "--office",
        "mfc-77-001",
    ]);
    assert!(status.success(), "{out}");
    assert!(out.contains(r#""granted":true"#), "{out}");
    // The scope must fit the role, and the role must exist.
    let (status, out) = run(&["grant", "officer", "--account", &id]);
    assert!(!status.success());
    assert!(out.contains("--agency"), "{out}");
    let (status, out) = run(&["grant", "root", "--account", &id]);
    assert!(!status.success());
    assert!(out.contains("unknown role"), "{out}");
    let (status, out) = run(&["list", "--account", &id]);
    assert!(status.success(), "{out}");
    assert!(
        out.contains(r#""role":"operator""#) && out.contains(r#""scope":"mfc-77-001""#),
        "{out}"
    );
    let (status, out) = run(&[
        "revoke",
        "operator",
        "--account",
        &id,
        "--office",
        "mfc-77-001",
    ]);
    assert!(status.success(), "{out}");
    assert!(out.contains(r#""revoked":true"#), "{out}");
    // Newest first.
    let journal: Vec<String> = uslugi_store::identity::accounts::journal_of(&db, account, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(journal, ["role.revoked", "role.granted"], "{journal:?}");

    // The journal's chain checks out, then an entry changed in the database is found.
    let verify = |anchors: &[&str]| {
        let mut all = vec!["admin", "journal", "verify"];
        for a in anchors {
            all.extend_from_slice(&["--anchor", a]);
        }
        output_of(command(&dir, &db_url).args(all).spawn().unwrap())
    };
    let (status, out) = verify(&[]);
    assert!(status.success(), "{out}");
    assert!(
        out.contains(r#""intact":true"#) && out.contains(r#""entries":2"#),
        "{out}"
    );
    let (status, out) = verify(&["2"]);
    assert!(!status.success());
    assert!(out.contains("SEQ:HASH"), "{out}");
    use uslugi_store::sea_orm::ConnectionTrait;
    db.execute_unprepared("UPDATE account_journal SET event = 'role.forged' WHERE seq = 1")
        .await
        .unwrap();
    let (status, out) = verify(&[]);
    assert!(!status.success(), "{out}");
    assert!(out.contains("broken at entry 1"), "{out}");
    std::fs::remove_dir_all(dir).ok();
}

/// An account row written through the store.
async fn an_account(db: &uslugi_store::Db) -> uuid::Uuid {
    let account = uuid::Uuid::new_v4();
    uslugi_store::identity::accounts::insert_account(
        db,
        uslugi_store::identity::accounts::NewAccount {
            id: account,
            level: "standard".into(),
            name: "(ciphertext)".into(),
            password_hash: "(hash)".into(),
        },
        uslugi_store::now_ms(),
    )
    .await
    .unwrap();
    account
}

/// An account and a journal entry written through the store, the way the portal writes them.
async fn an_account_with_a_journal(db: &uslugi_store::Db) -> uuid::Uuid {
    let account = an_account(db).await;
    uslugi_store::identity::accounts::journal(
        db,
        account,
        "test.backup",
        serde_json::json!({}),
        uslugi_store::now_ms(),
    )
    .await
    .unwrap();
    account
}

/// The restored copy has the account, its journal checks out, and the portal serves it.
async fn assert_restored(dir: &std::path::Path, url: &str, account: uuid::Uuid) {
    let copy = uslugi_store::connect(url, 2).await.unwrap();
    let journal = uslugi_store::identity::accounts::journal_of(&copy, account, 10)
        .await
        .unwrap();
    assert_eq!(journal.len(), 1);
    assert!(matches!(
        uslugi_store::identity::journal::verify(&copy, &[])
            .await
            .unwrap(),
        uslugi_store::identity::journal::Verdict::Intact { entries: 1, .. }
    ));
    copy.close().await.ok();
    let port = free_port();
    let mut child = command(dir, url)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    wait_ready(port, &mut child).await;
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_backup_restores_to_a_portal_with_the_same_accounts() {
    let dir = work_dir();
    let (db_url, db) = uslugi_testkit::fresh_database().await;
    let account = an_account_with_a_journal(&db).await;
    let file = dir.join("backup.db");
    let (status, out) = output_of(
        command(&dir, &db_url)
            .args(["admin", "backup", file.to_str().unwrap()])
            .spawn()
            .unwrap(),
    );
    match uslugi_testkit::backend() {
        uslugi_store::Backend::Sqlite => {
            assert!(status.success(), "{out}");
            // Taken while the database is open (the test's own pool holds it).
            assert_restored(&dir, &format!("sqlite://{}", file.display()), account).await;
            // A second backup to the same file is refused rather than overwriting it.
            let (status, out) = output_of(
                command(&dir, &db_url)
                    .args(["admin", "backup", file.to_str().unwrap()])
                    .spawn()
                    .unwrap(),
            );
            assert!(!status.success() && out.contains("exists"), "{out}");
        }
        uslugi_store::Backend::Postgres => {
            // The command points to pg_dump; the README's pg_dump / pg_restore steps restore.
            assert!(!status.success() && out.contains("pg_dump"), "{out}");
            let dump = dir.join("backup.dump");
            let ran = std::process::Command::new("pg_dump")
                .args([
                    "--format=custom",
                    "--no-owner",
                    "-f",
                    dump.to_str().unwrap(),
                    &db_url,
                ])
                .status()
                .unwrap();
            assert!(ran.success());
            let restored_name = format!("uslugi_restored_{}", uuid::Uuid::new_v4().simple());
            let admin =
                uslugi_store::connect(&std::env::var(uslugi_testkit::DATABASE_ENV).unwrap(), 2)
                    .await
                    .unwrap();
            use uslugi_store::sea_orm::ConnectionTrait;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{restored_name}\""))
                .await
                .unwrap();
            let (base, _) = db_url.rsplit_once('/').unwrap();
            let restored = format!("{base}/{restored_name}");
            let ran = std::process::Command::new("pg_restore")
                .args(["--no-owner", "-d", &restored, dump.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(ran.success());
            assert_restored(&dir, &restored, account).await;
        }
    }
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn the_data_key_rotates_in_stages_and_an_old_key_in_use_is_not_retired() {
    let dir = work_dir();
    let (db_url, db) = uslugi_testkit::fresh_database().await;
    let run = |args: &[&str]| output_of(command(&dir, &db_url).args(args).spawn().unwrap());
    let json = |out: &str| -> serde_json::Value {
        serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap()).unwrap()
    };
    // The first command makes the development key file.
    let (status, out) = run(&["admin", "data-keys", "status"]);
    assert!(status.success(), "{out}");
    assert_eq!(json(&out)["active"], "k1");
    let path = dir.join("data").join("keys.toml");
    let keys = uslugi_core::Keys::load(&path).unwrap();
    let account = an_account(&db).await;
    let name = keys.cipher().encrypt("accounts.name", "Смирнова").unwrap();
    use uslugi_store::sea_orm::{ConnectionTrait, Statement};
    let set_name = |value: String| {
        Statement::from_sql_and_values(
            db.get_database_backend(),
            match uslugi_testkit::backend() {
                uslugi_store::Backend::Sqlite => "UPDATE accounts SET name = ? WHERE id = ?",
                uslugi_store::Backend::Postgres => "UPDATE accounts SET name = $1 WHERE id = $2",
            },
            [value.into(), account.into()],
        )
    };
    db.execute_raw(set_name(name)).await.unwrap();

    let (status, out) = run(&["admin", "data-keys", "add"]);
    assert!(status.success(), "{out}");
    assert_eq!(json(&out)["added"], "k2");
    assert_eq!(json(&out)["active"], "k1", "added, not yet active");
    let (status, out) = run(&["admin", "data-keys", "activate", "k2"]);
    assert!(status.success(), "{out}");

    // k1 still encrypts the name: retiring it is refused and names where it is used.
    let (status, out) = run(&["admin", "data-keys", "retire", "k1"]);
    assert!(!status.success(), "{out}");
    assert!(out.contains("accounts.name: 1"), "{out}");
    assert!(uslugi_core::Keys::load(&path).is_ok());

    let (status, out) = run(&["admin", "data-keys", "reencrypt"]);
    assert!(status.success(), "{out}");
    let report = json(&out);
    let names = report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "accounts.name")
        .unwrap()
        .clone();
    assert_eq!(names["rewritten"], 1, "{out}");
    let (status, out) = run(&["admin", "data-keys", "status"]);
    assert!(status.success(), "{out}");
    assert_eq!(json(&out)["keys"]["k1"], 0, "{out}");

    let (status, out) = run(&["admin", "data-keys", "retire", "k1"]);
    assert!(status.success(), "{out}");
    assert_eq!(json(&out)["keys"], serde_json::json!(["k2"]));
    // The file now holds k2 only, and it reads the rewritten name.
    let keys = uslugi_core::Keys::load(&path).unwrap();
    let row = uslugi_store::identity::accounts::find_account(&db, account)
        .await
        .unwrap()
        .unwrap();
    assert!(row.name.starts_with("k2:"));
    assert_eq!(
        keys.cipher().decrypt("accounts.name", &row.name).unwrap(),
        "Смирнова"
    );

    // One node: a single command adds and activates k3 and queues the worker's re-encryption.
    let (status, out) = run(&["admin", "keys", "rotate-data"]);
    assert!(status.success(), "{out}");
    assert_eq!(json(&out)["active"], "k3");
    assert_eq!(json(&out)["reencryption_queued"], true);
    assert_eq!(
        uslugi_core::KeyFileEdit::open(&path).unwrap().key_ids(),
        vec!["k2", "k3"]
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn the_catalogue_is_exported_and_imported_and_a_bad_one_is_refused_whole() {
    let dir = work_dir();
    let db_url = database_url().await;
    let run = |args: &[&str]| output_of(command(&dir, &db_url).args(args).spawn().unwrap());
    let file = dir.join("services.toml");
    let (status, out) = run(&["admin", "catalogue", "export", file.to_str().unwrap()]);
    assert!(status.success(), "{out}");
    let shipped = std::fs::read_to_string(&file).unwrap();
    assert!(shipped.contains("[[service]]"));
    // A field's condition pointing nowhere: refused, naming the service and the field.
    let broken = shipped.replacen(
        "kind = \"choice\"",
        "kind = \"choice\"\nshow_when = \"nothing=да\"",
        1,
    );
    std::fs::write(&file, &broken).unwrap();
    let (status, out) = run(&["admin", "catalogue", "import", file.to_str().unwrap()]);
    assert!(!status.success());
    assert!(
        out.contains("service \"") && out.contains("field \""),
        "{out}"
    );
    // A smaller catalogue is taken whole.
    let first_service = shipped.find("[[service]]").unwrap();
    let second = shipped[first_service + 1..].find("[[service]]").unwrap() + first_service + 1;
    std::fs::write(&file, &shipped[..second]).unwrap();
    let (status, out) = run(&["admin", "catalogue", "import", file.to_str().unwrap()]);
    assert!(status.success(), "{out}");
    assert!(out.contains("\"services\":1"), "{out}");
    let (_, out) = run(&["admin", "catalogue", "export", "-"]);
    assert_eq!(out.matches("[[service]]").count(), 1, "{out}");
    std::fs::remove_dir_all(dir).ok();
}
