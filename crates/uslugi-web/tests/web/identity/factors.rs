//! Second factors at sign-in: the authenticator app (codes computed by Debian's `oathtool`, not
//! by our code), SMS codes, backup codes; the re-authentication window before changes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

use uslugi_testkit::{STRONG_PASSWORD, TestApp, browser, hidden_value};

const PHONE: &str = "+79120000801";

use uslugi_testkit::{now_secs as now, oathtool};

async fn reauthenticate(app: &TestApp, next: &str) {
    app.reauthenticate(next).await;
}

async fn enable_totp(app: &TestApp) -> (String, Vec<String>) {
    app.enable_totp().await
}

async fn sign_out(app: &TestApp) {
    app.sign_out().await;
}

async fn password_step(app: &TestApp, login: &str) -> reqwest::Response {
    app.password_step(login).await
}

#[tokio::test]
async fn the_authenticator_app_is_set_up_with_a_code_and_asked_at_sign_in_once_per_code() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", PHONE).await;
    let (secret, codes) = enable_totp(&app).await;
    assert_eq!(codes.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 9 && c.as_bytes()[4] == b' '),
        "{codes:?}"
    );
    // The owner is told by SMS.
    app.drain_worker().await;
    assert!(
        app.last_message_to(PHONE).await["body"]
            .as_str()
            .unwrap()
            .contains("приложения-аутентификатора")
    );
    sign_out(&app).await;

    // The password alone no longer signs in.
    let r = password_step(&app, PHONE).await;
    assert_eq!(TestApp::location(&r), "/login/factor");
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
    let (_, page) = app.get_text("/login/factor").await;
    assert!(page.contains("Код из приложения-аутентификатора"));

    // A wrong code is refused with a message at the field.
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[("method", "totp"), ("code", "000000")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Неверный код"));

    // The next step's code (the set-up used the current one) signs in.
    let code = oathtool(&secret, now() + 30);
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[("method", "totp"), ("code", &code)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    assert_eq!(app.get("/cabinet").await.status(), 200);

    // The same code a second time does not.
    sign_out(&app).await;
    password_step(&app, PHONE).await;
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[("method", "totp"), ("code", &code)],
        )
        .await;
    assert_eq!(r.status(), 422, "a code is accepted once");

    // A backup code works once.
    let r = app
        .submit_as(
            &app.client,
            "/login/factor?method=backup",
            "/login/factor",
            &[("method", "backup"), ("code", &codes[3])],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    sign_out(&app).await;
    password_step(&app, PHONE).await;
    let r = app
        .submit_as(
            &app.client,
            "/login/factor?method=backup",
            "/login/factor",
            &[("method", "backup"), ("code", &codes[3])],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("уже использованный"));

    // The history names the methods.
    let r = app
        .submit_as(
            &app.client,
            "/login/factor?method=backup",
            "/login/factor",
            &[("method", "backup"), ("code", &codes[4].replace(' ', "-"))],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    let (_, page) = app.get_text("/security").await;
    assert!(page.contains("Код из приложения"));
    assert!(page.contains("Резервный код"));
    let (_, page) = app.get_text("/security/factors").await;
    assert!(page.contains("Неиспользованных кодов: 8"), "{page}");
}

#[tokio::test]
async fn changes_need_a_password_check_within_the_window() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000802")
        .await;
    // Registration is not a password check: the set-up asks for one.
    let r = app.get("/security/factors/totp").await;
    assert_eq!(
        TestApp::location(&r),
        "/security/confirm?next=/security/factors/totp"
    );
    let r = app
        .submit_as(
            &app.client,
            "/security/confirm",
            "/security/confirm",
            &[
                ("password", "Неверный#Пароль1"),
                ("next", "/security/factors/totp"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Неверный пароль"));
    // Only our own pages are targets after the check.
    let r = app
        .submit_as(
            &app.client,
            "/security/confirm",
            "/security/confirm",
            &[
                ("password", STRONG_PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/security/factors");
    assert_eq!(app.get("/security/factors/totp").await.status(), 200);
    let r = app
        .submit_as(
            &app.client,
            "/security/factors",
            "/security/factors/sms",
            &[],
        )
        .await;
    assert_eq!(r.status(), 200, "backup codes shown");

    // With a zero window every change asks again.
    let app = TestApp::spawn_with(|c| c.auth.reauth_window_secs = 0).await;
    app.register_by_phone("Смирнова", "Анна", "+79120000803")
        .await;
    reauthenticate(&app, "/security/factors/totp").await;
    assert_eq!(
        TestApp::location(&app.get("/security/factors/totp").await),
        "/security/confirm?next=/security/factors/totp"
    );
    let r = app
        .submit_as(
            &app.client,
            "/security/factors",
            "/security/factors/sms",
            &[],
        )
        .await;
    assert_eq!(
        TestApp::location(&r),
        "/security/confirm?next=/security/factors"
    );
    let (_, page) = app.get_text("/security/factors").await;
    assert!(page.contains("Не включено."));
}

#[tokio::test]
async fn sms_codes_sign_in_and_wrong_codes_send_back_to_the_password() {
    let app = TestApp::spawn().await;
    let phone = "+79120000804";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    reauthenticate(&app, "/security/factors").await;
    let r = app
        .submit_as(
            &app.client,
            "/security/factors",
            "/security/factors/sms",
            &[],
        )
        .await;
    assert_eq!(r.status(), 200);
    sign_out(&app).await;

    assert_eq!(
        TestApp::location(&password_step(&app, phone).await),
        "/login/factor"
    );
    let (_, page) = app.get_text("/login/factor").await;
    assert!(page.contains("Получить код"));
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[("method", "sms"), ("action", "send")],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/login/factor?method=sms");
    let (_, page) = app.get_text("/login/factor?method=sms").await;
    assert!(
        page.contains("Код отправлен на номер +7 912 ***-**-04"),
        "{page}"
    );
    let code = app.sms_code(phone).await;
    let r = app
        .submit_as(
            &app.client,
            "/login/factor?method=sms",
            "/login/factor",
            &[("method", "sms"), ("code", &code)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");

    // Five wrong codes end the pending sign-in.
    sign_out(&app).await;
    password_step(&app, phone).await;
    let mut last = None;
    for _ in 0..5 {
        last = Some(
            app.submit_as(
                &app.client,
                "/login/factor?method=backup",
                "/login/factor",
                &[("method", "backup"), ("code", "1111 1111")],
            )
            .await,
        );
    }
    assert_eq!(TestApp::location(&last.unwrap()), "/login");
    assert_eq!(TestApp::location(&app.get("/login/factor").await), "/login");
    assert!(
        app.get_text("/login")
            .await
            .1
            .contains("Слишком много неверных кодов")
    );
}

#[tokio::test]
async fn factor_guessing_is_throttled_per_account_across_sign_ins() {
    // Wrong codes also count per client towards the captcha; it is kept out of the way here.
    let app = TestApp::spawn_with(|c| {
        c.auth.factor_failures_per_account = 6;
        c.auth.captcha_after_failures = 100;
    })
    .await;
    let phone = "+79120000805";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    enable_totp(&app).await;
    sign_out(&app).await;
    let attacker = browser("attacker");
    let mut statuses: Vec<u16> = Vec::new();
    for _ in 0..2 {
        if statuses.last() == Some(&429) {
            break;
        }
        app.submit_as(
            &attacker,
            "/login",
            "/login",
            &[("login", phone), ("password", STRONG_PASSWORD)],
        )
        .await;
        for _ in 0..4 {
            let r = app
                .submit_as(
                    &attacker,
                    "/login/factor",
                    "/login/factor",
                    &[("method", "totp"), ("code", "123456")],
                )
                .await;
            statuses.push(r.status().as_u16());
            if r.status() == 429 {
                break;
            }
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        6,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[tokio::test]
async fn the_api_does_not_sign_in_with_the_password_alone_when_a_factor_is_on() {
    let app = TestApp::spawn().await;
    let phone = "+79120000806";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    enable_totp(&app).await;
    let r = browser("api")
        .post(app.url("/api/v1/sessions"))
        .json(&serde_json::json!({ "login": phone, "password": STRONG_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("Max-Age"))
    );
}

#[tokio::test]
async fn removing_the_last_factor_removes_the_backup_codes() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000807")
        .await;
    enable_totp(&app).await;
    let (_, page) = app.get_text("/security/factors").await;
    let id = hidden_value(&page, "id").unwrap();
    let r = app
        .submit_as(
            &app.client,
            "/security/factors",
            "/security/factors/remove",
            &[("id", &id)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/security/factors");
    let (_, page) = app.get_text("/security/factors").await;
    assert!(page.contains("Появятся, когда вы включите"));
    sign_out(&app).await;
    assert_eq!(
        TestApp::location(&password_step(&app, "+79120000807").await),
        "/cabinet"
    );
    // Someone else's factor id is not found.
    let r = app
        .submit_as(
            &app.client,
            "/security/factors",
            "/security/factors/remove",
            &[("id", &id)],
        )
        .await;
    assert!(r.status() == 404 || TestApp::location(&r).starts_with("/security/confirm"));
}

#[tokio::test]
async fn a_forged_passkey_answer_signs_nobody_in() {
    let app = TestApp::spawn().await;
    let token = app.hidden_field("/login", "csrf_token").await;
    let post = |path: &'static str, body: serde_json::Value| {
        app.client
            .post(app.url(path))
            .header("origin", &app.base_url)
            .header("x-csrf-token", &token)
            .json(&body)
            .send()
    };
    let r = post("/login/passkey/options", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let options: serde_json::Value = r.json().await.unwrap();
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert!(options["publicKey"]["challenge"].as_str().unwrap().len() >= 43);
    assert!(
        options
            .get("mediation")
            .is_none_or(serde_json::Value::is_null)
    );
    let forged = serde_json::json!({ "credential": {
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {
            "authenticatorData": "AAAA", "clientDataJSON": "AAAA",
            "signature": "AAAA", "userHandle": "AAAAAAAAAAAAAAAAAAAAAA"
        },
        "extensions": {}
    }});
    let r = post("/login/passkey", forged.clone()).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
    // The ceremony is used up: a second answer is refused as well.
    let r = post("/login/passkey", forged).await.unwrap();
    assert_eq!(r.status(), 422);
    // Without the token the request does not get that far.
    let r = app
        .client
        .post(app.url("/login/passkey/options"))
        .header("origin", &app.base_url)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
