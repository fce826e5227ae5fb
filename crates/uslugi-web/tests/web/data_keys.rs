//! Rotation of the personal-data key over a portal in use: every value and file rewritten, the
//! old key retired, and the person's data, second factor and scan still theirs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

use reqwest::multipart::{Form, Part};
use uslugi_core::{identity::uploads, kernel::rekey};
use uslugi_testkit::TestApp;

fn png() -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    v.extend_from_slice(b"IHDR-rotation-test-image-body");
    v.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    v
}

/// The path of the scan's download link (the page shows it only until the data is verified).
async fn scan_link(app: &TestApp) -> String {
    use uslugi_store::sea_orm::EntityTrait;
    let row = uslugi_store::entities::uploads::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .expect("the scan's row");
    format!("/profile/uploads/{}", row.id)
}

#[tokio::test]
async fn the_data_key_rotates_under_a_portal_in_use_and_the_old_key_retires() {
    let app = TestApp::spawn().await;
    let phone = "+79120000811";
    let person = app.standard_citizen(phone).await;
    let (totp, _) = app.enable_totp().await;
    let token = app.hidden_field("/profile/personal", "csrf_token").await;
    let r = app
        .client
        .post(app.url(&format!("/profile/personal/scan?csrf_token={token}")))
        .header("origin", &app.base_url)
        .multipart(Form::new().part("file", Part::bytes(png()).file_name("Паспорт.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(TestApp::location(&r), "/profile/personal");
    let link = scan_link(&app).await;
    // The token signing keys are made on first use.
    assert_eq!(app.get("/oauth2/jwks").await.status(), 200);
    app.drain_worker().await;
    let db = app.db();
    let columns = uslugi_app::encrypted_columns();
    let objects = uslugi_app::objects(&app.state.config);

    // Before: the old key encrypts data in every feature.
    let before: Vec<String> = rekey::anywhere(db, "k1")
        .await
        .unwrap()
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    for column in [
        "accounts.name",
        "account_contacts.value",
        "personal_data.data",
        "second_factors.secret",
        "uploads.file_name",
        "notifications.title",
        "signing_keys.private_key",
        "dev_messages.body",
        "outbox.body",
        "sessions.client_info",
    ] {
        assert!(before.iter().any(|c| c == column), "{column} in {before:?}");
    }

    // A new key becomes active; a batch of 2 rows makes every column take several pages.
    let (rotated, kid) = app.state.keys.with_new_active_data_key().unwrap();
    assert_eq!(kid, "k2");
    let reports = rekey::reencrypt(db, rotated.cipher(), &columns, 2)
        .await
        .unwrap();
    assert!(reports.iter().all(|r| r.unreadable == 0), "{reports:?}");
    let rewritten: u64 = reports.iter().map(|r| r.rewritten).sum();
    assert!(rewritten >= 10, "{reports:?}");
    let (files, end) =
        uploads::reencrypt_objects(db, rotated.cipher(), objects.as_ref(), None, 2, u64::MAX)
            .await
            .unwrap();
    assert_eq!((files.rewritten, end), (1, None), "{files:?}");

    // Nothing anywhere in the schema, and no file, is left under the old key: the features'
    // lists of encrypted columns are complete for everything this person produced.
    assert_eq!(rekey::anywhere(db, "k1").await.unwrap(), vec![]);
    assert_eq!(
        uploads::objects_by_key(db, objects.as_ref(), &["k1".into(), "k2".into()])
            .await
            .unwrap(),
        vec![("k2".to_owned(), 1)]
    );
    // Running it again has nothing to do.
    let again = rekey::reencrypt(db, rotated.cipher(), &columns, 500)
        .await
        .unwrap();
    assert_eq!(again.iter().map(|r| r.rewritten).sum::<u64>(), 0);

    // A node with only the new key serves the person: sign-in with the app's code, the personal
    // data, the scan, the notifications, the token signing keys.
    let node = app
        .restarted_with(rotated.without_data_key("k1").unwrap())
        .await;
    node.sign_in_with_totp(phone, &totp).await;
    let (status, page) = node.get_text("/profile/personal").await;
    assert_eq!(status, 200);
    let data = person.data.unwrap();
    assert!(page.contains(&data.address), "the address is shown");
    let r = node.get(&link).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    let (status, page) = node.get_text("/notifications").await;
    assert_eq!(status, 200);
    assert!(!page.contains("Не удалось"), "{page}");
    let (status, _) = node.get_text("/oauth2/jwks").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_value_no_key_decrypts_is_reported_and_keeps_its_key_id() {
    let app = TestApp::spawn().await;
    app.signed_in_citizen("+79120000812").await;
    let db = app.db();
    use uslugi_store::sea_orm::ConnectionTrait;
    db.execute_unprepared(
        "UPDATE accounts SET name = 'k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'",
    )
    .await
    .unwrap();
    let (rotated, _) = app.state.keys.with_new_active_data_key().unwrap();
    let reports = rekey::reencrypt(db, rotated.cipher(), &uslugi_app::encrypted_columns(), 100)
        .await
        .unwrap();
    let names = reports
        .iter()
        .find(|r| r.column == "accounts.name")
        .unwrap();
    assert_eq!(names.unreadable, 1);
    assert_eq!(
        rekey::anywhere(db, "k1").await.unwrap(),
        vec![("accounts.name".to_owned(), 1)]
    );
}

#[tokio::test]
async fn the_worker_re_encrypts_in_the_background_once_it_has_the_new_key() {
    let app = TestApp::spawn().await;
    app.standard_citizen("+79120000813").await;
    app.drain_worker().await;
    let db = app.db();
    let (rotated, kid) = app.state.keys.with_new_active_data_key().unwrap();
    let slice = |key: &str| rekey::Slice {
        key: key.to_owned(),
        cursor: rekey::Cursor::default(),
        round: 0,
    };
    assert!(rekey::schedule(db, &slice(&kid)).await.unwrap());
    // Queued once per key.
    assert!(!rekey::schedule(db, &slice(&kid)).await.unwrap());

    // A worker that still encrypts with k1 leaves the job for one restarted with the new file.
    let stats = app.worker_pass().await;
    assert_eq!(stats.jobs_done, 0, "{stats:?}");
    assert!(!rekey::anywhere(db, "k1").await.unwrap().is_empty());

    // The job's retry waits out its backoff; make it due now, as time would.
    use uslugi_store::sea_orm::ConnectionTrait;
    db.execute_unprepared("UPDATE jobs SET run_at = 0 WHERE kind = 'data_keys.reencrypt'")
        .await
        .unwrap();
    let node = app.restarted_with(rotated).await;
    node.drain_worker().await;
    assert_eq!(rekey::anywhere(db, "k1").await.unwrap(), vec![]);
    // The person's data reads with the new key alone.
    let node = app
        .restarted_with(node.state.keys.without_data_key("k1").unwrap())
        .await;
    let cabinet = uslugi_core::identity::accounts::cabinet(
        &node.state.reader,
        &node.state.keys,
        app.account_of("+79120000813").await,
    )
    .await;
    assert!(matches!(cabinet, Ok(Some(_))), "{cabinet:?}");
}
