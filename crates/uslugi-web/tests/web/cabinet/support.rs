//! The feedback form: precise Russian messages, values kept, one delivery per submission.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_store::kernel::outbox;
use uslugi_testkit::TestApp;

const SUBMISSION: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

async fn post(app: &TestApp, name: &str, contact: &str, message: &str) -> (u16, String) {
    let token = app.hidden_field("/feedback", "csrf_token").await;
    let r = app
        .post_form(
            "/feedback",
            &[
                ("csrf_token", &token),
                ("submission_id", SUBMISSION),
                ("name", name),
                ("contact", contact),
                ("message", message),
            ],
        )
        .await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

#[tokio::test]
async fn empty_form_names_every_field() {
    let app = TestApp::spawn().await;
    let (status, html) = post(&app, "", "", "").await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Ошибка: Обратная связь — Госуслуги</title>"));
    assert!(html.contains("Исправьте ошибки"));
    assert!(html.contains("Введите имя"), "{html}");
    assert!(html.contains("Введите адрес электронной почты или номер мобильного телефона"));
    assert!(html.contains("Опишите ваш вопрос"));
    assert!(html.contains(r##"<a href="#contact">"##));
    assert!(
        outbox::list(app.db()).await.unwrap().is_empty(),
        "nothing half-saved"
    );
}

#[tokio::test]
async fn a_short_phone_gets_the_precise_message_and_the_typed_values_stay() {
    let app = TestApp::spawn().await;
    let (_, html) = post(&app, "Анна", "8 912 345", "Вопрос о справке").await;
    assert!(
        html.contains("В номере телефона не хватает цифр: нужно 10 цифр после +7"),
        "{html}"
    );
    assert!(html.contains(r#"value="8 912 345""#));
    assert!(html.contains(r#"value="Анна""#));
    assert!(html.contains("Вопрос о справке</textarea>"));
}

#[tokio::test]
async fn a_landline_is_refused_as_not_mobile() {
    let app = TestApp::spawn().await;
    let (_, html) = post(&app, "Анна", "+7 495 123-45-67", "Вопрос о справке").await;
    assert!(html.contains("мобильного"), "{html}");
}

#[tokio::test]
async fn a_malformed_email_is_refused() {
    let app = TestApp::spawn().await;
    let (_, html) = post(&app, "Анна", "anna@", "Вопрос о справке").await;
    assert!(html.contains("name@example.ru"), "{html}");
}

#[tokio::test]
async fn a_name_with_digits_is_refused_and_markup_is_escaped() {
    let app = TestApp::spawn().await;
    let (_, html) = post(
        &app,
        "<b>Анна1</b>",
        "anna@example.ru",
        "<script>alert(1)</script>",
    )
    .await;
    assert!(html.contains("Имя может содержать только буквы"), "{html}");
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(
        html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"),
        "{html}"
    );
}

#[tokio::test]
async fn a_valid_question_sends_a_confirmation_and_a_copy_to_support_once() {
    let app = TestApp::spawn().await;
    let (status, html) = post(&app, "Анна", "8 (912) 345-67-89", "Как получить справку?").await;
    assert_eq!(status, 200);
    assert!(html.contains("Обращение отправлено"));
    let at = html.find("class=\"reference\">").unwrap() + 18;
    let number = &html[at..at + 8];

    // The same form posted again (double click, back and resubmit) acts once.
    let (_, again) = post(&app, "Анна", "8 (912) 345-67-89", "Как получить справку?").await;
    assert!(again.contains(number));
    assert_eq!(outbox::list(app.db()).await.unwrap().len(), 2);

    app.worker_pass().await;
    let out = app.dev_outbox().await;
    assert_eq!(out.len(), 2);
    let sms = out.iter().find(|m| m["channel"] == "sms").unwrap();
    assert_eq!(sms["to"], "+79123456789");
    assert!(sms["body"].as_str().unwrap().contains(number));
    let mail = out.iter().find(|m| m["channel"] == "email").unwrap();
    assert_eq!(mail["to"], "support@uslugi.local");
    assert!(
        mail["body"]
            .as_str()
            .unwrap()
            .contains("Как получить справку?")
    );
}

#[tokio::test]
async fn an_overlong_question_is_refused_with_its_length() {
    let app = TestApp::spawn().await;
    let long = "а".repeat(2001);
    let (_, html) = post(&app, "Анна", "anna@example.ru", &long).await;
    assert!(
        html.contains("сейчас 2\u{a0}001 символ, можно не больше 2\u{a0}000 символов"),
        "{html}"
    );
}

#[tokio::test]
async fn the_confirmation_repeats_nothing_the_visitor_typed() {
    let app = TestApp::spawn().await;
    let (status, _) = post(
        &app,
        "Анна",
        "victim@example.ru",
        "Перейдите по ссылке evil.example",
    )
    .await;
    assert_eq!(status, 200);
    let mail = app.last_message_to("victim@example.ru").await;
    let body = mail["body"].as_str().unwrap();
    assert!(!body.contains("evil.example"), "{body}");
    assert!(!body.contains("Анна"), "{body}");
    assert!(body.contains("принято"));
}

#[tokio::test]
async fn questions_per_contact_per_hour_are_limited() {
    let app = TestApp::spawn_with(|c| c.auth.sends_per_target_per_hour = 2).await;
    for i in 0..3 {
        let token = app.hidden_field("/feedback", "csrf_token").await;
        let submission = format!("{i}{}", &SUBMISSION[1..]);
        let r = app
            .post_form(
                "/feedback",
                &[
                    ("csrf_token", &token),
                    ("submission_id", &submission),
                    ("name", "Анна"),
                    ("contact", "+79123456789"),
                    ("message", "Вопрос о справке номер"),
                ],
            )
            .await;
        if i < 2 {
            assert_eq!(r.status(), 200);
        } else {
            assert_eq!(r.status(), 429);
            assert_eq!(r.headers().get("retry-after").unwrap(), "3600");
            assert!(r.text().await.unwrap().contains("Слишком много запросов"));
        }
    }
    app.worker_pass().await;
    let sms = app
        .dev_outbox()
        .await
        .into_iter()
        .filter(|m| m["channel"] == "sms")
        .count();
    assert_eq!(sms, 2);
}
