//! Sessions and CSRF protection.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_testkit::TestApp;

fn valid_form<'a>(token: &'a str, submission: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("csrf_token", token),
        ("submission_id", submission),
        ("name", "Анна"),
        ("contact", "anna@example.ru"),
        ("message", "Как записаться к врачу через портал?"),
    ]
}

const SUBMISSION: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[tokio::test]
async fn a_form_page_starts_a_session_with_safe_cookie_flags() {
    let app = TestApp::spawn().await;
    let r = app.get("/feedback").await;
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("uslugi_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/"));
    assert!(
        !cookie.contains("Secure"),
        "no Secure over plain HTTP on loopback"
    );
}

#[tokio::test]
async fn a_post_without_a_token_is_refused() {
    let app = TestApp::spawn().await;
    app.get("/feedback").await;
    let mut form = valid_form("", SUBMISSION);
    form.remove(0);
    let r = app.post_form("/feedback", &form).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Страница устарела"));
}

#[tokio::test]
async fn a_post_with_another_sessions_token_is_refused() {
    let app = TestApp::spawn().await;
    let other = TestApp::spawn().await;
    let foreign = other.hidden_field("/feedback", "csrf_token").await;
    app.get("/feedback").await;
    let r = app
        .post_form("/feedback", &valid_form(&foreign, SUBMISSION))
        .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn a_cross_origin_post_is_refused_even_with_a_valid_token() {
    let app = TestApp::spawn().await;
    let token = app.hidden_field("/feedback", "csrf_token").await;
    let r = app
        .client
        .post(app.url("/feedback"))
        .header("origin", "https://evil.example")
        .form(&valid_form(&token, SUBMISSION))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(app.url("/feedback"))
        .header("origin", "null")
        .form(&valid_form(&token, SUBMISSION))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn a_same_origin_post_with_the_token_is_accepted() {
    let app = TestApp::spawn().await;
    let token = app.hidden_field("/feedback", "csrf_token").await;
    let r = app
        .post_form("/feedback", &valid_form(&token, SUBMISSION))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Обращение отправлено"));
}

#[tokio::test]
async fn a_forged_session_cookie_is_ignored_and_cleared() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/"))
        .header(
            "cookie",
            "uslugi_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
}

#[tokio::test]
async fn the_api_refuses_form_posts() {
    let app = TestApp::spawn().await;
    // A form's body (what a cross-site form can send) is refused before any handler: 415.
    let r = app
        .post_form("/api/v1/sessions", &[("login", "x"), ("password", "y")])
        .await;
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.headers().get("content-type").unwrap().to_str().unwrap(),
        "application/problem+json"
    );
    // A request with no body and no content type reaches its handler (signing out needs none).
    let r = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // A method the portal does not handle is 405, not a CSRF refusal.
    let r = app
        .client
        .request(reqwest::Method::TRACE, app.url("/api/v1/sessions/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn sessions_are_stored_hashed() {
    let app = TestApp::spawn().await;
    let r = app.get("/feedback").await;
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    use sea_orm::EntityTrait;
    let rows = uslugi_store::entities::sessions::Entity::find()
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].id, token);
    assert_eq!(rows[0].id.len(), 64);
}

#[tokio::test]
async fn an_idle_session_ends() {
    let app = TestApp::spawn_with(|c| c.web.session_idle_minutes = 0).await;
    let token = app.hidden_field("/feedback", "csrf_token").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // The session has timed out, so its token no longer counts.
    let r = app
        .post_form("/feedback", &valid_form(&token, SUBMISSION))
        .await;
    assert_eq!(r.status(), 403);
}
