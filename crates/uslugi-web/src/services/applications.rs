//! The citizen's applications: start from a card, fill step by step (saved at every step),
//! check on «Проверьте данные», send once; «Мои заявления» with the status and history of each;
//! answering an agency's request, withdrawing, deleting a draft.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{
    cabinet::alerts::moscow_date_time,
    services::{
        applications::{self as apps, Act, Application, ApplicationError, By, FromProfile},
        catalogue::{Catalogue, Field, FieldKind, Service},
    },
};
use uslugi_domain::{Actor, ApplicationStatus as Status};
use uuid::Uuid;

use crate::{
    AppError, AppState,
    context::ctx,
    layout::{Layout, render, signed_in_layout},
    principal::Citizen,
    services::catalogue::level_phrase,
    session::Session,
};

/// Field errors with names from the catalogue (the shared summary reads `all()`).
#[derive(Debug, Default)]
pub struct Errors(Vec<(String, String)>);

impl Errors {
    /// The message of a field.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All, in form order.
    pub fn all(&self) -> &[(String, String)] {
        &self.0
    }
}

fn uuid(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound)
}

fn flash(state: &AppState, session: &Session, text: &str) {
    session.insert(state, "flash", &text);
}

fn take_flash(session: &Session) -> Option<String> {
    let f = session.get::<String>("flash");
    session.remove("flash");
    f
}

#[derive(Debug, Template)]
#[template(path = "services/level.html")]
struct LevelPage {
    layout: Layout,
    title: String,
    needed: &'static str,
}

fn level_page(
    state: &AppState,
    session: &Session,
    service: &Service,
) -> Result<Response, AppError> {
    let page = LevelPage {
        layout: signed_in_layout(state, session, "Нужен другой уровень учётной записи"),
        title: service.title.clone(),
        needed: level_phrase(service.level()),
    };
    Ok((axum::http::StatusCode::FORBIDDEN, Html(render(&page)?)).into_response())
}

/// Turns what a use case refused into what the person sees, for the acts that return to the
/// application's page.
fn refused(
    state: &AppState,
    session: &Session,
    id: Uuid,
    e: ApplicationError,
) -> Result<Response, AppError> {
    let text = match e {
        ApplicationError::NotFound | ApplicationError::NoService => return Err(AppError::NotFound),
        ApplicationError::Transition(t) => t.to_string(),
        ApplicationError::Changed => {
            "Заявление уже изменилось, пока открыта страница. Проверьте его состояние".into()
        }
        ApplicationError::MessageRequired => "Напишите сообщение".into(),
        ApplicationError::Invalid(_, errors) => errors
            .into_iter()
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
            .join(". "),
        other => return Err(AppError::internal(other)),
    };
    flash(state, session, &text);
    Ok(Redirect::to(&format!("/applications/{id}")).into_response())
}

