//! The officer's console (`/staff/agency`): the agency's queue of applications with days left
//! against each service's limit, an application with its values and history, and the acts —
//! take into work, ask the applicant, complete with a result, refuse with a reason from the
//! service's list. An officer sees only their own agency's applications; every act is recorded
//! in the application's history with the officer.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{
    cabinet::alerts::moscow_date_time,
    services::applications::{self as apps, Act, ApplicationError, By},
};
use uslugi_domain::ApplicationStatus as Status;
use uuid::Uuid;

use crate::{
    AppError, AppState,
    context::ctx,
    layout::{Layout, render, signed_in_layout},
    principal::Officer,
    services::applications::history_lines,
    session::Session,
};

/// The queue's filter.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    /// A status's stored name, `open` (everything not final, the default) or `all`.
    status: String,
    /// Only overdue ones.
    overdue: String,
}

/// A line of the queue.
#[derive(Debug)]
pub struct QueueLine {
    href: String,
    number: String,
    title: String,
    status: &'static str,
    sent: String,
    left: String,
    overdue: bool,
}

#[derive(Debug, Template)]
#[template(path = "staff/agency.html")]
struct QueuePage {
    layout: Layout,
    flash: Option<String>,
    agency: String,
    lines: Vec<QueueLine>,
    status: String,
    overdue: bool,
    statuses: Vec<(&'static str, &'static str)>,
}

const DAY_MS: i64 = 86_400_000;

/// «осталось 3 дня», «срок истёк 2 дня назад».
fn days_left(due: Option<i64>, now: i64) -> (String, bool) {
    let Some(due) = due else {
        return (String::new(), false);
    };
    if due < now {
        let days = u64::try_from((now - due) / DAY_MS + 1).unwrap_or(1);
        (
            format!(
                "срок истёк {} назад",
                uslugi_domain::format_count(days, "день", "дня", "дней")
            ),
            true,
        )
    } else {
        let days = u64::try_from((due - now) / DAY_MS).unwrap_or(0);
        (
            match days {
                0 => "последний день".to_owned(),
                n => format!(
                    "{} {}",
                    uslugi_domain::plural(n, "остался", "осталось", "осталось"),
                    uslugi_domain::format_count(n, "день", "дня", "дней")
                ),
            },
            false,
        )
    }
}

/// `GET /staff/agency` — the queue.
pub async fn queue(
    State(state): State<AppState>,
    session: Session,
    officer: Officer,
    Query(q): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let live = state.catalogue().await?;
    let statuses: Vec<Status> = match q.status.as_str() {
        "" | "open" => Status::ALL
            .into_iter()
            .filter(|s| !s.is_final() && *s != Status::Draft)
            .collect(),
        "all" => Vec::new(),
        other => vec![Status::parse(other).ok_or(AppError::NotFound)?],
    };
    let now = uslugi_core::now_ms();
    let only_overdue = q.overdue == "1";
    let lines = apps::queue(&state.db, &officer.agency, &statuses, 500)
        .await
        .map_err(AppError::internal)?
        .into_iter()
        .filter_map(|l| {
            let (left, overdue) = if l.status.is_final() {
                (String::new(), false)
            } else {
                days_left(l.due_at, now)
            };
            (!only_overdue || overdue).then(|| QueueLine {
                href: format!("/staff/agency/applications/{}", l.id),
                number: l.number.clone().unwrap_or_default(),
                title: live
                    .catalogue
                    .service(&l.service)
                    .map_or_else(|| l.service.clone(), |s| s.title.clone()),
                status: l.status.label(),
                sent: l.sent_at.map(moscow_date_time).unwrap_or_default(),
                left,
                overdue,
            })
        })
        .collect();
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let page = QueuePage {
        layout: signed_in_layout(&state, &session, "Заявления ведомства"),
        flash,
        agency: live.catalogue.agency_title(&officer.agency).to_owned(),
        lines,
        status: if q.status.is_empty() {
            "open".into()
        } else {
            q.status.clone()
        },
        overdue: only_overdue,
        statuses: Status::ALL
            .into_iter()
            .filter(|s| *s != Status::Draft)
            .map(|s| (s.as_str(), s.label()))
            .collect(),
    };
    Ok(Html(render(&page)?).into_response())
}

#[derive(Debug, Template)]
#[template(path = "staff/application.html")]
struct ApplicationPage {
    layout: Layout,
    flash: Option<String>,
    id: Uuid,
    number: String,
    title: String,
    status: &'static str,
    sent: String,
    left: String,
    overdue: bool,
    rows: Vec<(String, String)>,
    history: Vec<crate::services::applications::HistoryLine>,
    can_take: bool,
    in_work: bool,
    reasons: Vec<String>,
    csrf_token: String,
}

