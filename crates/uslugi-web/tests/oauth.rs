//! The authorization-code flow end to end: a service sends the person to `/oauth2/authorize`,
//! the person signs in and consents, the service exchanges the code (PKCE, client secret) for
//! tokens, verifies the ID token with the published keys and reads `/oauth2/userinfo`; every
//! misuse gets its RFC error.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use sha2::{Digest, Sha256};
use uslugi_core::oidc::clients::{self, ClientSpec, Registered};
use uslugi_domain::AccountLevel;
use uslugi_testkit::{TestApp, browser, hidden_value};

const CB: &str = "https://service.example.ru/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9qgZZhwjtTW1tZmvFWsIxVQfSb8";

fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

async fn client(app: &TestApp, public: bool, min_level: AccountLevel) -> Registered {
    clients::register(
        app.db(),
        &app.state.keys,
        ClientSpec {
            name: "Электронный дневник".into(),
            redirect_uris: vec![CB.into()],
            min_level,
            scopes: ["openid", "fullname", "phone", "snils"]
                .map(String::from)
                .to_vec(),
            public,
            pairwise: false,
        },
    )
    .await
    .unwrap()
}

fn authorize_url(c: &Registered, extra: &str) -> String {
    format!(
        "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20fullname%20phone&state=st-1&nonce=n-1&code_challenge={}&code_challenge_method=S256{extra}",
        c.client_id,
        urlencode(CB),
        challenge()
    )
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Consents on the page and returns the URL the person is sent back with.
async fn consent(app: &TestApp, decision: &str) -> String {
    let (_, page) = app.get_text("/oauth2/authorize/continue").await;
    assert!(
        page.contains("Сервис «Электронный дневник» просит доступ"),
        "{page}"
    );
    let token = hidden_value(&page, "csrf_token").unwrap();
    let r = app
        .post_form(
            "/oauth2/authorize/consent",
            &[("csrf_token", &token), ("decision", decision)],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let start = page.find("url=").unwrap() + 4;
    let url = &page[start..start + page[start..].find('"').unwrap()];
    url.replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&#61;", "=")
}

async fn exchange(app: &TestApp, c: &Registered, code: &str, verifier: &str) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
        ("code_verifier", verifier),
    ];
    let service = reqwest::Client::new();
    let mut req = service.post(app.url("/oauth2/token"));
    match &c.client_secret {
        Some(secret) => req = req.basic_auth(&c.client_id, Some(secret)),
        None => form.push(("client_id", &c.client_id)),
    }
    req.form(&form).send().await.unwrap()
}

#[tokio::test]
async fn a_service_signs_a_person_in_and_reads_the_consented_data() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001201")
        .await;

    let r = app.get(&authorize_url(&c, "")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("<li>ФИО</li>") && page.contains("<li>Номер мобильного телефона</li>"),
        "{page}"
    );
    assert!(!page.contains("СНИЛС"), "only the asked data are listed");
    let back = consent(&app, "allow").await;
    assert!(back.starts_with(CB) && back.contains("state"), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-1"));
    let code = query_param(&back, "code").unwrap();

    let r = exchange(&app, &c, &code, VERIFIER).await;
    assert_eq!(r.headers()["cache-control"], "no-store");
    let status = r.status();
    let tokens: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let id_token = tokens["id_token"].as_str().unwrap();
    let jwks: JwkSet = app.get("/oauth2/jwks").await.json().await.unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let key = DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut v = Validation::new(header.alg);
    v.set_audience(&[&c.client_id]);
    v.set_issuer(&[app.state.config.public_url.trim_end_matches('/')]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(id_token, &key, &v)
        .unwrap()
        .claims;
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["level"], "simplified");

    let access = tokens["access_token"].as_str().unwrap();
    let info: serde_json::Value = reqwest::Client::new()
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["family_name"], "Смирнова");
    assert_eq!(info["phone_number"], "+79120001201");
    assert!(info.get("snils").is_none(), "not consented");

    // The code again: refused, and the tokens issued from it are revoked.
    let r = exchange(&app, &c, &code, VERIFIER).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    let r = reqwest::Client::new()
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The consent is remembered: the next request goes straight back with a code.
    let r = app.get(&authorize_url(&c, "")).await;
    assert_eq!(r.status(), 303);
    let back = TestApp::location(&r);
    assert!(
        back.starts_with(CB) && query_param(&back, "code").is_some(),
        "{back}"
    );
}