/// `POST /services/{slug}/apply` — a draft, then its first step (or the level page).
pub async fn start(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let live = state.catalogue().await?;
    let service = live.catalogue.service(&slug).ok_or(AppError::NotFound)?;
    match apps::start(ctx(&state), &live.catalogue, citizen.account_id, &slug).await {
        Ok(id) => {
            let next = if service.steps.is_empty() {
                format!("/applications/{id}/review")
            } else {
                format!("/applications/{id}/step/0")
            };
            Ok(Redirect::to(&next).into_response())
        }
        Err(ApplicationError::Level(_)) => level_page(&state, &session, service),
        Err(ApplicationError::NoService) => Err(AppError::NotFound),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// A field as the form shows it.
#[derive(Debug)]
pub struct FieldView {
    name: String,
    label: String,
    hint: String,
    /// `input`, `textarea`, `radios`, `checkbox` or `readonly`.
    widget: &'static str,
    value: String,
    error: Option<String>,
    options: Vec<(String, bool)>,
    inputmode: &'static str,
    autocomplete: &'static str,
    checked: bool,
}

fn field_view(
    f: &Field,
    value: Option<&String>,
    errors: &Errors,
    profile: &FromProfile,
    condition_note: Option<String>,
) -> FieldView {
    let verified = f.prefill.is_some_and(|p| profile.verified.contains(&p));
    let value = if verified {
        f.prefill
            .and_then(|p| profile.values.get(&p))
            .cloned()
            .unwrap_or_default()
    } else {
        value.cloned().unwrap_or_default()
    };
    let (widget, inputmode, autocomplete) = match f.kind {
        _ if verified => ("readonly", "", ""),
        FieldKind::Textarea | FieldKind::Address => ("textarea", "", ""),
        FieldKind::Choice => ("radios", "", ""),
        FieldKind::Checkbox => ("checkbox", "", ""),
        FieldKind::Date
        | FieldKind::Snils
        | FieldKind::Inn
        | FieldKind::Passport
        | FieldKind::Number => ("input", "numeric", ""),
        FieldKind::Phone => ("input", "tel", "tel"),
        FieldKind::Email => ("input", "email", "email"),
        FieldKind::Text => ("input", "", ""),
    };
    let mut hint = f.hint.clone().unwrap_or_default();
    if hint.is_empty() {
        hint = match f.kind {
            FieldKind::Date => "Например, 14.03.1985".into(),
            FieldKind::Snils => "11 цифр, например 112-233-445 95".into(),
            FieldKind::Passport => "Серия и номер, например 4510 123456".into(),
            _ => String::new(),
        };
    }
    if let Some(note) = condition_note {
        hint = if hint.is_empty() {
            note
        } else {
            format!("{note}. {hint}")
        };
    }
    if !f.required && widget != "checkbox" && widget != "readonly" {
        hint = if hint.is_empty() {
            "Необязательно".into()
        } else {
            format!("Необязательно. {hint}")
        };
    }
    FieldView {
        name: f.name.clone(),
        label: f.label.clone(),
        hint,
        widget,
        checked: value == "да",
        options: f.options.iter().map(|o| (o.clone(), *o == value)).collect(),
        value,
        error: errors.get(&f.name).map(str::to_owned),
        inputmode,
        autocomplete,
    }
}

#[derive(Debug, Template)]
#[template(path = "services/step.html")]
struct StepPage {
    layout: Layout,
    id: Uuid,
    service: String,
    n: usize,
    of: usize,
    step_title: String,
    fields: Vec<FieldView>,
    errors: Errors,
    csrf_token: String,
    back: String,
}

async fn step_page(
    state: &AppState,
    session: &Session,
    app: &Application,
    service: &Service,
    n: usize,
    errors: Errors,
    typed: Option<&HashMap<String, String>>,
) -> Result<Response, AppError> {
    let step = service.steps.get(n).ok_or(AppError::NotFound)?;
    let profile = apps::from_profile(&state.db, &state.keys, app.account_id)
        .await
        .map_err(AppError::internal)?;
    let mut shown = app.values.clone();
    if let Some(typed) = typed {
        for (k, v) in typed {
            shown.insert(k.clone(), v.clone());
        }
    }
    let in_step: Vec<&str> = step.fields.iter().map(|f| f.name.as_str()).collect();
    let fields = step
        .fields
        .iter()
        .filter_map(|f| {
            let note = match f.condition() {
                // Conditioned on this very step: shown with a note (no script needed).
                Some((name, value)) if in_step.contains(&name) => {
                    Some(format!("Заполните, если выбрано «{value}»"))
                }
                Some(_) if !apps::visible(f, &app.values) => return None,
                _ => None,
            };
            Some(field_view(f, shown.get(&f.name), &errors, &profile, note))
        })
        .collect();
    let title = format!(
        "{} — шаг {} из {}",
        service.title,
        n + 1,
        service.steps.len()
    );
    let page = StepPage {
        layout: signed_in_layout(state, session, &title).with_errors(!errors.is_empty()),
        id: app.id,
        service: service.title.clone(),
        n,
        of: service.steps.len(),
        step_title: step.title.clone(),
        fields,
        errors,
        csrf_token: session.csrf_token(state),
        back: if n == 0 {
            format!("/services/{}", service.slug)
        } else {
            format!("/applications/{}/step/{}", app.id, n - 1)
        },
    };
    Ok(Html(render(&page)?).into_response())
}

async fn draft(
    state: &AppState,
    account_id: Uuid,
    id: &str,
) -> Result<
    (
        Application,
        std::sync::Arc<uslugi_core::services::catalogue::Live>,
    ),
    AppError,
> {
    let app = match apps::own(&state.db, &state.keys, account_id, uuid(id)?).await {
        Ok(app) => app,
        Err(ApplicationError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(AppError::internal(e)),
    };
    Ok((app, state.catalogue().await?))
}

/// `GET /applications/{id}/step/{n}`.
pub async fn step_get(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path((id, n)): Path<(String, usize)>,
) -> Result<Response, AppError> {
    let (app, live) = draft(&state, citizen.account_id, &id).await?;
    if app.status != Status::Draft {
        return Ok(Redirect::to(&format!("/applications/{}", app.id)).into_response());
    }
    let service = live
        .catalogue
        .service(&app.service)
        .ok_or(AppError::NotFound)?;
    // Steps are filled in order: one cannot jump past the first unfinished one.
    if n > app.step {
        return Ok(
            Redirect::to(&format!("/applications/{}/step/{}", app.id, app.step)).into_response(),
        );
    }
    step_page(&state, &session, &app, service, n, Errors::default(), None).await
}

/// `POST /applications/{id}/step/{n}` — saves the step; the next step, or the review.
pub async fn step_post(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path((id, n)): Path<(String, usize)>,
    Form(mut posted): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let (app, live) = draft(&state, citizen.account_id, &id).await?;
    if app.status != Status::Draft {
        return Ok(Redirect::to(&format!("/applications/{}", app.id)).into_response());
    }
    let service = live
        .catalogue
        .service(&app.service)
        .ok_or(AppError::NotFound)?;
    if n >= service.steps.len() || n > app.step {
        return Err(AppError::NotFound);
    }
    posted.remove("csrf_token");
    let later = posted.remove("later").is_some();
    match apps::save_step(
        ctx(&state),
        &live.catalogue,
        citizen.account_id,
        app.id,
        n,
        &posted,
    )
    .await
    {
        Ok(saved) => {
            if later {
                flash(
                    &state,
                    &session,
                    "Черновик сохранён. Его можно продолжить из раздела «Мои заявления»",
                );
                return Ok(Redirect::to("/applications").into_response());
            }
            let next = if n + 1 < service.steps.len() {
                format!("/applications/{}/step/{}", saved.id, n + 1)
            } else {
                format!("/applications/{}/review", saved.id)
            };
            Ok(Redirect::to(&next).into_response())
        }
        Err(ApplicationError::Invalid(_, errors)) => {
            step_page(
                &state,
                &session,
                &app,
                service,
                n,
                Errors(errors),
                Some(&posted),
            )
            .await
        }
        Err(e) => refused(&state, &session, app.id, e),
    }
}

/// A step as the review shows it.
#[derive(Debug)]
pub struct ReviewStep {
    title: String,
    href: String,
    rows: Vec<(String, String)>,
}

fn review_steps(service: &Service, app: &Application) -> Vec<ReviewStep> {
    service
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| ReviewStep {
            title: step.title.clone(),
            href: format!("/applications/{}/step/{i}", app.id),
            rows: step
                .fields
                .iter()
                .filter(|f| apps::visible(f, &app.values))
                .map(|f| {
                    let v = app.values.get(&f.name).cloned().unwrap_or_default();
                    let shown = match (f.kind, v.as_str()) {
                        (FieldKind::Checkbox, "да") => "Да".to_owned(),
                        (FieldKind::Checkbox, _) => "Нет".to_owned(),
                        (_, "") => "Не указано".to_owned(),
                        _ => v,
                    };
                    (f.label.clone(), shown)
                })
                .collect(),
        })
        .collect()
}

#[derive(Debug, Template)]
#[template(path = "services/review.html")]
struct ReviewPage {
    layout: Layout,
    id: Uuid,
    service: String,
    agency: String,
    fee: String,
    steps: Vec<ReviewStep>,
    errors: Errors,
    csrf_token: String,
}

/// `GET /applications/{id}/review` — «Проверьте данные».
pub async fn review(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (app, live) = draft(&state, citizen.account_id, &id).await?;
    if app.status != Status::Draft {
        return Ok(Redirect::to(&format!("/applications/{}", app.id)).into_response());
    }
    let service = live
        .catalogue
        .service(&app.service)
        .ok_or(AppError::NotFound)?;
    if app.step < service.steps.len() {
        return Ok(
            Redirect::to(&format!("/applications/{}/step/{}", app.id, app.step)).into_response(),
        );
    }
    review_page(
        &state,
        &session,
        &live.catalogue,
        service,
        &app,
        Errors::default(),
    )
}

fn review_page(
    state: &AppState,
    session: &Session,
    catalogue: &Catalogue,
    service: &Service,
    app: &Application,
    errors: Errors,
) -> Result<Response, AppError> {
    let page = ReviewPage {
        layout: signed_in_layout(state, session, "Проверьте данные")
            .with_errors(!errors.is_empty()),
        id: app.id,
        service: service.title.clone(),
        agency: catalogue.agency_title(&service.agency).to_owned(),
        fee: fee_text(service),
        steps: review_steps(service, app),
        errors,
        csrf_token: session.csrf_token(state),
    };
    Ok(Html(render(&page)?).into_response())
}

fn fee_text(service: &Service) -> String {
    if service.fee_kopecks == 0 {
        String::new()
    } else {
        service.fee().to_string()
    }
}

/// `POST /applications/{id}/send` — once, however often it is posted.
pub async fn send(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (app, live) = draft(&state, citizen.account_id, &id).await?;
    let service = live
        .catalogue
        .service(&app.service)
        .ok_or(AppError::NotFound)?;
    match apps::send(ctx(&state), &live.catalogue, citizen.account_id, app.id).await {
        Ok(sent) => {
            if app.status == Status::Draft {
                flash(
                    &state,
                    &session,
                    &format!(
                        "Заявление отправлено. Его номер — {}",
                        sent.number.as_deref().unwrap_or_default()
                    ),
                );
            }
            Ok(Redirect::to(&format!("/applications/{}", sent.id)).into_response())
        }
        Err(ApplicationError::Level(_)) => level_page(&state, &session, service),
        Err(ApplicationError::Invalid(step, errors)) => {
            // A field became invalid since (a rule, a profile change): back to its step.
            step_page(&state, &session, &app, service, step, Errors(errors), None).await
        }
        Err(e) => refused(&state, &session, app.id, e),
    }
}

/// `POST /applications/{id}/delete` — a draft.
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    match apps::delete_draft(&state.db, citizen.account_id, uuid(&id)?).await {
        Ok(()) => {
            flash(&state, &session, "Черновик удалён");
            Ok(Redirect::to("/applications").into_response())
        }
        Err(ApplicationError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// A message posted with an act.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageForm {
    message: String,
}

/// `POST /applications/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = uuid(&id)?;
    let live = state.catalogue().await?;
    match apps::act(
        ctx(&state),
        &live.catalogue,
        &By::Applicant(citizen.account_id),
        id,
        Act::Cancel,
        None,
    )
    .await
    {
        Ok(_) => {
            flash(&state, &session, "Заявление отменено");
            Ok(Redirect::to(&format!("/applications/{id}")).into_response())
        }
        Err(e) => refused(&state, &session, id, e),
    }
}

/// `POST /applications/{id}/answer` — the answer to an agency's request.
pub async fn answer(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path(id): Path<String>,
    Form(form): Form<MessageForm>,
) -> Result<Response, AppError> {
    let id = uuid(&id)?;
    let live = state.catalogue().await?;
    match apps::act(
        ctx(&state),
        &live.catalogue,
        &By::Applicant(citizen.account_id),
        id,
        Act::Answer,
        Some(&form.message),
    )
    .await
    {
        Ok(_) => {
            flash(&state, &session, "Ответ отправлен в ведомство");
            Ok(Redirect::to(&format!("/applications/{id}")).into_response())
        }
        Err(ApplicationError::MessageRequired) => {
            flash(&state, &session, "Напишите ответ ведомству");
            Ok(Redirect::to(&format!("/applications/{id}#answer")).into_response())
        }
        Err(e) => refused(&state, &session, id, e),
    }
}

/// A history line as shown.
#[derive(Debug)]
pub struct HistoryLine {
    /// When, Moscow time.
    pub when: String,
    /// «Заявитель» or «Ведомство».
    pub who: &'static str,
    /// The status after it.
    pub status: &'static str,
    /// Its message.
    pub message: Option<String>,
}

/// The history of an application as its page shows it.
pub async fn history_lines(state: &AppState, id: Uuid) -> Result<Vec<HistoryLine>, AppError> {
    Ok(apps::history(&state.db, &state.keys, id)
        .await
        .map_err(AppError::internal)?
        .into_iter()
        .map(|e| HistoryLine {
            when: format!("{} МСК", moscow_date_time(e.at)),
            who: match e.actor {
                Actor::Applicant => "Заявитель",
                Actor::Officer => "Ведомство",
            },
            status: e.status.label(),
            message: e.message,
        })
        .collect())
}

#[derive(Debug, Template)]
#[template(path = "services/application.html")]
struct ApplicationPage {
    layout: Layout,
    flash: Option<String>,
    id: Uuid,
    title: String,
    href: String,
    number: String,
    status: &'static str,
    agency: String,
    sent: String,
    due: String,
    overdue: bool,
    fee: String,
    history: Vec<HistoryLine>,
    steps: Vec<ReviewStep>,
    can_cancel: bool,
    must_answer: bool,
    csrf_token: String,
}

/// `GET /applications/{id}` — the status, the history, and what the person can do.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (app, live) = draft(&state, citizen.account_id, &id).await?;
    let service = live.catalogue.service(&app.service);
    if app.status == Status::Draft {
        // A draft resumes where it stopped: the first unfinished step, or the review.
        let steps = service.map_or(0, |s| s.steps.len());
        let to = if app.step >= steps {
            format!("/applications/{}/review", app.id)
        } else {
            format!("/applications/{}/step/{}", app.id, app.step)
        };
        return Ok(Redirect::to(&to).into_response());
    }
    let title = service.map_or_else(|| app.service.clone(), |s| s.title.clone());
    let number = app.number.clone().unwrap_or_default();
    let page = ApplicationPage {
        layout: signed_in_layout(&state, &session, &format!("Заявление № {number}")),
        flash: take_flash(&session),
        id: app.id,
        href: format!("/services/{}", app.service),
        title,
        status: app.status.label(),
        agency: live.catalogue.agency_title(&app.agency).to_owned(),
        sent: app
            .sent_at
            .map(|t| format!("{} МСК", moscow_date_time(t)))
            .unwrap_or_default(),
        due: app
            .due_at
            .map(|t| format!("{} МСК", moscow_date_time(t)))
            .unwrap_or_default(),
        overdue: !app.status.is_final() && app.due_at.is_some_and(|d| d < uslugi_core::now_ms()),
        fee: service.map(fee_text).unwrap_or_default(),
        history: history_lines(&state, app.id).await?,
        steps: service.map(|s| review_steps(s, &app)).unwrap_or_default(),
        can_cancel: service.is_some_and(|s| s.cancellable)
            && matches!(
                app.status,
                Status::Sent | Status::Accepted | Status::NeedsInfo
            ),
        must_answer: app.status == Status::NeedsInfo,
        csrf_token: session.csrf_token(&state),
        number,
    };
    Ok(Html(render(&page)?).into_response())
}

/// The page of the list.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    page: u64,
}

