//! Applications from the citizen's first step to the officer's decision.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_testkit::{TestApp, hidden_value};

/// Starts an application from a card; returns its id.
async fn apply(app: &TestApp, slug: &str) -> String {
    let r = post(
        app,
        &format!("/services/{slug}"),
        &format!("/services/{slug}/apply"),
        &[],
    )
    .await;
    let to = TestApp::location(&r);
    assert!(to.starts_with("/applications/"), "{} {to}", r.status());
    to.split('/').nth(2).unwrap().to_owned()
}

async fn step(app: &TestApp, id: &str, n: usize, fields: &[(&str, &str)]) -> reqwest::Response {
    let path = format!("/applications/{id}/step/{n}");
    app.submit_as(&app.client, &path, &path, fields).await
}

/// As the signed-in main client: loads `page` and posts `fields` to `action` with its token.
async fn post(
    app: &TestApp,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.submit_as(&app.client, page, action, fields).await
}

/// The step came back (200) with `message` on it.
async fn assert_refused(r: reqwest::Response, message: &str) {
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains(message), "{page}");
}

async fn rows(app: &TestApp, table: &str) -> u64 {
    use uslugi_store::sea_orm::{ConnectionTrait, Statement};
    let db = app.db();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    u64::try_from(row.try_get_by_index::<i64>(0).unwrap()).unwrap()
}

const EGRN: [(&str, &str); 3] = [
    ("object_type", "Квартира или комната"),
    ("cadastral_number", "77:01:0001001:1234"),
    ("extract_type", "Об объекте недвижимости"),
];

