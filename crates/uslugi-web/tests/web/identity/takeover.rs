//! The account-takeover paths, walked as an attacker would: a stolen session changing a contact,
//! a SIM swap passing the recovery's second step, parallel guesses racing the limits, password
//! checks without limits, a stranger spending the owner's factor limit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
use uslugi_store::entities::{jobs, login_attempts};
use uslugi_testkit::{STRONG_PASSWORD, TestApp, browser, now_secs, oathtool};

/// Messages the development outbox holds for `to`, newest first.
async fn messages_to(app: &TestApp, to: &str) -> Vec<serde_json::Value> {
    app.drain_worker().await;
    app.dev_outbox()
        .await
        .into_iter()
        .filter(|m| m["to"] == to)
        .collect()
}

/// Asks for a code to a new contact from `/profile/contacts/{kind}`, with the CSRF token of
/// the contacts page (what a script in a stolen session can do without loading the form).
async fn post_new_contact(app: &TestApp, kind: &str, value: &str) -> reqwest::Response {
    let token = app.hidden_field("/cabinet", "csrf_token").await;
    app.post_form(
        &format!("/profile/contacts/{kind}"),
        &[("csrf_token", &token), ("value", value)],
    )
    .await
}

#[tokio::test]
async fn a_session_alone_cannot_change_a_contact() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120001801")
        .await;
    // The registration's session, without a password check since: what a thief holds.
    let r = app.get("/profile/contacts/phone").await;
    assert_eq!(
        TestApp::location(&r),
        "/security/confirm?next=/profile/contacts/phone"
    );
    let r = post_new_contact(&app, "phone", "+79120001899").await;
    assert_eq!(
        TestApp::location(&r),
        "/security/confirm?next=/profile/contacts/phone"
    );
    assert!(
        messages_to(&app, "+79120001899").await.is_empty(),
        "a code went to the thief's number"
    );
    // A wrong password gets nowhere either.
    let r = app
        .submit_as(
            &app.client,
            "/security/confirm?next=/profile/contacts/phone",
            "/security/confirm",
            &[
                ("password", "Чужой-Пароль#1"),
                ("next", "/profile/contacts/phone"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        TestApp::location(&app.get("/profile/contacts/phone").await),
        "/security/confirm?next=/profile/contacts/phone"
    );
}

#[tokio::test]
async fn with_a_factor_on_a_contact_change_asks_for_it_after_the_password() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120001802")
        .await;
    let (secret, _) = app.enable_totp().await;
    let r = app
        .submit_as(
            &app.client,
            "/security/confirm?next=/profile/contacts/email",
            "/security/confirm",
            &[
                ("password", STRONG_PASSWORD),
                ("next", "/profile/contacts/email"),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/login/factor");
    // The password alone does not open the form.
    assert_eq!(
        TestApp::location(&app.get("/profile/contacts/email").await),
        "/security/confirm?next=/profile/contacts/email"
    );
    let (_, page) = app.get_text("/login/factor").await;
    assert!(page.contains("Подтверждение действия"), "{page}");
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[
                ("method", "totp"),
                ("code", &oathtool(&secret, now_secs() + 30)),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/profile/contacts/email");
    assert_eq!(app.get("/profile/contacts/email").await.status(), 200);
    // Still signed in as before (a step-up is not a new sign-in).
    assert_eq!(app.get("/cabinet").await.status(), 200);
}

/// Lets every queued job come due now: the waiting period has passed.
async fn let_jobs_come_due(app: &TestApp) {
    jobs::Entity::update_many()
        .col_expr(jobs::Column::RunAt, Expr::value(0_i64))
        .filter(jobs::Column::State.eq("queued"))
        .exec(app.db())
        .await
        .unwrap();
    app.drain_worker().await;
}

async fn change_phone(app: &TestApp, new_phone: &str) -> String {
    app.reauthenticate("/profile/contacts/phone").await;
    let r = post_new_contact(app, "phone", new_phone).await;
    assert_eq!(TestApp::location(&r), "/profile/contacts/confirm");
    let code = app.sms_code(new_phone).await;
    let r = app
        .submit_as(
            &app.client,
            "/profile/contacts/confirm",
            "/profile/contacts/confirm",
            &[("code", &code)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/profile/contacts");
    app.get_text("/profile/contacts").await.1
}

/// The cancel link sent to `to`, as a path.
async fn cancel_link(app: &TestApp, to: &str) -> String {
    let sms = messages_to(app, to)
        .await
        .into_iter()
        .find(|m| m["body"].as_str().unwrap().contains("/contacts/cancel/"))
        .expect("a cancel link to the old contact");
    let body = sms["body"].as_str().unwrap();
    let at = body.find("/contacts/cancel/").unwrap();
    body[at..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_phone_waits_out_the_delay_and_the_old_one_can_cancel_it() {
    let app = TestApp::spawn().await;
    let (old, new) = ("+79120001803", "+79120001804");
    app.register_by_phone("Смирнова", "Анна", old).await;
    let page = change_phone(&app, new).await;
    assert!(page.contains("начнёт действовать"), "{page}");
    assert!(
        page.contains("+7 912 000-18-03"),
        "the old number is still the account's"
    );
    // The new number is not a login yet; the old one is.
    let thief = browser("thief");
    let r = app
        .submit_as(
            &thief,
            "/login",
            "/login",
            &[("login", new), ("password", STRONG_PASSWORD)],
        )
        .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Неверный логин или пароль"),
        "the new number signed in before the delay"
    );
    // Recovery by the new number sends nothing to it.
    let before = messages_to(&app, new).await.len();
    app.submit_as(&thief, "/recover", "/recover", &[("login", new)])
        .await;
    assert_eq!(messages_to(&app, new).await.len(), before);

    // The owner, on the old phone, follows the link and cancels.
    let link = cancel_link(&app, old).await;
    let owner = browser("owner");
    let (_, page) = {
        let r = owner.get(app.url(&link)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert!(page.contains("Отменить изменение"), "{page}");
    let r = app.submit_as(&owner, &link, &link, &[]).await;
    assert!(r.text().await.unwrap().contains("Изменение отменено"));
    // Whoever made the change is signed out, and the change never takes effect.
    assert_eq!(TestApp::location(&app.get("/cabinet").await), "/login");
    let_jobs_come_due(&app).await;
    let r = app
        .submit_as(
            &thief,
            "/login",
            "/login",
            &[("login", new), ("password", STRONG_PASSWORD)],
        )
        .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Неверный логин или пароль")
    );
    assert_eq!(TestApp::location(&app.password_step(old).await), "/cabinet");
    // The link works once.
    let r = owner.get(app.url(&link)).send().await.unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Ссылка больше не действует")
    );
}

#[tokio::test]
async fn a_change_nobody_cancels_takes_effect_after_the_delay() {
    let app = TestApp::spawn().await;
    let (old, new) = ("+79120001805", "+79120001806");
    app.register_by_phone("Смирнова", "Анна", old).await;
    change_phone(&app, new).await;
    let_jobs_come_due(&app).await;
    let (_, page) = app.get_text("/profile/contacts").await;
    assert!(page.contains("+7 912 000-18-06"), "{page}");
    assert!(!page.contains("начнёт действовать"));
    app.sign_out().await;
    assert_eq!(TestApp::location(&app.password_step(new).await), "/cabinet");
    let told = messages_to(&app, old).await;
    assert!(
        told.iter()
            .any(|m| m["body"].as_str().unwrap().contains("изменён на")),
        "the old number was not told: {told:?}"
    );
}

#[tokio::test]
async fn the_owner_cancels_a_waiting_change_in_the_cabinet() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120001807")
        .await;
    let page = change_phone(&app, "+79120001808").await;
    let start = page.find("/profile/contacts/pending/").unwrap();
    let action = page[start..].split('"').next().unwrap().to_owned();
    let r = app
        .submit_as(&app.client, "/profile/contacts", &action, &[])
        .await;
    assert_eq!(TestApp::location(&r), "/profile/contacts");
    let (_, page) = app.get_text("/profile/contacts").await;
    assert!(page.contains("Изменение контакта отменено"));
    assert!(!page.contains("начнёт действовать"));
    let_jobs_come_due(&app).await;
    assert!(
        app.get_text("/profile/contacts")
            .await
            .1
            .contains("+7 912 000-18-07")
    );
}

/// Registers a phone account with the authenticator app and the SMS factor, signs out and
/// recovers by a code sent by SMS; returns the TOTP secret.
async fn recover_by_sms_with_two_factors(app: &TestApp, phone: &str) -> String {
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let (secret, _) = app.enable_totp().await;
    app.reauthenticate("/security/factors").await;
    app.submit_as(
        &app.client,
        "/security/factors",
        "/security/factors/sms",
        &[],
    )
    .await;
    app.sign_out().await;
    app.submit_as(&app.client, "/recover", "/recover", &[("login", phone)])
        .await;
    let code = app.sms_code(phone).await;
    let r = app
        .submit_as(
            &app.client,
            "/recover/confirm",
            "/recover/confirm",
            &[("code", &code)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/recover/password");
    assert_eq!(
        TestApp::location(&app.get("/recover/password").await),
        "/login/factor"
    );
    secret
}

#[tokio::test]
async fn a_sim_swap_does_not_pass_the_recovery_factor_step_by_sms() {
    let app = TestApp::spawn().await;
    let phone = "+79120001809";
    let secret = recover_by_sms_with_two_factors(&app, phone).await;
    let (_, page) = app.get_text("/login/factor?method=sms").await;
    assert!(!page.contains("Код по СМС"), "the page offers the SMS code");
    // Posted directly: asking for an SMS code is refused and nothing is sent.
    let before = messages_to(&app, phone).await.len();
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[("method", "sms"), ("action", "send")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        messages_to(&app, phone).await.len(),
        before,
        "an SMS code was sent"
    );
    // A code by SMS (the recovery's own, the attacker has it) is refused as the factor.
    let recovery_code = app.sms_code(phone).await;
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[("method", "sms"), ("code", &recovery_code)],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        TestApp::location(&app.get("/recover/password").await),
        "/login/factor",
        "the recovery went on without the second factor"
    );
    // The owner's app still passes it.
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[
                ("method", "totp"),
                ("code", &oathtool(&secret, now_secs() + 30)),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/recover/password");
}

fn ctx(app: &TestApp) -> uslugi_core::Ctx<'_> {
    uslugi_core::Ctx {
        db: &app.state.db,
        keys: &app.state.keys,
        config: &app.state.config,
        passwords: &app.state.passwords,
    }
}

async fn failures_of(app: &TestApp, account_id: uuid::Uuid, method: &str) -> u64 {
    login_attempts::Entity::find()
        .filter(login_attempts::Column::AccountId.eq(account_id))
        .filter(login_attempts::Column::Method.eq(method))
        .filter(login_attempts::Column::Success.eq(false))
        .count(app.db())
        .await
        .unwrap()
}

async fn account_of(app: &TestApp, phone: &str) -> uuid::Uuid {
    app.account_of(phone).await
}

#[tokio::test]
async fn parallel_password_guesses_stop_exactly_at_the_limit() {
    let app = TestApp::spawn_with(|c| {
        c.auth.login_failures_per_login = 3;
        c.auth.login_failures_per_client = 1000;
    })
    .await;
    let phone = "+79120001810";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let account = account_of(&app, phone).await;
    let guesses = (0..16).map(|i| {
        let app = &app;
        async move {
            let ip = format!("10.0.0.{i}");
            let client = uslugi_core::identity::login::Client {
                ip: &ip,
                user_agent: "guesser",
            };
            uslugi_core::identity::login::login(
                ctx(app),
                phone,
                &format!("Догадка#{i}"),
                &client,
                None,
            )
            .await
        }
    });
    let results = join_all(guesses).await;
    let judged = results
        .iter()
        .filter(|r| matches!(r, Err(uslugi_core::identity::login::LoginError::Invalid)))
        .count();
    let throttled = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(uslugi_core::identity::login::LoginError::Throttled { .. })
            )
        })
        .count();
    assert_eq!((judged, throttled), (3, 13), "{results:?}");
    assert_eq!(failures_of(&app, account, "password").await, 3);
}

#[tokio::test]
async fn parallel_factor_guesses_stop_exactly_at_the_limit() {
    let app = TestApp::spawn_with(|c| c.auth.factor_failures_per_account = 4).await;
    let phone = "+79120001811";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    app.enable_totp().await;
    let account = account_of(&app, phone).await;
    let guesses = (0..12).map(|i| {
        let app = &app;
        async move {
            let ip = format!("10.0.1.{i}");
            let client = uslugi_core::identity::login::Client {
                ip: &ip,
                user_agent: "guesser",
            };
            uslugi_core::identity::factors::verify(
                ctx(app),
                account,
                uslugi_core::identity::factors::Method::Backup,
                &format!("{:08}", 10_000_000 + i),
                None,
                &client,
            )
            .await
        }
    });
    let results = join_all(guesses).await;
    let judged = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(uslugi_core::identity::factors::FactorError::WrongCode)
            )
        })
        .count();
    assert_eq!(judged, 4, "{results:?}");
    assert_eq!(failures_of(&app, account, "backup").await, 4);
}

