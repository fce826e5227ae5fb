//! The development outbox: every SMS and e-mail the portal "sent" in development mode. The
//! routes exist only in development mode (see [`crate::routes::router`]).

use askama::Template;
use axum::{
    Json,
    extract::State,
    response::{Html, IntoResponse, Response},
};
use uslugi_core::kernel::delivery::dev::{DevMessage, DevOutbox};

use crate::{
    AppError, AppState,
    layout::{Layout, render},
};

#[derive(Debug, Template)]
#[template(path = "dev/outbox.html")]
struct OutboxPage {
    layout: Layout,
    messages: Vec<DevMessage>,
}

async fn load(state: &AppState) -> Result<Vec<DevMessage>, AppError> {
    DevOutbox::list(&state.db, state.keys.cipher(), 200)
        .await
        .map_err(AppError::internal)
}

/// `GET /dev/outbox` — anyone, development mode only.
pub async fn outbox_page(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let messages = load(&state).await?;
    Ok(Html(render(&OutboxPage {
        layout: Layout::new(&state, "Отправленные сообщения"),
        messages,
    })?))
}

/// `GET /dev/outbox.json` — anyone, development mode only; newest first.
pub async fn outbox_json(State(state): State<AppState>) -> Result<Response, AppError> {
    Ok(Json(load(&state).await?).into_response())
}
