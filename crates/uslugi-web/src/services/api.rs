//! `/api/v1/services` and `/api/v1/applications`: the catalogue, search and the citizen's
//! applications for the mobile app, with the same rules and the same Russian messages as the
//! pages. Errors are RFC 9457 problem details.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use uslugi_core::kernel::delivery::dev::rfc3339;
use uslugi_core::services::{
    applications::{self as apps, Act, Application, ApplicationError, By},
    catalogue::{Catalogue, Recipient, Service},
};
use uuid::Uuid;

use crate::{
    AppState,
    context::ctx,
    problem::{FieldProblem, Problem, bad_json},
    services::catalogue::level_phrase,
    session::Session,
};

fn signed_in(session: &Session) -> Result<Uuid, Problem> {
    session
        .account_id()
        .ok_or_else(|| Problem::new(StatusCode::UNAUTHORIZED, "Войдите в личный кабинет"))
}

fn line(c: &Catalogue, s: &Service) -> Value {
    json!({
        "slug": s.slug,
        "title": s.title,
        "summary": s.summary,
        "agency": c.agency_title(&s.agency),
        "category": s.category,
        "min_level": s.min_level,
        "fee_kopecks": s.fee().kopecks(),
        "days": s.days,
        "popular": s.popular,
    })
}

/// The catalogue's filters and search.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    category: String,
    region: String,
    recipient: String,
}

/// `GET /api/v1/services` — the catalogue, or the services matching `q`, best first.
pub async fn services(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, Problem> {
    let live = state.catalogue().await.map_err(|_| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Каталог услуг недоступен, попробуйте позже",
        )
    })?;
    let c = &live.catalogue;
    let query: String = q.q.trim().chars().take(200).collect();
    let keeps = |s: &Service| {
        let region = q.region.trim();
        (q.category.is_empty() || s.category == q.category)
            && (region.is_empty() || s.regions.is_empty() || s.regions.iter().any(|r| r == region))
            && match q.recipient.as_str() {
                "individual" => s.recipients.contains(&Recipient::Individual),
                "sole_proprietor" => s.recipients.contains(&Recipient::SoleProprietor),
                "legal_entity" => s.recipients.contains(&Recipient::LegalEntity),
                _ => true,
            }
    };
    let list: Vec<Value> = if query.is_empty() {
        c.services
            .iter()
            .filter(|s| keeps(s))
            .map(|s| line(c, s))
            .collect()
    } else {
        live.index
            .search(&query, 50)
            .iter()
            .filter_map(|h| c.service(&h.slug))
            .filter(|s| keeps(s))
            .map(|s| line(c, s))
            .collect()
    };
    Ok(Json(json!({ "services": list })).into_response())
}

/// `GET /api/v1/services/{slug}` — a service's card and its application form.
pub async fn service(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, Problem> {
    let live = state
        .catalogue()
        .await
        .map_err(|_| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Каталог услуг недоступен"))?;
    let s = live
        .catalogue
        .service(&slug)
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "Такой услуги нет"))?;
    let mut card = serde_json::to_value(s).map_err(Problem::internal)?;
    card["agency_title"] = json!(live.catalogue.agency_title(&s.agency));
    Ok(Json(card).into_response())
}

fn problem(e: ApplicationError) -> Problem {
    match e {
        ApplicationError::NotFound => Problem::new(StatusCode::NOT_FOUND, "Заявление не найдено"),
        ApplicationError::NoService => Problem::new(StatusCode::NOT_FOUND, "Такой услуги нет"),
        ApplicationError::Level(level) => Problem::new(
            StatusCode::FORBIDDEN,
            format!(
                "Для этой услуги нужна учётная запись: {}. Повысьте уровень в профиле",
                level_phrase(level)
            ),
        ),
        ApplicationError::Invalid(_, errors) => {
            let mut p = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Исправьте ошибки в данных",
            );
            p.set_errors(
                errors
                    .into_iter()
                    .map(|(field, message)| FieldProblem { field, message })
                    .collect(),
            );
            p
        }
        ApplicationError::Transition(t) => Problem::new(StatusCode::CONFLICT, t.to_string()),
        ApplicationError::Changed => Problem::new(
            StatusCode::CONFLICT,
            "Заявление уже изменилось. Запросите его снова",
        ),
        ApplicationError::MessageRequired => Problem::field("message", "Напишите сообщение"),
        other => Problem::internal(other),
    }
}

fn view(app: &Application, history: Option<Vec<Value>>) -> Value {
    let mut v = json!({
        "id": app.id,
        "number": app.number,
        "service": app.service,
        "status": app.status.as_str(),
        "status_label": app.status.label(),
        "step": app.step,
        "values": app.values,
        "created_at": rfc3339(app.created_at),
        "updated_at": rfc3339(app.updated_at),
        "sent_at": app.sent_at.map(rfc3339),
        "due_at": app.due_at.map(rfc3339),
    });
    if let Some(h) = history {
        v["history"] = json!(h);
    }
    v
}

