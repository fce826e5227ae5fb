//! The catalogue's pages: every category, a category, a service's card, search results and the
//! search box's completions. All of it works without JavaScript; the completions are an extra.

use askama::Template;
use axum::{
    Json,
    extract::{Path, Query, State},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use uslugi_core::services::catalogue::{Catalogue, Recipient, Service};

use crate::{
    AppError, AppState,
    layout::{Layout, render, signed_in_layout},
    session::Session,
};

/// A service as lists show it.
#[derive(Debug)]
pub struct Card {
    /// Address.
    pub href: String,
    /// Name.
    pub title: String,
    /// One sentence.
    pub summary: String,
    /// The agency's name.
    pub agency: String,
}

fn card_of(c: &Catalogue, s: &Service) -> Card {
    Card {
        href: format!("/services/{}", s.slug),
        title: s.title.clone(),
        summary: s.summary.clone(),
        agency: c.agency_title(&s.agency).to_owned(),
    }
}

fn layout(state: &AppState, session: &Session, title: &str) -> Layout {
    if session.account_id().is_some() {
        signed_in_layout(state, session, title)
    } else {
        Layout::new(state, title)
    }
}

/// The filters of the lists.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Filters {
    /// A region code (`77`), or empty for all.
    region: String,
    /// `individual`, `sole_proprietor`, `legal_entity`, or empty for all.
    recipient: String,
}

impl Filters {
    fn keeps(&self, s: &Service) -> bool {
        let region = self.region.trim();
        let region_ok =
            region.is_empty() || s.regions.is_empty() || s.regions.iter().any(|r| r == region);
        let recipient_ok = match self.recipient.as_str() {
            "individual" => s.recipients.contains(&Recipient::Individual),
            "sole_proprietor" => s.recipients.contains(&Recipient::SoleProprietor),
            "legal_entity" => s.recipients.contains(&Recipient::LegalEntity),
            _ => true,
        };
        region_ok && recipient_ok
    }
}

#[derive(Debug, Template)]
#[template(path = "services/index.html")]
struct IndexPage {
    layout: Layout,
    heading: String,
    back: bool,
    groups: Vec<(String, String, Vec<Card>)>,
    region: String,
    recipient: String,
    action: String,
}

