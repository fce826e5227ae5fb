//! ESIA compatibility end to end: a service registered with its certificate and mnemonic sends
//! the person to `/aas/oauth2/v2/ac` (or the legacy `/ac`) with a signed `client_secret`
//! (`openssl smime`, as ESIA client libraries make it), exchanges the code at `/v3/te` (or
//! `/te`), reads the oid from the tokens and the person's data from `/rs/prns/{oid}`; every
//! misuse gets its ESIA error code.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::process::Command;

use base64::{Engine as _, engine::general_purpose::URL_SAFE};
use uslugi_core::{
    sso::esia,
    sso::oidc::clients::{self, ClientSpec, Registered},
};
use uslugi_testkit::{TestApp, hidden_value};

const CB: &str = "https://service.example.ru/esia/callback";
const SCOPE: &str = "openid fullname birthdate gender snils mobile contacts id_doc addresses";

struct Service {
    dir: std::path::PathBuf,
    registered: Registered,
}

impl Drop for Service {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl (the test command installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

async fn service(app: &TestApp, mnemonic: &str) -> Service {
    let dir = std::env::temp_dir().join(format!("uslugi-esia-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    openssl(
        &dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "svc.key", "-out",
            "svc.crt", "-subj", "/CN=svc", "-days", "30",
        ],
    );
    let registered = clients::register(
        app.db(),
        &app.state.keys,
        ClientSpec {
            name: "Запись в детский сад".into(),
            redirect_uris: vec![CB.into()],
            scopes: SCOPE.split(' ').map(String::from).collect(),
            certificate: Some(std::fs::read(dir.join("svc.crt")).unwrap()),
            client_id: Some(mnemonic.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    Service { dir, registered }
}

impl Service {
    /// A detached CMS with signed attributes, URL-safe base64 — what esia-connector sends.
    fn sign(&self, message: &str) -> String {
        std::fs::write(self.dir.join("msg.txt"), message).unwrap();
        let der = openssl(
            &self.dir,
            &[
                "smime", "-sign", "-md", "sha256", "-in", "msg.txt", "-signer", "svc.crt",
                "-inkey", "svc.key", "-outform", "DER", "-binary",
            ],
        );
        URL_SAFE.encode(der)
    }

    fn id(&self) -> &str {
        &self.registered.client_id
    }

    fn hash(&self) -> &str {
        self.registered.certificate_hash.as_deref().unwrap()
    }
}

fn now_ts() -> String {
    esia::format_timestamp(uslugi_testkit::now_secs())
}

fn query(params: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(params).unwrap()
}

fn param(url: &str, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(url.split_once('?')?.1)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The v2/ac URL; `tweak` changes the signed message or a parameter before sending.
fn ac_v2(
    s: &Service,
    state: &str,
    timestamp: &str,
    tweak: impl Fn(&mut Vec<(&str, String)>, &mut String),
) -> String {
    let mut message = format!("{}{SCOPE}{timestamp}{state}{CB}", s.id());
    let mut params = vec![
        ("client_id", s.id().to_owned()),
        ("redirect_uri", CB.to_owned()),
        ("scope", SCOPE.to_owned()),
        ("response_type", "code".to_owned()),
        ("state", state.to_owned()),
        ("timestamp", timestamp.to_owned()),
        ("access_type", "online".to_owned()),
        ("client_certificate_hash", s.hash().to_owned()),
    ];
    tweak(&mut params, &mut message);
    params.push(("client_secret", s.sign(&message)));
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    format!("/aas/oauth2/v2/ac?{}", query(&pairs))
}

async fn consent(app: &TestApp) -> String {
    let (_, page) = app.get_text("/oauth2/authorize/continue").await;
    assert!(
        page.contains("Сервис «Запись в детский сад» просит доступ"),
        "{page}"
    );
    let token = hidden_value(&page, "csrf_token").unwrap();
    let request = hidden_value(&page, "request").unwrap();
    let page = app
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
}

async fn te_v3(
    app: &TestApp,
    s: &Service,
    code: &str,
    state: &str,
    timestamp: &str,
) -> (u16, serde_json::Value) {
    let message = format!("{}{SCOPE}{timestamp}{state}{CB}{code}", s.id());
    let r = reqwest::Client::new()
        .post(app.url("/aas/oauth2/v3/te"))
        .form(&[
            ("client_id", s.id()),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("client_secret", &s.sign(&message)),
            ("state", state),
            ("redirect_uri", CB),
            ("scope", SCOPE),
            ("timestamp", timestamp),
            ("token_type", "Bearer"),
            ("client_certificate_hash", s.hash()),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

async fn rs(app: &TestApp, token: &str, path: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

/// A person with verified personal data (the simulated registries confirm them).
/// A signed-in person with a standard account (verified personal data).
async fn verified_person(app: &TestApp, phone: &str) {
    app.standard_citizen(phone).await;
}

#[tokio::test]
async fn an_esia_integration_signs_in_and_reads_the_person() {
    let app = TestApp::spawn().await;
    let s = service(&app, "TESTSYS").await;
    assert_eq!(
        s.registered.token_endpoint_auth_method,
        "esia_signed_request"
    );
    verified_person(&app, "+79120001301").await;

    let state = uuid::Uuid::new_v4().to_string();
    let r = app.get(&ac_v2(&s, &state, &now_ts(), |_, _| {})).await;
    assert_eq!(r.status(), 200, "the consent page");
    let back = consent(&app).await;
    assert!(back.starts_with(CB), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some(state.as_str()));
    let code = param(&back, "code").unwrap();

    let te_state = uuid::Uuid::new_v4().to_string();
    let (status, tokens) = te_v3(&app, &s, &code, &te_state, &now_ts()).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["state"], te_state.as_str());
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(
        tokens["refresh_token"].is_null(),
        "access_type=online: no refresh token"
    );
    let access = tokens["access_token"].as_str().unwrap();
    let oid = claims(access)["urn:esia:sbj_id"].as_u64().unwrap();
    let id_claims = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        id_claims["urn:esia:sbj"]["urn:esia:sbj:oid"].as_u64(),
        Some(oid)
    );
    assert_eq!(id_claims["aud"], "TESTSYS");

    let (status, me) = rs(&app, access, &format!("/rs/prns/{oid}")).await;
    assert_eq!(status, 200, "{me}");
    assert!(
        me["lastName"].is_string() && me["firstName"].is_string(),
        "{me}"
    );
    assert!(
        me["birthDate"].as_str().unwrap().split('.').count() == 3,
        "dd.MM.yyyy: {me}"
    );
    assert!(
        me.get("birthPlace").is_none(),
        "the place of birth without its own scope: {me}"
    );
    let snils = me["snils"].as_str().unwrap();
    assert!(
        snils.len() == 14 && &snils[3..4] == "-" && &snils[11..12] == " ",
        "{snils}"
    );
    assert!(me["gender"] == "M" || me["gender"] == "F");
    assert_eq!(me["stateFacts"], serde_json::json!(["EntityRoot"]));
    assert!(me.get("inn").is_none(), "inn was not asked for");

    let (_, ctts) = rs(
        &app,
        access,
        &format!("/rs/prns/{oid}/ctts?embed=(elements)"),
    )
    .await;
    assert_eq!(ctts["size"], 1, "{ctts}");
    assert_eq!(ctts["elements"][0]["type"], "MBT");
    assert_eq!(ctts["elements"][0]["value"], "+7(912)0001301");
    let (_, refs) = rs(&app, access, &format!("/rs/prns/{oid}/ctts")).await;
    assert!(
        refs["elements"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!("/rs/prns/{oid}/ctts/1")),
        "{refs}"
    );
    let (status, one) = rs(&app, access, &format!("/rs/prns/{oid}/ctts/1")).await;
    assert_eq!(
        (status, one["value"].as_str()),
        (200, Some("+7(912)0001301"))
    );
    assert_eq!(
        rs(&app, access, &format!("/rs/prns/{oid}/ctts/9")).await.0,
        404
    );
    let (_, docs) = rs(
        &app,
        access,
        &format!("/rs/prns/{oid}/docs?embed=(elements)"),
    )
    .await;
    assert_eq!(docs["elements"][0]["type"], "RF_PASSPORT", "{docs}");
    assert_eq!(docs["elements"][0]["series"].as_str().unwrap().len(), 4);
    let (_, addrs) = rs(
        &app,
        access,
        &format!("/rs/prns/{oid}/addrs?embed=(elements)"),
    )
    .await;
    assert!(addrs["elements"][0]["addressStr"].is_string(), "{addrs}");

    // Someone else's oid, no token, a bad token.
    assert_eq!(
        rs(&app, access, &format!("/rs/prns/{}", oid + 1)).await.0,
        403
    );
    assert_eq!(rs(&app, "", &format!("/rs/prns/{oid}")).await.0, 401);
    assert_eq!(rs(&app, "forged", &format!("/rs/prns/{oid}")).await.0, 401);

    // The code again: ESIA-007011, and the tokens from it are revoked.
    let (status, err) = te_v3(
        &app,
        &s,
        &code,
        &uuid::Uuid::new_v4().to_string(),
        &now_ts(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .starts_with("ESIA-007011"),
        "{err}"
    );
    assert_eq!(rs(&app, access, &format!("/rs/prns/{oid}")).await.0, 401);

    // ESIA's logout: the person is asked, then signed out and sent back to the service.
    let r = app
        .get(&format!(
            "/idp/ext/Logout?{}",
            query(&[("client_id", "TESTSYS"), ("redirect_url", CB)])
        ))
        .await;
    let confirm = TestApp::location(&r);
    assert!(confirm.starts_with("/oauth2/logout?"), "{confirm}");
    let (status, page) = app.get_text(&confirm).await;
    assert_eq!(status, 200);
    assert!(page.contains("Выйти из портала?"), "{page}");
    assert_eq!(
        app.get("/cabinet").await.status(),
        200,
        "not before the answer"
    );
    let csrf = hidden_value(&page, "csrf_token").unwrap();
    let page = app
        .post_form(
            "/oauth2/logout",
            &[
                ("csrf_token", &csrf),
                ("client_id", "TESTSYS"),
                ("post_logout_redirect_uri", CB),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("url={CB}")), "{page}");
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
}

#[tokio::test]
async fn esia_refusals_carry_esia_codes() {
    let app = TestApp::spawn().await;
    let s = service(&app, "TESTSYS2").await;
    let other = service(&app, "OTHERSYS").await;
    app.register_by_phone("Смирнова", "Анна", "+79120001302")
        .await;
    let state = uuid::Uuid::new_v4().to_string();
    let refused = |url: String| {
        let app = &app;
        async move {
            let r = app.get(&url).await;
            assert_eq!(r.status(), 303, "{url}");
            let back = TestApp::location(&r);
            assert!(back.starts_with(CB), "{back}");
            param(&back, "error_description").unwrap()
        }
    };
    // A signature over other data; by another service's key; an old timestamp; a bad state; no
    // certificate hash; a wrong one.
    let d = refused(ac_v2(&s, &state, &now_ts(), |_, m| m.push('x'))).await;
    assert!(d.starts_with("ESIA-007053"), "{d}");
    let d = refused(ac_v2(&s, &state, &now_ts(), |p, _| {
        p[0].1 = "OTHERSYS".into()
    }))
    .await;
    assert!(
        d.starts_with("ESIA-007002") || d.starts_with("ESIA-007053"),
        "{d}"
    );
    let foreign = {
        let msg = format!("{}{SCOPE}{}{state}{CB}", s.id(), now_ts());
        other.sign(&msg)
    };
    let url = ac_v2(&s, &state, &now_ts(), |_, _| {});
    let url = format!(
        "{}&client_secret={foreign}",
        url.split("&client_secret=").next().unwrap()
    );
    assert!(refused(url).await.starts_with("ESIA-007053"));
    let old = esia::format_timestamp(uslugi_testkit::now_secs() - 3600);
    assert!(
        refused(ac_v2(&s, &state, &old, |_, _| {}))
            .await
            .starts_with("ESIA-007015")
    );
    assert!(
        refused(ac_v2(&s, "not-a-uuid", &now_ts(), |_, _| {}))
            .await
            .starts_with("ESIA-007003")
    );
    let d = refused(ac_v2(&s, &state, &now_ts(), |p, _| {
        p.retain(|(k, _)| *k != "client_certificate_hash")
    }))
    .await;
    assert!(d.starts_with("ESIA-007014"), "{d}");
    let d = refused(ac_v2(&s, &state, &now_ts(), |p, _| {
        p[7].1 = other.hash().to_owned()
    }))
    .await;
    assert!(d.starts_with("ESIA-007002"), "{d}");
    // An unregistered redirect URI or an unknown client: a page, not a redirect.
    let bad = ac_v2(&s, &state, &now_ts(), |p, _| {
        p[1].1 = "https://evil.example/cb".into()
    });
    assert_eq!(app.get(&bad).await.status(), 400);
    let (status, page) = app
        .get_text("/aas/oauth2/v2/ac?client_id=NOBODY&redirect_uri=x")
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("ESIA-007002"), "{page}");

    // Refusing consent: access_denied with ESIA's code.
    let r = app.get(&ac_v2(&other, &state, &now_ts(), |_, _| {})).await;
    assert_eq!(r.status(), 200);
    let (_, page) = app.get_text("/oauth2/authorize/continue").await;
    let token = hidden_value(&page, "csrf_token").unwrap();
    let request = hidden_value(&page, "request").unwrap();
    let page = app
        .post_form(
            "/oauth2/authorize/consent",
            &[
                ("csrf_token", &token),
                ("decision", "deny"),
                ("request", &request),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("error=access_denied") && page.contains("ESIA-007004"),
        "{page}"
    );

    // The legacy endpoints: scope + timestamp + client_id + state.
    let ts = now_ts();
    let ac_secret = s.sign(&format!("{SCOPE}{ts}{}{state}", s.id()));
    let legacy = format!(
        "/aas/oauth2/ac?{}",
        query(&[
            ("client_id", s.id()),
            ("client_secret", &ac_secret),
            ("redirect_uri", CB),
            ("scope", SCOPE),
            ("response_type", "code"),
            ("state", &state),
            ("timestamp", &ts),
            ("access_type", "offline"),
        ])
    );
    assert_eq!(app.get(&legacy).await.status(), 200, "the consent page");
    let code = param(&consent(&app).await, "code").unwrap();
    let te_state = uuid::Uuid::new_v4().to_string();
    let ts = now_ts();
    let form = |secret: String| {
        vec![
            ("client_id", s.id().to_owned()),
            ("code", code.clone()),
            ("grant_type", "authorization_code".to_owned()),
            ("client_secret", secret),
            ("state", te_state.clone()),
            ("redirect_uri", CB.to_owned()),
            ("scope", SCOPE.to_owned()),
            ("timestamp", ts.clone()),
            ("token_type", "Bearer".to_owned()),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        let url = app.url("/aas/oauth2/te");
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .form(&form)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, err) = post(form(s.sign("something else"))).await;
    assert_eq!(status, 400);
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .starts_with("ESIA-007053"),
        "{err}"
    );
    // The same /ac URL again: its signature was taken already.
    let r = app.get(&legacy).await;
    let back = if r.status() == 303 {
        TestApp::location(&r)
    } else {
        r.text().await.unwrap()
    };
    assert!(back.contains("ESIA-007053"), "{back}");
    let signed = form(s.sign(&format!("{SCOPE}{ts}{}{te_state}", s.id())));
    let (status, tokens) = post(signed.clone()).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["refresh_token"].is_string());
    // The same signed request again is refused for its signature, before the code is looked at.
    let (status, err) = post(signed).await;
    assert_eq!(status, 400);
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .starts_with("ESIA-007053"),
        "{err}"
    );
}

#[tokio::test]
async fn the_current_endpoints_take_pkce() {
    let app = TestApp::spawn().await;
    let s = service(&app, "PKCESYS").await;
    app.register_by_phone("Смирнова", "Анна", "+79120001303")
        .await;
    let verifier = "dBjftJeZ4CVP-mJ92K9qgZZhwjtTW1tZmvFWsIxVQfSb8";
    let challenge = "N-Z8QO5YppeTH05n8KraxXMTEcuGYLoP5-ZNQq101D0";
    let code_for = || {
        let url = ac_v2(&s, &uuid::Uuid::new_v4().to_string(), &now_ts(), |p, _| {
            p.push(("code_challenge", challenge.to_owned()));
            p.push(("code_challenge_method", "S256".to_owned()));
        });
        let app = &app;
        async move {
            let r = app.get(&url).await;
            let back = if r.status() == 303 {
                TestApp::location(&r)
            } else {
                consent(app).await
            };
            param(&back, "code").unwrap()
        }
    };
    let te = |code: String, verifier: &'static str| {
        let state = uuid::Uuid::new_v4().to_string();
        let ts = now_ts();
        let message = format!("{}{SCOPE}{ts}{state}{CB}{code}", s.id());
        let form = vec![
            ("client_id", s.id().to_owned()),
            ("code", code),
            ("grant_type", "authorization_code".to_owned()),
            ("client_secret", s.sign(&message)),
            ("state", state),
            ("redirect_uri", CB.to_owned()),
            ("scope", SCOPE.to_owned()),
            ("timestamp", ts),
            ("token_type", "Bearer".to_owned()),
            ("client_certificate_hash", s.hash().to_owned()),
            ("code_verifier", verifier.to_owned()),
        ];
        let url = app.url("/aas/oauth2/v3/te");
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .form(&form)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, err) = te(
        code_for().await,
        "another-verifier-another-verifier-another-ver",
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .starts_with("ESIA-007011"),
        "{err}"
    );
    let (status, tokens) = te(code_for().await, verifier).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn oids_stay_unique_when_the_derived_number_is_taken() {
    let app = TestApp::spawn().await;
    let (first, second) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let h = app
        .state
        .keys
        .blind_index()
        .compute("esia-oid", &second.to_string());
    let derived = i64::from_str_radix(&h[..13], 16).unwrap() + 1_000_000_000;
    // Someone else holds the number the second account would get.
    assert!(
        uslugi_store::sso::oidc::insert_esia_oid(app.db(), first, derived)
            .await
            .unwrap()
    );
    let oid = esia::assign_oid(app.db(), &app.state.keys, second)
        .await
        .unwrap();
    assert_eq!(oid, u64::try_from(derived + 1).unwrap());
    assert_eq!(
        esia::assign_oid(app.db(), &app.state.keys, second)
            .await
            .unwrap(),
        oid,
        "stable"
    );
    assert!(oid < (1 << 53), "safe as a JavaScript number");
}

#[tokio::test]
async fn forged_signatures_from_one_address_are_refused_before_they_are_checked() {
    let app = TestApp::spawn_with(|c| c.auth.login_failures_per_client = 3).await;
    let s = service(&app, "FORGERY").await;
    let state = uuid::Uuid::new_v4().to_string();
    let description = |url: String| {
        let app = &app;
        async move {
            let back = TestApp::location(&app.get(&url).await);
            param(&back, "error_description").unwrap()
        }
    };
    for _ in 0..3 {
        let d = description(ac_v2(&s, &state, &now_ts(), |_, m| m.push('x'))).await;
        assert!(d.starts_with("ESIA-007053: client_secret"), "{d}");
    }
    // The address has spent its failures: even a right signature waits now, and the refusal
    // says why.
    let d = description(ac_v2(&s, &state, &now_ts(), |_, _| {})).await;
    assert!(
        d.contains("Слишком много запросов с неверной подписью"),
        "{d}"
    );
}
