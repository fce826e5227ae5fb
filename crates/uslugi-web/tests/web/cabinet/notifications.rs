//! Alerts: every one kept in the cabinet («Уведомления»), the channels chosen in
//! «Безопасность» → «Уведомления», and new-device alerts that cannot be turned off.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_testkit::{STRONG_PASSWORD, TestApp, browser};

const PHONE: &str = "+79120001101";

fn new_device_sms(out: &[serde_json::Value]) -> usize {
    out.iter()
        .filter(|m| {
            m["to"] == PHONE
                && m["body"]
                    .as_str()
                    .unwrap_or("")
                    .contains("нового устройства")
        })
        .count()
}

async fn sign_in_elsewhere(app: &TestApp, ua: &str) {
    let r = app
        .submit_as(
            &browser(ua),
            "/login",
            "/login",
            &[("login", PHONE), ("password", STRONG_PASSWORD)],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/cabinet");
}

#[tokio::test]
async fn new_device_alerts_follow_the_chosen_channels_and_stay_in_the_cabinet() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", PHONE).await;
    // A first sign-in from another browser: by SMS and in the cabinet.
    app.sign_out().await;
    app.password_step(PHONE).await;
    sign_in_elsewhere(&app, "Mozilla/5.0 (Windows NT 10.0) Chrome/156.0").await;
    app.drain_worker().await;
    assert_eq!(new_device_sms(&app.dev_outbox().await), 1);
    let (_, cabinet) = app.get_text("/cabinet").await;
    assert!(cabinet.contains("1 новое"), "{cabinet}");
    let (_, list) = app.get_text("/notifications").await;
    assert!(list.contains("Вход с нового устройства"));
    assert!(list.contains("Chrome, Windows"));
    assert!(list.contains("Новое"));
    // Seen once, no longer new.
    assert!(!app.get_text("/cabinet").await.1.contains("новое"));

    // Turning every channel of the new-device alert off is refused at the field.
    let r = app
        .submit_as(
            &app.client,
            "/security/alerts",
            "/security/alerts",
            &[("data_check_sms", "yes")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("отключить нельзя"), "{page}");
    // Only e-mail (the account has none): the SMS stops, the cabinet still gets it.
    let r = app
        .submit_as(
            &app.client,
            "/security/alerts",
            "/security/alerts",
            &[("new_device_email", "yes")],
        )
        .await;
    assert_eq!(TestApp::location(&r), "/security/alerts");
    let (_, page) = app.get_text("/security/alerts").await;
    assert!(page.contains("Настройки уведомлений сохранены"));
    assert!(!page.contains(
        r#"id="new_device_sms" name="new_device_sms" type="checkbox" value="yes" checked"#
    ));
    assert!(page.contains(
        r#"id="new_device_email" name="new_device_email" type="checkbox" value="yes" checked"#
    ));
    sign_in_elsewhere(&app, "Mozilla/5.0 (Macintosh; Mac OS X 14) Firefox/140.0").await;
    app.drain_worker().await;
    assert_eq!(new_device_sms(&app.dev_outbox().await), 1, "no second SMS");
    let (_, list) = app.get_text("/notifications").await;
    assert!(list.contains("Firefox, macOS"));
}

#[tokio::test]
async fn security_alerts_reach_the_cabinet_too() {
    let app = TestApp::spawn().await;
    app.register_by_phone("Смирнова", "Анна", PHONE).await;
    app.enable_totp().await;
    let (_, list) = app.get_text("/notifications").await;
    assert!(list.contains("Изменение способов входа"), "{list}");
    assert!(list.contains("приложения-аутентификатора"));
}
