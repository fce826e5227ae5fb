//! Recovery when a second factor is on: the factor is asked as well, or the person takes the
//! lost-factor path (personal data → a code to the e-mail → a new phone).

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_core::identity::registries::DemoPerson;
use uslugi_testkit::{STRONG_PASSWORD, TestApp, now_secs, oathtool};

fn code_in(body: &str) -> String {
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_owned()
}

async fn recover_by_phone(app: &TestApp, phone: &str) -> reqwest::Response {
    app.submit_as(&app.client, "/recover", "/recover", &[("login", phone)])
        .await;
    let code = app.sms_code(phone).await;
    app.submit_as(
        &app.client,
        "/recover/confirm",
        "/recover/confirm",
        &[("code", &code)],
    )
    .await
}

#[tokio::test]
async fn recovery_asks_for_the_app_code_before_the_new_password() {
    let app = TestApp::spawn().await;
    let phone = "+79120001001";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let (secret, _) = app.enable_totp().await;
    app.sign_out().await;

    let r = recover_by_phone(&app, phone).await;
    assert_eq!(TestApp::location(&r), "/recover/password");
    // The password page sends to the second step first.
    assert_eq!(
        TestApp::location(&app.get("/recover/password").await),
        "/login/factor"
    );
    let (_, page) = app.get_text("/login/factor").await;
    assert!(page.contains("Восстановление доступа"));
    assert!(page.contains("/recover/lost"));
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[
                ("method", "totp"),
                ("code", &oathtool(&secret, now_secs() + 30)),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/recover/password");
    // Not signed in by the factor alone.
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
    let r = app
        .submit_as(
            &app.client,
            "/recover/password",
            "/recover/password",
            &[
                ("password", "Синий-Самовар#77"),
                ("password_confirmation", "Синий-Самовар#77"),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
}

#[tokio::test]
async fn an_sms_factor_is_proven_by_a_recovery_code_sent_by_sms() {
    let app = TestApp::spawn().await;
    let phone = "+79120001002";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    app.reauthenticate("/security/factors").await;
    app.submit_as(
        &app.client,
        "/security/factors",
        "/security/factors/sms",
        &[],
    )
    .await;
    app.sign_out().await;
    recover_by_phone(&app, phone).await;
    assert_eq!(app.get("/recover/password").await.status(), 200);
}

async fn post_claim(app: &TestApp, fields: Vec<(&'static str, String)>) -> reqwest::Response {
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.submit_as(&app.client, "/recover/lost", "/recover/lost", &f)
        .await
}

fn person() -> DemoPerson {
    uslugi_testkit::demo_person("ok")
}

/// Registers `p`, gets the personal data verified, adds an e-mail and turns the app on.
async fn verified_account_with_totp(app: &TestApp, p: &DemoPerson, phone: &str, email: &str) {
    assert_eq!(p.case, "ok");
    app.standard_citizen(phone).await;
    assert!(
        app.get_text("/profile/personal")
            .await
            .1
            .contains("Данные проверены")
    );
    app.reauthenticate("/profile/contacts/email").await;
    app.submit_as(
        &app.client,
        "/profile/contacts/email",
        "/profile/contacts/email",
        &[("value", email)],
    )
    .await;
    let code = code_in(app.last_message_to(email).await["body"].as_str().unwrap());
    app.submit_as(
        &app.client,
        "/profile/contacts/confirm",
        "/profile/contacts/confirm",
        &[("code", &code)],
    )
    .await;
    app.enable_totp().await;
    app.sign_out().await;
}

#[tokio::test]
async fn the_lost_factor_path_sets_a_new_phone_and_turns_the_factor_off() {
    let app = TestApp::spawn_with(|c| {
        c.auth.contact_change_delay_hours = 0;
        // Every code from this one test client counts: registration, the e-mail, four claims
        // and the new phone.
        c.auth.sends_per_client_per_hour = 10;
    })
    .await;
    let p = person();
    let (phone, email) = ("+79120001003", "lost@example.ru");
    verified_account_with_totp(&app, &p, phone, email).await;
    let middle = p.middle_name.clone().unwrap_or_default();
    let claim = |snils: &str| {
        vec![
            ("email", email.to_owned()),
            ("last_name", p.last_name.to_uppercase()),
            ("first_name", p.first_name.clone()),
            ("middle_name", middle.clone()),
            ("birth_date", p.birth_date.clone()),
            ("snils", snils.to_owned()),
            ("password", STRONG_PASSWORD.to_owned()),
        ]
    };

    // Field errors come back at the fields.
    let page = post_claim(&app, vec![("email", "x".into())])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Введите фамилию") && page.contains("Укажите СНИЛС или серию"));

    // A wrong SNILS gets the same answer and no letter.
    let before = app.dev_outbox().await.len();
    let r = post_claim(&app, claim("112-233-445 95")).await;
    assert_eq!(TestApp::location(&r), "/recover/lost/confirm");
    assert_eq!(
        app.dev_outbox().await.len(),
        before,
        "no code for a mismatch"
    );

    // The right personal data (readable on the account's pages) with a wrong password: the
    // same answer and no letter.
    let mut wrong_password = claim(&p.snils);
    wrong_password.pop();
    wrong_password.push(("password", "Не-тот-пароль#1".to_owned()));
    let r = post_claim(&app, wrong_password).await;
    assert_eq!(TestApp::location(&r), "/recover/lost/confirm");
    assert_eq!(
        app.dev_outbox().await.len(),
        before,
        "no code without the password"
    );

    // The right data: a code to the e-mail.
    let r = post_claim(&app, claim(&p.snils)).await;
    assert_eq!(TestApp::location(&r), "/recover/lost/confirm");
    let code = code_in(app.last_message_to(email).await["body"].as_str().unwrap());
    let r = app
        .submit_as(
            &app.client,
            "/recover/lost/confirm",
            "/recover/lost/confirm",
            &[("code", &code)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/recover/lost/phone");
    let new_phone = "+79120001004";
    let r = app
        .submit_as(
            &app.client,
            "/recover/lost/phone",
            "/recover/lost/phone",
            &[("phone", new_phone)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/recover/lost/phone/confirm");
    let code = app.sms_code(new_phone).await;
    let r = app
        .submit_as(
            &app.client,
            "/recover/lost/phone/confirm",
            "/recover/lost/phone/confirm",
            &[("code", &code)],
        )
        .await;
    assert!(r.text().await.unwrap().contains("Доступ восстановлен"));

    // The new phone signs in with the password alone; the old one is no longer a login.
    let r = app.password_step(new_phone).await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    let (_, page) = app.get_text("/security/factors").await;
    assert!(page.contains("Появятся, когда вы включите"));
    app.sign_out().await;
    let page = app.password_step(phone).await.text().await.unwrap();
    assert!(page.contains("Неверный логин или пароль"));
}
