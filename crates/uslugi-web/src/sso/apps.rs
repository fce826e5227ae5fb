//! `/security/apps` — «Доступ сервисов к данным»: the services the person lets see their data,
//! and «Отозвать».

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::sso::oidc::apps;

use crate::{
    AppError, AppState,
    context::ctx,
    layout::signed_in_layout,
    layout::{self, Layout, render},
    principal::Citizen,
    session::Session,
    sso::oauth::scope_label,
};

#[derive(Debug)]
struct AppView {
    client_id: String,
    name: String,
    items: Vec<&'static str>,
    granted: String,
}

#[derive(Debug, Template)]
#[template(path = "security/apps.html")]
struct AppsPage {
    layout: Layout,
    csrf_token: String,
    flash: Option<String>,
    apps: Vec<AppView>,
}

/// `GET /security/apps` — the signed-in person.
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let apps = apps::list(ctx(&state), account_id)
        .await?
        .into_iter()
        .map(|a| {
            let mut items: Vec<&'static str> =
                a.scopes.split(' ').filter_map(scope_label).collect();
            items.dedup();
            AppView {
                client_id: a.client_id,
                name: a.name,
                items,
                granted: layout::date(a.granted_at),
            }
        })
        .collect();
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let page = AppsPage {
        layout: signed_in_layout(&state, &session, "Доступ сервисов к данным"),
        csrf_token: session.csrf_token(&state),
        flash,
        apps,
    };
    Ok(Html(render(&page)?).into_response())
}

/// The service to withdraw from.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WithdrawForm {
    client_id: String,
}

/// `POST /security/apps/withdraw` — the signed-in person. Repeating it changes nothing.
pub async fn withdraw(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    form: Result<Form<WithdrawForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let account_id = citizen.account_id;
    if apps::withdraw(ctx(&state), account_id, &form.client_id).await? {
        session.insert(&state, "flash", &"Разрешение отозвано");
    }
    Ok(Redirect::to("/security/apps").into_response())
}
