//! Registration through the pages: codes, links, passwords, «Номер занят», rate limits.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use sea_orm::EntityTrait;
use uslugi_store::entities::{account_contacts, accounts};
use uslugi_testkit::{STRONG_PASSWORD, TestApp};

const PHONE: &str = "+79123456789";

async fn start(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    let token = app.hidden_field("/register", "csrf_token").await;
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(fields);
    app.post_form("/register", &form).await
}

async fn post_code(app: &TestApp, code: &str) -> reqwest::Response {
    let token = app.hidden_field("/register/confirm", "csrf_token").await;
    app.post_form(
        "/register/confirm",
        &[("csrf_token", &token), ("code", code)],
    )
    .await
}

async fn post_password(app: &TestApp, p1: &str, p2: &str, consent: bool) -> reqwest::Response {
    let token = app.hidden_field("/register/password", "csrf_token").await;
    let mut form = vec![
        ("csrf_token", token.as_str()),
        ("password", p1),
        ("password_confirmation", p2),
    ];
    if consent {
        form.push(("consent", "yes"));
    }
    app.post_form("/register/password", &form).await
}

fn wrong(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

#[tokio::test]
async fn a_person_registers_by_phone_and_lands_in_the_cabinet() {
    let app = TestApp::spawn().await;
    let r = start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("middle_name", "Сергеевна"),
            ("phone", "8 (912) 345-67-89"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(TestApp::location(&r), "/register/confirm");

    let (_, page) = app.get_text("/register/confirm").await;
    assert!(page.contains("Введите код из SMS"));
    assert!(page.contains("+7 912 ***-**-89"), "masked number shown");
    assert!(!page.contains("Номер занят"));

    let code = app.sms_code(PHONE).await;
    let r = post_code(&app, &wrong(&code)).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Неверный код. Осталось 2 попытки"), "{html}");

    let r = post_code(&app, &code).await;
    assert_eq!(TestApp::location(&r), "/register/password");

    let r = post_password(&app, "qwerty12", "qwerty12", true).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Ошибка: Придумайте пароль"));
    assert!(html.contains("Добавьте в пароль заглавную букву"), "{html}");

    let r = post_password(&app, STRONG_PASSWORD, "другой", true).await;
    assert!(r.text().await.unwrap().contains("Пароли не совпадают"));

    let r = post_password(&app, STRONG_PASSWORD, STRONG_PASSWORD, false).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Подтвердите согласие на обработку персональных данных")
    );

    let r = post_password(&app, STRONG_PASSWORD, STRONG_PASSWORD, true).await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    let (status, cabinet) = app.get_text("/cabinet").await;
    assert_eq!(status, 200);
    assert!(cabinet.contains("Здравствуйте, Анна Сергеевна!"));
    assert!(cabinet.contains("Смирнова Анна Сергеевна"));
    assert!(cabinet.contains("Упрощённая"));
    assert!(cabinet.contains("+7 912 345-67-89"));
    assert!(cabinet.contains("Заполнить личные данные"));

    // Stored encrypted: neither the name nor the phone is in the rows.
    let acc = accounts::Entity::find().all(app.db()).await.unwrap();
    assert_eq!(acc.len(), 1);
    assert_eq!(acc[0].level, "simplified");
    assert!(!acc[0].name.contains("Смирнова"));
    assert!(acc[0].password_hash.starts_with("$argon2id$"));
    let contacts = account_contacts::Entity::find()
        .all(app.db())
        .await
        .unwrap();
    assert!(!contacts[0].value.contains("9123456789"));
    let levels = uslugi_store::identity::accounts::levels_of(app.db(), acc[0].id)
        .await
        .unwrap();
    assert_eq!(
        (levels[0].level.as_str(), levels[0].channel.as_str()),
        ("simplified", "registration")
    );
}

#[tokio::test]
async fn the_session_id_changes_when_the_account_signs_in() {
    let app = TestApp::spawn().await;
    start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("phone", PHONE),
        ],
    )
    .await;
    let code = app.sms_code(PHONE).await;
    post_code(&app, &code).await;
    let token = app.hidden_field("/register/password", "csrf_token").await;
    let r = app
        .post_form(
            "/register/password",
            &[
                ("csrf_token", &token),
                ("password", STRONG_PASSWORD),
                ("password_confirmation", STRONG_PASSWORD),
                ("consent", "yes"),
            ],
        )
        .await;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("uslugi_session="))
        .unwrap_or_default();
    assert!(
        cookie.starts_with("uslugi_session="),
        "a new session id is issued: {cookie}"
    );
    // The form token of the anonymous session no longer works.
    let r = app.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(r.status(), 403);
    let fresh = app.hidden_field("/cabinet", "csrf_token").await;
    assert_ne!(fresh, token);
    let r = app.post_form("/logout", &[("csrf_token", &fresh)]).await;
    assert_eq!(TestApp::location(&r), "/?out=1");
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
    // The home page says so, and offers to sign in again.
    let (_, home) = app.get_text("/?out=1").await;
    assert!(home.contains("Вы вышли из личного кабинета") && home.contains("Зарегистрироваться"));
}

