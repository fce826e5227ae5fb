//! «Войти через банк» with a real OpenID Connect provider as the bank: a second portal instance
//! (its own OIDC provider, verified phone in userinfo). A first sign-in creates a simplified
//! account or links to the account with the same confirmed phone; later sign-ins find the link;
//! the link shows in the cabinet and can be removed; a wrong state or a cancellation is refused.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use sea_orm::ConnectionTrait;
use uslugi_core::{
    kernel::config::BankConfig,
    sso::oidc::clients::{self, ClientSpec},
};
use uslugi_testkit::{TestApp, hidden_value};

struct Pair {
    portal: TestApp,
    bank: TestApp,
}

async fn pair() -> Pair {
    let bank = TestApp::spawn().await;
    let registered = clients::register(
        bank.db(),
        &bank.state.keys,
        ClientSpec {
            name: "Госуслуги региона".into(),
            redirect_uris: vec!["http://127.0.0.1/placeholder".into()],
            scopes: ["openid", "profile", "phone", "snils"]
                .map(String::from)
                .to_vec(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let issuer = bank.state.config.public_url.clone();
    let (id, secret) = (
        registered.client_id.clone(),
        registered.client_secret.clone().unwrap(),
    );
    let portal = TestApp::spawn_with(move |c| {
        c.banks = vec![BankConfig {
            id: "testbank".into(),
            name: "Тестовый банк".into(),
            issuer,
            client_id: id,
            client_secret: secret.into(),
            scopes: "openid profile phone".into(),
        }];
    })
    .await;
    let callback = format!(
        "{}/login/bank/testbank/callback",
        portal.state.config.public_url
    );
    bank.db()
        .execute_unprepared(&format!(
            "UPDATE oauth_clients SET redirect_uris = '[\"{callback}\"]' WHERE client_id = '{}'",
            registered.client_id
        ))
        .await
        .unwrap();
    Pair { portal, bank }
}

async fn account_count(app: &TestApp) -> usize {
    app.db()
        .query_all_raw(sea_orm::Statement::from_string(
            app.db().get_database_backend(),
            "SELECT id FROM accounts",
        ))
        .await
        .unwrap()
        .len()
}

fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

/// «Войти через банк» → the bank (consenting if asked) → back at the portal; returns the
/// portal's answer to the callback.
async fn through_bank(p: &Pair) -> reqwest::Response {
    let r = p.portal.get("/login/bank/testbank").await;
    assert_eq!(r.status(), 303);
    let to_bank = TestApp::location(&r);
    assert!(
        to_bank.starts_with(&p.bank.state.config.public_url),
        "{to_bank}"
    );
    let r = p.bank.get(&path_of(&to_bank)).await;
    let back = if r.status() == 303 {
        TestApp::location(&r)
    } else {
        let page = r.text().await.unwrap();
        assert!(page.contains("Госуслуги региона"), "{page}");
        let token = hidden_value(&page, "csrf_token").unwrap();
        let request = hidden_value(&page, "request").unwrap();
        let page = p
            .bank
            .post_form(
                "/oauth2/authorize/consent",
                &[
                    ("csrf_token", &token),
                    ("decision", "allow"),
                    ("request", &request),
                ],
            )
            .await
            .text()
            .await
            .unwrap();
        let start = page.find("url=").unwrap() + 4;
        page[start..start + page[start..].find('"').unwrap()]
            .replace("&amp;", "&")
            .replace("&#38;", "&")
            .replace("&#61;", "=")
    };
    assert!(back.contains("/login/bank/testbank/callback?"), "{back}");
    p.portal.get(&path_of(&back)).await
}

#[tokio::test]
async fn a_first_bank_sign_in_creates_an_account_and_later_ones_find_it() {
    let p = pair().await;
    p.bank
        .register_by_phone("Волкова", "Дарья", "+79120001401")
        .await;

    let r = through_bank(&p).await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    let (_, cabinet) = p.portal.get_text("/cabinet").await;
    assert!(
        cabinet.contains("Волкова") && cabinet.contains("Создана упрощённая учётная запись"),
        "{cabinet}"
    );
    let (_, contacts) = p.portal.get_text("/profile/contacts").await;
    assert!(
        contacts.contains("<dd>+7 912 000-14-01</dd>"),
        "the bank's verified phone: {contacts}"
    );
    let (_, links) = p.portal.get_text("/security/banks").await;
    assert!(links.contains("<td>Тестовый банк</td>"), "{links}");
    let (_, history) = p.portal.get_text("/security").await;
    assert!(history.contains("Через банк"), "{history}");

    // Again, from a signed-out portal session: the link is known, no second account.
    p.portal.sign_out().await;
    let r = through_bank(&p).await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    let (_, cabinet) = p.portal.get_text("/cabinet").await;
    assert!(!cabinet.contains("Создана упрощённая"), "{cabinet}");
    let accounts = account_count(&p.portal).await;
    assert_eq!(accounts, 1);

    // Unlinking: the cabinet shows none; the form twice acts once.
    let (_, links) = p.portal.get_text("/security/banks").await;
    let csrf = hidden_value(&links, "csrf_token").unwrap();
    let id = hidden_value(&links, "id").unwrap();
    for _ in 0..2 {
        let r = p
            .portal
            .post_form(
                "/security/banks/unlink",
                &[("csrf_token", &csrf), ("id", &id)],
            )
            .await;
        assert_eq!(TestApp::location(&r), "/security/banks");
    }
    let (_, links) = p.portal.get_text("/security/banks").await;
    assert!(
        links.contains("Банк отвязан") && links.contains("не привязан"),
        "{links}"
    );
}

#[tokio::test]
async fn a_matching_account_is_linked_only_after_its_owner_signs_in() {
    let p = pair().await;
    p.portal
        .register_by_phone("Орлов", "Пётр", "+79120001402")
        .await;
    p.portal.sign_out().await;
    p.bank
        .register_by_phone("Орлов", "Пётр", "+79120001402")
        .await;

    // The same verified phone does not open the account: its owner signs in first.
    let r = through_bank(&p).await;
    assert_eq!(TestApp::location(&r), "/login");
    let (_, page) = p.portal.get_text("/login").await;
    assert!(
        page.contains("У вас уже есть учётная запись с тем же подтверждённым номером телефона"),
        "{page}"
    );
    assert_eq!(TestApp::location(&p.portal.get("/cabinet").await), "/login");
    let r = p.portal.password_step("+79120001402").await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    let (_, cabinet) = p.portal.get_text("/cabinet").await;
    assert!(
        cabinet.contains("Вход через банк привязан к вашей учётной записи"),
        "{cabinet}"
    );
    assert_eq!(
        account_count(&p.portal).await,
        1,
        "linked, not a second account"
    );

    // With a second factor on the account, a bank sign-in still asks for it, and it does not
    // count as a recent password for security changes.
    p.portal.enable_totp().await;
    p.portal.sign_out().await;
    let r = through_bank(&p).await;
    assert_eq!(TestApp::location(&r), "/login/factor");
    assert_eq!(TestApp::location(&p.portal.get("/cabinet").await), "/login");
}

#[tokio::test]
async fn a_bank_sign_in_is_no_recent_password() {
    let p = pair().await;
    p.bank
        .register_by_phone("Лебедева", "Ирина", "+79120001404")
        .await;
    assert_eq!(TestApp::location(&through_bank(&p).await), "/cabinet");
    let r = p.portal.get("/security/factors/totp").await;
    assert!(
        TestApp::location(&r).starts_with("/security/confirm"),
        "factor changes ask for the password first"
    );
}

#[tokio::test]
async fn a_wrong_state_or_a_cancellation_is_refused() {
    let p = pair().await;
    p.bank
        .register_by_phone("Зайцева", "Нина", "+79120001403")
        .await;
    p.portal.get("/login/bank/testbank").await;
    let (status, page) = p
        .portal
        .get_text("/login/bank/testbank/callback?code=x&state=forged")
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("Ответ банка не прошёл проверку"), "{page}");
    // The pending sign-in is used up: even the right state would not work now.
    let (status, page) = p
        .portal
        .get_text("/login/bank/testbank/callback?error=access_denied&state=x")
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("отменён"), "{page}");
    assert_eq!(TestApp::location(&p.portal.get("/cabinet").await), "/login");
    assert_eq!(p.portal.get("/login/bank/nobank").await.status(), 404);
}