async fn full(state: &AppState, app: &Application) -> Result<Value, Problem> {
    let history = apps::history(&state.db, &state.keys, app.id)
        .await
        .map_err(problem)?
        .into_iter()
        .map(|e| {
            json!({
                "at": rfc3339(e.at),
                "actor": e.actor.as_str(),
                "status": e.status.as_str(),
                "message": e.message,
            })
        })
        .collect();
    Ok(view(app, Some(history)))
}

fn id_of(s: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(s).map_err(|_| Problem::new(StatusCode::NOT_FOUND, "Заявление не найдено"))
}

/// Which service to apply for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    service: String,
}

/// `POST /api/v1/applications` — a draft, pre-filled from the profile.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    body: Result<Json<NewApplication>, JsonRejection>,
) -> Result<Response, Problem> {
    let account = signed_in(&session)?;
    let Json(body) = body.map_err(bad_json)?;
    let live = state
        .catalogue()
        .await
        .map_err(|_| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Каталог услуг недоступен"))?;
    let id = apps::start(ctx(&state), &live.catalogue, account, &body.service)
        .await
        .map_err(problem)?;
    let app = apps::own(&state.db, &state.keys, account, id)
        .await
        .map_err(problem)?;
    Ok((StatusCode::CREATED, Json(view(&app, None))).into_response())
}

/// The page of the list.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    page: u64,
}

/// `GET /api/v1/applications` — the person's applications, newest change first, 20 a page.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PageQuery>,
) -> Result<Response, Problem> {
    let account = signed_in(&session)?;
    // As the document says: pages beyond 100,000 are refused, not quietly clamped.
    if q.page > 100_000 {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "Такой страницы нет"));
    }
    let page = q.page;
    let (lines, total) = apps::list(&state.reader, account, page, 20)
        .await
        .map_err(problem)?;
    let items: Vec<Value> = lines
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "number": l.number,
                "service": l.service,
                "status": l.status.as_str(),
                "status_label": l.status.label(),
                "updated_at": rfc3339(l.updated_at),
            })
        })
        .collect();
    Ok(Json(json!({ "total": total, "page": page, "applications": items })).into_response())
}

/// `GET /api/v1/applications/{id}` — with its values and history.
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let account = signed_in(&session)?;
    let app = apps::own(&state.db, &state.keys, account, id_of(&id)?)
        .await
        .map_err(problem)?;
    Ok(Json(full(&state, &app).await?).into_response())
}

/// A step's values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    values: HashMap<String, String>,
}

/// `PUT /api/v1/applications/{id}/steps/{n}` — saves step `n` (0-based) of a draft.
pub async fn put_step(
    State(state): State<AppState>,
    session: Session,
    Path((id, n)): Path<(String, String)>,
    body: Result<Json<StepBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let account = signed_in(&session)?;
    let id = id_of(&id)?;
    let Json(body) = body.map_err(bad_json)?;
    let live = state
        .catalogue()
        .await
        .map_err(|_| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Каталог услуг недоступен"))?;
    let app = apps::own(&state.db, &state.keys, account, id)
        .await
        .map_err(problem)?;
    let steps = live
        .catalogue
        .service(&app.service)
        .map_or(0, |s| s.steps.len());
    let n: usize = n
        .parse()
        .ok()
        .filter(|n| *n < steps)
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "Такого шага нет"))?;
    if n > app.step {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "Сначала заполните предыдущие шаги",
        ));
    }
    let saved = apps::save_step(ctx(&state), &live.catalogue, account, id, n, &body.values)
        .await
        .map_err(problem)?;
    Ok(Json(view(&saved, None)).into_response())
}

/// `POST /api/v1/applications/{id}/send` — once, however often it is posted.
pub async fn send(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let account = signed_in(&session)?;
    let id = id_of(&id)?;
    let live = state
        .catalogue()
        .await
        .map_err(|_| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Каталог услуг недоступен"))?;
    let app = apps::send(ctx(&state), &live.catalogue, account, id)
        .await
        .map_err(problem)?;
    Ok(Json(full(&state, &app).await?).into_response())
}

/// A message to the agency.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    message: String,
}

async fn act(
    state: &AppState,
    session: &Session,
    id: &str,
    act: Act,
    message: Option<&str>,
) -> Result<Response, Problem> {
    let account = signed_in(session)?;
    let id = id_of(id)?;
    let live = state
        .catalogue()
        .await
        .map_err(|_| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Каталог услуг недоступен"))?;
    apps::act(
        ctx(state),
        &live.catalogue,
        &By::Applicant(account),
        id,
        act,
        message,
    )
    .await
    .map_err(problem)?;
    let app = apps::own(&state.db, &state.keys, account, id)
        .await
        .map_err(problem)?;
    Ok(Json(full(state, &app).await?).into_response())
}

/// `POST /api/v1/applications/{id}/answer` — the answer to the agency's request.
pub async fn answer(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Result<Json<MessageBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(body) = body.map_err(bad_json)?;
    act(&state, &session, &id, Act::Answer, Some(&body.message)).await
}

/// `POST /api/v1/applications/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    act(&state, &session, &id, Act::Cancel, None).await
}

/// `DELETE /api/v1/applications/{id}` — a draft.
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let account = signed_in(&session)?;
    apps::delete_draft(&state.db, account, id_of(&id)?)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
