//! «Восстановление доступа»: code, new password, every other session ended, no enumeration.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_testkit::{STRONG_PASSWORD, TestApp, browser};

const NEW_PASSWORD: &str = "Синий-Кит#2027";

#[tokio::test]
async fn recovery_sets_a_new_password_and_ends_every_other_session() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000601")
        .await;
    // Another device signed in as well.
    let other = browser("test");
    let r = app
        .submit_as(
            &other,
            "/login",
            "/login",
            &[("login", "+79120000601"), ("password", STRONG_PASSWORD)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");

    let person = browser("test");
    let r = app
        .submit_as(
            &person,
            "/recover",
            "/recover",
            &[("login", "8 912 000-06-01")],
        )
        .await;
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
    let r = app
        .submit_as(
            &person,
            "/recover/confirm",
            "/recover/confirm",
            &[("code", &code)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/recover/password");

    let html = app
        .submit_as(
            &person,
            "/recover/password",
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
    let r = app
        .submit_as(
            &person,
            "/recover/password",
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
    let fresh = browser("test");
    let html = app
        .submit_as(
            &fresh,
            "/login",
            "/login",
            &[("login", "+79120000601"), ("password", STRONG_PASSWORD)],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Неверный логин или пароль"));
    let r = app
        .submit_as(
            &fresh,
            "/login",
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
    let person = browser("test");
    let r = app
        .submit_as(
            &person,
            "/recover",
            "/recover",
            &[("login", "+79120000699")],
        )
        .await;
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
    let html = app
        .submit_as(
            &person,
            "/recover/confirm",
            "/recover/confirm",
            &[("code", "123456")],
        )
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
    let html = app
        .submit_as(
            &browser("test"),
            "/recover",
            "/recover",
            &[("login", "иванов")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Введите номер мобильного телефона"));
}

#[tokio::test]
async fn other_spellings_of_a_number_share_its_hourly_limit() {
    // Many clients, so that only the per-number limit can stop the sends.
    let app = TestApp::spawn_with(|c| {
        c.auth.sends_per_client_per_hour = 1000;
        c.auth.sends_per_target_per_hour = 5;
    })
    .await;
    let phone = "+79770000602";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let spellings = [
        "+79770000602",
        "89770000602",
        "8 977 000-06-02",
        "+7 (977) 000-06-02",
        "8 (977) 000 06 02",
        "+7 977 0000602",
        "7 977 000 06 02",
        "8-977-000-06-02",
        "+7-977-000-06-02",
        "8(977)0000602",
        "+7(977)000-06-02",
        "+7 977 000 06 02",
    ];
    for login in spellings {
        app.submit_as(&browser("x"), "/recover", "/recover", &[("login", login)])
            .await;
    }
    app.drain_worker().await;
    let sent = app
        .dev_outbox()
        .await
        .into_iter()
        .filter(|m| m["to"] == phone)
        .count();
    // The registration's code counts too: five codes an hour to one number, however it is typed
    // (each spelling had a limit of its own before: twelve recovery codes went out).
    assert_eq!(sent, 5, "{sent} SMS to one number");
}
