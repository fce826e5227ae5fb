//! Delivery through the outbox to real peers: an HTTP SMS gateway (a receiver on loopback) and an
//! SMTP server (aiosmtpd on loopback), with retries, backoff and the dead-letter state.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::sync::{Arc, Mutex};

use axum::{Router, http::HeaderMap, http::StatusCode, routing::post};
use sea_orm::TransactionTrait;
use uslugi_core::{
    kernel::config::{EmailConfig, HttpSmsConfig, SmsConfig, SmtpConfig, SmtpTls},
    kernel::delivery::{self, Channel, Message},
};
use uslugi_store::kernel::outbox;
use uslugi_testkit::{SmtpServer, TestApp};

#[derive(Clone, Default)]
struct Receiver {
    bodies: Arc<Mutex<Vec<(String, String)>>>,
    status: Arc<Mutex<u16>>,
}

async fn start_receiver(status: u16) -> (String, Receiver) {
    let rx = Receiver {
        status: Arc::new(Mutex::new(status)),
        ..Default::default()
    };
    let state = rx.clone();
    let app = Router::new().route(
        "/send",
        post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                state.bodies.lock().unwrap().push((auth, body));
                StatusCode::from_u16(*state.status.lock().unwrap()).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

/// A retry with zero backoff is due 1 ms after the failure, and a pass takes only what was due
/// when it started; waiting a little makes the next pass see it.
async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

fn sms(to: &str, body: &str) -> Message {
    Message {
        channel: Channel::Sms,
        to: to.into(),
        subject: String::new(),
        body: body.into(),
    }
}

async fn enqueue(app: &TestApp, msg: &Message, key: &str) -> bool {
    let txn = app.db().begin().await.unwrap();
    let new = delivery::enqueue(&txn, app.state.keys.cipher(), msg, key)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    new
}

async fn app_with_gateway(url: String) -> TestApp {
    TestApp::spawn_with(|c| {
        c.delivery.sms = SmsConfig::Http(HttpSmsConfig {
            url,
            body_template: r#"{"phone":"{to}","message":"{text}"}"#.into(),
            content_type: "application/json".into(),
            bearer_token: Some("gateway-secret".to_owned().into()),
            timeout_secs: 5,
        });
        c.worker.max_attempts = 3;
        c.worker.backoff_base_secs = 0;
    })
    .await
}

#[tokio::test]
async fn sms_goes_to_the_http_gateway_with_the_configured_body_and_token() {
    let (url, rx) = start_receiver(200).await;
    let app = app_with_gateway(url).await;
    assert!(enqueue(&app, &sms("+79123456789", "Код: 123456"), "t:1").await);

    let stats = app.worker_pass().await;
    assert_eq!(stats.sent, 1);
    let bodies = rx.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0].0, "Bearer gateway-secret");
    let v: serde_json::Value = serde_json::from_str(&bodies[0].1).unwrap();
    assert_eq!(v["phone"], "+79123456789");
    assert_eq!(v["message"], "Код: 123456");

    let rows = outbox::list(app.db()).await.unwrap();
    assert_eq!(rows[0].state, outbox::state::SENT);
    assert!(rows[0].sent_at.is_some());
    // Nothing more to do: a second pass sends nothing again.
    assert_eq!(app.worker_pass().await.sent, 0);
    assert_eq!(rx.bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_same_dedup_key_is_sent_once() {
    let (url, rx) = start_receiver(200).await;
    let app = app_with_gateway(url).await;
    assert!(enqueue(&app, &sms("+79123456789", "one"), "same").await);
    assert!(!enqueue(&app, &sms("+79123456789", "one"), "same").await);
    app.worker_pass().await;
    assert_eq!(rx.bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failing_gateway_is_retried_then_the_message_goes_to_dead_letters() {
    let (url, rx) = start_receiver(503).await;
    let app = app_with_gateway(url).await;
    enqueue(&app, &sms("+79123456789", "x"), "retry").await;

    let s1 = app.worker_pass().await;
    assert_eq!((s1.sent, s1.retried, s1.dead), (0, 1, 0));
    let row = &outbox::list(app.db()).await.unwrap()[0];
    assert_eq!(row.state, outbox::state::PENDING);
    assert_eq!(row.attempts, 1);
    assert!(row.last_error.as_deref().unwrap().contains("503"));
    // The error text kept for operators names no recipient.
    assert!(!row.last_error.as_deref().unwrap().contains("79123456789"));

    tick().await;
    app.worker_pass().await;
    tick().await;
    let s3 = app.worker_pass().await;
    assert_eq!(s3.dead, 1);
    let row = &outbox::list(app.db()).await.unwrap()[0];
    assert_eq!(row.state, outbox::state::DEAD);
    assert_eq!(row.attempts, 3);
    assert_eq!(rx.bodies.lock().unwrap().len(), 3);
    // Dead letters are not tried again.
    assert_eq!(app.worker_pass().await, Default::default());
}

#[tokio::test]
async fn a_gateway_that_refuses_the_request_is_not_retried() {
    let (url, _rx) = start_receiver(400).await;
    let app = app_with_gateway(url).await;
    enqueue(&app, &sms("+79123456789", "x"), "refused").await;
    assert_eq!(app.worker_pass().await.dead, 1);
    assert_eq!(
        outbox::list(app.db()).await.unwrap()[0].state,
        outbox::state::DEAD
    );
}

#[tokio::test]
async fn a_retry_waits_for_its_backoff() {
    let (url, rx) = start_receiver(503).await;
    let app = TestApp::spawn_with(|c| {
        c.delivery.sms = SmsConfig::Http(HttpSmsConfig {
            url,
            body_template: "{text}".into(),
            content_type: "text/plain".into(),
            bearer_token: None,
            timeout_secs: 5,
        });
        c.worker.backoff_base_secs = 60;
    })
    .await;
    enqueue(&app, &sms("+79123456789", "x"), "backoff").await;
    app.worker_pass().await;
    let row = &outbox::list(app.db()).await.unwrap()[0];
    assert!(row.next_attempt_at >= uslugi_store::now_ms() + 50_000);
    // Not due yet: the next pass leaves it alone.
    app.worker_pass().await;
    assert_eq!(rx.bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn email_goes_through_a_real_smtp_server() {
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    let app = TestApp::spawn_with(|c| {
        c.delivery.email = EmailConfig::Smtp(SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "Госуслуги <noreply@uslugi.local>".into(),
            timeout_secs: 5,
        });
    })
    .await;
    let msg = Message {
        channel: Channel::Email,
        to: "ivanov@example.ru".into(),
        subject: "Подтвердите адрес электронной почты".into(),
        body: "Перейдите по ссылке, чтобы подтвердить адрес.".into(),
    };
    enqueue(&app, &msg, "mail:1").await;
    let stats = app.worker_pass().await;
    assert_eq!(stats.sent, 1, "{stats:?}");

    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains("To: ivanov@example.ru"), "{mail}");
    assert!(mail.contains("noreply@uslugi.local"), "{mail}");
    // The subject is RFC 2047-encoded; decode the one we know to compare.
    assert!(mail.contains("Subject: "), "{mail}");
}

#[tokio::test]
async fn an_unreachable_smtp_server_means_retry_not_loss() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = TestApp::spawn_with(|c| {
        c.delivery.email = EmailConfig::Smtp(SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "noreply@uslugi.local".into(),
            timeout_secs: 2,
        });
    })
    .await;
    let msg = Message {
        channel: Channel::Email,
        to: "a@example.ru".into(),
        subject: "s".into(),
        body: "b".into(),
    };
    enqueue(&app, &msg, "mail:down").await;
    let stats = app.worker_pass().await;
    assert_eq!(stats.retried, 1);
    assert_eq!(
        outbox::list(app.db()).await.unwrap()[0].state,
        outbox::state::PENDING
    );
}

#[tokio::test]
async fn outbox_rows_hold_no_plaintext() {
    let app = TestApp::spawn().await;
    enqueue(
        &app,
        &sms("+79123456789", "Код подтверждения 654321"),
        "enc",
    )
    .await;
    let row = &outbox::list(app.db()).await.unwrap()[0];
    for field in [&row.recipient, &row.subject, &row.body] {
        assert!(!field.contains("79123456789"));
        assert!(!field.contains("654321"));
    }
    // The development adapter delivers it readable at /dev/outbox.json.
    app.worker_pass().await;
    let out = app.dev_outbox().await;
    assert_eq!(out[0]["to"], "+79123456789");
    assert_eq!(out[0]["body"], "Код подтверждения 654321");
}
