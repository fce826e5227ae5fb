//! Static information pages linked from the footer.

use askama::Template;
use axum::{extract::State, response::Html};

use crate::{
    AppError, AppState,
    layout::{Layout, render},
};

#[derive(Debug, Template)]
#[template(path = "home/help.html")]
struct HelpPage {
    layout: Layout,
}

#[derive(Debug, Template)]
#[template(path = "home/privacy.html")]
struct PrivacyPage {
    layout: Layout,
}

#[derive(Debug, Template)]
#[template(path = "home/accessibility.html")]
struct AccessibilityPage {
    layout: Layout,
}

/// `GET /help` — anyone.
pub async fn help(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    Ok(Html(render(&HelpPage {
        layout: Layout::new(&state, "Помощь"),
    })?))
}

/// `GET /privacy` — anyone.
pub async fn privacy(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    Ok(Html(render(&PrivacyPage {
        layout: Layout::new(&state, "Политика конфиденциальности"),
    })?))
}

/// `GET /accessibility` — anyone.
pub async fn accessibility(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    Ok(Html(render(&AccessibilityPage {
        layout: Layout::new(&state, "Доступность портала"),
    })?))
}
