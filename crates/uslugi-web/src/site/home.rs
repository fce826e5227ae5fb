//! The home page.

use askama::Template;
use axum::{extract::State, response::Html};

use crate::{
    AppError, AppState,
    layout::{Layout, render},
    session::Session,
};

#[derive(Debug, Template)]
#[template(path = "home/index.html")]
struct HomePage {
    layout: Layout,
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

/// `GET /` — anyone.
pub async fn get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Html<String>, AppError> {
    let mut layout = Layout::new(&state, "Портал государственных услуг");
    layout.csrf_token = session.existing_csrf_token();
    let live = state.catalogue().await?;
    let popular = popular_block(&state, &live)?;
    Ok(Html(render(&HomePage {
        layout,
        q: "",
        popular,
    })?))
}
