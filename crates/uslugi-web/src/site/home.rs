//! The home page.

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Html,
};

use crate::{
    AppError, AppState,
    layout::{Layout, render},
    session::Session,
};

#[derive(Debug, Template)]
#[template(path = "home/index.html")]
struct HomePage {
    layout: Layout,
    signed_in: bool,
    signed_out: bool,
    q: &'static str,
    /// The popular services' block, rendered (and escaped) once per catalogue version.
    popular: std::sync::Arc<str>,
}

#[derive(Debug, Template)]
#[template(path = "services/_popular.html")]
struct Popular {
    popular: Vec<(String, String, String)>,
}

/// The popular block of the catalogue version last rendered (kept in the state).
fn popular_block(
    state: &AppState,
    live: &uslugi_core::services::catalogue::Live,
) -> Result<std::sync::Arc<str>, AppError> {
    let mut cached = state
        .home_popular
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((version, html)) = cached.as_ref()
        && *version == live.version
    {
        return Ok(html.clone());
    }
    let html: std::sync::Arc<str> = render(&Popular {
        popular: live
            .catalogue
            .popular()
            .map(|s| {
                (
                    format!("/services/{}", s.slug),
                    s.title.clone(),
                    s.summary.clone(),
                )
            })
            .collect(),
    })?
    .into();
    *cached = Some((live.version, html.clone()));
    Ok(html)
}

/// `/?out=1` after signing out.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct HomeQuery {
    out: Option<String>,
}

/// `GET /` — anyone.
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HomeQuery>,
) -> Result<Html<String>, AppError> {
    let mut layout = Layout::new(&state, "Портал государственных услуг");
    layout.csrf_token = session.existing_csrf_token();
    let signed_in = session.account_id().is_some();
    if signed_in {
        layout.account_name = Some("Личный кабинет".into());
    }
    let live = state.catalogue().await?;
    let popular = popular_block(&state, &live)?;
    Ok(Html(render(&HomePage {
        layout,
        signed_in,
        signed_out: !signed_in && q.out.is_some(),
        q: "",
        popular,
    })?))
}
