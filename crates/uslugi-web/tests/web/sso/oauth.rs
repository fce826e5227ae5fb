//! The authorization-code flow end to end: a service sends the person to `/oauth2/authorize`,
//! the person signs in and consents, the service exchanges the code (PKCE, client secret) for
//! tokens, verifies the ID token with the published keys and reads `/oauth2/userinfo`; every
//! misuse gets its RFC error.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use sha2::{Digest, Sha256};
use uslugi_core::sso::oidc::clients::{self, ClientSpec, Registered};
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
            ..Default::default()
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
    let request = hidden_value(&page, "request").unwrap();
    let r = app
        .post_form(
            "/oauth2/authorize/consent",
            &[
                ("csrf_token", &token),
                ("decision", decision),
                ("request", &request),
            ],
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
    // A wider scope than granted is refused, and the token is not used up by it.
    let r = refresh_with(&app, &c, r2, Some("openid snils")).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    let introspected: serde_json::Value = reqwest::Client::new()
        .post(app.url("/oauth2/introspect"))
        .basic_auth(&c.client_id, c.client_secret.as_deref())
        .form(&[("token", r2)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["token_type"], "refresh_token");
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

/// Signs in through the service (consenting if asked) and returns the token response.
async fn tokens_for(app: &TestApp, c: &Registered) -> serde_json::Value {
    let r = app.get(&authorize_url(c, "")).await;
    let back = if r.status() == 303 {
        TestApp::location(&r)
    } else {
        consent(app, "allow").await
    };
    let code = query_param(&back, "code").unwrap();
    let r = exchange(app, c, &code, VERIFIER).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn server_call(
    app: &TestApp,
    path: &str,
    c: &Registered,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(app.url(path))
        .basic_auth(&c.client_id, c.client_secret.as_deref())
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

async fn register(app: &TestApp, spec: ClientSpec) -> Registered {
    clients::register(
        app.db(),
        &app.state.keys,
        ClientSpec {
            name: "Электронный дневник".into(),
            redirect_uris: vec![CB.into()],
            scopes: ["openid", "fullname", "phone", "snils"]
                .map(String::from)
                .to_vec(),
            ..spec
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn revocation_and_introspection_cover_only_the_clients_own_tokens() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    let other = client(&app, false, AccountLevel::Simplified).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001205")
        .await;
    let t = tokens_for(&app, &c).await;
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();

    let (status, info) = server_call(&app, "/oauth2/introspect", &c, &[("token", access)]).await;
    assert_eq!(status, 200);
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], c.client_id.as_str());
    assert_eq!(info["scope"], "openid fullname phone");
    assert!(info["sub"].is_string() && info["exp"].is_i64(), "{info}");
    // Another client learns nothing about it and cannot revoke it.
    let (_, info) = server_call(&app, "/oauth2/introspect", &other, &[("token", access)]).await;
    assert_eq!(info, serde_json::json!({ "active": false }));
    let (status, _) = server_call(&app, "/oauth2/revoke", &other, &[("token", access)]).await;
    assert_eq!(status, 200, "RFC 7009: the same answer for foreign tokens");
    assert_eq!(userinfo_status(&app, access).await, 200);
    // Bad credentials are refused.
    let wrong = Registered {
        client_secret: Some("wrong".into()),
        ..c.clone()
    };
    let (status, err) = server_call(&app, "/oauth2/introspect", &wrong, &[("token", access)]).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, err) = server_call(&app, "/oauth2/revoke", &c, &[]).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_request"))
    );

    // The client revokes its access token.
    let (status, _) = server_call(&app, "/oauth2/revoke", &c, &[("token", access)]).await;
    assert_eq!(status, 200);
    assert_eq!(userinfo_status(&app, access).await, 401);
    let (_, info) = server_call(&app, "/oauth2/introspect", &c, &[("token", access)]).await;
    assert_eq!(info["active"], false);
    // Revoking the refresh token ends the whole grant.
    let t2 = refresh_with(&app, &c, refresh, None).await;
    let t2: serde_json::Value = t2.json().await.unwrap();
    let (access2, refresh2) = (
        t2["access_token"].as_str().unwrap(),
        t2["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(userinfo_status(&app, access2).await, 200);
    server_call(
        &app,
        "/oauth2/revoke",
        &c,
        &[("token", refresh2), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(userinfo_status(&app, access2).await, 401);
    let r = refresh_with(&app, &c, refresh2, None).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn client_credentials_give_a_service_a_token_of_its_own() {
    let app = TestApp::spawn().await;
    let service = register(
        &app,
        ClientSpec {
            client_credentials: true,
            ..Default::default()
        },
    )
    .await;
    assert!(service.grant_types.contains(&"client_credentials"));
    let plain = client(&app, false, AccountLevel::Simplified).await;

    let (status, t) = server_call(
        &app,
        "/oauth2/token",
        &service,
        &[("grant_type", "client_credentials"), ("scope", "snils")],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["scope"], "snils");
    assert!(t.get("refresh_token").is_none() && t.get("id_token").is_none());
    let access = t["access_token"].as_str().unwrap();
    let (_, info) = server_call(&app, "/oauth2/introspect", &service, &[("token", access)]).await;
    assert_eq!(info["active"], true);
    assert!(info.get("sub").is_none(), "no person: {info}");
    assert_eq!(
        userinfo_status(&app, access).await,
        401,
        "no person to describe"
    );

    let (_, err) = server_call(
        &app,
        "/oauth2/token",
        &service,
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await;
    assert_eq!(err["error"], "invalid_scope");
    let (_, err) = server_call(
        &app,
        "/oauth2/token",
        &plain,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(err["error"], "unauthorized_client");
}

fn es256_key() -> (jsonwebtoken::EncodingKey, serde_json::Value) {
    use aws_lc_rs::{
        rand::SystemRandom,
        signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair},
    };
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref());
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("service-key-1".into());
    (key, serde_json::json!({ "keys": [jwk] }))
}

fn assertion(
    key: &jsonwebtoken::EncodingKey,
    client_id: &str,
    aud: &str,
    exp_in: i64,
    jti: &str,
) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("service-key-1".into());
    let now = uslugi_testkit::now_secs();
    jsonwebtoken::encode(
        &header,
        &serde_json::json!({ "iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + exp_in, "jti": jti }),
        key,
    )
    .unwrap()
}

#[tokio::test]
async fn private_key_jwt_clients_sign_in_with_their_key_and_get_es256_id_tokens() {
    let app = TestApp::spawn().await;
    let (key, jwks) = es256_key();
    let c = register(
        &app,
        ClientSpec {
            jwks: Some(jwks.to_string()),
            id_token_alg: "ES256".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(c.client_secret.is_none());
    assert_eq!(c.token_endpoint_auth_method, "private_key_jwt");
    app.register_by_phone("Смирнова", "Анна", "+79120001206")
        .await;
    let token_url = format!(
        "{}/oauth2/token",
        app.state.config.public_url.trim_end_matches('/')
    );
    let exchange_with = |code: String, assertion: String| {
        let url = app.url("/oauth2/token");
        async move {
            reqwest::Client::new()
                .post(url)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", CB),
                    ("code_verifier", VERIFIER),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let new_code = || async {
        let r = app.get(&authorize_url(&c, "")).await;
        let back = if r.status() == 303 {
            TestApp::location(&r)
        } else {
            consent(&app, "allow").await
        };
        query_param(&back, "code").unwrap()
    };

    // Refusals first, each with a fresh code so that only the assertion is wrong.
    let (other_key, _) = es256_key();
    for (why, bad) in [
        (
            "foreign key",
            assertion(&other_key, &c.client_id, &token_url, 60, "j-1"),
        ),
        (
            "wrong audience",
            assertion(
                &key,
                &c.client_id,
                "https://elsewhere.example/token",
                60,
                "j-2",
            ),
        ),
        (
            "expired",
            assertion(&key, &c.client_id, &token_url, -120, "j-3"),
        ),
        (
            "too long-lived",
            assertion(&key, &c.client_id, &token_url, 3600, "j-4"),
        ),
        (
            "absurd exp",
            assertion(
                &key,
                &c.client_id,
                &token_url,
                4_000_000_000_000_000_000,
                "j-5",
            ),
        ),
        ("garbage", "not.a.jwt".into()),
    ] {
        let r = exchange_with(new_code().await, bad).await;
        assert_eq!(r.status(), 401, "{why}");
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["error"],
            "invalid_client",
            "{why}"
        );
    }
    // A secret is no way in for a key client.
    let code = new_code().await;
    let with_secret = Registered {
        client_secret: Some("guess".into()),
        ..c.clone()
    };
    assert_eq!(
        exchange(&app, &with_secret, &code, VERIFIER).await.status(),
        401
    );

    let good = assertion(&key, &c.client_id, &token_url, 60, "j-ok");
    let r = exchange_with(new_code().await, good.clone()).await;
    let status = r.status();
    let t: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{t}");
    let id_token = t["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let jwks: JwkSet = app.get("/oauth2/jwks").await.json().await.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut v = Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[&c.client_id]);
    assert!(jsonwebtoken::decode::<serde_json::Value>(id_token, &key, &v).is_ok());
    // The same assertion twice: a replay.
    let r = exchange_with(new_code().await, good).await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_service_signs_the_person_out_of_the_portal() {
    let app = TestApp::spawn().await;
    const BYE: &str = "https://service.example.ru/bye";
    let c = register(
        &app,
        ClientSpec {
            post_logout_redirect_uris: vec![BYE.into()],
            ..Default::default()
        },
    )
    .await;
    app.register_by_phone("Смирнова", "Анна", "+79120001207")
        .await;
    let id_token = tokens_for(&app, &c).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let logout = |extra: String| {
        format!(
            "/oauth2/logout?post_logout_redirect_uri={}&state=s-9{extra}",
            urlencode(BYE)
        )
    };
    // Refusals: an address not registered, a forged hint.
    let r = app
        .get(&logout(format!("&id_token_hint={id_token}")).replace("bye", "elsewhere"))
        .await;
    assert_eq!(r.status(), 400);
    let mut forged = id_token.clone();
    forged.replace_range(forged.len() - 6.., "AAAAAA");
    let r = app.get(&logout(format!("&id_token_hint={forged}"))).await;
    assert_eq!(r.status(), 400);
    assert_eq!(app.get("/cabinet").await.status(), 200, "still signed in");

    // With a valid hint: signed out at once and sent back.
    let r = app.get(&logout(format!("&id_token_hint={id_token}"))).await;
    assert_eq!(TestApp::location(&r), format!("{BYE}?state=s-9"));
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");

    // Without a hint the person is asked first.
    app.password_step("+79120001207").await;
    let (status, page) = app
        .get_text(&logout(format!("&client_id={}", c.client_id)))
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Выйти из портала?") && page.contains("Сервис «Электронный дневник» просит"),
        "{page}"
    );
    assert_eq!(app.get("/cabinet").await.status(), 200, "not yet");
    let csrf = hidden_value(&page, "csrf_token").unwrap();
    let r = app
        .post_form(
            "/oauth2/logout",
            &[
                ("csrf_token", &csrf),
                ("client_id", &c.client_id),
                ("post_logout_redirect_uri", BYE),
                ("state", "s-9"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("url=https://service.example.ru/bye?state=s-9")
    );
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
}

#[tokio::test]
async fn withdrawing_access_in_the_cabinet_ends_the_services_tokens() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001208")
        .await;
    let (_, page) = app.get_text("/security/apps").await;
    assert!(page.contains("Вы пока не разрешали"), "{page}");
    let t = tokens_for(&app, &c).await;
    let access = t["access_token"].as_str().unwrap();

    let (_, page) = app.get_text("/security/apps").await;
    assert!(
        page.contains("<h2>Электронный дневник</h2>") && page.contains("<li>ФИО</li>"),
        "{page}"
    );
    // A code issued just before the withdrawal must not turn into tokens after it.
    let r = app.get(&authorize_url(&c, "")).await;
    let late_code = query_param(&TestApp::location(&r), "code").unwrap();
    let csrf = hidden_value(&page, "csrf_token").unwrap();
    for _ in 0..2 {
        let r = app
            .post_form(
                "/security/apps/withdraw",
                &[("csrf_token", &csrf), ("client_id", &c.client_id)],
            )
            .await;
        assert_eq!(TestApp::location(&r), "/security/apps");
    }
    let (_, page) = app.get_text("/security/apps").await;
    assert!(page.contains("Разрешение отозвано") && !page.contains("<h2>Электронный дневник</h2>"));
    assert_eq!(userinfo_status(&app, access).await, 401);
    let r = refresh_with(&app, &c, t["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(r.status(), 400);
    assert_eq!(exchange(&app, &c, &late_code, VERIFIER).await.status(), 400);
    // The next sign-in through the service asks again.
    assert_eq!(app.get(&authorize_url(&c, "")).await.status(), 200);
    // The journal has one withdrawal.
    use sea_orm::{ConnectionTrait, Statement};
    let rows = app
        .db()
        .query_all_raw(Statement::from_string(
            app.db().get_database_backend(),
            "SELECT id FROM account_journal WHERE event = 'oauth.consent_withdrawn'",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "a repeated form acts once");
}

/// Exchanges that arrive together share a transaction (group commit); each must still come out
/// as it would alone: a code presented four times at once gives tokens once and the replays
/// revoke them, every other code gives its own tokens, and a request failing its checks does not
/// use up the code for the right one. The requests are driven in one task with `tokio::join!`,
/// so all of them are queued before the writer runs and land in one batch.
#[tokio::test]
async fn exchanges_arriving_together_each_act_once() {
    use uslugi_core::sso::oidc::flow::{ClientAuth, exchange_code};
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001207")
        .await;
    app.get(&authorize_url(&c, "")).await;
    let mut codes = vec![query_param(&consent(&app, "allow").await, "code").unwrap()];
    for _ in 0..5 {
        // Consent is remembered: the person is sent back with a code at once.
        let r = app.get(&authorize_url(&c, "")).await;
        assert_eq!(r.status(), 303);
        codes.push(query_param(&TestApp::location(&r), "code").unwrap());
    }
    let ctx = uslugi_core::Ctx {
        db: &app.state.db,
        keys: &app.state.keys,
        config: &app.state.config,
        passwords: &app.state.passwords,
    };
    let writer = &app.state.tokens;
    let auth = ClientAuth {
        client_id: Some(c.client_id.clone()),
        client_secret: c.client_secret.clone(),
        ..ClientAuth::default()
    };
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-1";
    let exchange = |code: &str, verifier: &'static str| {
        let (auth, code) = (auth.clone(), code.to_owned());
        async move { exchange_code(ctx, writer, &auth, &code, Some(CB), Some(verifier)).await }
    };
    // The client is read once and cached, so that the requests below do not wait on the database
    // before they reach the writer.
    assert!(exchange("unknown", VERIFIER).await.is_err());
    // `tokio::join!` polls its futures in the order written the first time, so the requests
    // reach the writer in that order: the wrong verifier for codes[5] just before the right one.
    let (a, b, c0, d, e1, e2, e3, e4, f, g) = tokio::join!(
        exchange(&codes[0], VERIFIER),
        exchange(&codes[0], VERIFIER),
        exchange(&codes[0], VERIFIER),
        exchange(&codes[0], VERIFIER),
        exchange(&codes[1], VERIFIER),
        exchange(&codes[2], VERIFIER),
        exchange(&codes[3], VERIFIER),
        exchange(&codes[4], VERIFIER),
        exchange(&codes[5], wrong),
        exchange(&codes[5], VERIFIER),
    );
    let same_code = [a, b, c0, d];
    let winners: Vec<_> = same_code.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        winners.len(),
        1,
        "one code, one set of tokens: {same_code:?}"
    );
    for r in same_code.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), "invalid_grant", "{r}");
    }
    // The replays revoked what the code gave.
    assert_eq!(userinfo_status(&app, &winners[0].access_token).await, 401);
    let others: Vec<_> = [e1, e2, e3, e4].into_iter().map(Result::unwrap).collect();
    for t in &others {
        assert_eq!(userinfo_status(&app, &t.access_token).await, 200);
    }
    assert_eq!(f.unwrap_err().code(), "invalid_grant");
    // The request that failed its PKCE check did not use the code up for the right one behind it
    // in the same batch.
    let g = g.unwrap();
    assert_eq!(userinfo_status(&app, &g.access_token).await, 200);

    // One refresh token presented twice in one batch: one rotation, and the other is a reuse
    // that revokes the family, the new tokens included.
    let refresh = |token: String| {
        let auth = auth.clone();
        async move { uslugi_core::sso::oidc::flow::refresh(ctx, writer, &auth, &token, None).await }
    };
    let token = others[0].refresh_token.clone().unwrap();
    let (r1, r2) = tokio::join!(refresh(token.clone()), refresh(token));
    let (won, lost) = match (r1, r2) {
        (Ok(t), Err(e)) | (Err(e), Ok(t)) => (t, e),
        other => panic!("one rotation expected: {other:?}"),
    };
    assert_eq!(lost.code(), "invalid_grant");
    assert_eq!(userinfo_status(&app, &won.access_token).await, 401);
    // Another family is untouched.
    assert_eq!(userinfo_status(&app, &others[1].access_token).await, 200);
}

async fn refresh_error(app: &TestApp, c: &Registered, token: &str) -> String {
    let r = refresh_with(app, c, token, None).await;
    r.json::<serde_json::Value>().await.unwrap()["error"]
        .as_str()
        .unwrap_or("none")
        .to_owned()
}

async fn change_password(app: &TestApp, current: &str, new: &str, revoke_apps: bool) {
    let mut fields = vec![
        ("current_password", current),
        ("password", new),
        ("password_confirmation", new),
    ];
    if revoke_apps {
        fields.push(("revoke_apps", "yes"));
    }
    let r = app
        .submit_as(
            &app.client,
            "/security/password",
            "/security/password",
            &fields,
        )
        .await;
    assert_eq!(TestApp::location(&r), "/security");
}

#[tokio::test]
async fn a_password_change_revokes_the_services_tokens_when_the_owner_says_so() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001220")
        .await;
    let kept = tokens_for(&app, &c).await;
    // Without the box ticked the services keep their access.
    change_password(
        &app,
        uslugi_testkit::STRONG_PASSWORD,
        "Синий-Самовар#77",
        false,
    )
    .await;
    let access = kept["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&app, access).await, 200);
    // With it, every token of the account ends, refresh tokens included.
    change_password(&app, "Синий-Самовар#77", "Красный-Чайник#88", true).await;
    assert_eq!(userinfo_status(&app, access).await, 401);
    assert_eq!(
        refresh_error(&app, &c, kept["refresh_token"].as_str().unwrap()).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn recovery_revokes_the_services_tokens() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    let phone = "+79120001221";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let t = tokens_for(&app, &c).await;
    app.sign_out().await;
    app.submit_as(&app.client, "/recover", "/recover", &[("login", phone)])
        .await;
    let code = app.sms_code(phone).await;
    app.submit_as(
        &app.client,
        "/recover/confirm",
        "/recover/confirm",
        &[("code", &code)],
    )
    .await;
    let r = app
        .submit_as(
            &app.client,
            "/recover/password",
            "/recover/password",
            &[
                ("password", "Синий-Самовар#77"),
                ("password_confirmation", "Синий-Самовар#77"),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    assert_eq!(
        userinfo_status(&app, t["access_token"].as_str().unwrap()).await,
        401
    );
    assert_eq!(
        refresh_error(&app, &c, t["refresh_token"].as_str().unwrap()).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn tokens_of_an_account_that_is_not_active_are_refused() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    let phone = "+79120001222";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let t = tokens_for(&app, &c).await;
    let blind = app.state.keys.blind_index().compute("phone", phone);
    let account =
        uslugi_store::identity::accounts::find_contact_by_blind(app.db(), "phone", &blind)
            .await
            .unwrap()
            .unwrap()
            .account_id;
    // Blocked behind the tokens' back (as by an operator, or between a check and a revocation):
    // the status itself is checked.
    uslugi_store::identity::accounts::set_status(
        app.db(),
        account,
        uslugi_store::identity::accounts::status::BLOCKED,
        uslugi_store::now_ms(),
    )
    .await
    .unwrap();
    assert_eq!(
        userinfo_status(&app, t["access_token"].as_str().unwrap()).await,
        401
    );
    assert_eq!(
        refresh_error(&app, &c, t["refresh_token"].as_str().unwrap()).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn deactivation_revokes_tokens_and_deletion_removes_grants() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use uslugi_store::entities::{oauth_consents, oauth_tokens};
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    let phone = "+79120001223";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let t = tokens_for(&app, &c).await;
    app.reauthenticate("/security/deactivate").await;
    let r = app
        .submit_as(
            &app.client,
            "/security/deactivate",
            "/security/deactivate",
            &[
                ("password", uslugi_testkit::STRONG_PASSWORD),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        refresh_error(&app, &c, t["refresh_token"].as_str().unwrap()).await,
        "invalid_grant"
    );
    let blind = app.state.keys.blind_index().compute("phone", phone);
    let account =
        uslugi_store::identity::accounts::find_contact_by_blind(app.db(), "phone", &blind)
            .await
            .unwrap()
            .unwrap()
            .account_id;
    let txn = sea_orm::TransactionTrait::begin(app.db()).await.unwrap();
    uslugi_store::identity::accounts::erase_everything(&txn, account, uslugi_store::now_ms())
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let tokens = oauth_tokens::Entity::find()
        .filter(oauth_tokens::Column::AccountId.eq(account))
        .count(app.db())
        .await
        .unwrap();
    let consents = oauth_consents::Entity::find()
        .filter(oauth_consents::Column::AccountId.eq(account))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!((tokens, consents), (0, 0));
}

#[tokio::test]
async fn a_consent_answer_applies_only_to_the_request_it_was_shown_for() {
    let app = TestApp::spawn().await;
    let first = client(&app, false, AccountLevel::Simplified).await;
    let second = client(&app, false, AccountLevel::Simplified).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001224")
        .await;
    app.get(&authorize_url(&first, "")).await;
    let (_, page) = app.get_text("/oauth2/authorize/continue").await;
    let token = hidden_value(&page, "csrf_token").unwrap();
    let shown = hidden_value(&page, "request").unwrap();
    // Another tab starts a request from another service before the first page is answered.
    app.get(&authorize_url(&second, "")).await;
    let r = app
        .post_form(
            "/oauth2/authorize/consent",
            &[
                ("csrf_token", &token),
                ("decision", "allow"),
                ("request", &shown),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/oauth2/authorize/continue");
    let granted = uslugi_store::sso::oidc::consents_of(app.db(), {
        let blind = app
            .state
            .keys
            .blind_index()
            .compute("phone", "+79120001224");
        uslugi_store::identity::accounts::find_contact_by_blind(app.db(), "phone", &blind)
            .await
            .unwrap()
            .unwrap()
            .account_id
    })
    .await
    .unwrap();
    assert!(
        granted.is_empty(),
        "consent was given to a request not shown"
    );
}

#[tokio::test]
async fn prompt_none_request_objects_and_a_missing_response_type_get_the_core_errors() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    let error_of = |r: &reqwest::Response| query_param(&TestApp::location(r), "error");
    // Signed out, prompt=none: the client hears login_required, with its state; no sign-in page.
    let r = app.get(&authorize_url(&c, "&prompt=none")).await;
    assert_eq!(error_of(&r).as_deref(), Some("login_required"));
    assert_eq!(
        query_param(&TestApp::location(&r), "state").as_deref(),
        Some("st-1")
    );
    assert_eq!(
        error_of(&app.get(&authorize_url(&c, "&prompt=none%20login")).await).as_deref(),
        Some("invalid_request")
    );
    // Request objects are not supported, and discovery says so.
    assert_eq!(
        error_of(
            &app.get(&authorize_url(&c, "&request=eyJhbGciOiJub25lIn0.e30."))
                .await
        )
        .as_deref(),
        Some("request_not_supported")
    );
    assert_eq!(
        error_of(
            &app.get(&authorize_url(
                &c,
                "&request_uri=https%3A%2F%2Fservice.example.ru%2Freq"
            ))
            .await
        )
        .as_deref(),
        Some("request_uri_not_supported")
    );
    let discovery: serde_json::Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["request_parameter_supported"], false);
    assert_eq!(discovery["request_uri_parameter_supported"], false);
    // No response_type at all: invalid_request (RFC 6749 §4.1.2.1).
    let missing = authorize_url(&c, "").replace("response_type=code&", "");
    assert_eq!(
        error_of(&app.get(&missing).await).as_deref(),
        Some("invalid_request")
    );

    // Signed in but without consent, prompt=none: consent_required; nothing is shown.
    app.register_by_phone("Смирнова", "Анна", "+79120001290")
        .await;
    let r = app.get(&authorize_url(&c, "&prompt=none")).await;
    assert_eq!(error_of(&r).as_deref(), Some("consent_required"));
    // With consent given once, prompt=none signs in silently with a code.
    app.get(&authorize_url(&c, "")).await;
    let back = consent(&app, "allow").await;
    assert!(query_param(&back, "code").is_some());
    let r = app.get(&authorize_url(&c, "&prompt=none")).await;
    assert!(
        query_param(&TestApp::location(&r), "code").is_some(),
        "{}",
        TestApp::location(&r)
    );
}

#[tokio::test]
async fn userinfo_answers_programs_not_people() {
    let app = TestApp::spawn().await;
    let c = client(&app, false, AccountLevel::Simplified).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001291")
        .await;
    let tokens = tokens_for(&app, &c).await;
    let access = tokens["access_token"].as_str().unwrap();
    let service = reqwest::Client::new();
    // A bad token: 401 with the challenge and a JSON body, never the HTML error page.
    let r = service
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    // No token at all: the challenge without an error code (RFC 6750 §3.1).
    let r = service
        .get(app.url("/oauth2/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    // The token in a form body (RFC 6750 §2.2), as some libraries send it.
    let r = service
        .post(app.url("/oauth2/userinfo"))
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let claims: serde_json::Value = r.json().await.unwrap();
    assert!(claims["sub"].is_string(), "{claims}");
    // Both ways at once is an invalid request.
    let r = service
        .post(app.url("/oauth2/userinfo"))
        .bearer_auth(access)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer error=\"invalid_request\""
    );
}

#[tokio::test]
async fn the_passport_and_addresses_on_the_consent_screen_reach_userinfo() {
    let app = TestApp::spawn().await;
    let c = clients::register(
        app.db(),
        &app.state.keys,
        ClientSpec {
            name: "Электронный дневник".into(),
            redirect_uris: vec![CB.into()],
            min_level: AccountLevel::Standard,
            scopes: ["openid", "id_doc", "addresses"].map(String::from).to_vec(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let person = app.standard_citizen("+79120001292").await;
    let data = person.data.unwrap();
    let url = authorize_url(&c, "").replace(
        "scope=openid%20fullname%20phone",
        "scope=openid%20id_doc%20addresses",
    );
    app.get(&url).await;
    let (_, page) = app.get_text("/oauth2/authorize/continue").await;
    assert!(
        page.contains("Паспорт") && page.contains("Адреса"),
        "{page}"
    );
    let back = consent(&app, "allow").await;
    let code = query_param(&back, "code").unwrap();
    let r = exchange(&app, &c, &code, VERIFIER).await;
    let tokens: serde_json::Value = r.json().await.unwrap();
    let info: serde_json::Value = reqwest::Client::new()
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["id_doc"]["type"], "RF_PASSPORT", "{info}");
    assert_eq!(info["id_doc"]["series"], data.passport.series.as_str());
    assert_eq!(info["id_doc"]["number"], data.passport.number.as_str());
    assert_eq!(info["address"]["formatted"], data.address.as_str());
    assert!(info.get("snils").is_none(), "only what was consented");
}
