//! Deactivating (undone by signing in within the grace period) and deleting an account,
//! temporary passwords that must be changed, and the paged login history.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uslugi_store::entities::{account_contacts, account_journal, accounts, login_attempts};
use uslugi_testkit::{STRONG_PASSWORD, TestApp};

async fn deactivate(app: &TestApp) -> reqwest::Response {
    app.submit_as(
        &app.client,
        "/security/deactivate",
        "/security/deactivate",
        &[("password", STRONG_PASSWORD), ("confirm", "yes")],
    )
    .await
}

async fn sign_in(app: &TestApp, login: &str) -> reqwest::Response {
    app.submit_as(
        &app.client,
        "/login",
        "/login",
        &[("login", login), ("password", STRONG_PASSWORD)],
    )
    .await
}

async fn account_of(app: &TestApp) -> accounts::Model {
    accounts::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn deactivation_needs_the_password_and_the_checkbox_and_is_undone_by_signing_in() {
    let app = TestApp::spawn().await;
    let phone = "+79120000901";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let r = app
        .submit_as(
            &app.client,
            "/security/deactivate",
            "/security/deactivate",
            &[("password", STRONG_PASSWORD)],
        )
        .await;
    assert!(r.text().await.unwrap().contains("Отметьте, что понимаете"));
    let r = app
        .submit_as(
            &app.client,
            "/security/deactivate",
            "/security/deactivate",
            &[("password", "Неверный#Пароль1"), ("confirm", "yes")],
        )
        .await;
    assert!(r.text().await.unwrap().contains("Неверный пароль"));
    assert_eq!(account_of(&app).await.status, "active");

    let r = deactivate(&app).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Учётная запись отключена"));
    assert_eq!(account_of(&app).await.status, "deactivated");
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
    app.drain_worker().await;
    assert!(
        app.last_message_to(phone).await["body"]
            .as_str()
            .unwrap()
            .contains("учётная запись отключена")
    );

    let r = sign_in(&app, phone).await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    assert_eq!(account_of(&app).await.status, "active");
    assert!(
        app.get_text("/security")
            .await
            .1
            .contains("отключение отменено")
    );
    // The deletion job then finds nothing to do.
    app.drain_worker().await;
    assert_eq!(account_of(&app).await.status, "active");
}

#[tokio::test]
async fn after_the_grace_period_the_account_is_deleted_and_the_journal_kept() {
    let app = TestApp::spawn_with(|c| c.auth.deactivation_grace_days = 0).await;
    let phone = "+79120000902";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let id = account_of(&app).await.id;
    assert_eq!(deactivate(&app).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.drain_worker().await;
    let row = account_of(&app).await;
    assert_eq!(row.status, "deleted");
    assert!(row.name.is_empty() && row.password_hash.is_empty());
    assert_eq!(
        account_contacts::Entity::find()
            .filter(account_contacts::Column::AccountId.eq(id))
            .count(app.db())
            .await
            .unwrap(),
        0
    );
    let journal: Vec<String> = account_journal::Entity::find()
        .filter(account_journal::Column::AccountId.eq(id))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.event)
        .collect();
    assert!(
        journal.contains(&"account.deactivated".to_owned()),
        "{journal:?}"
    );
    assert!(
        journal.contains(&"account.deleted".to_owned()),
        "{journal:?}"
    );
    assert!(
        login_attempts::Entity::find()
            .filter(login_attempts::Column::AccountId.eq(id))
            .all(app.db())
            .await
            .unwrap()
            .iter()
            .all(|a| a.client_info.is_none())
    );
    // The login is free again and signs nobody in.
    let page = sign_in(&app, phone).await.text().await.unwrap();
    assert!(page.contains("Неверный логин или пароль"));
}

#[tokio::test]
async fn a_temporary_password_must_be_changed_at_first_sign_in() {
    let app = TestApp::spawn().await;
    let phone = "+79120000903";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let id = account_of(&app).await.id;
    let ctx = uslugi_core::Ctx {
        db: &app.state.db,
        keys: &app.state.keys,
        config: &app.state.config,
        passwords: &app.state.passwords,
    };
    let temporary = uslugi_core::identity::security::issue_temporary_password(ctx, id)
        .await
        .unwrap();
    assert_eq!(temporary.len(), 14, "{temporary}");
    assert_eq!(
        TestApp::location(&app.get("/cabinet").await),
        "/login",
        "sessions ended"
    );
    let r = app
        .submit_as(
            &app.client,
            "/login",
            "/login",
            &[("login", phone), ("password", &temporary)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/security/password");
    assert_eq!(
        TestApp::location(&app.get("/cabinet").await),
        "/security/password"
    );
    assert!(
        app.get_text("/security/password")
            .await
            .1
            .contains("временным паролем")
    );
    let r = app
        .submit_as(
            &app.client,
            "/security/password",
            "/security/password",
            &[
                ("current_password", &temporary),
                ("password", "Синий-Самовар#77"),
                ("password_confirmation", "Синий-Самовар#77"),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/security");
    assert_eq!(app.get("/cabinet").await.status(), 200);
    assert!(!account_of(&app).await.password_temporary);
}

#[tokio::test]
async fn the_login_history_is_paged_with_method_device_and_address() {
    let app = TestApp::spawn_with(|c| {
        c.auth.login_failures_per_login = 1000;
        c.auth.login_failures_per_client = 1000;
        c.auth.login_delay_cap_secs = 0;
        c.auth.captcha_after_failures = 1000;
    })
    .await;
    let phone = "+79120000904";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let other = uslugi_testkit::browser(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/140.0",
    );
    for _ in 0..24 {
        app.submit_as(
            &other,
            "/login",
            "/login",
            &[("login", phone), ("password", "Неверный#Пароль1")],
        )
        .await;
    }
    app.submit_as(&app.client, "/cabinet", "/logout", &[]).await;
    assert_eq!(TestApp::location(&sign_in(&app, phone).await), "/cabinet");
    let (_, first) = app.get_text("/security").await;
    assert!(
        first.contains("Страница 1 из 2"),
        "25 attempts, 20 per page"
    );
    assert!(first.contains("Firefox, Windows"));
    assert!(first.contains("127.0.0.1"));
    assert_eq!(first.matches("<td>Неверный пароль</td>").count(), 19);
    assert_eq!(first.matches("<td>Вход выполнен</td>").count(), 1);
    let (_, second) = app.get_text("/security?page=2").await;
    assert!(second.contains("Страница 2 из 2"));
    assert_eq!(second.matches("<td>Неверный пароль</td>").count(), 5);
    // Nonsense page numbers read as the first page.
    let (status, page) = app.get_text("/security?page=abc").await;
    assert_eq!(status, 200);
    assert!(page.contains("Страница 1 из 2"));
}