#[tokio::test]
async fn a_citizen_fills_a_form_in_steps_saves_a_draft_and_sends_once() {
    let app = TestApp::spawn().await;
    let person = app.standard_citizen("+79120000901").await;
    let id = apply(&app, "egrn-extract").await;

    // Step 1: the verified name is shown read-only; the e-mail is asked and checked.
    let (status, page) = app.get_text(&format!("/applications/{id}/step/0")).await;
    assert_eq!(status, 200);
    let last = &person.data.as_ref().unwrap().last_name;
    assert!(
        page.contains(last.as_str()) && page.contains("Изменить в профиле"),
        "{page}"
    );
    let r = step(
        &app,
        &id,
        0,
        &[("email", "not-an-address"), ("last_name", "Подделкин")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Ошибка: "), "the title says so");
    assert!(
        page.contains("id=\"email-error\""),
        "the message next to the field: {page}"
    );
    // Jumping ahead of the first unfinished step is not possible.
    let r = app.get(&format!("/applications/{id}/step/1")).await;
    assert_eq!(TestApp::location(&r), format!("/applications/{id}/step/0"));
    let r = step(
        &app,
        &id,
        0,
        &[("email", "Anna@Example.RU"), ("last_name", "Подделкин")],
    )
    .await;
    assert_eq!(TestApp::location(&r), format!("/applications/{id}/step/1"));

    // Step 2: a choice not offered is refused; «save and leave» keeps a draft.
    let r = step(
        &app,
        &id,
        1,
        &[
            ("object_type", "Замок"),
            ("cadastral_number", "1"),
            ("extract_type", "Об объекте недвижимости"),
        ],
    )
    .await;
    assert_refused(r, "Выберите один из вариантов").await;
    let mut later = EGRN.to_vec();
    later.push(("later", "1"));
    let r = step(&app, &id, 1, &later).await;
    assert_eq!(TestApp::location(&r), "/applications");
    let (_, list) = app.get_text("/applications").await;
    assert!(
        list.contains("Черновик") && list.contains("Продолжить: Выписка из ЕГРН"),
        "{list}"
    );

    // The review shows what will be sent: the profile's name, not what was posted over it.
    let (status, review) = app.get_text(&format!("/applications/{id}/review")).await;
    assert_eq!(status, 200);
    assert!(review.contains("Проверьте данные"));
    assert!(
        review.contains(last.as_str()) && !review.contains("Подделкин"),
        "{review}"
    );
    assert!(
        review.contains("anna@example.ru"),
        "the address as stored: {review}"
    );
    assert!(review.contains("Оплатить госпошлину на портале пока нельзя"));
    assert!(!review.contains(">Оплатить<"));

    // Sent twice (a double click): one application, one number, one «send» in the history.
    let send = format!("/applications/{id}/send");
    let review_path = format!("/applications/{id}/review");
    let token = hidden_value(&review, "csrf_token").unwrap();
    let form = [("csrf_token", token.as_str())];
    let (a, b) = tokio::join!(app.post_form(&send, &form), app.post_form(&send, &form));
    assert_eq!(TestApp::location(&a), format!("/applications/{id}"));
    assert_eq!(TestApp::location(&b), format!("/applications/{id}"));
    let _ = review_path;
    let (_, page) = app.get_text(&format!("/applications/{id}")).await;
    assert!(page.contains("Отправлено"), "{page}");
    assert_eq!(
        page.matches("<li><strong>Отправлено</strong>").count(),
        1,
        "{page}"
    );
    let number: String = page
        .split("Заявление № ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(number.len(), 10);
    assert!(page.contains("МСК"), "times in Moscow time");
    assert_eq!(rows(&app, "applications").await, 1);
    assert_eq!(rows(&app, "application_events").await, 1);
    // The person is told, in the inbox and by SMS.
    let sms = app.last_message_to("+79120000901").await;
    assert!(sms["body"].as_str().unwrap().contains(&number), "{sms}");
    // The values are stored encrypted.
    use uslugi_store::sea_orm::EntityTrait;
    let row = uslugi_store::entities::applications::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(!row.data.contains("77:01:0001001:1234"));
}

#[tokio::test]
async fn someone_elses_application_is_not_found_and_a_low_level_is_explained() {
    let app = TestApp::spawn().await;
    app.standard_citizen("+79120000902").await;
    let id = apply(&app, "egrn-extract").await;
    app.sign_out().await;
    // A simplified account: the level page, nothing saved.
    app.signed_in_citizen("+79120000903").await;
    assert_eq!(app.get(&format!("/applications/{id}")).await.status(), 404);
    assert_eq!(
        app.get(&format!("/applications/{id}/step/0"))
            .await
            .status(),
        404
    );
    let r = post(
        &app,
        "/services/egrn-extract",
        "/services/egrn-extract/apply",
        &[],
    )
    .await;
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Нужен другой уровень учётной записи"),
        "{page}"
    );
    assert!(page.contains("стандартная или подтверждённая"));
    assert_eq!(rows(&app, "applications").await, 1);
    assert_eq!(app.get("/applications/not-a-uuid").await.status(), 404);
}

#[tokio::test]
async fn the_officer_takes_asks_and_decides_and_the_citizen_answers() {
    let app = TestApp::spawn().await;
    let citizen_phone = "+79120000904";
    app.standard_citizen(citizen_phone).await;
    let id = apply(&app, "egrn-extract").await;
    step(&app, &id, 0, &[("email", "anna@example.ru")]).await;
    step(&app, &id, 1, &EGRN).await;
    let r = post(
        &app,
        &format!("/applications/{id}/review"),
        &format!("/applications/{id}/send"),
        &[],
    )
    .await;
    assert_eq!(TestApp::location(&r), format!("/applications/{id}"));
    // A cancel the service does not allow is refused with the reason.
    post(
        &app,
        &format!("/applications/{id}"),
        &format!("/applications/{id}/cancel"),
        &[],
    )
    .await;
    let (_, page) = app.get_text(&format!("/applications/{id}")).await;
    assert!(
        page.contains("Эту услугу нельзя отменить после отправки"),
        "{page}"
    );
    app.sign_out().await;

    // An officer of another agency does not see it.
    let other = app
        .staff_member("+79120000905", uslugi_domain::Role::Officer, Some("mvd"))
        .await;
    let _ = other;
    assert_eq!(
        app.get(&format!("/staff/agency/applications/{id}"))
            .await
            .status(),
        404
    );
    let (_, queue) = app.get_text("/staff/agency").await;
    assert!(!queue.contains(&id));
    app.sign_out().await;

    let officer = app
        .staff_member(
            "+79120000906",
            uslugi_domain::Role::Officer,
            Some("rosreestr"),
        )
        .await;
    let (_, queue) = app.get_text("/staff/agency").await;
    assert!(queue.contains(&id), "{queue}");
    assert!(queue.contains("осталось"), "days left shown: {queue}");
    let page = format!("/staff/agency/applications/{id}");
    let (_, detail) = app.get_text(&page).await;
    assert!(detail.contains("77:01:0001001:1234"), "{detail}");
    // Two officers taking it at once (two tabs): one wins.
    let token = hidden_value(&detail, "csrf_token").unwrap();
    let take = format!("{page}/take");
    let form = [("csrf_token", token.as_str())];
    let (a, b) = tokio::join!(app.post_form(&take, &form), app.post_form(&take, &form));
    assert!(a.status().is_redirection() && b.status().is_redirection());
    let events = rows(&app, "application_events").await;
    assert_eq!(events, 2, "send + one take");
    // Asking needs a message; then the applicant must answer.
    post(&app, &page, &format!("{page}/ask"), &[("message", " ")]).await;
    let (_, detail) = app.get_text(&page).await;
    assert!(detail.contains("Напишите, что нужно уточнить"), "{detail}");
    post(
        &app,
        &page,
        &format!("{page}/ask"),
        &[("message", "Уточните номер квартиры")],
    )
    .await;
    // Deciding now is not possible: it waits for the applicant.
    post(
        &app,
        &page,
        &format!("{page}/complete"),
        &[("message", "Готово")],
    )
    .await;
    let (_, detail) = app.get_text(&page).await;
    assert!(detail.contains("Требуется уточнение"), "{detail}");
    assert!(detail.contains("Это действие невозможно"), "{detail}");
    app.sign_out().await;

    app.password_step(citizen_phone).await;
    let own = format!("/applications/{id}");
    let (_, mine) = app.get_text(&own).await;
    assert!(
        mine.contains("Ведомство просит уточнить сведения")
            && mine.contains("Уточните номер квартиры"),
        "{mine}"
    );
    post(
        &app,
        &own,
        &format!("{own}/answer"),
        &[("message", "Квартира 12")],
    )
    .await;
    let (_, mine) = app.get_text(&own).await;
    assert!(
        mine.contains("Исправлено заявителем") && mine.contains("Квартира 12"),
        "{mine}"
    );
    app.sign_out().await;

    app.sign_in_with_totp(&officer.person.phone, &officer.totp_secret)
        .await;
    post(&app, &page, &format!("{page}/take"), &[]).await;
    // A refusal must name a reason from the service's list.
    post(
        &app,
        &page,
        &format!("{page}/refuse"),
        &[("reason", "Просто так")],
    )
    .await;
    let (_, detail) = app.get_text(&page).await;
    assert!(
        detail.contains("Выберите причину отказа из списка"),
        "{detail}"
    );
    post(
        &app,
        &page,
        &format!("{page}/complete"),
        &[("message", "Выписка направлена на электронную почту")],
    )
    .await;
    app.sign_out().await;

    app.password_step(citizen_phone).await;
    let (_, mine) = app.get_text(&own).await;
    assert!(
        mine.contains("Услуга оказана") && mine.contains("Выписка направлена"),
        "{mine}"
    );
    assert!(!mine.contains("Отменить заявление"));
    let (_, inbox) = app.get_text("/notifications").await;
    assert!(
        inbox.contains("МСК") && !inbox.contains("UTC"),
        "times in Moscow time, the zone named: {inbox}"
    );
    assert!(
        inbox.contains("Требуется уточнение") && inbox.contains("Услуга оказана"),
        "{inbox}"
    );
}

#[tokio::test]
async fn a_conditional_field_is_asked_only_when_its_condition_holds_and_cancelling_works() {
    let app = TestApp::spawn().await;
    app.standard_citizen("+79120000907").await;
    let id = apply(&app, "doctor-appointment").await;
    let r = step(
        &app,
        &id,
        0,
        &[
            ("oms_number", "1234567890123456"),
            ("phone", "+79120000907"),
        ],
    )
    .await;
    assert_eq!(TestApp::location(&r), format!("/applications/{id}/step/1"));
    let visit = [("specialty", "Терапевт"), ("visit_date", "15.12.2026")];
    // The child's name is required only for a child.
    let mut with_child = visit.to_vec();
    with_child.push(("for_child", "да"));
    let r = step(&app, &id, 1, &with_child).await;
    assert_refused(r, "Заполните поле «ФИО ребёнка»").await;
    let mut without = visit.to_vec();
    without.push(("child_name", "Не нужно"));
    let r = step(&app, &id, 1, &without).await;
    assert_eq!(TestApp::location(&r), format!("/applications/{id}/review"));
    let (_, review) = app.get_text(&format!("/applications/{id}/review")).await;
    assert!(
        !review.contains("Не нужно"),
        "a hidden field is not kept: {review}"
    );
    post(
        &app,
        &format!("/applications/{id}/review"),
        &format!("/applications/{id}/send"),
        &[],
    )
    .await;
    post(
        &app,
        &format!("/applications/{id}"),
        &format!("/applications/{id}/cancel"),
        &[],
    )
    .await;
    let (_, page) = app.get_text(&format!("/applications/{id}")).await;
    assert!(page.contains("Отменено заявителем"), "{page}");
    // A draft can be deleted; a sent one cannot.
    let draft = apply(&app, "doctor-appointment").await;
    post(
        &app,
        "/applications",
        &format!("/applications/{draft}/delete"),
        &[],
    )
    .await;
    assert_eq!(
        app.get(&format!("/applications/{draft}")).await.status(),
        404
    );
    let r = post(
        &app,
        "/applications",
        &format!("/applications/{id}/delete"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(rows(&app, "applications").await, 1);
}