/// A line of «Мои заявления».
#[derive(Debug)]
pub struct ListLine {
    href: String,
    title: String,
    number: String,
    status: &'static str,
    draft: bool,
    when: String,
}

#[derive(Debug, Template)]
#[template(path = "services/list.html")]
struct ListPage {
    layout: Layout,
    flash: Option<String>,
    lines: Vec<ListLine>,
    total: String,
    prev: Option<String>,
    next: Option<String>,
}

const PER_PAGE: u64 = 20;

/// `GET /applications` — «Мои заявления», newest change first, 20 a page.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let live = state.catalogue().await?;
    let page = q.page.min(100_000);
    let (lines, total) = apps::list(&state.reader, citizen.account_id, page, PER_PAGE)
        .await
        .map_err(AppError::internal)?;
    let title_of = |slug: &str| {
        live.catalogue
            .service(slug)
            .map_or_else(|| slug.to_owned(), |s| s.title.clone())
    };
    let lines = lines
        .iter()
        .map(|l| ListLine {
            href: format!("/applications/{}", l.id),
            title: title_of(&l.service),
            number: l.number.clone().unwrap_or_default(),
            status: l.status.label(),
            draft: l.status == Status::Draft,
            when: format!("{} МСК", moscow_date_time(l.updated_at)),
        })
        .collect();
    let pages = total.div_ceil(PER_PAGE);
    let view = ListPage {
        layout: signed_in_layout(&state, &session, "Мои заявления"),
        flash: take_flash(&session),
        lines,
        total: uslugi_domain::format_count(total, "заявление", "заявления", "заявлений"),
        prev: (page > 0).then(|| format!("/applications?page={}", page - 1)),
        next: (page + 1 < pages).then(|| format!("/applications?page={}", page + 1)),
    };
    Ok(Html(render(&view)?).into_response())
}