/// `GET /services` — every category with its services.
pub async fn index(
    State(state): State<AppState>,
    session: Session,
    Query(f): Query<Filters>,
) -> Result<Response, AppError> {
    let live = state.catalogue().await?;
    let c = &live.catalogue;
    let groups = c
        .categories
        .iter()
        .map(|cat| {
            let cards: Vec<Card> = c
                .in_category(&cat.slug)
                .filter(|s| f.keeps(s))
                .map(|s| card_of(c, s))
                .collect();
            (
                format!("/services/category/{}", cat.slug),
                cat.title.clone(),
                cards,
            )
        })
        .filter(|(_, _, cards)| !cards.is_empty())
        .collect();
    let page = IndexPage {
        layout: layout(&state, &session, "Каталог услуг"),
        heading: "Каталог услуг".into(),
        back: false,
        groups,
        region: f.region.trim().chars().take(3).collect(),
        recipient: f.recipient.clone(),
        action: "/services".into(),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /services/category/{slug}` — one category.
pub async fn category(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(f): Query<Filters>,
) -> Result<Response, AppError> {
    let live = state.catalogue().await?;
    let c = &live.catalogue;
    let cat = c.category(&slug).ok_or(AppError::NotFound)?;
    let cards: Vec<Card> = c
        .in_category(&cat.slug)
        .filter(|s| f.keeps(s))
        .map(|s| card_of(c, s))
        .collect();
    let page = IndexPage {
        layout: layout(&state, &session, &cat.title),
        heading: cat.title.clone(),
        back: true,
        groups: vec![(String::new(), String::new(), cards)],
        region: f.region.trim().chars().take(3).collect(),
        recipient: f.recipient.clone(),
        action: format!("/services/category/{}", cat.slug),
    };
    Ok(Html(render(&page)?).into_response())
}

#[derive(Debug, Template)]
#[template(path = "services/card.html")]
struct CardPage {
    layout: Layout,
    slug: String,
    title: String,
    summary: String,
    agency: String,
    category: (String, String),
    recipients: Vec<&'static str>,
    regions: String,
    level: &'static str,
    who: String,
    documents: Vec<String>,
    fee: String,
    fee_note: String,
    days: String,
    result: String,
    signed_in: bool,
    csrf_token: String,
}

/// The service's card.
async fn card_page(state: &AppState, session: &Session, slug: &str) -> Result<Response, AppError> {
    let live = state.catalogue().await?;
    let c = &live.catalogue;
    let s = c.service(slug).ok_or(AppError::NotFound)?;
    let fee = if s.fee_kopecks == 0 {
        "Бесплатно".to_owned()
    } else {
        s.fee().to_string()
    };
    let fee_note = match s.online_fee_kopecks {
        Some(online) if online < s.fee_kopecks => format!(
            "При подаче заявления на портале; без портала — {}",
            uslugi_domain::Money::from_kopecks(s.fee_kopecks)
        ),
        _ => String::new(),
    };
    let cat = c.category(&s.category);
    let page = CardPage {
        layout: layout(state, session, &s.title),
        slug: s.slug.clone(),
        title: s.title.clone(),
        summary: s.summary.clone(),
        agency: c.agency_title(&s.agency).to_owned(),
        category: cat.map_or_else(Default::default, |cat| {
            (
                format!("/services/category/{}", cat.slug),
                cat.title.clone(),
            )
        }),
        recipients: s.recipients.iter().map(|r| r.label()).collect(),
        regions: if s.regions.is_empty() {
            "Вся Россия".into()
        } else {
            format!("Регионы с кодами {}", s.regions.join(", "))
        },
        level: level_phrase(s.level()),
        who: s.who.clone(),
        documents: s.documents.clone(),
        fee,
        fee_note,
        days: uslugi_domain::format_count(
            u64::from(s.days),
            "рабочий день",
            "рабочих дня",
            "рабочих дней",
        ),
        result: s.result.clone(),
        signed_in: session.account_id().is_some(),
        csrf_token: session.csrf_token(state),
    };
    Ok(Html(render(&page)?).into_response())
}

/// «стандартная или подтверждённая» — the levels that may apply.
pub fn level_phrase(level: uslugi_domain::AccountLevel) -> &'static str {
    use uslugi_domain::AccountLevel as L;
    match level {
        L::Simplified => "любая",
        L::Standard => "стандартная или подтверждённая",
        L::Confirmed => "подтверждённая",
    }
}

/// `GET /services/{slug}`.
pub async fn card(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    card_page(&state, &session, &slug).await
}

/// The search box.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
}

#[derive(Debug, Template)]
#[template(path = "services/search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    results: Vec<Card>,
    found: String,
}

/// `GET /search?q=…` — results, best first.
pub async fn search(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let live = state.catalogue().await?;
    let query: String = q.q.trim().chars().take(200).collect();
    let results: Vec<Card> = if query.is_empty() {
        Vec::new()
    } else {
        live.index
            .search(&query, 20)
            .into_iter()
            .filter_map(|h| {
                live.catalogue
                    .service(&h.slug)
                    .map(|s| card_of(&live.catalogue, s))
            })
            .collect()
    };
    let found = if query.is_empty() {
        String::new()
    } else if results.is_empty() {
        "Ничего не нашлось. Попробуйте другими словами или посмотрите каталог".into()
    } else {
        format!(
            "{} по запросу «{query}»",
            uslugi_domain::format_count(results.len() as u64, "услуга", "услуги", "услуг")
        )
    };
    let title = if query.is_empty() {
        "Поиск услуг".to_owned()
    } else {
        format!("Поиск: {query}")
    };
    let page = SearchPage {
        layout: layout(&state, &session, &title),
        q: query,
        results,
        found,
    };
    Ok(Html(render(&page)?).into_response())
}

/// A completion for the search box.
#[derive(Debug, serde::Serialize)]
pub struct Suggestion {
    /// The service's name.
    title: String,
    /// Its card.
    href: String,
}

/// `GET /services/suggest?q=…` — up to 8 services as the person types (JSON).
pub async fn suggest(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<Suggestion>>, AppError> {
    let live = state.catalogue().await?;
    let query: String = q.q.chars().take(100).collect();
    Ok(Json(
        live.index
            .suggest(&query, 8)
            .into_iter()
            .map(|(slug, title)| Suggestion {
                href: format!("/services/{slug}"),
                title,
            })
            .collect(),
    ))
}
