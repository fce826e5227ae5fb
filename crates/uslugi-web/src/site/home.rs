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
    popular: Vec<(String, String, String)>,
}

/// `GET /` — anyone.
pub async fn get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Html<String>, AppError> {
    let mut layout = Layout::new(&state, "Портал государственных услуг");
    layout.csrf_token = session.existing_csrf_token();
    let live = state.catalogue().await?;
    let popular = live
        .catalogue
        .popular()
        .map(|s| {
            (
                format!("/services/{}", s.slug),
                s.title.clone(),
                s.summary.clone(),
            )
        })
        .collect();
    Ok(Html(render(&HomePage {
        layout,
        q: "",
        popular,
    })?))
}
