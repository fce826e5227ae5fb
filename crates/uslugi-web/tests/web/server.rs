//! The connection limits of the server loop: the header block's cap, the deadline for a whole
//! header (idle keep-alive included), and the cap on connections from one address. Spoken in raw
//! TCP, since an HTTP client would not send what an attacker sends.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use uslugi_testkit::TestApp;

fn addr(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (or `limit` passes: then `None`).
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test]
async fn an_oversized_header_block_gets_431() {
    let app = TestApp::spawn().await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let cookie = "a".repeat(40 * 1024);
    let req = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n");
    // The server may answer and close before the whole header is written.
    let _ = s.write_all(req.as_bytes()).await;
    let answer = read_to_close(&mut s, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.80}");

    // A header block under the cap is served.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let cookie = "a".repeat(8 * 1024);
    let req = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut s, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.80}");
}

#[tokio::test]
async fn a_header_that_never_ends_and_an_idle_connection_are_closed() {
    let app = TestApp::spawn_with(|c| {
        c.web.header_read_timeout_secs = 1;
        c.web.idle_timeout_secs = 1;
    })
    .await;

    // Dripping: half a request line, then nothing.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost:")
        .await
        .unwrap();
    assert!(
        read_to_close(&mut s, Duration::from_secs(5))
            .await
            .is_some(),
        "a connection that never finishes its header must be closed"
    );

    // Silent from the start.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    assert!(
        read_to_close(&mut s, Duration::from_secs(5))
            .await
            .is_some()
    );

    // Kept alive after an answer, then idle.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut s, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.80}");
}

#[tokio::test]
async fn one_address_cannot_hold_more_connections_than_the_cap() {
    let app = TestApp::spawn_with(|c| c.web.max_connections_per_client = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    // Give the server time to accept the three.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A fourth is closed without an answer.
    let mut extra = TcpStream::connect(addr(&app)).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let answer = read_to_close(&mut extra, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(answer.is_empty(), "{answer:.80}");

    // One of the three ends: its place is free again.
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// PostgreSQL only: the embedded database cannot be "down". Connections to the test database are
/// cut and refused, as when the server stops, then allowed again.
#[tokio::test]
async fn a_database_that_cannot_be_reached_gets_503_within_seconds_and_recovers_without_restart() {
    use sea_orm::ConnectionTrait;
    if uslugi_testkit::backend() != uslugi_store::Backend::Postgres {
        return;
    }
    let app = TestApp::spawn().await;
    app.signed_in_citizen("+79770000301").await;
    assert_eq!(
        app.client
            .get(app.url("/cabinet"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let admin = uslugi_store::connect(&std::env::var(uslugi_testkit::DATABASE_ENV).unwrap(), 2)
        .await
        .unwrap();
    let name = app.database_url.rsplit('/').next().unwrap().to_owned();
    let name = name.split('?').next().unwrap();
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();

    // A page that reads the session.
    let started = std::time::Instant::now();
    let r = app.client.get(app.url("/cabinet")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "30");
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Сервис временно недоступен")
    );
    // The pool's wait is 2 s; the old 10 s wait (and its 500) must not come back.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // The API: problem JSON in Russian.
    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .json(&serde_json::json!({"login": "+79770000301", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("временно недоступен"),
        "{body}"
    );

    let started = std::time::Instant::now();
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    admin
        .execute_unprepared(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let mut ready = false;
    for _ in 0..50 {
        if app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ready, "the portal must recover without a restart");
    assert_eq!(
        app.client
            .get(app.url("/cabinet"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
