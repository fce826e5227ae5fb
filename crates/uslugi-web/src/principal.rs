//! Who is asking: the signed-in citizen, or a staff member holding a role. A handler states what
//! it needs in its signature (`Citizen`, `Operator`, `Officer`, `Admin`), and every refusal comes
//! from here: to sign in (a redirect, or 401 problem JSON under `/api/`), a Russian 403 page for
//! someone without the role, and the second-factor set-up for staff who have none.

use askama::Template;
use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
};
use uslugi_core::identity::roles::Grant;
use uslugi_domain::Role;
use uuid::Uuid;

use crate::{
    AppError, AppState,
    layout::{Layout, render},
    session::Session,
};

/// Session key: the signed-in account holds a staff role but has no second factor yet.
pub const STAFF_NEEDS_FACTOR: &str = "staff_needs_factor";

/// Why a request is refused.
#[derive(Debug)]
pub enum Refusal {
    /// Not signed in.
    SignIn {
        /// The request is to the JSON API.
        api: bool,
    },
    /// Signed in, without the role the page needs.
    NoRole {
        /// The role.
        role: Role,
        /// For the layout.
        layout: Box<Layout>,
    },
    /// Staff without a second factor: sent to set it up.
    NeedsFactor,
    /// Something failed.
    Internal(AppError),
}

#[derive(Debug, Template)]
#[template(path = "staff/no_role.html")]
struct NoRolePage {
    layout: Layout,
    role: &'static str,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::SignIn { api: true } => {
                crate::problem::Problem::new(StatusCode::UNAUTHORIZED, "Войдите в личный кабинет")
                    .into_response()
            }
            Refusal::SignIn { api: false } => Redirect::to("/login").into_response(),
            Refusal::NoRole { role, layout } => {
                let page = NoRolePage {
                    layout: *layout,
                    role: role.label(),
                };
                match render(&page) {
                    Ok(html) => (StatusCode::FORBIDDEN, Html(html)).into_response(),
                    Err(e) => e.into_response(),
                }
            }
            Refusal::NeedsFactor => Redirect::to("/security/factors").into_response(),
            Refusal::Internal(e) => e.into_response(),
        }
    }
}

fn session_of(parts: &Parts) -> Result<Session, Refusal> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| Refusal::Internal(AppError::NotFound))
}

/// The signed-in person.
#[derive(Debug, Clone, Copy)]
pub struct Citizen {
    /// Their account.
    pub account_id: Uuid,
}

impl FromRequestParts<AppState> for Citizen {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Refusal> {
        let session = session_of(parts)?;
        session
            .account_id()
            .map(|account_id| Citizen { account_id })
            .ok_or(Refusal::SignIn {
                api: parts.uri.path().starts_with("/api/"),
            })
    }
}

/// A signed-in staff member (any role), with a second factor.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Their account.
    pub account_id: Uuid,
    /// Their roles.
    pub grants: Vec<Grant>,
}

impl Staff {
    /// The scope of the first grant of `role`, if held (`Some(None)` for a portal-wide role).
    pub fn scope_of(&self, role: Role) -> Option<Option<&str>> {
        self.grants
            .iter()
            .find(|g| g.role == role)
            .map(|g| g.scope.as_deref())
    }
}

/// The staff member, if they hold `role`; refusals otherwise.
async fn staff_with(
    parts: &mut Parts,
    state: &AppState,
    role: Option<Role>,
) -> Result<Staff, Refusal> {
    let Citizen { account_id } = Citizen::from_request_parts(parts, state).await?;
    let session = session_of(parts)?;
    let grants = uslugi_core::identity::roles::of_account(&state.db, account_id)
        .await
        .map_err(|e| Refusal::Internal(AppError::internal(e)))?;
    let wanted = role.unwrap_or(Role::Operator);
    let holds = match role {
        Some(r) => grants.iter().any(|g| g.role == r),
        None => !grants.is_empty(),
    };
    if !holds {
        return Err(Refusal::NoRole {
            role: wanted,
            layout: Box::new(crate::layout::signed_in_layout(
                state,
                &session,
                "Нет доступа",
            )),
        });
    }
    // Staff act for others: a password alone is not enough.
    let has_factor = uslugi_core::identity::factors::summary(&state.db, account_id)
        .await
        .map_err(|e| Refusal::Internal(AppError::internal(e)))?
        .required();
    if !has_factor {
        return Err(Refusal::NeedsFactor);
    }
    Ok(Staff { account_id, grants })
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        staff_with(parts, state, None).await
    }
}

/// An operator of a service centre.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Their account.
    pub account_id: Uuid,
    /// The service centre.
    pub office: String,
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let staff = staff_with(parts, state, Some(Role::Operator)).await?;
        Ok(Operator {
            account_id: staff.account_id,
            office: staff
                .scope_of(Role::Operator)
                .flatten()
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

/// An officer of an agency.
#[derive(Debug, Clone)]
pub struct Officer {
    /// Their account.
    pub account_id: Uuid,
    /// The agency.
    pub agency: String,
}

impl FromRequestParts<AppState> for Officer {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let staff = staff_with(parts, state, Some(Role::Officer)).await?;
        Ok(Officer {
            account_id: staff.account_id,
            agency: staff
                .scope_of(Role::Officer)
                .flatten()
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

/// An administrator of the portal.
#[derive(Debug, Clone, Copy)]
pub struct Admin {
    /// Their account.
    pub account_id: Uuid,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let staff = staff_with(parts, state, Some(Role::Admin)).await?;
        Ok(Admin {
            account_id: staff.account_id,
        })
    }
}

/// Whether a staff account must set up a second factor before anything else (for the sign-in
/// to remember in the session).
pub async fn staff_without_factor(state: &AppState, account_id: Uuid) -> Result<bool, AppError> {
    let staff = !uslugi_core::identity::roles::of_account(&state.db, account_id)
        .await
        .map_err(AppError::internal)?
        .is_empty();
    if !staff {
        return Ok(false);
    }
    Ok(
        !uslugi_core::identity::factors::summary(&state.db, account_id)
            .await
            .map_err(AppError::internal)?
            .required(),
    )
}

/// While a staff account has no second factor, every page but the factor set-up (and what it
/// needs: the password check, signing out, the static parts) leads there, and the API refuses.
pub async fn enforce_staff_factor(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let flagged = req.extensions().get::<Session>().and_then(|s| {
        (s.account_id().is_some() && s.get::<bool>(STAFF_NEEDS_FACTOR) == Some(true))
            .then(|| (s.clone(), s.account_id()))
    });
    let Some((session, Some(account_id))) = flagged else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    let allowed = path.starts_with("/security/factors")
        || path == "/security/confirm"
        || path == "/logout"
        || path.starts_with("/assets/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics");
    if allowed {
        return next.run(req).await;
    }
    // Set up meanwhile (in this session or another): the way is free again.
    match staff_without_factor(&state, account_id).await {
        Ok(false) => {
            session.remove(STAFF_NEEDS_FACTOR);
            next.run(req).await
        }
        Ok(true) if path.starts_with("/api/") => crate::problem::Problem::new(
            StatusCode::FORBIDDEN,
            "Сотруднику нужен второй способ входа. Подключите его на сайте",
        )
        .into_response(),
        Ok(true) => Redirect::to("/security/factors").into_response(),
        Err(e) => e.into_response(),
    }
}
