//! `/api/v1/services` and `/api/v1/applications` as the mobile app uses them.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use serde_json::{Value, json};
use uslugi_testkit::TestApp;

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    app.api(method, path, body).await
}

#[tokio::test]
async fn the_catalogue_and_search_answer_json() {
    let app = TestApp::spawn().await;
    let (status, list) = call(&app, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 200);
    assert!(list["services"].as_array().unwrap().len() >= 30);
    let (_, found) = call(&app, "GET", "/api/v1/services?q=загран", None).await;
    assert!(
        found["services"][0]["title"]
            .as_str()
            .unwrap()
            .contains("аграничный"),
        "{found}"
    );
    let (status, card) = call(&app, "GET", "/api/v1/services/egrn-extract", None).await;
    assert_eq!(status, 200);
    assert_eq!(card["agency_title"], "Росреестр", "{card}");
    assert!(card["steps"][1]["fields"].as_array().unwrap().len() >= 3);
    let (status, p) = call(&app, "GET", "/api/v1/services/nothing", None).await;
    assert_eq!(
        (status, p["detail"].as_str().unwrap()),
        (404, "Такой услуги нет")
    );
}

#[tokio::test]
async fn an_application_goes_from_draft_to_sent_through_the_api() {
    let app = TestApp::spawn().await;
    let (status, _) = call(&app, "GET", "/api/v1/applications", None).await;
    assert_eq!(status, 401);
    app.standard_citizen("+79120000931").await;
    let (status, draft) = call(
        &app,
        "POST",
        "/api/v1/applications",
        Some(json!({ "service": "egrn-extract" })),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    assert_eq!(draft["status"], "draft");
    let id = draft["id"].as_str().unwrap().to_owned();
    // Steps in order, each checked by its fields' kinds.
    let (status, p) = call(
        &app,
        "PUT",
        &format!("/api/v1/applications/{id}/steps/1"),
        Some(json!({ "values": {} })),
    )
    .await;
    assert_eq!(status, 409, "{p}");
    let (status, p) = call(
        &app,
        "PUT",
        &format!("/api/v1/applications/{id}/steps/0"),
        Some(json!({ "values": { "email": "нет" } })),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(p["errors"][0]["field"], "email", "{p}");
    let (status, _) = call(
        &app,
        "PUT",
        &format!("/api/v1/applications/{id}/steps/0"),
        Some(json!({ "values": { "email": "a@example.ru" } })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, p) = call(
        &app,
        "POST",
        &format!("/api/v1/applications/{id}/send"),
        None,
    )
    .await;
    assert_eq!(status, 422, "step 2 is missing: {p}");
    let values = json!({ "values": {
        "object_type": "Жилой дом",
        "cadastral_number": "50:20:0010101:77",
        "extract_type": "Об объекте недвижимости"
    }});
    let (status, saved) = call(
        &app,
        "PUT",
        &format!("/api/v1/applications/{id}/steps/1"),
        Some(values),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["values"]["cadastral_number"], "50:20:0010101:77");
    let (status, sent) = call(
        &app,
        "POST",
        &format!("/api/v1/applications/{id}/send"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["number"].as_str().unwrap().len(), 10);
    assert_eq!(sent["history"].as_array().unwrap().len(), 1);
    // Again: the same application, nothing more.
    let (_, again) = call(
        &app,
        "POST",
        &format!("/api/v1/applications/{id}/send"),
        None,
    )
    .await;
    assert_eq!(again["number"], sent["number"]);
    assert_eq!(again["history"].as_array().unwrap().len(), 1);
    let (status, p) = call(
        &app,
        "POST",
        &format!("/api/v1/applications/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, 409, "the ЕГРН extract cannot be withdrawn: {p}");
    let (status, p) = call(&app, "DELETE", &format!("/api/v1/applications/{id}"), None).await;
    assert_eq!(status, 404, "a sent application is not a draft: {p}");
    let (_, list) = call(&app, "GET", "/api/v1/applications", None).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["applications"][0]["status_label"], "Отправлено");
    // Another person sees nothing of it.
    app.sign_out().await;
    app.signed_in_citizen("+79120000932").await;
    let (status, _) = call(&app, "GET", &format!("/api/v1/applications/{id}"), None).await;
    assert_eq!(status, 404);
    let (status, p) = call(
        &app,
        "POST",
        "/api/v1/applications",
        Some(json!({ "service": "egrn-extract" })),
    )
    .await;
    assert_eq!(status, 403, "a simplified account: {p}");
    assert!(p["detail"].as_str().unwrap().contains("стандартная"), "{p}");
    let (status, _) = call(&app, "GET", "/api/v1/applications/not-a-uuid", None).await;
    assert_eq!(status, 404);
}
