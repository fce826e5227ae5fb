//! The security cabinet: sessions with «Завершить», the login history, changing the password.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_testkit::{STRONG_PASSWORD, TestApp, browser};

const PHONE_UA: &str = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36";

#[tokio::test]
async fn sessions_are_listed_and_another_device_can_be_signed_out() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000701")
        .await;
    let phone = browser(PHONE_UA);
    app.submit_as(
        &phone,
        "/login",
        "/login",
        &[("login", "+79120000701"), ("password", STRONG_PASSWORD)],
    )
    .await;
    let (_, page) = app.get_text("/security").await;
    assert!(page.contains("Этот сеанс"));
    assert!(page.contains("Chrome, Android"), "{page}");
    assert!(page.contains("127.0.0.1"));
    assert_eq!(page.matches("Этот сеанс").count(), 1);
    assert_eq!(
        page.matches(r#"action="/security/sessions/end""#).count(),
        1,
        "one other session"
    );

    let r = app
        .submit_as(
            &app.client,
            "/security",
            "/security/sessions/end-others",
            &[],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/security");
    assert!(
        app.get_text("/security")
            .await
            .1
            .contains("Завершено: 1 сеанс")
    );
    assert_eq!(
        TestApp::location(&phone.get(app.url("/cabinet")).send().await.unwrap()),
        "/login"
    );
}

#[tokio::test]
async fn a_session_of_another_account_cannot_be_ended() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000702")
        .await;
    // The first person's session ids, as a stranger could at best guess them.
    use sea_orm::EntityTrait;
    let victims: Vec<String> = uslugi_store::entities::sessions::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let stranger = browser("x");
    app.submit_as(
        &stranger,
        "/register",
        "/register",
        &[
            ("last_name", "Кузнецов"),
            ("first_name", "Дмитрий"),
            ("phone", "+79120000703"),
        ],
    )
    .await;
    let code = app.sms_code("+79120000703").await;
    app.submit_as(
        &stranger,
        "/register/confirm",
        "/register/confirm",
        &[("code", &code)],
    )
    .await;
    app.submit_as(
        &stranger,
        "/register/password",
        "/register/password",
        &[
            ("password", STRONG_PASSWORD),
            ("password_confirmation", STRONG_PASSWORD),
            ("consent", "yes"),
        ],
    )
    .await;
    for id in &victims {
        let r = app
            .submit_as(
                &stranger,
                "/security",
                "/security/sessions/end",
                &[("id", id)],
            )
            .await;
        assert_eq!(TestApp::location(&r), "/security");
    }
    assert_eq!(app.get("/cabinet").await.status(), 200, "still signed in");
    assert!(
        !stranger
            .get(app.url("/security"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("Сеанс завершён")
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000704")
        .await;
    let other = browser(PHONE_UA);
    app.submit_as(
        &other,
        "/login",
        "/login",
        &[("login", "+79120000704"), ("password", "Неверный#Пароль1")],
    )
    .await;
    app.submit_as(
        &other,
        "/login",
        "/login",
        &[("login", "+79120000704"), ("password", STRONG_PASSWORD)],
    )
    .await;
    let (_, page) = app.get_text("/security").await;
    assert!(
        page.contains("<td>Неверный пароль</td>") && page.contains("<td>Вход выполнен</td>"),
        "{page}"
    );

    let html = app
        .submit_as(
            &app.client,
            "/security/password",
            "/security/password",
            &[
                ("current_password", "не тот"),
                ("password", "Синий-Кит#2027"),
                ("password_confirmation", "Синий-Кит#2027"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Неверный текущий пароль"));
    let html = app
        .submit_as(
            &app.client,
            "/security/password",
            "/security/password",
            &[
                ("current_password", STRONG_PASSWORD),
                ("password", "qwerty12"),
                ("password_confirmation", "qwerty12"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Добавьте в пароль заглавную букву"));
    let r = app
        .submit_as(
            &app.client,
            "/security/password",
            "/security/password",
            &[
                ("current_password", STRONG_PASSWORD),
                ("password", "Синий-Кит#2027"),
                ("password_confirmation", "Синий-Кит#2027"),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/security");
    assert!(
        r.headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("uslugi_session="),
        "rotated"
    );
    assert!(app.get_text("/security").await.1.contains("Пароль изменён"));
    assert_eq!(
        TestApp::location(&other.get(app.url("/cabinet")).send().await.unwrap()),
        "/login"
    );
    let fresh = browser("y");
    let r = app
        .submit_as(
            &fresh,
            "/login",
            "/login",
            &[("login", "+79120000704"), ("password", "Синий-Кит#2027")],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
}

#[tokio::test]
async fn a_sign_in_from_a_new_device_is_reported_once() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000705")
        .await;
    let sms_count = |out: &Vec<serde_json::Value>| {
        out.iter()
            .filter(|m| {
                m["to"] == "+79120000705"
                    && m["body"]
                        .as_str()
                        .unwrap_or("")
                        .contains("нового устройства")
            })
            .count()
    };
    // The registering browser is a known device: signing in again there reports nothing.
    let token = app.hidden_field("/cabinet", "csrf_token").await;
    app.post_form("/logout", &[("csrf_token", &token)]).await;
    app.submit_as(
        &app.client,
        "/login",
        "/login",
        &[("login", "+79120000705"), ("password", STRONG_PASSWORD)],
    )
    .await;
    app.drain_worker().await;
    assert_eq!(sms_count(&app.dev_outbox().await), 0);

    let phone = browser(PHONE_UA);
    let r = app
        .submit_as(
            &phone,
            "/login",
            "/login",
            &[("login", "+79120000705"), ("password", STRONG_PASSWORD)],
        )
        .await;
    let cookies: Vec<_> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("uslugi_device=") && c.contains("HttpOnly")),
        "{cookies:?}"
    );
    let told = app.last_message_to("+79120000705").await;
    assert!(
        told["body"]
            .as_str()
            .unwrap()
            .contains("с нового устройства (Chrome, Android)"),
        "{told}"
    );

    // The same device again: no second report.
    let token = uslugi_testkit::hidden_value(
        &phone
            .get(app.url("/cabinet"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "csrf_token",
    )
    .unwrap();
    phone
        .post(app.url("/logout"))
        .header("origin", &app.base_url)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    app.submit_as(
        &phone,
        "/login",
        "/login",
        &[("login", "+79120000705"), ("password", STRONG_PASSWORD)],
    )
    .await;
    app.drain_worker().await;
    assert_eq!(sms_count(&app.dev_outbox().await), 1);
}
