//! The catalogue's pages and search, as anyone reaches them.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_testkit::TestApp;

#[tokio::test]
async fn the_catalogue_lists_categories_cards_and_filters() {
    let app = TestApp::spawn().await;
    let (status, page) = app.get_text("/services").await;
    assert_eq!(status, 200);
    assert!(page.contains("Каталог услуг"));
    assert!(page.contains("/services/foreign-passport-new"), "{page}");
    let (status, card) = app.get_text("/services/egrn-extract").await;
    assert_eq!(status, 200);
    assert!(card.contains("Выписка из ЕГРН"));
    assert!(card.contains("350\u{a0}₽"), "the fee in roubles: {card}");
    assert!(card.contains("стандартная или подтверждённая"));
    assert!(
        card.contains("Войти, чтобы получить услугу"),
        "signed out: no apply button"
    );
    assert_eq!(app.get("/services/no-such-service").await.status(), 404);
    assert_eq!(app.get("/services/category/no-such").await.status(), 404);
    // Regional services show only for their regions; a legal entity finds no kindergarten.
    let (_, moscow_region) = app.get_text("/services?region=50").await;
    let (_, elsewhere) = app.get_text("/services?region=99").await;
    assert!(
        moscow_region.contains("/services/kindergarten"),
        "{moscow_region}"
    );
    assert!(!elsewhere.contains("/services/kindergarten"));
    let (_, companies) = app.get_text("/services?recipient=legal_entity").await;
    assert!(!companies.contains("/services/kindergarten"));
    // The home page shows the popular ones.
    let (_, home) = app.get_text("/").await;
    assert!(home.contains("Популярные услуги"));
    assert!(home.contains("/services/"), "{home}");
}

#[tokio::test]
async fn search_understands_everyday_words_and_completes_in_the_box() {
    let app = TestApp::spawn().await;
    let first = |page: &str| {
        let at = page.find("results__title").expect("a result");
        page[at..].split("</a>").next().unwrap().to_owned()
    };
    let (status, page) = app.get_text("/search?q=справку+о+несудимости").await;
    assert_eq!(status, 200);
    assert!(first(&page).contains("судимости"), "{page}");
    let (_, page) = app.get_text("/search?q=загран").await;
    assert!(first(&page).contains("аграничный паспорт"), "{page}");
    let (_, page) = app.get_text("/search?q=поменять+права").await;
    assert!(
        first(&page).contains("одительского удостоверения"),
        "{page}"
    );
    let (_, page) = app
        .get_text("/search?q=%D1%8B%D1%8B%D1%8B%D1%8B%D1%8B")
        .await;
    assert!(page.contains("Ничего не нашлось"), "{page}");
    // Markup in the query is shown as text.
    let (_, page) = app.get_text("/search?q=%3Cscript%3E").await;
    assert!(!page.contains("<script>"));
    let r = app.get("/services/suggest?q=загранпасп").await;
    assert_eq!(r.status(), 200);
    let list: serde_json::Value = r.json().await.unwrap();
    assert!(
        list[0]["title"]
            .as_str()
            .unwrap()
            .contains("аграничный паспорт"),
        "{list}"
    );
}
