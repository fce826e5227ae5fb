//! `/profile/contacts`: the account's phone and e-mail; adding the second one and changing one
//! with a code sent to the new contact.

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Path, State, rejection::FormRejection},
    http::HeaderMap,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{
    identity::accounts::{self, Contact},
    identity::contacts::{self, ContactError},
    identity::registration::RegistrationError,
};
use uslugi_domain::{Email, Phone};
use uuid::Uuid;

use crate::{
    AppError, AppState,
    context::{client_ip, ctx},
    forms::{FieldErrors, code_error},
    identity::factors::stepped_up_account,
    layout::signed_in_layout,
    layout::{Layout, render},
    principal::Citizen,
    session::Session,
};

const SESSION_KEY: &str = "contact_change";

struct PendingView {
    id: Uuid,
    what: &'static str,
    masked: String,
    effective: String,
}

impl std::fmt::Debug for PendingView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingView")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Template)]
#[template(path = "profile/contacts.html")]
struct ContactsPage {
    layout: Layout,
    csrf_token: String,
    flash: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    pending: Vec<PendingView>,
    delay_hours: i64,
}

/// `GET /profile/contacts` — the signed-in person.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let account = accounts::load(&state.db, &state.keys, account_id)
        .await
        .map_err(AppError::internal)?
        .ok_or(AppError::NotFound)?;
    let mut phone = None;
    let mut email = None;
    for c in &account.contacts {
        match c {
            Contact::Phone(p) => phone = Some(p.to_string()),
            Contact::Email(e) => email = Some(e.to_string()),
        }
    }
    let pending = contacts::pending_changes(ctx(&state), account_id)
        .await
        .map_err(AppError::internal)?
        .into_iter()
        .map(|c| {
            let (what, masked) = match &c.contact {
                Contact::Phone(p) => ("Новый номер телефона", p.masked()),
                Contact::Email(e) => ("Новый адрес электронной почты", e.masked()),
            };
            PendingView {
                id: c.id,
                what,
                masked,
                effective: uslugi_core::cabinet::alerts::moscow_date_time(c.effective_at),
            }
        })
        .collect();
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let page = ContactsPage {
        layout: signed_in_layout(&state, &session, "Контактные данные"),
        csrf_token: session.csrf_token(&state),
        flash,
        phone,
        email,
        pending,
        delay_hours: state.config.auth.contact_change_delay_hours,
    };
    Ok(Html(render(&page)?).into_response())
}

#[derive(Debug, Template)]
#[template(path = "profile/contact_edit.html")]
struct EditPage {
    layout: Layout,
    csrf_token: String,
    kind: &'static str,
    label: &'static str,
    hint: &'static str,
    input_type: &'static str,
    autocomplete: &'static str,
    value: String,
    errors: FieldErrors,
}

fn kind_of(kind: &str) -> Option<&'static str> {
    match kind {
        "phone" => Some("phone"),
        "email" => Some("email"),
        _ => None,
    }
}

