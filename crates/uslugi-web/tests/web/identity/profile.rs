//! Personal data, the registry check through the jobs table, and the standard level.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_core::identity::registries::DemoPerson;
use uslugi_testkit::TestApp;

fn person(case: &str) -> DemoPerson {
    uslugi_testkit::demo_person(case)
}

fn form_of(p: &DemoPerson) -> Vec<(&'static str, String)> {
    uslugi_testkit::personal_form(p)
}

async fn submit(app: &TestApp, fields: &[(&'static str, String)]) -> reqwest::Response {
    let token = app.hidden_field("/profile/personal", "csrf_token").await;
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    app.post_form("/profile/personal", &form).await
}

async fn registered(app: &TestApp, p: &DemoPerson, phone: &str) {
    let token = app.hidden_field("/register", "csrf_token").await;
    let middle = p.middle_name.clone().unwrap_or_default();
    app.post_form(
        "/register",
        &[
            ("csrf_token", &token),
            ("last_name", &p.last_name),
            ("first_name", &p.first_name),
            ("middle_name", &middle),
            ("phone", phone),
        ],
    )
    .await;
    let code = app.sms_code(phone).await;
    let token = app.hidden_field("/register/confirm", "csrf_token").await;
    app.post_form(
        "/register/confirm",
        &[("csrf_token", &token), ("code", &code)],
    )
    .await;
    let token = app.hidden_field("/register/password", "csrf_token").await;
    let r = app
        .post_form(
            "/register/password",
            &[
                ("csrf_token", &token),
                ("password", uslugi_testkit::STRONG_PASSWORD),
                ("password_confirmation", uslugi_testkit::STRONG_PASSWORD),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
}

#[tokio::test]
async fn matching_data_makes_the_account_standard_after_the_check() {
    let app = TestApp::spawn().await;
    let p = person("ok");
    registered(&app, &p, "+79120000101").await;
    let r = submit(&app, &form_of(&p)).await;
    assert_eq!(TestApp::location(&r), "/profile/personal");

    let (_, page) = app.get_text("/profile/personal").await;
    assert!(page.contains("Ожидание проверки данных"), "{page}");
    assert!(page.contains(r#"data-poll-url="/profile/personal/status""#));
    let v: serde_json::Value = app
        .get("/profile/personal/status")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["state"], "pending");
    assert!(
        app.get_text("/cabinet")
            .await
            .1
            .contains("Ожидание проверки данных")
    );

    // The check runs as a job, then the result goes out by SMS.
    let msg = app.last_message_to("+79120000101").await;
    assert!(
        msg["body"].as_str().unwrap().contains("стала стандартной"),
        "{msg}"
    );
    let (_, page) = app.get_text("/profile/personal").await;
    assert!(page.contains("Данные проверены"), "{page}");
    assert!(page.contains(&p.snils));
    let (_, cabinet) = app.get_text("/cabinet").await;
    assert!(cabinet.contains("Стандартная"));
    assert!(!cabinet.contains("Заполнить личные данные"));
}

#[tokio::test]
async fn without_an_inn_the_tax_service_fills_it_in() {
    let app = TestApp::spawn().await;
    let p = person("ok");
    registered(&app, &p, "+79120000102").await;
    let mut fields = form_of(&p);
    fields.retain(|(k, _)| *k != "inn");
    submit(&app, &fields).await;
    app.drain_worker().await;
    let (_, page) = app.get_text("/profile/personal").await;
    assert!(page.contains(&p.inn), "{page}");
}

#[tokio::test]
async fn an_invalid_passport_is_named_and_the_rest_is_kept() {
    let app = TestApp::spawn().await;
    let p = person("passport_invalid");
    registered(&app, &p, "+79120000103").await;
    submit(&app, &form_of(&p)).await;
    let msg = app.last_message_to("+79120000103").await;
    assert!(msg["body"].as_str().unwrap().contains("не прошли проверку"));
    let (_, page) = app.get_text("/profile/personal").await;
    assert!(page.contains("Данные не прошли проверку"));
    assert!(
        page.contains("Паспорт недействителен по данным МВД"),
        "{page}"
    );
    assert!(
        page.contains(&format!(r#"value="{}""#, p.address)),
        "the rest is kept"
    );
    assert!(app.get_text("/cabinet").await.1.contains("Упрощённая"));
}

#[tokio::test]
async fn someone_elses_snils_and_a_wrong_inn_are_named() {
    let app = TestApp::spawn().await;
    let p = person("snils_mismatch");
    registered(&app, &p, "+79120000104").await;
    submit(&app, &form_of(&p)).await;
    app.drain_worker().await;
    let page = app.get_text("/profile/personal").await.1;
    assert!(page.contains("СНИЛС не соответствует данным СФР"), "{page}");

    let app = TestApp::spawn().await;
    let p = person("inn_mismatch");
    registered(&app, &p, "+79120000105").await;
    submit(&app, &form_of(&p)).await;
    app.drain_worker().await;
    let page = app.get_text("/profile/personal").await.1;
    assert!(page.contains("ИНН не соответствует данным ФНС"), "{page}");
}

#[tokio::test]
async fn malformed_fields_get_precise_messages_and_nothing_is_submitted() {
    let app = TestApp::spawn().await;
    let p = person("ok");
    registered(&app, &p, "+79120000106").await;
    let mut fields = form_of(&p);
    for (k, v) in fields.iter_mut() {
        match *k {
            "snils" => *v = "112-233-445 96".into(),
            "inn" => *v = "500100732250".into(),
            "division_code" => *v = "77-001".into(),
            "birth_date" => *v = "31.02.1990".into(),
            "sex" => *v = String::new(),
            _ => {}
        }
    }
    let html = submit(&app, &fields).await.text().await.unwrap();
    assert!(html.contains("<title>Ошибка: Личные данные"), "{html}");
    assert!(html.contains("СНИЛС указан с ошибкой: не сходится контрольное число"));
    assert!(html.contains("ИНН указан с ошибкой"));
    assert!(html.contains("Такой даты нет"));
    assert!(html.contains("Выберите пол"));
    assert!(html.contains(r#"value="77-001""#), "typed values stay");
    assert!(
        !app.get_text("/profile/personal")
            .await
            .1
            .contains("Ожидание проверки")
    );
}

#[tokio::test]
async fn a_snils_is_held_by_one_account_only() {
    let app = TestApp::spawn().await;
    let p = person("ok");
    registered(&app, &p, "+79120000107").await;
    submit(&app, &form_of(&p)).await;
    app.drain_worker().await;
    let token = app.hidden_field("/cabinet", "csrf_token").await;
    app.post_form("/logout", &[("csrf_token", &token)]).await;

    // Someone else types the same SNILS.
    let q = person("passport_invalid");
    registered(&app, &q, "+79120000108").await;
    let mut fields = form_of(&q);
    for (k, v) in fields.iter_mut() {
        if *k == "snils" {
            *v = p.snils.clone();
        }
    }
    let html = submit(&app, &fields).await.text().await.unwrap();
    assert!(
        html.contains("Этот СНИЛС указан в другой учётной записи"),
        "{html}"
    );
    assert!(!html.contains(&p.last_name), "whose it is stays hidden");
}

#[tokio::test]
async fn the_personal_page_needs_a_signed_in_person() {
    let app = TestApp::spawn().await;
    assert_eq!(
        TestApp::location(&app.get("/profile/personal").await),
        "/login"
    );
    let r = app.post_form("/profile/personal", &[("snils", "x")]).await;
    assert_eq!(r.status(), 403, "no session, no token");
}
