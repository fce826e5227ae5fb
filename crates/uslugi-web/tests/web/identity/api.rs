//! The JSON API: the same flows as the pages, RFC 9457 errors, and the OpenAPI description.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use serde_json::{Value, json};
use uslugi_core::identity::registries::SimulatedRegistries;
use uslugi_testkit::{STRONG_PASSWORD, TestApp};

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    app.api(method, path, body).await
}

#[tokio::test]
async fn a_person_registers_and_becomes_standard_through_the_api() {
    let app = TestApp::spawn_with(|c| c.auth.contact_change_delay_hours = 0).await;
    let p = SimulatedRegistries::shared()
        .unwrap()
        .demo_people()
        .into_iter()
        .find(|p| p.case == "ok")
        .unwrap();
    let (status, reg) = call(&app, "POST", "/api/v1/registrations", Some(json!({
        "last_name": p.last_name, "first_name": p.first_name, "middle_name": p.middle_name, "phone": "8 912 000-04-01"
    }))).await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(reg["channel"], "sms");
    assert_eq!(reg["masked_contact"], "+7 912 ***-**-01");
    assert_eq!(reg["confirmed"], false);
    let id = reg["id"].as_str().unwrap().to_owned();

    let code = app.sms_code("+79120000401").await;
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let (status, problem) = call(
        &app,
        "POST",
        &format!("/api/v1/registrations/{id}/code"),
        Some(json!({ "code": wrong })),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "code");
    assert_eq!(
        problem["errors"][0]["message"],
        "Неверный код. Осталось 2 попытки"
    );
    let (status, st) = call(
        &app,
        "POST",
        &format!("/api/v1/registrations/{id}/code"),
        Some(json!({ "code": code })),
    )
    .await;
    assert_eq!((status, st["confirmed"].clone()), (200, json!(true)));

    let (status, problem) = call(
        &app,
        "POST",
        &format!("/api/v1/registrations/{id}/complete"),
        Some(json!({
            "password": "qwerty12", "password_confirmation": "qwerty12", "consent": false
        })),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["password", "consent"]);

    let (status, done) = call(
        &app,
        "POST",
        &format!("/api/v1/registrations/{id}/complete"),
        Some(json!({
            "password": STRONG_PASSWORD, "password_confirmation": STRONG_PASSWORD, "consent": true
        })),
    )
    .await;
    assert_eq!(status, 201, "{done}");
    let (_, me) = call(&app, "GET", "/api/v1/me", None).await;
    assert_eq!(me["level"], "simplified");
    assert_eq!(me["phone"], "+79120000401");
    assert_eq!(me["last_name"], p.last_name.as_str());

    let (status, problem) = call(
        &app,
        "PUT",
        "/api/v1/me/personal-data",
        Some(json!({ "snils": "112-233-445 96" })),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "snils"
                && e["message"]
                    == "СНИЛС указан с ошибкой: не сходится контрольное число. Проверьте цифры")
    );

    let (status, _) = call(&app, "PUT", "/api/v1/me/personal-data", Some(json!({
        "sex": p.sex, "birth_date": p.birth_date, "birth_place": p.birth_place,
        "passport_series": p.passport.series, "passport_number": p.passport.number,
        "passport_issued_on": p.passport.issued_on, "passport_issuer": p.passport.issuer,
        "division_code": p.passport.division_code, "snils": p.snils, "inn": p.inn, "address": p.address
    }))).await;
    assert_eq!(status, 202);
    let (_, pd) = call(&app, "GET", "/api/v1/me/personal-data", None).await;
    assert_eq!(pd["state"], "pending");
    app.drain_worker().await;
    let (_, pd) = call(&app, "GET", "/api/v1/me/personal-data", None).await;
    assert_eq!(pd["state"], "verified");
    assert_eq!(pd["data"]["passport"]["number"], p.passport.number.as_str());
    let (_, me) = call(&app, "GET", "/api/v1/me", None).await;
    assert_eq!(me["level"], "standard");

    // A second contact through the API.
    let (status, started) = call(
        &app,
        "POST",
        "/api/v1/me/contacts",
        Some(json!({ "email": "api@example.ru", "password": STRONG_PASSWORD })),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    let mail = app.last_message_to("api@example.ru").await;
    let body = mail["body"].as_str().unwrap();
    let code: String = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .into();
    let cid = started["id"].as_str().unwrap();
    let (status, _) = call(
        &app,
        "POST",
        &format!("/api/v1/me/contacts/{cid}/code"),
        Some(json!({ "code": code })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, me) = call(&app, "GET", "/api/v1/me", None).await;
    assert_eq!(me["email"], "api@example.ru");
}

#[tokio::test]
async fn bad_input_gets_field_errors_and_nothing_is_sent() {
    let app = TestApp::spawn().await;
    let (status, problem) = call(
        &app,
        "POST",
        "/api/v1/registrations",
        Some(json!({ "last_name": "1", "phone": "8912" })),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["status"], 422);
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["last_name", "first_name", "phone"]);
    assert!(
        uslugi_store::kernel::outbox::list(app.db())
            .await
            .unwrap()
            .is_empty()
    );

    let r = app
        .client
        .post(app.url("/api/v1/registrations"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let (status, _) = call(&app, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &app,
        "GET",
        &format!("/api/v1/registrations/{}", uuid::Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn codes_per_number_are_limited_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.auth.sends_per_target_per_hour = 1).await;
    let body = json!({ "last_name": "Смирнова", "first_name": "Анна", "phone": "+79120004002" });
    assert_eq!(
        call(&app, "POST", "/api/v1/registrations", Some(body.clone()))
            .await
            .0,
        201
    );
    let r = app
        .client
        .post(app.url("/api/v1/registrations"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3600");
}

#[tokio::test]
async fn every_operation_in_the_openapi_description_is_served() {
    let app = TestApp::spawn().await;
    let (status, spec) = call(&app, "GET", "/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 9);
    for (path, ops) in paths {
        let concrete = path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{token}", &"0".repeat(64));
        for method in ops.as_object().unwrap().keys() {
            let body = (method != "get").then(|| json!({}));
            let (status, v) = call(&app, &method.to_uppercase(), &concrete, body).await;
            assert_ne!(status, 405, "{method} {path}");
            // The router's own 404 says «Не найдено»; the API's 404s say what was not found.
            assert!(
                !(status == 404 && v["detail"] == "Не найдено"),
                "{method} {path} is not routed"
            );
        }
    }
}

#[tokio::test]
async fn registration_tells_nobody_who_has_an_account_until_the_code_proves_the_number() {
    let app = TestApp::spawn().await;
    let taken = "+79120000410";
    app.register_by_phone("Смирнова", "Анна", taken).await;
    app.sign_out().await;
    let start = |phone: &'static str| {
        let app = &app;
        async move {
            call(
                app,
                "POST",
                "/api/v1/registrations",
                Some(json!({ "last_name": "Кузнецов", "first_name": "Дмитрий", "phone": phone })),
            )
            .await
        }
    };
    let (s1, with_account) = start("8 912 000-04-10").await;
    let (s2, without) = start("8 912 000-04-11").await;
    assert_eq!((s1, s2), (201, 201));
    // The same answer, field for field but the id and the masked number.
    let shape = |v: &Value| {
        let mut v = v.clone();
        v["id"] = json!("");
        v["masked_contact"] = json!("");
        v
    };
    assert_eq!(shape(&with_account), shape(&without));
    assert_eq!(with_account["contact_taken"], false);
    // The confirm page says nothing either; after the code, the person learns it.
    let id = with_account["id"].as_str().unwrap().to_owned();
    let code = app.sms_code(taken).await;
    let (status, st) = call(
        &app,
        "POST",
        &format!("/api/v1/registrations/{id}/code"),
        Some(json!({ "code": code })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(st["contact_taken"], true, "{st}");
}

/// Answers «Сколько будет семь плюс четыре?».
fn solve(question: &str) -> String {
    const WORDS: [&str; 10] = [
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
    let words: Vec<&str> = question.trim_end_matches('?').split_whitespace().collect();
    let n = |w: &str| WORDS.iter().position(|x| *x == w).unwrap() as i64;
    let (a, op, b) = (n(words[2]), words[3], n(words[4]));
    (if op == "плюс" { a + b } else { a - b }).to_string()
}

#[tokio::test]
async fn the_api_asks_the_captcha_after_failures_as_the_page_does() {
    let app = TestApp::spawn().await;
    let phone = "+79120000412";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    app.sign_out().await;
    for _ in 0..3 {
        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/sessions",
            Some(json!({ "login": phone, "password": "Неверный-Пароль#1" })),
        )
        .await;
        assert_eq!(status, 401);
    }
    // The right password without the captcha: the question, not a session.
    let (status, problem) = call(
        &app,
        "POST",
        "/api/v1/sessions",
        Some(json!({ "login": phone, "password": STRONG_PASSWORD })),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "captcha");
    let question = problem["captcha_question"].as_str().unwrap().to_owned();
    assert!(question.starts_with("Сколько будет"), "{question}");
    assert_eq!(call(&app, "GET", "/api/v1/me", None).await.0, 401);
    // Answered: signed in.
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/sessions",
        Some(json!({ "login": phone, "password": STRONG_PASSWORD, "captcha": solve(&question) })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn oversized_or_broken_json_gets_a_russian_problem() {
    let app = TestApp::spawn().await;
    let big = "я".repeat(100_000);
    let r = app
        .client
        .post(app.url("/api/v1/registrations"))
        .header("origin", &app.base_url)
        .json(&json!({ "last_name": big }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "problem JSON, not a page"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["detail"],
        "Слишком большой запрос. Уменьшите его и повторите"
    );
    let r = app
        .client
        .post(app.url("/api/v1/registrations"))
        .header("origin", &app.base_url)
        .header("content-type", "application/json")
        .body("{\"last_name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with("Тело запроса не разобрано"),
        "{v}"
    );
    let (status, v) = call(&app, "GET", "/api/v1/nothing-here", None).await;
    assert_eq!((status, v["detail"].as_str().unwrap()), (404, "Не найдено"));
}

#[tokio::test]
async fn many_people_signing_in_at_once_from_one_address_are_not_taken_for_a_guesser() {
    // The production hashing strength, so that the sign-ins overlap as they do for real.
    let app = TestApp::spawn_with(|c| {
        c.auth.argon2_memory_kib = 19 * 1024;
        c.auth.argon2_iterations = 2;
    })
    .await;
    let phone = "+79120000413";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    // Sign-ins under way count towards the login's own limit until decided, but never towards
    // the captcha or the address's limit.
    // Four people at a time, each signing in four times in a row: later sign-ins arrive while
    // others are being checked.
    let person = || {
        let app = &app;
        async move {
            let mut statuses = Vec::new();
            for _ in 0..4 {
                statuses.push(
                    uslugi_testkit::browser("office")
                        .post(app.url("/api/v1/sessions"))
                        .header("origin", &app.base_url)
                        .json(&json!({ "login": phone, "password": STRONG_PASSWORD }))
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16(),
                );
            }
            statuses
        }
    };
    let (a, b, c, d) = tokio::join!(person(), person(), person(), person());
    let all: Vec<u16> = [a, b, c, d].concat();
    assert_eq!(all, [201; 16]);
}
