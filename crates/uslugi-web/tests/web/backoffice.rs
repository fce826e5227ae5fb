//! Staff roles: a citizen gets a Russian 403 on every staff page; a role granted (which ends the
//! account's sessions) opens its own page only, and only once the account has a second factor.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_core::identity::roles::{self, Grant};
use uslugi_domain::Role;
use uslugi_testkit::TestApp;

const PAGES: [&str; 4] = ["/staff", "/staff/office", "/staff/agency", "/staff/admin"];

#[tokio::test]
async fn a_citizen_is_refused_every_staff_page_in_russian() {
    let app = TestApp::spawn().await;
    for page in PAGES {
        assert_eq!(TestApp::location(&app.get(page).await), "/login", "{page}");
    }
    app.register_by_phone("Смирнова", "Анна", "+79120001901")
        .await;
    for page in PAGES {
        let (status, html) = app.get_text(page).await;
        assert_eq!(status, 403, "{page}");
        assert!(html.contains("Нет доступа"), "{page}: {html}");
    }
    let (_, html) = app.get_text("/staff/agency").await;
    assert!(html.contains("«Сотрудник ведомства»"), "{html}");
}

#[tokio::test]
async fn an_operator_sets_up_a_second_factor_first_and_sees_only_their_page() {
    let app = TestApp::spawn().await;
    let phone = "+79120001902";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let account = app.account_of(phone).await;
    let grant = Grant::new(Role::Operator, Some("mfc-77-001"), None).unwrap();
    assert!(
        roles::grant(app.db(), account, &grant, "test")
            .await
            .unwrap()
    );
    assert!(
        !roles::grant(app.db(), account, &grant, "test")
            .await
            .unwrap(),
        "granted twice"
    );
    // A privilege change: the session ended.
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
    assert_eq!(
        TestApp::location(&app.password_step(phone).await),
        "/cabinet"
    );
    // Without a second factor, everything leads to setting one up.
    for page in ["/cabinet", "/profile/personal", "/staff/office"] {
        assert_eq!(
            TestApp::location(&app.get(page).await),
            "/security/factors",
            "{page}"
        );
    }
    app.enable_totp().await;
    let (status, html) = app.get_text("/staff/office").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Оператор центра обслуживания: mfc-77-001"),
        "{html}"
    );
    assert_eq!(app.get("/staff").await.status(), 200);
    assert_eq!(app.get("/staff/agency").await.status(), 403);
    assert_eq!(app.get("/staff/admin").await.status(), 403);
    assert_eq!(app.get("/cabinet").await.status(), 200);
}

async fn second_step(app: &TestApp, method: &str, code: &str) -> String {
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[("method", method), ("code", code)],
        )
        .await;
    TestApp::location(&r)
}

#[tokio::test]
async fn an_officer_and_an_administrator_reach_their_pages_only() {
    let app = TestApp::spawn().await;
    let phone = "+79120001903";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let (secret, codes) = app.enable_totp().await;
    let account = app.account_of(phone).await;
    let officer = Grant::new(Role::Officer, None, Some("mvd")).unwrap();
    roles::grant(app.db(), account, &officer, "test")
        .await
        .unwrap();
    assert_eq!(
        TestApp::location(&app.password_step(phone).await),
        "/login/factor"
    );
    let code = uslugi_testkit::oathtool(&secret, uslugi_testkit::now_secs() + 30);
    assert_eq!(second_step(&app, "totp", &code).await, "/cabinet");
    let (status, html) = app.get_text("/staff/agency").await;
    assert_eq!(status, 200);
    // The console of the agency the role is bound to.
    assert!(html.contains("Заявления: МВД России"), "{html}");
    assert_eq!(app.get("/staff/office").await.status(), 403);
    assert_eq!(app.get("/staff/admin").await.status(), 403);

    // Administrator as well; the officer role revoked.
    roles::grant(
        app.db(),
        account,
        &Grant::new(Role::Admin, None, None).unwrap(),
        "test",
    )
    .await
    .unwrap();
    roles::revoke(app.db(), account, &officer, "test")
        .await
        .unwrap();
    app.password_step(phone).await;
    assert_eq!(second_step(&app, "backup", &codes[0]).await, "/cabinet");
    assert_eq!(app.get("/staff/admin").await.status(), 200);
    assert_eq!(app.get("/staff/agency").await.status(), 403);
    // A scope that does not fit the role is refused.
    assert!(Grant::new(Role::Admin, Some("mfc-1"), None).is_err());
    assert!(Grant::new(Role::Operator, None, None).is_err());
    assert!(Grant::new(Role::Officer, None, Some("bad scope")).is_err());
}

#[tokio::test]
async fn a_staff_member_built_for_a_test_reaches_their_page() {
    let app = TestApp::spawn().await;
    let admin = app.staff_member("+79120001904", Role::Admin, None).await;
    assert_eq!(app.get("/staff/admin").await.status(), 200);
    assert_eq!(app.get("/staff/office").await.status(), 403);
    assert_eq!(
        roles::of_account(app.db(), admin.person.account_id)
            .await
            .unwrap(),
        [Grant::new(Role::Admin, None, None).unwrap()]
    );
    // A standard account is built as its sentence says.
    let other = TestApp::spawn().await;
    let person = other.standard_citizen("+79120001905").await;
    let (_, page) = other.get_text("/profile/personal").await;
    assert!(page.contains("Данные проверены"), "{page}");
    assert!(person.data.is_some());
}
