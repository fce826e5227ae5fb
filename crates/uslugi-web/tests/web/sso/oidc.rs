//! Single sign-on groundwork: discovery, the published signing keys and their rotation, client
//! registration rules.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use uslugi_core::sso::oidc::{self, clients, keys};
use uslugi_testkit::TestApp;

#[tokio::test]
async fn discovery_names_the_issuer_and_the_endpoints() {
    let app = TestApp::spawn().await;
    let r = app.get("/.well-known/openid-configuration").await;
    assert_eq!(r.status(), 200);
    let d: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        d["issuer"],
        app.state.config.public_url.trim_end_matches('/')
    );
    assert_eq!(
        d["jwks_uri"],
        format!("{}/oauth2/jwks", d["issuer"].as_str().unwrap())
    );
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert!(
        d["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&"snils".into())
    );
}

async fn published(app: &TestApp) -> JwkSet {
    app.get("/oauth2/jwks").await.json().await.unwrap()
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Claims {
    sub: String,
    aud: String,
    iss: String,
    exp: i64,
}

async fn signed(app: &TestApp, alg: Algorithm) -> (String, String) {
    let key = keys::signing_key(&app.state.db, &app.state.keys, alg)
        .await
        .unwrap();
    let claims = Claims {
        sub: "1".into(),
        aud: "client".into(),
        iss: "issuer".into(),
        exp: uslugi_testkit::now_secs() + 600,
    };
    (
        key.sign(&serde_json::to_value(&claims).unwrap()).unwrap(),
        key.kid,
    )
}

fn verifies(set: &JwkSet, token: &str) -> bool {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let Some(jwk) = set.find(header.kid.as_deref().unwrap()) else {
        return false;
    };
    let mut v = Validation::new(header.alg);
    v.set_audience(&["client"]);
    v.set_issuer(&["issuer"]);
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v).is_ok()
}

#[tokio::test]
async fn tokens_verify_with_the_published_keys_across_a_rotation() {
    let app = TestApp::spawn().await;
    let set = published(&app).await;
    assert_eq!(set.keys.len(), 2);
    let (rs, old_rs) = signed(&app, Algorithm::RS256).await;
    let (es, _) = signed(&app, Algorithm::ES256).await;
    assert!(verifies(&set, &rs) && verifies(&set, &es));
    // A token with a forged signature does not.
    let mut forged = rs.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    assert!(!verifies(&set, &forged));
    // The private parts are never published.
    let raw = app.get_text("/oauth2/jwks").await.1;
    assert!(!raw.contains("\"d\"") && !raw.contains("PRIVATE"));

    assert_eq!(
        keys::rotate(&app.state.db, &app.state.keys).await.unwrap(),
        2
    );
    let (new_rs, new_kid) = signed(&app, Algorithm::RS256).await;
    assert_ne!(new_kid, old_rs);
    let set = published(&app).await;
    assert_eq!(set.keys.len(), 4);
    assert!(verifies(&set, &rs), "old tokens stay verifiable");
    assert!(verifies(&set, &new_rs));

    // Once the old tokens have expired, the old keys are gone.
    use sea_orm::ConnectionTrait;
    app.db()
        .execute_unprepared(
            "UPDATE signing_keys SET published_until = 1 WHERE retired_at IS NOT NULL",
        )
        .await
        .unwrap();
    let set = published(&app).await;
    assert_eq!(set.keys.len(), 2);
    assert!(!verifies(&set, &rs));
}

#[tokio::test]
async fn client_secrets_are_stored_only_as_keyed_hashes() {
    let app = TestApp::spawn().await;
    let spec = |uris: Vec<&str>, scopes: Vec<&str>| clients::ClientSpec {
        name: "Электронный дневник".into(),
        redirect_uris: uris.into_iter().map(String::from).collect(),
        min_level: uslugi_domain::AccountLevel::Standard,
        scopes: scopes.into_iter().map(String::from).collect(),
        public: false,
        pairwise: false,
        ..Default::default()
    };
    let c = clients::register(
        app.db(),
        &app.state.keys,
        spec(vec!["https://school.example.ru/cb"], vec![]),
    )
    .await
    .unwrap();
    assert_eq!(c.scopes, ["openid", "profile"]);
    let secret = c.client_secret.unwrap();
    let row = uslugi_store::sso::oidc::find_client(app.db(), &c.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.secret_hash.as_deref(), Some(secret.as_str()));
    assert_eq!(
        row.secret_hash.unwrap(),
        clients::secret_hash(&app.state.keys, &c.client_id, &secret)
    );
    for (uris, scopes) in [
        (vec!["http://example.ru/cb"], vec![]),
        (vec!["http://localhost.evil.example/cb"], vec![]),
        (vec!["http://localhost@evil.example/cb"], vec![]),
        (vec!["https://good.example@evil.example/cb"], vec![]),
        (vec!["javascript://localhost/cb"], vec![]),
        (vec!["https://example.ru/cb#x"], vec![]),
        (vec![], vec![]),
        (vec!["https://example.ru/cb"], vec!["openid", "everything"]),
    ] {
        assert!(
            clients::register(app.db(), &app.state.keys, spec(uris, scopes))
                .await
                .is_err()
        );
    }
    for local in [
        "http://localhost:3000/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
    ] {
        assert!(
            clients::register(app.db(), &app.state.keys, spec(vec![local], vec![]))
                .await
                .is_ok(),
            "{local}"
        );
    }
    // A certificate (ESIA) client is neither public nor pairwise.
    let cert = include_bytes!("../../../../uslugi-core/tests/fixtures/gost256.crt").to_vec();
    for (public, pairwise) in [(true, false), (false, true)] {
        let bad = clients::ClientSpec {
            certificate: Some(cert.clone()),
            public,
            pairwise,
            ..spec(vec!["https://example.ru/cb"], vec![])
        };
        assert!(
            clients::register(app.db(), &app.state.keys, bad)
                .await
                .is_err()
        );
    }
    assert_eq!(
        oidc::issuer(&app.state.config),
        app.state.config.public_url.trim_end_matches('/')
    );
}
