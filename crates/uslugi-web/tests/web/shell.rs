//! The web shell: pages, error pages, security headers, operations endpoints.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_core::Mode;
use uslugi_testkit::TestApp;

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn assert_security_headers(r: &reqwest::Response) {
    let csp = header(r, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(r, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(r, "referrer-policy"),
        "strict-origin-when-cross-origin"
    );
    assert!(header(r, "permissions-policy").contains("camera=()"));
    assert!(!header(r, "x-request-id").is_empty());
}

#[tokio::test]
async fn home_page_is_russian_with_login_and_registration_links() {
    let app = TestApp::spawn().await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert_security_headers(&r);
    assert!(
        header(&r, "strict-transport-security").is_empty(),
        "no HSTS over plain HTTP"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<html lang="ru">"#));
    assert!(html.contains(">Войти</a>"));
    assert!(html.contains(">Зарегистрироваться</a>"));
    assert!(
        html.contains("8 800 100-70-10"),
        "support phone in the footer"
    );
}

#[tokio::test]
async fn a_plain_page_view_starts_no_session() {
    let app = TestApp::spawn().await;
    let r = app.get("/").await;
    assert!(r.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn unknown_path_gets_the_russian_404_page_with_headers() {
    let app = TestApp::spawn().await;
    let r = app.get("/no/such/page").await;
    assert_eq!(r.status(), 404);
    assert_security_headers(&r);
    assert!(header(&r, "content-type").starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("Страница не найдена"));
    assert!(html.contains("<title>Страница не найдена — Госуслуги</title>"));
}

#[tokio::test]
async fn api_errors_are_problem_json() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/nothing").await;
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "content-type"), "application/problem+json");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], 404);
}

#[tokio::test]
async fn a_broken_database_gives_the_500_page_with_a_reference_and_no_internals() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    // A fault, not an outage: a statement fails on a table that is gone.
    app.state
        .db
        .execute_unprepared("DROP TABLE dev_messages")
        .await
        .unwrap();
    let r = app.get("/dev/outbox").await;
    assert_eq!(r.status(), 500);
    assert_security_headers(&r);
    let html = r.text().await.unwrap();
    assert!(html.contains("Что-то пошло не так"));
    assert!(html.contains("Код ошибки: "));
    let at = html
        .find("<strong class=\"reference\">")
        .expect("reference shown")
        + 26;
    let reference = &html[at..at + 8];
    assert!(
        reference.chars().all(|c| c.is_ascii_alphanumeric()),
        "{reference}"
    );
    for internal in ["sqlx", "DbErr", "pool", "closed", "panicked", "src/"] {
        assert!(!html.contains(internal), "500 page leaks {internal}");
    }
}

#[tokio::test]
async fn a_closed_database_pool_gives_the_503_page_with_retry_after() {
    let app = TestApp::spawn().await;
    app.state.db.clone().close().await.unwrap();
    let r = app.get("/dev/outbox").await;
    assert_eq!(r.status(), 503);
    assert_eq!(header(&r, "retry-after"), "30");
    assert_security_headers(&r);
    let html = r.text().await.unwrap();
    assert!(html.contains("Сервис временно недоступен"), "{html}");
    assert!(
        !html.contains("Код ошибки"),
        "an outage is not an incident to quote"
    );
}

#[tokio::test]
async fn healthz_readyz_and_metrics_answer() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_text("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["database"], "ok");
    assert_eq!(v["migrations"], "current");

    app.get("/").await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/plain"));
    let text = r.text().await.unwrap();
    assert!(
        text.contains(r#"uslugi_http_requests_total{method="GET",route="/",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains("uslugi_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("uslugi_db_pool_connections"), "{text}");
    assert!(
        text.contains(r#"uslugi_outbox_messages{state="pending"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.clone().close().await.unwrap();
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["database"], "unreachable");
}

#[tokio::test]
async fn assets_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let r = app.get("/assets/app.css").await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/css"));
    assert!(r.text().await.unwrap().contains("font-family"));
    assert_eq!(app.get("/assets/../Cargo.toml").await.status(), 404);
    assert_eq!(app.get("/assets/missing.js").await.status(), 404);
}

#[tokio::test]
async fn production_mode_has_no_development_outbox() {
    let app = TestApp::spawn_with(|c| c.mode = Mode::Production).await;
    assert_eq!(app.get("/dev/outbox").await.status(), 404);
    assert_eq!(app.get("/dev/outbox.json").await.status(), 404);
}

#[tokio::test]
async fn production_configuration_without_keys_or_with_the_dev_outbox_is_refused() {
    let mut config =
        uslugi_core::Config::development("127.0.0.1:0".parse().unwrap(), "sqlite::memory:".into());
    assert!(
        config.production_problems().is_empty(),
        "development mode has no such rules"
    );
    config.mode = Mode::Production;
    let problems = config.production_problems().join("\n");
    assert!(problems.contains("key file"), "{problems}");
    assert!(problems.contains("not https"), "{problems}");
    assert!(problems.contains("development outbox"), "{problems}");
    assert!(
        problems.contains("simulated state registries"),
        "{problems}"
    );
    assert!(problems.contains("built-in captcha"), "{problems}");
    config.captcha.allow_builtin_in_production = true;
    config.registries.adapter = uslugi_core::kernel::config::RegistriesAdapter::Http;
    let problems = config.production_problems().join("\n");
    assert!(
        !problems.contains("simulated state registries"),
        "{problems}"
    );
    assert!(problems.contains("needs url and signing_key"), "{problems}");
    assert!(!problems.contains("built-in captcha"), "allowed knowingly");
    config.captcha.provider = uslugi_core::kernel::config::CaptchaProvider::SmartCaptcha;
    let problems = config.production_problems().join("\n");
    assert!(
        problems.contains("needs site_key and server_key"),
        "{problems}"
    );
}

#[tokio::test]
async fn over_tls_there_is_hsts_and_a_secure_host_cookie() {
    let app = TestApp::spawn_with(|c| c.public_url = "https://uslugi.example".into()).await;
    let r = app.get("/feedback").await;
    assert_eq!(
        header(&r, "strict-transport-security"),
        "max-age=63072000; includeSubDomains"
    );
    let cookie = header(&r, "set-cookie");
    assert!(cookie.starts_with("__Host-uslugi_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let token = app.hidden_field("/feedback", "csrf_token").await;
    let big = "я".repeat(200_000);
    let r = app
        .post_form("/feedback", &[("csrf_token", &token), ("message", &big)])
        .await;
    assert_eq!(r.status(), 413);
    let html = r.text().await.unwrap();
    assert!(html.contains("Слишком большой запрос"), "{html}");
}

#[tokio::test]
async fn a_wrong_method_gets_405_page() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .delete(app.url("/healthz"))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    // CSRF runs first for unsafe methods; without a session token this is refused.
    assert!(r.status() == 403 || r.status() == 405, "{}", r.status());
}

#[tokio::test]
async fn metrics_can_require_a_bearer_token() {
    let app = TestApp::spawn_with(|c| c.web.metrics_token = Some("s3cret".to_owned().into())).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn health_and_assets_never_touch_sessions() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/healthz"))
        .header(
            "cookie",
            "uslugi_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("set-cookie").is_none());
}