fn edit_page(
    state: &AppState,
    session: &Session,
    kind: &'static str,
    value: String,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let (title, label, hint, input_type, autocomplete) = if kind == "phone" {
        (
            "Мобильный телефон",
            "Новый номер мобильного телефона",
            "Например, +7 912 345-67-89. На него придёт код",
            "tel",
            "tel",
        )
    } else {
        (
            "Электронная почта",
            "Новый адрес электронной почты",
            "Например, name@example.ru. На него придёт код",
            "email",
            "email",
        )
    };
    let page = EditPage {
        layout: signed_in_layout(state, session, title).with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        kind,
        label,
        hint,
        input_type,
        autocomplete,
        value,
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /profile/contacts/{kind}` — the signed-in person.
pub async fn edit_get(
    State(state): State<AppState>,
    session: Session,
    Path(kind): Path<String>,
) -> Result<Response, AppError> {
    let kind = kind_of(&kind).ok_or(AppError::NotFound)?;
    if let Err(to) =
        stepped_up_account(&state, &session, &format!("/profile/contacts/{kind}")).await?
    {
        return Ok(Redirect::to(&to).into_response());
    }
    edit_page(
        &state,
        &session,
        kind,
        String::new(),
        FieldErrors::default(),
    )
}

/// The new contact as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValueForm {
    value: String,
}

/// `POST /profile/contacts/{kind}` — the signed-in person: sends the code.
pub async fn edit_post(
    State(state): State<AppState>,
    session: Session,
    Path(kind): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<ValueForm>, FormRejection>,
) -> Result<Response, AppError> {
    let kind = kind_of(&kind).ok_or(AppError::NotFound)?;
    // A stolen session alone must not be able to put the thief's contact in: the password and
    // the second factor are asked again.
    let account_id =
        match stepped_up_account(&state, &session, &format!("/profile/contacts/{kind}")).await? {
            Ok(id) => id,
            Err(to) => return Ok(Redirect::to(&to).into_response()),
        };
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut errors = FieldErrors::default();
    let parsed = if kind == "phone" {
        Phone::parse(&form.value)
            .map(Contact::Phone)
            .map_err(|e| e.to_string())
    } else {
        Email::parse(&form.value)
            .map(Contact::Email)
            .map_err(|e| e.to_string())
    };
    match parsed {
        Err(message) => errors.add("value", message),
        Ok(contact) => {
            match contacts::start(
                ctx(&state),
                account_id,
                contact,
                &client_ip(&state, peer, &headers),
            )
            .await
            {
                Ok(id) => {
                    session.insert(&state, SESSION_KEY, &id);
                    return Ok(Redirect::to("/profile/contacts/confirm").into_response());
                }
                Err(ContactError::AlreadyYours) => errors.add(
                    "value",
                    if kind == "phone" {
                        "Этот номер уже указан в вашей учётной записи"
                    } else {
                        "Этот адрес уже указан в вашей учётной записи"
                    },
                ),
                Err(ContactError::Flow(RegistrationError::TooManyCodes { .. })) => {
                    errors.add("value", crate::messages::TOO_MANY_CODES)
                }
                Err(e) => return Err(AppError::internal(e)),
            }
        }
    }
    edit_page(&state, &session, kind, form.value, errors)
}

#[derive(Debug, Template)]
#[template(path = "profile/contact_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    csrf_token: String,
    errors: FieldErrors,
    by_email: bool,
    masked: String,
}

async fn confirm_page(
    state: &AppState,
    session: &Session,
    account_id: Uuid,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let Some(id) = session.get::<Uuid>(SESSION_KEY) else {
        return Ok(Redirect::to("/profile/contacts").into_response());
    };
    let pending = match contacts::pending(ctx(state), account_id, id).await {
        Ok(p) => p,
        Err(ContactError::Flow(
            RegistrationError::NotFound | RegistrationError::AlreadyCompleted,
        )) => {
            session.remove(SESSION_KEY);
            return Ok(Redirect::to("/profile/contacts").into_response());
        }
        Err(e) => return Err(AppError::internal(e)),
    };
    let (by_email, masked) = match &pending.contact {
        Contact::Phone(p) => (false, p.masked()),
        Contact::Email(e) => (true, e.masked()),
    };
    let page = ConfirmPage {
        layout: signed_in_layout(state, session, "Введите код").with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        errors,
        by_email,
        masked,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /profile/contacts/confirm` — the signed-in person with a pending change.
pub async fn confirm_get(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    confirm_page(&state, &session, account_id, FieldErrors::default()).await
}

/// The code as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

/// `POST /profile/contacts/confirm` — the signed-in person with a pending change.
pub async fn confirm_post(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Some(id) = session.get::<Uuid>(SESSION_KEY) else {
        return Ok(Redirect::to("/profile/contacts").into_response());
    };
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let mut errors = FieldErrors::default();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        errors.add("code", "Введите код — 6 цифр");
    } else {
        match contacts::confirm(ctx(&state), account_id, id, &code).await {
            Ok(done) => {
                session.remove(SESSION_KEY);
                let what = match done.contact {
                    Contact::Phone(_) => "Номер телефона",
                    Contact::Email(_) => "Адрес электронной почты",
                };
                let mut text = match done.effective_at {
                    None => format!("{what} подтверждён и сохранён"),
                    Some(at) => format!(
                        "{what} подтверждён и начнёт действовать {} МСК",
                        uslugi_core::cabinet::alerts::moscow_date_time(at)
                    ),
                };
                // «Номер занят» only now, after the code: before it, anyone could learn who has
                // an account by trying numbers.
                if done.taken {
                    text.push_str(match done.contact {
                        Contact::Phone(_) => ". Номер был указан в другой учётной записи: он отвязан от неё, а её владелец получил уведомление",
                        Contact::Email(_) => ". Адрес был указан в другой учётной записи: он отвязан от неё, а её владелец получил уведомление",
                    });
                }
                session.insert(&state, "flash", &text);
                return Ok(Redirect::to("/profile/contacts").into_response());
            }
            Err(ContactError::Flow(
                e @ (RegistrationError::WrongCode { .. }
                | RegistrationError::CodeVoid
                | RegistrationError::Expired),
            )) => errors.add("code", code_error(&e).unwrap_or_default()),
            Err(ContactError::AlreadyYours) => {
                session.remove(SESSION_KEY);
                return Ok(Redirect::to("/profile/contacts").into_response());
            }
            Err(ContactError::Flow(
                RegistrationError::NotFound | RegistrationError::AlreadyCompleted,
            )) => {
                session.remove(SESSION_KEY);
                return Ok(Redirect::to("/profile/contacts").into_response());
            }
            Err(e) => return Err(AppError::internal(e)),
        }
    }
    confirm_page(&state, &session, account_id, errors).await
}

/// `POST /profile/contacts/pending/{id}/cancel` — the signed-in person cancels a change of their
/// own that is still waiting.
pub async fn cancel_own(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    if contacts::cancel_own(ctx(&state), account_id, id)
        .await
        .map_err(AppError::internal)?
    {
        session.insert(&state, "flash", &"Изменение контакта отменено");
    }
    Ok(Redirect::to("/profile/contacts").into_response())
}

#[derive(Debug, Template)]
#[template(path = "profile/contact_cancel.html")]
struct CancelPage {
    layout: Layout,
    csrf_token: String,
    live: bool,
    done: bool,
}

/// `GET /contacts/cancel/{token}` — anyone with the link sent to an old contact.
pub async fn cancel_link_get(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let live = contacts::cancel_link_live(ctx(&state), &token)
        .await
        .map_err(AppError::internal)?;
    let page = CancelPage {
        layout: Layout::new(&state, "Отмена изменения контактов"),
        csrf_token: session.csrf_token(&state),
        live,
        done: false,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /contacts/cancel/{token}` — anyone with the link: cancels the change, ends every
/// session of the account and revokes the services' access.
pub async fn cancel_link_post(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let done = contacts::cancel_by_link(ctx(&state), &token)
        .await
        .map_err(AppError::internal)?;
    if done {
        // This browser's own session (if it was the account's) ended with the others.
        session.destroy();
    }
    let page = CancelPage {
        layout: Layout::new(&state, "Отмена изменения контактов"),
        csrf_token: String::new(),
        live: false,
        done,
    };
    Ok(Html(render(&page)?).into_response())
}
