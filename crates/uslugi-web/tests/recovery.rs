//! «Восстановление доступа»: code, new password, every other session ended, no enumeration.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_testkit::{STRONG_PASSWORD, TestApp};

const NEW_PASSWORD: &str = "Синий-Кит#2027";

async fn form(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = uslugi_testkit::hidden_value(&html, "csrf_token").unwrap();
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    client
        .post(app.url(path))
        .header("origin", &app.base_url)
        .form(&all)
        .send()
        .await
        .unwrap()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn recovery_sets_a_new_password_and_ends_every_other_session() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000601")
        .await;
    // Another device signed in as well.
    let other = browser();
    let r = form(
        &app,
        &other,
        "/login",
        &[("login", "+79120000601"), ("password", STRONG_PASSWORD)],
    )
    .await;
    assert_eq!(TestApp::location(&r), "/cabinet");

    let person = browser();
    let r = form(&app, &person, "/recover", &[("login", "8 912 000-06-01")]).await;
    assert_eq!(TestApp::location(&r), "/recover/confirm");
    let page = person
        .get(app.url("/recover/confirm"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("+7 912 ***-**-01"));
    let msg = app.last_message_to("+79120000601").await;
    assert!(
        msg["body"]
            .as_str()
            .unwrap()
            .starts_with("Код для восстановления доступа")
    );
    let code = app.sms_code("+79120000601").await;
    let r = form(&app, &person, "/recover/confirm", &[("code", &code)]).await;
    assert_eq!(TestApp::location(&r), "/recover/password");

    let html = form(
        &app,
        &person,
        "/recover/password",
        &[
            ("password", "qwerty12"),
            ("password_confirmation", "qwerty12"),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(html.contains("Добавьте в пароль заглавную букву"), "{html}");
    let r = form(
        &app,
        &person,
        "/recover/password",
        &[
            ("password", NEW_PASSWORD),
            ("password_confirmation", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    let cabinet = person
        .get(app.url("/cabinet"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(cabinet.contains("Пароль изменён. Все остальные сеансы завершены"));

    // The other device and the registration browser are signed out.
    let r = other.get(app.url("/cabinet")).send().await.unwrap();
    assert_eq!(TestApp::location(&r), "/login");
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
    // The old password is gone, the new one works.
    let fresh = browser();
    let html = form(
        &app,
        &fresh,
        "/login",
        &[("login", "+79120000601"), ("password", STRONG_PASSWORD)],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(html.contains("Неверный логин или пароль"));
    let r = form(
        &app,
        &fresh,
        "/login",
        &[("login", "+79120000601"), ("password", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    app.drain_worker().await;
    let out = app.dev_outbox().await;
    assert!(
        out.iter().any(|m| m["to"] == "+79120000601"
            && m["body"]
                .as_str()
                .unwrap()
                .contains("пароль от вашей учётной записи изменён")),
        "{out:?}"
    );
}

#[tokio::test]
async fn an_unknown_login_looks_the_same_and_no_code_works() {
    let app = TestApp::spawn().await;
    let person = browser();
    let r = form(&app, &person, "/recover", &[("login", "+79120000699")]).await;
    assert_eq!(TestApp::location(&r), "/recover/confirm");
    let page = person
        .get(app.url("/recover/confirm"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Если учётная запись с контактом <strong>+7 912 ***-**-99</strong>"));
    app.drain_worker().await;
    assert!(app.dev_outbox().await.is_empty(), "nothing is sent");
    let html = form(&app, &person, "/recover/confirm", &[("code", "123456")])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Неверный код. Осталось 2 попытки"), "{html}");
    assert_eq!(
        TestApp::location(
            &person
                .get(app.url("/recover/password"))
                .send()
                .await
                .unwrap()
        ),
        "/recover"
    );
}

#[tokio::test]
async fn a_malformed_login_is_named() {
    let app = TestApp::spawn().await;
    let html = form(&app, &browser(), "/recover", &[("login", "иванов")])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Введите номер мобильного телефона"));
}
