//! Passport scans: type by content, size limit, encrypted storage, owner-only download.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use reqwest::multipart::{Form, Part};
use uslugi_testkit::TestApp;

fn png() -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    v.extend_from_slice(b"IHDR-this-is-a-test-image-body-0123456789");
    v.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    v
}

async fn upload(app: &TestApp, name: &str, bytes: Vec<u8>, with_token: bool) -> reqwest::Response {
    let token = app.hidden_field("/profile/personal", "csrf_token").await;
    let url = if with_token {
        app.url(&format!("/profile/personal/scan?csrf_token={token}"))
    } else {
        app.url("/profile/personal/scan")
    };
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    app.client
        .post(url)
        .header("origin", &app.base_url)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_png_scan_is_stored_encrypted_and_served_to_its_owner_only() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000301")
        .await;
    let r = upload(&app, "Паспорт Смирновой.png", png(), true).await;
    assert_eq!(TestApp::location(&r), "/profile/personal");
    let (_, page) = app.get_text("/profile/personal").await;
    assert!(page.contains("Скан паспорта загружен"));
    assert!(
        page.contains("Паспорт Смирновой.png</a>, PNG, 1 КБ"),
        "{page}"
    );
    let at = page.find("/profile/uploads/").unwrap();
    let link = &page[at..at + 17 + 36];

    let r = app.get(link).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());

    // On disk the bytes are ciphertext.
    let dir = app.state.config.data_dir.join("objects");
    let id = &link[17..];
    let stored = std::fs::read(dir.join(&id[..2]).join(id)).unwrap();
    assert!(!stored.windows(20).any(|w| w == &png()[8..28]));

    // Someone else, signed in to another account, gets nothing.
    let token = app.hidden_field("/cabinet", "csrf_token").await;
    app.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(app.get(link).await.status(), 404, "signed out");
    app.register_by_phone("Кузнецов", "Дмитрий", "+79120000302")
        .await;
    assert_eq!(app.get(link).await.status(), 404, "another account");
}

#[tokio::test]
async fn other_formats_damaged_and_oversized_files_are_refused_with_the_allowed_types() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000303")
        .await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "scan.tiff",
            vec![0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0],
            "Загрузите файл JPG, PNG или PDF",
        ),
        (
            "photo.heic",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
            "Загрузите файл JPG, PNG или PDF",
        ),
        (
            "passport.jpg",
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff".to_vec(),
            "Загрузите файл JPG, PNG или PDF",
        ),
        (
            "passport.jpg",
            vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F'],
            "повреждён",
        ),
        ("empty.pdf", vec![], "Файл пустой"),
        (
            "big.pdf",
            {
                let mut v = b"%PDF-1.7\n".to_vec();
                v.resize(5 * 1024 * 1024 + 10, b' ');
                v.extend_from_slice(b"%%EOF");
                v
            },
            "Файл больше 5 МБ",
        ),
    ];
    for (name, bytes, message) in cases {
        let r = upload(&app, name, bytes, true).await;
        assert_eq!(r.status(), 422, "{name}");
        let html = r.text().await.unwrap();
        assert!(html.contains(message), "{name}: {html}");
        assert!(html.contains("<title>Ошибка: Личные данные"));
    }
    assert!(
        !app.get_text("/profile/personal")
            .await
            .1
            .contains("/profile/uploads/"),
        "nothing stored"
    );
}

#[tokio::test]
async fn an_upload_without_the_token_is_refused() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000304")
        .await;
    assert_eq!(upload(&app, "a.png", png(), false).await.status(), 403);
}

#[tokio::test]
async fn a_new_scan_replaces_the_old_one_on_disk_too() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", "+79120000303")
        .await;
    let link_of = |page: &str| {
        let at = page.find("/profile/uploads/").unwrap();
        page[at..at + 17 + 36].to_owned()
    };
    upload(&app, "Первый.png", png(), true).await;
    let first = link_of(&app.get_text("/profile/personal").await.1);
    for _ in 0..3 {
        upload(&app, "Ещё один.png", png(), true).await;
    }
    let last = link_of(&app.get_text("/profile/personal").await.1);
    assert_ne!(first, last);
    assert_eq!(
        app.get(&first).await.status(),
        404,
        "the replaced scan is gone"
    );
    assert_eq!(app.get(&last).await.status(), 200);
    // One file on disk for the account, however often it uploads.
    let dir = app.state.config.data_dir.join("objects");
    let id = &last[17..];
    assert!(dir.join(&id[..2]).join(id).exists());
    let first_id = &first[17..];
    assert!(!dir.join(&first_id[..2]).join(first_id).exists());
}