#[tokio::test]
async fn three_wrong_codes_void_the_code() {
    let app = TestApp::spawn().await;
    start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("phone", PHONE),
        ],
    )
    .await;
    let code = app.sms_code(PHONE).await;
    post_code(&app, &wrong(&code)).await;
    let html = post_code(&app, &wrong(&code)).await.text().await.unwrap();
    assert!(html.contains("Неверный код. Осталась 1 попытка"), "{html}");
    let html = post_code(&app, &wrong(&code)).await.text().await.unwrap();
    assert!(
        html.contains("Вы трижды ввели неверный код. Получите новый код"),
        "{html}"
    );
    // Even the right code no longer works.
    let html = post_code(&app, &code).await.text().await.unwrap();
    assert!(html.contains("Получите новый код"), "{html}");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = TestApp::spawn_with(|c| c.auth.code_ttl_secs = 0).await;
    start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("phone", PHONE),
        ],
    )
    .await;
    let code = app.sms_code(PHONE).await;
    let html = post_code(&app, &code).await.text().await.unwrap();
    assert!(
        html.contains("Срок действия кода истёк. Получите новый код"),
        "{html}"
    );
}

#[tokio::test]
async fn a_new_code_waits_for_the_cooldown_and_replaces_the_old_one() {
    let app = TestApp::spawn().await;
    start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("phone", PHONE),
        ],
    )
    .await;
    let token = app.hidden_field("/register/confirm", "csrf_token").await;
    let html = app
        .post_form("/register/resend", &[("csrf_token", &token)])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Новый код можно получить через"), "{html}");

    let app = TestApp::spawn_with(|c| c.auth.resend_after_secs = 0).await;
    start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("phone", PHONE),
        ],
    )
    .await;
    let first = app.sms_code(PHONE).await;
    let token = app.hidden_field("/register/confirm", "csrf_token").await;
    let r = app
        .post_form("/register/resend", &[("csrf_token", &token)])
        .await;
    assert_eq!(TestApp::location(&r), "/register/confirm");
    assert!(
        app.get_text("/register/confirm")
            .await
            .1
            .contains("Мы отправили новый код")
    );
    let second = app.sms_code(PHONE).await;
    if first != second {
        let html = post_code(&app, &first).await.text().await.unwrap();
        assert!(
            html.contains("Неверный код"),
            "the old code is void: {html}"
        );
    }
    let r = post_code(&app, &second).await;
    assert_eq!(TestApp::location(&r), "/register/password");
}

#[tokio::test]
async fn codes_per_number_per_hour_are_limited_with_429() {
    let app = TestApp::spawn_with(|c| c.auth.sends_per_target_per_hour = 2).await;
    for _ in 0..2 {
        let r = start(
            &app,
            &[
                ("last_name", "Смирнова"),
                ("first_name", "Анна"),
                ("phone", PHONE),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
    }
    let r = start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("phone", PHONE),
        ],
    )
    .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers().get("retry-after").unwrap(), "3600");
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Слишком много запросов кода")
    );
}

