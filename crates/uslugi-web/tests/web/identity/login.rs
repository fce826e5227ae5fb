//! Signing in: phone, e-mail or SNILS; one answer for every failure; throttling; rotation.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_testkit::{STRONG_PASSWORD, TestApp};

async fn logout(app: &TestApp) {
    let token = app.hidden_field("/cabinet", "csrf_token").await;
    app.post_form("/logout", &[("csrf_token", &token)]).await;
}

async fn login(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    let token = app.hidden_field("/login", "csrf_token").await;
    app.post_form(
        "/login",
        &[
            ("csrf_token", &token),
            ("login", login),
            ("password", password),
        ],
    )
    .await
}

#[tokio::test]
async fn a_person_signs_in_with_any_spelling_of_the_phone_and_gets_a_new_session() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000501")
        .await;
    logout(&app).await;
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
    let (status, page) = app.get_text("/login").await;
    assert_eq!(status, 200);
    assert!(page.contains("Телефон, почта или СНИЛС"));
    let before = app.hidden_field("/login", "csrf_token").await;
    let r = login(&app, "8 (912) 000-05-01", STRONG_PASSWORD).await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("uslugi_session="))
    );
    assert_ne!(
        app.hidden_field("/cabinet", "csrf_token").await,
        before,
        "new session, new token"
    );
    assert!(
        app.get_text("/cabinet")
            .await
            .1
            .contains("Здравствуйте, Анна!")
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_login_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000502")
        .await;
    logout(&app).await;
    app.get("/login").await;
    let wrong = login(&app, "+79120000502", "Неверный-Пароль#1").await;
    let (ws, wrong_cookie) = (wrong.status(), wrong.headers().get("set-cookie").cloned());
    let wrong_body = wrong.text().await.unwrap();
    let unknown = login(&app, "+79120000599", "Неверный-Пароль#1").await;
    let (us, unknown_cookie) = (
        unknown.status(),
        unknown.headers().get("set-cookie").cloned(),
    );
    let unknown_body = unknown.text().await.unwrap();
    assert_eq!((ws, us), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
    assert!(wrong_body.contains("Неверный логин или пароль"));
    assert_eq!(wrong_cookie, unknown_cookie);
    assert_eq!(
        wrong_body.replace("+79120000502", "X"),
        unknown_body.replace("+79120000599", "X"),
        "identical pages apart from the login typed"
    );
    assert!(
        !wrong_body.contains("Неверный-Пароль#1"),
        "the password is never sent back"
    );
}

#[tokio::test]
async fn email_and_verified_snils_are_logins_too() {
    let app = TestApp::spawn_with(|c| c.auth.contact_change_delay_hours = 0).await;
    let p = uslugi_core::identity::registries::SimulatedRegistries::shared()
        .unwrap()
        .demo_people()
        .into_iter()
        .find(|p| p.case == "ok")
        .unwrap();
    app.register_by_phone(&p.last_name, &p.first_name, "+79120000503")
        .await;
    let path = "/profile/contacts/email";
    app.reauthenticate(path).await;
    let token = app.hidden_field(path, "csrf_token").await;
    app.post_form(
        path,
        &[("csrf_token", &token), ("value", "signin@example.ru")],
    )
    .await;
    let mail = app.last_message_to("signin@example.ru").await;
    let code: String = mail["body"]
        .as_str()
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .into();
    let token = app
        .hidden_field("/profile/contacts/confirm", "csrf_token")
        .await;
    app.post_form(
        "/profile/contacts/confirm",
        &[("csrf_token", &token), ("code", &code)],
    )
    .await;
    logout(&app).await;
    assert_eq!(
        TestApp::location(&login(&app, "SignIn@Example.RU", STRONG_PASSWORD).await),
        "/cabinet"
    );
    logout(&app).await;
    // A SNILS counts only once the registry has confirmed it.
    let html = login(&app, &p.snils, STRONG_PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Неверный логин или пароль"));
}

#[tokio::test]
async fn ten_failures_on_a_login_throttle_it_even_for_the_right_password() {
    let app = TestApp::spawn_with(|c| {
        c.auth.captcha_after_failures = u64::MAX;
        // The growing wait between tries is tested on its own.
        c.auth.login_delay_cap_secs = 0;
    })
    .await;
    app.register_by_phone("Смирнова", "Анна", "+79120000504")
        .await;
    logout(&app).await;
    for _ in 0..10 {
        assert_eq!(
            login(&app, "+79120000504", "Неверный-Пароль#1")
                .await
                .status(),
            200
        );
    }
    let r = login(&app, "8 912 000 05 04", STRONG_PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "900");
    assert!(r.text().await.unwrap().contains("Слишком много запросов"));
    // The counter is per login, not per account: an unknown login is throttled the same way.
    for _ in 0..10 {
        login(&app, "nobody@example.ru", "x").await;
    }
    assert_eq!(login(&app, "nobody@example.ru", "x").await.status(), 429);
}

#[tokio::test]
async fn empty_fields_are_named() {
    let app = TestApp::spawn().await;
    let html = login(&app, "", "").await.text().await.unwrap();
    assert!(html.contains("Введите телефон, почту или СНИЛС"));
    assert!(html.contains("Введите пароль"));
}

#[tokio::test]
async fn the_api_signs_in_and_out() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000505")
        .await;
    logout(&app).await;
    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .json(&serde_json::json!({ "login": "+79120000505", "password": "нет" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["detail"], "Неверный логин или пароль");
    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .json(&serde_json::json!({ "login": "+79120000505", "password": STRONG_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(app.get("/api/v1/me").await.status(), 200);
    let r = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.get("/api/v1/me").await.status(), 401);
}

#[tokio::test]
async fn strangers_cannot_lock_the_owner_out_and_the_owner_is_told() {
    let app = TestApp::spawn_with(|c| {
        c.auth.notify_owner_after_failures = 3;
        c.auth.login_failures_per_login = 5;
        c.auth.login_failures_per_client = 100;
        c.auth.captcha_after_failures = u64::MAX;
        // The growing wait is tested on its own below.
        c.auth.login_delay_cap_secs = 0;
    })
    .await;
    let phone = "+79120000506";
    // The owner's browser keeps its device cookie from the registration.
    app.register_by_phone("Смирнова", "Анна", phone).await;
    logout(&app).await;
    // Strangers spend the login's limit from anywhere.
    let stranger = uslugi_testkit::browser("stranger");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = app
            .submit_as(
                &stranger,
                "/login",
                "/login",
                &[("login", phone), ("password", "Неверный-Пароль#1")],
            )
            .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429], "{statuses:?}");
    // Even with the right password, a stranger's browser now waits…
    let r = app
        .submit_as(
            &stranger,
            "/login",
            "/login",
            &[("login", phone), ("password", STRONG_PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 429);
    // …while the owner's device signs in: nothing is blocked.
    assert_eq!(
        TestApp::location(&login(&app, phone, STRONG_PASSWORD).await),
        "/cabinet"
    );
    let told = app.last_message_to(phone).await;
    assert!(
        told["body"]
            .as_str()
            .unwrap()
            .contains("3 неудачные попытки входа"),
        "{told}"
    );
}

#[tokio::test]
async fn each_try_after_a_few_failures_waits_longer() {
    let app = TestApp::spawn_with(|c| {
        c.auth.captcha_after_failures = u64::MAX;
        c.auth.login_failures_per_login = 100;
    })
    .await;
    let phone = "+79120000507";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let stranger = uslugi_testkit::browser("stranger");
    let attempt = |password: &'static str| {
        let (app, stranger) = (&app, &stranger);
        async move {
            app.submit_as(
                stranger,
                "/login",
                "/login",
                &[("login", phone), ("password", password)],
            )
            .await
        }
    };
    for _ in 0..5 {
        assert_eq!(attempt("Неверный-Пароль#1").await.status(), 200);
    }
    // The sixth try comes too soon: a second's wait, said in Retry-After.
    let r = attempt(STRONG_PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(attempt("Неверный-Пароль#1").await.status(), 200);
    // Six failures now: three seconds.
    let r = attempt(STRONG_PASSWORD).await;
    assert_eq!(r.status(), 429);
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((2..=3).contains(&wait), "{wait}");
}

#[tokio::test]
async fn after_three_failures_a_captcha_is_asked_before_the_password_is_checked() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000507")
        .await;
    logout(&app).await;
    for i in 0..3 {
        let html = login(&app, "+79120000507", "Неверный-Пароль#1")
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(html.contains("Проверочный вопрос"), i == 2, "attempt {i}");
    }
    // Without an answer, even the right password is not checked (and not counted).
    let html = login(&app, "+79120000507", STRONG_PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Ответьте на проверочный вопрос цифрами"),
        "{html}"
    );
    let html = {
        let token = app.hidden_field("/login", "csrf_token").await;
        app.post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("login", "+79120000507"),
                ("password", STRONG_PASSWORD),
                ("captcha", "999"),
            ],
        )
        .await
        .text()
        .await
        .unwrap()
    };
    assert!(
        html.contains("Неверный ответ на проверочный вопрос"),
        "{html}"
    );
    // The question on the page is the one the session expects.
    let at = html.find("Проверочный вопрос: Сколько будет ").unwrap()
        + "Проверочный вопрос: Сколько будет ".len();
    let q: Vec<&str> = html[at..].split('?').next().unwrap().split(' ').collect();
    let words = [
        "ноль",
        "один",
        "два",
        "три",
        "четыре",
        "пять",
        "шесть",
        "семь",
        "восемь",
        "девять",
    ];
    let n = |w: &str| words.iter().position(|x| *x == w).unwrap() as i64;
    let answer = if q[1] == "плюс" {
        n(q[0]) + n(q[2])
    } else {
        n(q[0]) - n(q[2])
    };
    let token = uslugi_testkit::hidden_value(&html, "csrf_token").unwrap();
    let r = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("login", "+79120000507"),
                ("password", STRONG_PASSWORD),
                ("captcha", &answer.to_string()),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
}

/// A local server that answers like SmartCaptcha's validation API: `ok` for the token
/// "human-token" from the given address and the right server key, `failed` otherwise.
async fn smartcaptcha_validator() -> String {
    use axum::{Form, Json, Router, routing::post};
    let app = Router::new().route(
        "/validate",
        post(
            |Form(f): Form<std::collections::HashMap<String, String>>| async move {
                let ok = f.get("secret").map(String::as_str) == Some("server-secret")
                    && f.get("token").map(String::as_str) == Some("human-token")
                    && f.get("ip").map(String::as_str) == Some("127.0.0.1");
                Json(serde_json::json!({"status": if ok { "ok" } else { "failed" }, "message": ""}))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn with_smartcaptcha_the_widget_is_shown_and_its_token_checked_on_the_page_and_the_api() {
    use uslugi_core::kernel::config::CaptchaProvider;
    let validator = smartcaptcha_validator().await;
    let app = TestApp::spawn_with(|c| {
        c.captcha.provider = CaptchaProvider::SmartCaptcha;
        c.captcha.site_key = Some("client-key".into());
        c.captcha.server_key = Some("server-secret".to_owned().into());
        c.captcha.validate_url = format!("{validator}/validate");
        c.captcha.script_url = "https://captcha.example/captcha.js".into();
    })
    .await;
    app.register_by_phone("Смирнова", "Анна", "+79120000508")
        .await;
    logout(&app).await;
    let mut last = None;
    for _ in 0..3 {
        last = Some(login(&app, "+79120000508", "Неверный-Пароль#1").await);
    }
    let r = last.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self' https://captcha.example;"),
        "{csp}"
    );
    assert!(csp.contains("frame-src https://captcha.example"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-sitekey="client-key""#), "{html}");
    assert!(html.contains("Проверка «Я не робот»"));
    assert!(!html.contains("Проверочный вопрос"));

    let post = |token: &'static str| {
        let app = &app;
        async move {
            let csrf = app.hidden_field("/login", "csrf_token").await;
            app.post_form(
                "/login",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("login", "+79120000508"),
                    ("password", STRONG_PASSWORD),
                    ("smart-token", token),
                ],
            )
            .await
        }
    };
    let html = post("").await.text().await.unwrap();
    assert!(html.contains("Пройдите проверку «Я не робот»"), "{html}");
    let html = post("bot-token").await.text().await.unwrap();
    assert!(html.contains("Проверка «Я не робот» не пройдена"), "{html}");

    // The API: the widget's key in the problem, its token in `captcha`.
    let api = uslugi_testkit::browser("api-client");
    let r = api
        .post(app.url("/api/v1/sessions"))
        .json(&serde_json::json!({"login": "+79120000508", "password": STRONG_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["captcha_site_key"], "client-key", "{body}");
    assert!(body.get("captcha_question").is_none(), "{body}");
    let r = api
        .post(app.url("/api/v1/sessions"))
        .json(&serde_json::json!({
            "login": "+79120000508", "password": STRONG_PASSWORD, "captcha": "human-token"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // And the page with a human's token.
    let r = post("human-token").await;
    assert_eq!(TestApp::location(&r), "/cabinet");
}

#[tokio::test]
async fn failed_sign_ins_and_recovery_requests_take_the_same_time_for_existing_and_missing_accounts()
 {
    let app = TestApp::spawn_with(|c| c.auth.even_timing_ms = 400).await;
    app.register_by_phone("Смирнова", "Анна", "+79120000509")
        .await;
    logout(&app).await;
    let timed = |login_: &'static str| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let r = login(app, login_, "Неверный-Пароль#1").await;
            assert_eq!(r.status(), 200);
            started.elapsed()
        }
    };
    // A wrong password for an existing account, and a login nobody has: both held to the floor.
    for login_ in ["+79120000509", "+79120000599"] {
        let took = timed(login_).await;
        assert!(
            took >= std::time::Duration::from_millis(400),
            "{login_}: {took:?}"
        );
    }
    // The API the same.
    for login_ in ["+79120000509", "+79120000598"] {
        let started = std::time::Instant::now();
        let r = uslugi_testkit::browser("api")
            .post(app.url("/api/v1/sessions"))
            .json(&serde_json::json!({"login": login_, "password": "Неверный-Пароль#1"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error());
        assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    }
    // Recovery: every answer.
    for login_ in ["+79120000509", "+79120000597"] {
        let token = app.hidden_field("/recover", "csrf_token").await;
        let started = std::time::Instant::now();
        app.post_form("/recover", &[("csrf_token", &token), ("login", login_)])
            .await;
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(400),
            "{login_}"
        );
    }
}
