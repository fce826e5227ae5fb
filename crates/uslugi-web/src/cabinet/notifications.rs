//! `/notifications`: alerts kept in the cabinet; `/security/alerts`: where alerts go.

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::cabinet::alerts::{self, Prefs, PrefsError};

use crate::{
    AppError, AppState,
    forms::FieldErrors,
    layout::signed_in_layout,
    layout::{Layout, render},
    principal::Citizen,
    session::Session,
};

struct ItemView {
    title: String,
    body: String,
    when: String,
    unread: bool,
}

impl std::fmt::Debug for ItemView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemView")
            .field("unread", &self.unread)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Template)]
#[template(path = "notifications/index.html")]
struct ListPage {
    layout: Layout,
    items: Vec<ItemView>,
}

/// `GET /notifications` — the signed-in person: the newest 50, marked read by being shown.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let items = alerts::list_and_mark_read(&state.db, &state.keys, account_id).await?;
    let page = ListPage {
        layout: signed_in_layout(&state, &session, "Уведомления"),
        items: items
            .into_iter()
            .map(|n| ItemView {
                title: n.title,
                body: n.body,
                when: crate::layout::date_time(n.at),
                unread: n.unread,
            })
            .collect(),
    };
    Ok(Html(render(&page)?).into_response())
}

#[derive(Debug, Template)]
#[template(path = "security/alerts.html")]
struct AlertsPage {
    layout: Layout,
    csrf_token: String,
    flash: Option<String>,
    prefs: Prefs,
    errors: FieldErrors,
}

fn alerts_page(
    state: &AppState,
    session: &Session,
    prefs: Prefs,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let page = AlertsPage {
        layout: signed_in_layout(state, session, "Уведомления").with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        flash,
        prefs,
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /security/alerts` — the signed-in person.
pub async fn settings_get(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let prefs = alerts::prefs(&state.db, account_id).await?;
    alerts_page(&state, &session, prefs, FieldErrors::default())
}

/// The checkboxes as posted (a checkbox that is off is absent).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PrefsForm {
    new_device_sms: String,
    new_device_email: String,
    data_check_sms: String,
    data_check_email: String,
    applications_sms: String,
    applications_email: String,
}

/// `POST /security/alerts` — the signed-in person.
pub async fn settings_post(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    form: Result<Form<PrefsForm>, FormRejection>,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let prefs = Prefs {
        new_device_sms: form.new_device_sms == "yes",
        new_device_email: form.new_device_email == "yes",
        data_check_sms: form.data_check_sms == "yes",
        data_check_email: form.data_check_email == "yes",
        applications_sms: form.applications_sms == "yes",
        applications_email: form.applications_email == "yes",
    };
    match alerts::set_prefs(&state.db, account_id, prefs).await {
        Ok(()) => {
            session.insert(&state, "flash", &"Настройки уведомлений сохранены");
            Ok(Redirect::to("/security/alerts").into_response())
        }
        Err(PrefsError::NewDeviceOff) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "new_device_sms",
                "Уведомления о входе с нового устройства отключить нельзя: оставьте СМС или электронную почту",
            );
            alerts_page(&state, &session, prefs, errors)
        }
        Err(PrefsError::Store(e)) => Err(e.into()),
    }
}
