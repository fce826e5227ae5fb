//! The personal cabinet and signing out.

use askama::Template;
use axum::{
    extract::State,
    response::{Html, IntoResponse, Redirect, Response},
};
use uslugi_core::identity::accounts::{self, CheckState, Contact};
use uslugi_domain::AccountLevel;

use crate::{
    AppError, AppState,
    layout::signed_in_layout,
    layout::{Layout, render},
    principal::Citizen,
    session::Session,
};

#[derive(Debug, Template)]
#[template(path = "cabinet/index.html")]
struct CabinetPage {
    layout: Layout,
    flash: Option<String>,
    greeting: String,
    full_name: String,
    level_label: &'static str,
    level_is_simplified: bool,
    contacts: Vec<(&'static str, String)>,
    check: &'static str,
    unread: String,
}

/// `GET /cabinet` — the signed-in person.
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
) -> Result<Response, AppError> {
    let Some(view) = accounts::cabinet(&state.reader, &state.keys, citizen.account_id)
        .await
        .map_err(AppError::internal)?
    else {
        session.destroy();
        return Ok(Redirect::to("/").into_response());
    };
    let account = view.account;
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let contacts = account
        .contacts
        .iter()
        .map(|c| match c {
            Contact::Phone(p) => ("Мобильный телефон", p.to_string()),
            Contact::Email(e) => ("Электронная почта", e.to_string()),
        })
        .collect();
    let check = match view.check {
        CheckState::None => "",
        CheckState::Pending => "pending",
        CheckState::Verified => "verified",
        CheckState::Failed => "failed",
    };
    let page = CabinetPage {
        layout: signed_in_layout(&state, &session, "Личный кабинет"),
        flash,
        greeting: format!("Здравствуйте, {}!", account.name.polite()),
        full_name: account.name.full(),
        level_label: account.level.label(),
        level_is_simplified: account.level == AccountLevel::Simplified,
        contacts,
        check,
        unread: match view.unread {
            0 => String::new(),
            n => uslugi_domain::format_count(n, "новое", "новых", "новых"),
        },
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /logout` — anyone; ends the session.
pub async fn logout(session: Session) -> Response {
    session.destroy();
    Redirect::to("/?out=1").into_response()
}
