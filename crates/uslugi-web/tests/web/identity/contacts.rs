//! A second contact, changing a contact, and «Номер занят» when adding one.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_testkit::TestApp;

/// These tests are about what a confirmed change does once it takes effect: without the
/// waiting period (the period and its cancel link are tested in `takeover`).
async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| c.auth.contact_change_delay_hours = 0).await
}

async fn request(app: &TestApp, kind: &str, value: &str) -> reqwest::Response {
    let path = format!("/profile/contacts/{kind}");
    app.reauthenticate(&path).await;
    let token = app.hidden_field(&path, "csrf_token").await;
    app.post_form(&path, &[("csrf_token", &token), ("value", value)])
        .await
}

async fn confirm(app: &TestApp, code: &str) -> reqwest::Response {
    let token = app
        .hidden_field("/profile/contacts/confirm", "csrf_token")
        .await;
    app.post_form(
        "/profile/contacts/confirm",
        &[("csrf_token", &token), ("code", code)],
    )
    .await
}

#[tokio::test]
async fn a_phone_account_adds_and_confirms_an_email() {
    let app = spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000201")
        .await;
    let r = request(&app, "email", "Anna.S@Example.ru").await;
    assert_eq!(TestApp::location(&r), "/profile/contacts/confirm");
    let mail = app.last_message_to("anna.s@example.ru").await;
    let body = mail["body"].as_str().unwrap();
    let code: String = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .into();

    let html = confirm(&app, "000000").await.text().await.unwrap();
    if code != "000000" {
        assert!(html.contains("Неверный код"), "{html}");
    }
    let r = confirm(&app, &code).await;
    assert_eq!(TestApp::location(&r), "/profile/contacts");
    let (_, page) = app.get_text("/profile/contacts").await;
    assert!(page.contains("Адрес электронной почты подтверждён и сохранён"));
    assert!(page.contains("anna.s@example.ru"));
    assert!(page.contains("+7 912 000-02-01"), "the phone stays");
}

#[tokio::test]
async fn changing_the_phone_keeps_the_old_one_until_confirmed_and_tells_it() {
    let app = spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000202")
        .await;
    request(&app, "phone", "8 912 000-02-03").await;
    // Not confirmed yet: the old number is still the account's.
    assert!(
        app.get_text("/profile/contacts")
            .await
            .1
            .contains("+7 912 000-02-02")
    );
    let code = app.sms_code("+79120000203").await;
    let r = confirm(&app, &code).await;
    assert_eq!(TestApp::location(&r), "/profile/contacts");
    let (_, page) = app.get_text("/profile/contacts").await;
    assert!(page.contains("+7 912 000-02-03"));
    assert!(!page.contains("+7 912 000-02-02"));
    let told = app.last_message_to("+79120000202").await;
    assert!(
        told["body"]
            .as_str()
            .unwrap()
            .contains("изменён на +7 912 ***-**-03"),
        "{told}"
    );
}

#[tokio::test]
async fn a_contact_already_yours_is_refused_and_bad_input_is_named() {
    let app = spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000204")
        .await;
    let html = request(&app, "phone", "+79120000204")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Этот номер уже указан в вашей учётной записи"));
    let html = request(&app, "phone", "+7 495 123-45-67")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("мобильного"), "{html}");
    let html = request(&app, "email", "no-at-sign")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("name@example.ru"), "{html}");
    assert_eq!(app.get("/profile/contacts/fax").await.status(), 404);
}

#[tokio::test]
async fn adding_a_number_another_account_holds_moves_it_after_the_code() {
    let app = spawn().await;
    // The first person registers by e-mail, then adds a phone.
    let token = app.hidden_field("/register", "csrf_token").await;
    app.post_form(
        "/register",
        &[
            ("csrf_token", &token),
            ("last_name", "Кузнецов"),
            ("first_name", "Дмитрий"),
            ("email", "dk@example.ru"),
        ],
    )
    .await;
    let link = app.email_link("dk@example.ru").await;
    let token = app.hidden_field(&link, "csrf_token").await;
    app.post_form(&link, &[("csrf_token", &token)]).await;
    let token = app.hidden_field("/register/password", "csrf_token").await;
    app.post_form(
        "/register/password",
        &[
            ("csrf_token", &token),
            ("password", uslugi_testkit::STRONG_PASSWORD),
            ("password_confirmation", uslugi_testkit::STRONG_PASSWORD),
            ("consent", "yes"),
        ],
    )
    .await;
    request(&app, "phone", "+79120000205").await;
    let code = app.sms_code("+79120000205").await;
    confirm(&app, &code).await;
    let token = app.hidden_field("/cabinet", "csrf_token").await;
    app.post_form("/logout", &[("csrf_token", &token)]).await;

    // A second person adds the same phone to their account.
    app.register_by_phone("Смирнова", "Анна", "+79120000206")
        .await;
    request(&app, "phone", "+79120000205").await;
    // Nothing is said before the code: it would tell anyone who has an account.
    let (_, page) = app.get_text("/profile/contacts/confirm").await;
    assert!(!page.contains("другой учётной записи"), "{page}");
    assert!(!page.contains("Кузнецов"));
    let code = app.sms_code("+79120000205").await;
    let r = confirm(&app, &code).await;
    assert_eq!(TestApp::location(&r), "/profile/contacts");
    let (_, page) = app.get_text("/profile/contacts").await;
    assert!(page.contains("+7 912 000-02-05"));
    // After it, the person learns the number was elsewhere.
    assert!(
        page.contains("Номер был указан в другой учётной записи"),
        "{page}"
    );

    // The first person is told by e-mail, and it is in their journal.
    let told = app.last_message_to("dk@example.ru").await;
    assert_eq!(told["subject"], "Контакт отвязан от учётной записи");
    assert!(told["body"].as_str().unwrap().contains("+7 912 ***-**-05"));
}