#[tokio::test]
async fn misuse_gets_the_rfc_errors() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    let public = client(&app, true, AccountLevel::Simplified).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001202")
        .await;

    // Unknown client or a redirect URI not registered: a page, never a redirect.
    for url in [
        "/oauth2/authorize?response_type=code&client_id=nobody&scope=openid".to_owned(),
        authorize_url(&c, "").replace(&urlencode(CB), &urlencode("https://evil.example/cb")),
        authorize_url(&c, "").replace(&urlencode(CB), &urlencode(&format!("{CB}/x"))),
    ] {
        let r = app.get(&url).await;
        assert_eq!(r.status(), 400, "{url}");
        assert!(r.text().await.unwrap().contains("не зарегистрирован"));
    }
    // Errors the service should hear about go back to it with the state.
    let no_openid = authorize_url(&c, "").replace("scope=openid%20", "scope=");
    let back = TestApp::location(&app.get(&no_openid).await);
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("invalid_scope")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-1"));
    let back = TestApp::location(
        &app.get(&authorize_url(&c, "").replace("response_type=code", "response_type=token"))
            .await,
    );
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("unsupported_response_type")
    );
    let no_pkce = authorize_url(&public, "").replace(
        &format!("&code_challenge={}&code_challenge_method=S256", challenge()),
        "",
    );
    let back = TestApp::location(&app.get(&no_pkce).await);
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("invalid_request"),
        "{back}"
    );

    // Refusing consent.
    app.get(&authorize_url(&c, "")).await;
    let back = consent(&app, "deny").await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );

    // A good code, then the token endpoint's checks.
    app.get(&authorize_url(&c, "")).await;
    let code = query_param(&consent(&app, "allow").await, "code").unwrap();
    let wrong_secret = Registered {
        client_secret: Some("wrong".into()),
        ..c.clone()
    };
    let r = exchange(&app, &wrong_secret, &code, VERIFIER).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let r = exchange(
        &app,
        &c,
        &code,
        "another-verifier-another-verifier-another-verifier",
    )
    .await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    let r = reqwest::Client::new()
        .post(app.url("/oauth2/token"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    // An expired code.
    let r = app.get(&authorize_url(&c, "")).await;
    let code = query_param(&TestApp::location(&r), "code").unwrap();
    use sea_orm::ConnectionTrait;
    app.db()
        .execute_unprepared("UPDATE oauth_codes SET expires_at = 1 WHERE used_at IS NULL")
        .await
        .unwrap();
    let r = exchange(&app, &c, &code, VERIFIER).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // The public client with PKCE works without a secret.
    let r = app.get(&authorize_url(&public, "")).await;
    assert_eq!(r.status(), 200, "consent for the second service");
    let code = query_param(&consent(&app, "allow").await, "code").unwrap();
    assert_eq!(exchange(&app, &public, &code, VERIFIER).await.status(), 200);
}

#[tokio::test]
async fn a_signed_out_person_signs_in_first_and_a_low_level_is_explained() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    let strict = client(&app, false, AccountLevel::Standard).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001203")
        .await;
    app.sign_out().await;
    let r = app.get(&authorize_url(&c, "")).await;
    assert_eq!(TestApp::location(&r), "/login");
    let r = app.password_step("+79120001203").await;
    assert_eq!(TestApp::location(&r), "/oauth2/authorize/continue");
    let back = consent(&app, "allow").await;
    assert!(query_param(&back, "code").is_some());

    let r = app.get(&authorize_url(&strict, "")).await;
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Нужна учётная запись другого уровня") && page.contains("«Стандартная»"),
        "{page}"
    );
    // Another browser with no session gets nothing from the continue page.
    let r = browser("x")
        .get(app.url("/oauth2/authorize/continue"))
        .send()
        .await
        .unwrap();
    assert_eq!(TestApp::location(&r), "/cabinet");
}

async fn userinfo_status(app: &TestApp, token: &str) -> u16 {
    reqwest::Client::new()
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn refresh_with(
    app: &TestApp,
    c: &Registered,
    token: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    reqwest::Client::new()
        .post(app.url("/oauth2/token"))
        .basic_auth(&c.client_id, c.client_secret.as_deref())
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001204")
        .await;
    app.get(&authorize_url(&c, "")).await;
    let code = query_param(&consent(&app, "allow").await, "code").unwrap();
    let first: serde_json::Value = exchange(&app, &c, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let r1 = first["refresh_token"].as_str().unwrap();

    let r = refresh_with(&app, &c, r1, Some("openid fullname")).await;
    assert_eq!(r.status(), 200);
    let second: serde_json::Value = r.json().await.unwrap();
    assert_eq!(second["scope"], "openid fullname", "narrowed");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "rotated");
    assert_eq!(
        userinfo_status(&app, second["access_token"].as_str().unwrap()).await,
        200
    );
    // A wider scope than granted is refused.
    let r = refresh_with(&app, &c, r2, Some("openid snils")).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );
    // The first refresh token again: reuse, so everything of the family goes.
    let r = refresh_with(&app, &c, r1, None).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(
        userinfo_status(&app, second["access_token"].as_str().unwrap()).await,
        401
    );
    let r = refresh_with(&app, &c, r2, None).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // Another client cannot use it.
    let other = client(&app, false, AccountLevel::Simplified).await;
    let r = refresh_with(&app, &other, r2, None).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}