fn uuid(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound)
}

/// `GET /staff/agency/applications/{id}`.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    officer: Officer,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let app = match apps::of_agency(&state.db, &state.keys, &officer.agency, uuid(&id)?).await {
        Ok(app) => app,
        Err(ApplicationError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(AppError::internal(e)),
    };
    let live = state.catalogue().await?;
    let service = live.catalogue.service(&app.service);
    let rows = service
        .map(|s| {
            s.steps
                .iter()
                .flat_map(|st| st.fields.iter())
                .filter(|f| apps::visible(f, &app.values))
                .map(|f| {
                    (
                        f.label.clone(),
                        app.values
                            .get(&f.name)
                            .cloned()
                            .unwrap_or_else(|| "Не указано".into()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let (left, overdue) = if app.status.is_final() {
        (String::new(), false)
    } else {
        days_left(app.due_at, uslugi_core::now_ms())
    };
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let number = app.number.clone().unwrap_or_default();
    let page = ApplicationPage {
        layout: signed_in_layout(&state, &session, &format!("Заявление № {number}")),
        flash,
        id: app.id,
        number,
        title: service.map_or_else(|| app.service.clone(), |s| s.title.clone()),
        status: app.status.label(),
        sent: app
            .sent_at
            .map(|t| format!("{} МСК", moscow_date_time(t)))
            .unwrap_or_default(),
        left,
        overdue,
        rows,
        history: history_lines(&state, app.id).await?,
        can_take: matches!(
            app.status,
            Status::Sent | Status::Accepted | Status::Corrected
        ),
        in_work: app.status == Status::InProgress,
        reasons: service
            .map(|s| s.refusal_reasons.clone())
            .unwrap_or_default(),
        csrf_token: session.csrf_token(&state),
    };
    Ok(Html(render(&page)?).into_response())
}

/// What an act posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActForm {
    message: String,
    reason: String,
}

/// `POST /staff/agency/applications/{id}/{act}` — `take`, `ask`, `complete` or `refuse`.
pub async fn act(
    State(state): State<AppState>,
    session: Session,
    officer: Officer,
    Path((id, act)): Path<(String, String)>,
    Form(form): Form<ActForm>,
) -> Result<Response, AppError> {
    let id = uuid(&id)?;
    let act = match act.as_str() {
        "take" => Act::Take,
        "ask" => Act::Ask,
        "complete" => Act::Complete,
        "refuse" => Act::Refuse,
        _ => return Err(AppError::NotFound),
    };
    let live = state.catalogue().await?;
    let message = match act {
        Act::Refuse => {
            let reasons = apps::of_agency(&state.db, &state.keys, &officer.agency, id)
                .await
                .ok()
                .and_then(|a| {
                    live.catalogue
                        .service(&a.service)
                        .map(|s| s.refusal_reasons.clone())
                })
                .unwrap_or_default();
            if !reasons.contains(&form.reason) {
                session.insert(&state, "flash", &"Выберите причину отказа из списка");
                return Ok(
                    Redirect::to(&format!("/staff/agency/applications/{id}")).into_response()
                );
            }
            let text = form.message.trim();
            Some(if text.is_empty() {
                form.reason.clone()
            } else {
                format!("{}. {text}", form.reason)
            })
        }
        _ => Some(form.message.clone()),
    };
    let by = By::Officer {
        account_id: officer.account_id,
        agency: officer.agency.clone(),
    };
    let text = match apps::act(
        ctx(&state),
        &live.catalogue,
        &by,
        id,
        act,
        message.as_deref(),
    )
    .await
    {
        Ok(status) => format!("Готово: {}", status.label().to_lowercase()),
        Err(ApplicationError::NotFound) => return Err(AppError::NotFound),
        Err(ApplicationError::Changed) => {
            "Заявление уже изменил другой сотрудник. Обновлённое состояние — ниже".into()
        }
        Err(ApplicationError::MessageRequired) => match act {
            Act::Ask => "Напишите, что нужно уточнить заявителю".into(),
            _ => "Напишите результат для заявителя".into(),
        },
        Err(ApplicationError::Transition(t)) => t.to_string(),
        Err(ApplicationError::Invalid(_, e)) => {
            e.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(". ")
        }
        Err(e) => return Err(AppError::internal(e)),
    };
    session.insert(&state, "flash", &text);
    Ok(Redirect::to(&format!("/staff/agency/applications/{id}")).into_response())
}
