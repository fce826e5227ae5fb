//! `/staff`: the staff member's place, and one page per role (`/staff/office`, `/staff/agency`,
//! `/staff/admin`) that the role's consoles grow from. Each handler states the role it needs.

pub mod agency;

use askama::Template;
use axum::{
    extract::State,
    response::{Html, IntoResponse, Response},
};
use uslugi_domain::Role;

use crate::{
    AppError, AppState,
    layout::signed_in_layout,
    layout::{Layout, render},
    principal::{Admin, Operator, Staff},
    session::Session,
};

#[derive(Debug, Template)]
#[template(path = "staff/index.html")]
struct StaffPage {
    layout: Layout,
    heading: String,
    roles: Vec<(&'static str, Option<String>)>,
}

async fn page(
    state: &AppState,
    session: &Session,
    heading: String,
    account_id: uuid::Uuid,
) -> Result<Response, AppError> {
    let roles = uslugi_core::identity::roles::of_account(&state.db, account_id)
        .await?
        .into_iter()
        .map(|g| (g.role.label(), g.scope))
        .collect();
    let page = StaffPage {
        layout: signed_in_layout(state, session, &heading),
        heading,
        roles,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /staff` — a staff member with any role.
pub async fn index(
    State(state): State<AppState>,
    session: Session,
    staff: Staff,
) -> Result<Response, AppError> {
    page(
        &state,
        &session,
        "Рабочее место сотрудника".into(),
        staff.account_id,
    )
    .await
}

/// `GET /staff/office` — an operator of a service centre.
pub async fn office(
    State(state): State<AppState>,
    session: Session,
    operator: Operator,
) -> Result<Response, AppError> {
    let heading = format!("{}: {}", Role::Operator.label(), operator.office);
    page(&state, &session, heading, operator.account_id).await
}

/// `GET /staff/admin` — an administrator.
pub async fn admin(
    State(state): State<AppState>,
    session: Session,
    admin: Admin,
) -> Result<Response, AppError> {
    page(
        &state,
        &session,
        Role::Admin.label().to_owned(),
        admin.account_id,
    )
    .await
}

/// The staff pages' routes.
pub fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/staff", get(index))
        .route("/staff/office", get(office))
        .route("/staff/agency", get(agency::queue))
        .route("/staff/agency/applications/{id}", get(agency::show))
        .route(
            "/staff/agency/applications/{id}/{act}",
            axum::routing::post(agency::act),
        )
        .route("/staff/admin", get(admin))
}