#[tokio::test]
async fn bad_names_and_contacts_get_precise_messages_and_nothing_is_sent() {
    let app = TestApp::spawn().await;
    let html = start(
        &app,
        &[
            ("last_name", "Смирнова2"),
            ("first_name", ""),
            ("phone", "8912"),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        html.contains("Фамилия может содержать только буквы"),
        "{html}"
    );
    assert!(html.contains("Введите имя"), "{html}");
    assert!(html.contains("В номере телефона не хватает цифр"), "{html}");
    assert!(html.contains(r#"value="Смирнова2""#), "typed values stay");

    let html = start(&app, &[("last_name", "Смирнова"), ("first_name", "Анна")])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Укажите мобильный телефон или электронную почту"));

    let html = start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("phone", PHONE),
            ("email", "a@example.ru"),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(html.contains("Укажите что-то одно"));
    let html = start(
        &app,
        &[
            ("last_name", "Smirnova"),
            ("first_name", "Анна"),
            ("email", "a@@example"),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(html.contains("name@example.ru"), "{html}");
    assert!(
        uslugi_store::kernel::outbox::list(app.db())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_person_registers_by_email_link_which_works_once() {
    let app = TestApp::spawn().await;
    let r = start(
        &app,
        &[
            ("last_name", "Кузнецов"),
            ("first_name", "Дмитрий"),
            ("email", "Dmitry.K@Example.RU"),
        ],
    )
    .await;
    assert_eq!(TestApp::location(&r), "/register/confirm");
    let (_, page) = app.get_text("/register/confirm").await;
    assert!(page.contains("Проверьте почту"));
    assert!(page.contains(r#"data-poll-url="/register/status""#));
    assert!(!page.contains("http-equiv"), "no timed reload");
    let v: serde_json::Value = app.get("/register/status").await.json().await.unwrap();
    assert_eq!(v["confirmed"], false);

    let mail = app.last_message_to("dmitry.k@example.ru").await;
    assert_eq!(mail["subject"], "Подтверждение регистрации");
    let link = app.email_link("dmitry.k@example.ru").await;
    assert!(link.starts_with("/register/email/"));

    // Opening the link (as a mail scanner would) does not use it up.
    let (status, html) = app.get_text(&link).await;
    assert_eq!(status, 200);
    assert!(html.contains("Подтвердить адрес"));
    let token = app.hidden_field(&link, "csrf_token").await;
    let r = app.post_form(&link, &[("csrf_token", &token)]).await;
    assert_eq!(TestApp::location(&r), "/register/password");
    let r = post_password(&app, STRONG_PASSWORD, STRONG_PASSWORD, true).await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    assert!(
        app.get_text("/cabinet")
            .await
            .1
            .contains("dmitry.k@example.ru")
    );

    let token = app.hidden_field(&link, "csrf_token").await;
    let r = app.post_form(&link, &[("csrf_token", &token)]).await;
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("уже зарегистрирована"));
}

#[tokio::test]
async fn a_broken_link_is_refused() {
    let app = TestApp::spawn().await;
    let (status, html) = app.get_text("/register/email/nonsense").await;
    assert_eq!(status, 200);
    assert!(html.contains("Ссылка недействительна"));
    let link = format!("/register/email/{}", "a".repeat(64));
    let token = app.hidden_field(&link, "csrf_token").await;
    let r = app.post_form(&link, &[("csrf_token", &token)]).await;
    assert_eq!(r.status(), 410);
}

#[tokio::test]
async fn a_taken_number_is_released_to_the_person_who_proves_it() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", PHONE).await;
    let first = accounts::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();

    // Someone else, in another browser, registers the same number.
    let other = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = other
        .get(app.url("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = uslugi_testkit::hidden_value(&html, "csrf_token").unwrap();
    other
        .post(app.url("/register"))
        .header("origin", &app.base_url)
        .form(&[
            ("csrf_token", token.as_str()),
            ("last_name", "Кузнецов"),
            ("first_name", "Дмитрий"),
            ("phone", PHONE),
        ])
        .send()
        .await
        .unwrap();
    let page = other
        .get(app.url("/register/confirm"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Before the code, nothing tells that an account has the number.
    assert!(!page.contains("Номер занят"), "{page}");
    let code = app.sms_code(PHONE).await;
    let token = uslugi_testkit::hidden_value(&page, "csrf_token").unwrap();
    other
        .post(app.url("/register/confirm"))
        .header("origin", &app.base_url)
        .form(&[("csrf_token", token.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    let page = other
        .get(app.url("/register/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The code proved the number: now the person is told it moves here.
    assert!(page.contains("Номер занят"), "{page}");
    assert!(
        !page.contains("Смирнова"),
        "whose number it is stays hidden"
    );
    let token = uslugi_testkit::hidden_value(&page, "csrf_token").unwrap();
    let r = other
        .post(app.url("/register/password"))
        .header("origin", &app.base_url)
        .form(&[
            ("csrf_token", token.as_str()),
            ("password", STRONG_PASSWORD),
            ("password_confirmation", STRONG_PASSWORD),
            ("consent", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(TestApp::location(&r), "/cabinet");

    // The number moved; the first account keeps a journal entry about it.
    assert!(
        uslugi_store::identity::accounts::contacts_of(app.db(), first.id)
            .await
            .unwrap()
            .is_empty()
    );
    let journal = uslugi_store::identity::accounts::journal_of(app.db(), first.id, 10)
        .await
        .unwrap();
    assert!(journal.iter().any(|j| j.event == "contact.released"));
    assert_eq!(
        account_contacts::Entity::find()
            .all(app.db())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_repeated_password_post_creates_one_account() {
    let app = TestApp::spawn().await;
    start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("phone", PHONE),
        ],
    )
    .await;
    let code = app.sms_code(PHONE).await;
    post_code(&app, &code).await;
    let token = app.hidden_field("/register/password", "csrf_token").await;
    let form = [
        ("csrf_token", token.as_str()),
        ("password", STRONG_PASSWORD),
        ("password_confirmation", STRONG_PASSWORD),
        ("consent", "yes"),
    ];
    let (a, b) = tokio::join!(
        app.post_form("/register/password", &form),
        app.post_form("/register/password", &form)
    );
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 403),
        "{statuses:?}"
    );
    assert_eq!(
        accounts::Entity::find().all(app.db()).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn the_password_may_not_contain_the_name_or_the_phone() {
    let app = TestApp::spawn().await;
    start(
        &app,
        &[
            ("last_name", "Смирнова"),
            ("first_name", "Анна"),
            ("phone", PHONE),
        ],
    )
    .await;
    let code = app.sms_code(PHONE).await;
    post_code(&app, &code).await;
    let html = post_password(&app, "Смирнова#2024", "Смирнова#2024", true)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Пароль не должен содержать ваше имя"),
        "{html}"
    );
    let html = post_password(&app, "Tel#9123456789x", "Tel#9123456789x", true)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Пароль не должен содержать"), "{html}");
}