/// Runs the futures at once on this task and collects their results in order.
async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.unwrap()).collect()
}

#[tokio::test]
async fn the_password_change_and_deactivation_count_wrong_passwords() {
    let app = TestApp::spawn_with(|c| c.auth.login_failures_per_login = 3).await;
    app.register_by_phone("Смирнова", "Анна", "+79120001812")
        .await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let wrong = format!("Неверный#Пароль{i}");
        let r = app
            .submit_as(
                &app.client,
                "/security/password",
                "/security/password",
                &[
                    ("current_password", wrong.as_str()),
                    ("password", "Синий-Самовар#77"),
                    ("password_confirmation", "Синий-Самовар#77"),
                ],
            )
            .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200]);
    // The limit is spent: even the right password waits now, on either page.
    let r = app
        .submit_as(
            &app.client,
            "/security/password",
            "/security/password",
            &[
                ("current_password", STRONG_PASSWORD),
                ("password", "Синий-Самовар#77"),
                ("password_confirmation", "Синий-Самовар#77"),
            ],
        )
        .await;
    assert_eq!(r.status(), 429);
    let r = app
        .submit_as(
            &app.client,
            "/security/deactivate",
            "/security/deactivate",
            &[("password", STRONG_PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(app.get("/cabinet").await.status(), 200, "still active");
}

#[tokio::test]
async fn a_forged_passkey_answer_naming_someone_does_not_spend_their_factor_limit() {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let app = TestApp::spawn_with(|c| {
        c.auth.factor_failures_per_account = 3;
        c.auth.captcha_after_failures = 1000;
    })
    .await;
    let phone = "+79120001813";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let (secret, _) = app.enable_totp().await;
    let victim = account_of(&app, phone).await;
    app.sign_out().await;
    // The user handle is the account id, which every non-pairwise service sees as `sub`.
    let stranger = browser("stranger");
    let page = stranger
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = uslugi_testkit::hidden_value(&page, "csrf_token").unwrap();
    for i in 0..6_u8 {
        let r = stranger
            .post(app.url("/login/passkey/options"))
            .header("origin", &app.base_url)
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let forged = serde_json::json!({ "credential": {
            "id": URL_SAFE_NO_PAD.encode([i; 16]),
            "rawId": URL_SAFE_NO_PAD.encode([i; 16]),
            "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode([0_u8; 37]),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(b"{}"),
                "signature": URL_SAFE_NO_PAD.encode([1_u8; 64]),
                "userHandle": URL_SAFE_NO_PAD.encode(victim.as_bytes()),
            },
            "extensions": {},
        }});
        let r = stranger
            .post(app.url("/login/passkey"))
            .header("origin", &app.base_url)
            .header("x-csrf-token", &csrf)
            .json(&forged)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    assert_eq!(failures_of(&app, victim, "passkey").await, 0);
    // The owner's second step is not blocked.
    app.password_step(phone).await;
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[
                ("method", "totp"),
                ("code", &oathtool(&secret, now_secs() + 30)),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
}

#[tokio::test]
async fn an_operator_issued_password_is_changed_before_the_api_serves_anything() {
    let app = TestApp::spawn().await;
    let phone = "+79120001814";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let account = account_of(&app, phone).await;
    let temporary = uslugi_core::identity::security::issue_temporary_password(ctx(&app), account)
        .await
        .unwrap();
    let api = browser("api");
    let r = api
        .post(app.url("/api/v1/sessions"))
        .header("origin", &app.base_url)
        .json(&serde_json::json!({ "login": phone, "password": temporary }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A site session that still has to change it gets no API answers either.
    app.submit_as(
        &app.client,
        "/login",
        "/login",
        &[("login", phone), ("password", &temporary)],
    )
    .await;
    let r = app.get("/api/v1/me").await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("временным паролем"));
}

#[tokio::test]
async fn a_deactivated_account_comes_back_only_after_the_second_step() {
    let app = TestApp::spawn().await;
    let phone = "+79120001815";
    app.register_by_phone("Смирнова", "Анна", phone).await;
    let (secret, _) = app.enable_totp().await;
    let account = account_of(&app, phone).await;
    let r = app
        .submit_as(
            &app.client,
            "/security/deactivate",
            "/security/deactivate",
            &[("password", STRONG_PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let status = || async {
        uslugi_store::identity::accounts::find_account(app.db(), account)
            .await
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(status().await, "deactivated");
    assert_eq!(
        TestApp::location(&app.password_step(phone).await),
        "/login/factor"
    );
    assert_eq!(
        status().await,
        "deactivated",
        "the password alone brought it back"
    );
    let r = app
        .submit_as(
            &app.client,
            "/login/factor",
            "/login/factor",
            &[
                ("method", "totp"),
                ("code", &oathtool(&secret, now_secs() + 30)),
            ],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
    assert_eq!(status().await, "active");
}
