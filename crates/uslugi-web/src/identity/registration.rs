//! Registration pages: `/register` (name and contact) → `/register/confirm` (code from SMS, or
//! waiting for the e-mail link) → `/register/password` → the cabinet.

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Path, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{
    identity::accounts::{Contact, StoredName},
    identity::registration::{self, CompleteRegistration, RegistrationError},
};
use uslugi_domain::{Email, NameField, PersonName, Phone, password::strength};
use uuid::Uuid;

use crate::{
    AppError, AppState,
    forms::{FieldErrors, code_error},
    layout::{Layout, render},
    session::Session,
};

const SESSION_KEY: &str = "registration";
const FLASH: &str = "flash";

/// Step 1 as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartForm {
    last_name: String,
    first_name: String,
    middle_name: String,
    phone: String,
    email: String,
}

#[derive(Debug, Template)]
#[template(path = "registration/start.html")]
struct StartPage {
    layout: Layout,
    csrf_token: String,
    form: StartForm,
    errors: FieldErrors,
}

use crate::context::{client_ip, ctx};

fn internal(e: RegistrationError) -> AppError {
    AppError::internal(e)
}

/// `GET /register` — anyone.
pub async fn start_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    if session.account_id().is_some() {
        return Ok(Redirect::to("/cabinet").into_response());
    }
    let page = StartPage {
        layout: Layout::new(&state, "Регистрация"),
        csrf_token: session.csrf_token(&state),
        form: StartForm::default(),
        errors: FieldErrors::default(),
    };
    Ok(Html(render(&page)?).into_response())
}

pub(crate) fn parse_start(
    form: &StartForm,
    errors: &mut FieldErrors,
) -> Option<(StoredName, Contact)> {
    let middle = Some(form.middle_name.as_str()).filter(|m| !m.trim().is_empty());
    let name = match PersonName::parse(&form.last_name, &form.first_name, middle) {
        Ok(n) => Some(n),
        Err(list) => {
            for (field, e) in list {
                let id = match field {
                    NameField::Last => "last_name",
                    NameField::First => "first_name",
                    NameField::Middle => "middle_name",
                };
                errors.add(id, e.to_string());
            }
            None
        }
    };
    let phone = form.phone.trim();
    let email = form.email.trim();
    let contact = match (phone.is_empty(), email.is_empty()) {
        (true, true) => {
            errors.add("phone", "Укажите мобильный телефон или электронную почту");
            None
        }
        (false, false) => {
            errors.add(
                "email",
                "Укажите что-то одно: телефон или почту. Второй контакт можно добавить в личном кабинете",
            );
            None
        }
        (false, true) => match Phone::parse(phone) {
            Ok(p) => Some(Contact::Phone(p)),
            Err(e) => {
                errors.add("phone", e.to_string());
                None
            }
        },
        (true, false) => match Email::parse(email) {
            Ok(e) => Some(Contact::Email(e)),
            Err(e) => {
                errors.add("email", e.to_string());
                None
            }
        },
    };
    let name = name?;
    let contact = contact?;
    Some((
        StoredName {
            last: name.last().as_str().to_owned(),
            first: name.first().as_str().to_owned(),
            middle: name.middle().map(|m| m.as_str().to_owned()),
        },
        contact,
    ))
}

/// `POST /register` — anyone.
pub async fn start_post(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<StartForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut errors = FieldErrors::default();
    let parsed = parse_start(&form, &mut errors);
    let mut status = StatusCode::OK;
    let mut retry_after = None;
    if let Some((name, contact)) = parsed {
        let field = if matches!(contact, Contact::Phone(_)) {
            "phone"
        } else {
            "email"
        };
        match registration::start(
            ctx(&state),
            name,
            contact,
            &client_ip(&state, peer, &headers),
        )
        .await
        {
            Ok(id) => {
                session.insert(&state, SESSION_KEY, &id);
                return Ok(Redirect::to("/register/confirm").into_response());
            }
            Err(RegistrationError::TooManyCodes { retry_after_secs }) => {
                errors.add(
                    field,
                    "Слишком много запросов кода. Попробуйте через час или укажите другой контакт",
                );
                status = StatusCode::TOO_MANY_REQUESTS;
                retry_after = Some(retry_after_secs);
            }
            Err(e) => return Err(internal(e)),
        }
    }
    let page = StartPage {
        layout: Layout::new(&state, "Регистрация").with_errors(true),
        csrf_token: session.csrf_token(&state),
        form,
        errors,
    };
    let mut resp = (status, Html(render(&page)?)).into_response();
    if let Some(secs) = retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(resp)
}

#[derive(Debug, Template)]
#[template(path = "registration/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    csrf_token: String,
    errors: FieldErrors,
    flash: Option<String>,
    taken: bool,
    by_email: bool,
    masked: String,
    link_hours: i64,
    resend_in_secs: i64,
    resend_in_text: String,
}

fn current(session: &Session) -> Option<Uuid> {
    session.get::<Uuid>(SESSION_KEY)
}

async fn confirm_page(
    state: &AppState,
    session: &Session,
    mut errors: FieldErrors,
) -> Result<Response, AppError> {
    let Some(id) = current(session) else {
        return Ok(Redirect::to("/register").into_response());
    };
    let st = match registration::state(ctx(state), id).await {
        Ok(st) => st,
        Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => {
            session.remove(SESSION_KEY);
            return Ok(Redirect::to("/register").into_response());
        }
        Err(e) => return Err(internal(e)),
    };
    if st.confirmed {
        return Ok(Redirect::to("/register/password").into_response());
    }
    let by_email = matches!(st.contact, Contact::Email(_));
    if !by_email && errors.is_empty() {
        if st.void {
            errors.add("code", "Вы трижды ввели неверный код. Получите новый код");
        } else if st.expired {
            errors.add("code", "Срок действия кода истёк. Получите новый код");
        }
    }
    let masked = match &st.contact {
        Contact::Phone(p) => p.masked(),
        Contact::Email(e) => e.masked(),
    };
    let flash = session.get::<String>(FLASH);
    session.remove(FLASH);
    let title = if by_email {
        "Проверьте почту"
    } else {
        "Введите код из SMS"
    };
    let page = ConfirmPage {
        layout: Layout::new(state, title).with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        flash,
        taken: st.taken,
        by_email,
        masked,
        link_hours: state.config.auth.email_link_ttl_hours,
        resend_in_secs: st.resend_in_secs,
        resend_in_text: format!("{}:{:02}", st.resend_in_secs / 60, st.resend_in_secs % 60),
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /register/confirm` — the person registering (the registration is in their session).
pub async fn confirm_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    confirm_page(&state, &session, FieldErrors::default()).await
}

/// The code as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

/// `POST /register/confirm` — the person registering.
pub async fn confirm_post(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Some(id) = current(&session) else {
        return Ok(Redirect::to("/register").into_response());
    };
    let code: String = form
        .code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let mut errors = FieldErrors::default();
    if code.is_empty() {
        errors.add("code", "Введите код из SMS");
    } else if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        errors.add(
            "code",
            "Код состоит из 6 цифр — введите его без пробелов и букв",
        );
    } else {
        match registration::confirm_code(ctx(&state), id, &code).await {
            Ok(()) => return Ok(Redirect::to("/register/password").into_response()),
            Err(
                e @ (RegistrationError::WrongCode { .. }
                | RegistrationError::CodeVoid
                | RegistrationError::Expired),
            ) => errors.add("code", code_error(&e).unwrap_or_default()),
            Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => {
                session.remove(SESSION_KEY);
                return Ok(Redirect::to("/register").into_response());
            }
            Err(e) => return Err(internal(e)),
        }
    }
    confirm_page(&state, &session, errors).await
}

/// `POST /register/resend` — the person registering.
pub async fn resend_post(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(id) = current(&session) else {
        return Ok(Redirect::to("/register").into_response());
    };
    let mut errors = FieldErrors::default();
    match registration::resend(ctx(&state), id, &client_ip(&state, peer, &headers)).await {
        Ok(()) => {
            session.insert(
                &state,
                FLASH,
                &"Мы отправили новый код. Предыдущий больше не действует",
            );
            return Ok(Redirect::to("/register/confirm").into_response());
        }
        Err(RegistrationError::ResendTooEarly { wait_secs }) => {
            errors.add("code", crate::messages::new_code_in(wait_secs))
        }
        Err(RegistrationError::TooManyCodes { .. }) => {
            errors.add("code", crate::messages::TOO_MANY_CODES)
        }
        Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => {
            session.remove(SESSION_KEY);
            return Ok(Redirect::to("/register").into_response());
        }
        Err(e) => return Err(internal(e)),
    }
    confirm_page(&state, &session, errors).await
}

#[derive(Debug, Template)]
#[template(path = "registration/email_link.html")]
struct EmailLinkPage {
    layout: Layout,
    csrf_token: String,
    token: String,
    valid: bool,
    reason: &'static str,
}

fn token_ok(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `GET /register/email/{token}` — anyone with the link. Confirming takes a button press, so a
/// mail scanner that fetches links does not use the link up.
pub async fn email_link_get(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let page = EmailLinkPage {
        layout: Layout::new(
            &state,
            if token_ok(&token) {
                "Подтвердите адрес"
            } else {
                "Ссылка недействительна"
            },
        ),
        csrf_token: session.csrf_token(&state),
        valid: token_ok(&token),
        reason: "Ссылка введена с ошибкой. Скопируйте её из письма целиком.",
        token,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /register/email/{token}` — anyone with the link.
pub async fn email_link_post(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let reason = match registration::confirm_link(ctx(&state), &token).await {
        Ok(id) => {
            session.insert(&state, SESSION_KEY, &id);
            return Ok(Redirect::to("/register/password").into_response());
        }
        Err(RegistrationError::NotFound) => {
            "Ссылка не найдена. Возможно, вы запросили новое письмо — перейдите по ссылке из последнего."
        }
        Err(RegistrationError::Expired) => {
            "Срок действия ссылки истёк: она действует 24 часа. Зарегистрируйтесь заново."
        }
        Err(RegistrationError::AlreadyCompleted) => {
            "По этой ссылке уже зарегистрирована учётная запись. Войдите с паролем."
        }
        Err(e) => return Err(internal(e)),
    };
    let page = EmailLinkPage {
        layout: Layout::new(&state, "Ссылка недействительна"),
        csrf_token: session.csrf_token(&state),
        token: String::new(),
        valid: false,
        reason,
    };
    Ok((StatusCode::GONE, Html(render(&page)?)).into_response())
}

/// Step 3 as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    password: String,
    password_confirmation: String,
    consent: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "registration/password.html")]
struct PasswordPage {
    layout: Layout,
    csrf_token: String,
    errors: FieldErrors,
    contact_confirmed: &'static str,
    strength: Option<&'static str>,
    consent: bool,
    /// Another account holds the contact just proven («Номер занят»).
    taken: bool,
    by_email: bool,
}

async fn confirmed_registration(
    state: &AppState,
    session: &Session,
) -> Result<Result<registration::RegistrationState, Response>, AppError> {
    let Some(id) = current(session) else {
        return Ok(Err(Redirect::to("/register").into_response()));
    };
    match registration::state(ctx(state), id).await {
        Ok(st) if st.confirmed => Ok(Ok(st)),
        Ok(_) => Ok(Err(Redirect::to("/register/confirm").into_response())),
        Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => {
            session.remove(SESSION_KEY);
            Ok(Err(Redirect::to("/register").into_response()))
        }
        Err(e) => Err(internal(e)),
    }
}

fn confirmed_label(contact: &Contact) -> &'static str {
    match contact {
        Contact::Phone(_) => "Номер телефона",
        Contact::Email(_) => "Адрес электронной почты",
    }
}

/// `GET /register/password` — the person registering, after confirming the contact.
pub async fn password_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let st = match confirmed_registration(&state, &session).await? {
        Ok(st) => st,
        Err(redirect) => return Ok(redirect),
    };
    let page = PasswordPage {
        layout: Layout::new(&state, "Придумайте пароль"),
        csrf_token: session.csrf_token(&state),
        errors: FieldErrors::default(),
        contact_confirmed: confirmed_label(&st.contact),
        strength: None,
        consent: false,
        taken: st.taken,
        by_email: matches!(st.contact, Contact::Email(_)),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /register/password` — the person registering; creates the account and signs in.
pub async fn password_post(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let st = match confirmed_registration(&state, &session).await? {
        Ok(st) => st,
        Err(redirect) => return Ok(redirect),
    };
    let consent = form.consent.as_deref() == Some("yes");
    let mut errors = FieldErrors::default();
    let input = CompleteRegistration {
        password: form.password.clone(),
        password_confirmation: form.password_confirmation.clone(),
        consent,
    };
    if form.password.is_empty() {
        errors.add("password", "Придумайте пароль");
    } else if let Err(list) = registration::check_password(&st.name, &st.contact, &form.password) {
        let text = list
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(". ");
        errors.add("password", text);
    } else if form.password != form.password_confirmation {
        errors.add(
            "password_confirmation",
            "Пароли не совпадают. Введите пароль ещё раз",
        );
    }
    if !consent {
        errors.add("consent", "Подтвердите согласие на обработку персональных данных — без него регистрация невозможна");
    }
    if errors.is_empty() {
        match registration::complete(ctx(&state), st.id, input).await {
            Ok(account_id) => {
                session.remove(SESSION_KEY);
                session.set_account(&state, Some(account_id));
                session.insert(
                    &state,
                    FLASH,
                    &"Учётная запись создана. Добро пожаловать на портал госуслуг!",
                );
                let mut resp = Redirect::to("/cabinet").into_response();
                crate::device::after_sign_in(&state, &headers, account_id, &mut resp).await;
                return Ok(resp);
            }
            Err(RegistrationError::ContactTaken) => errors.add(
                "password",
                "Этот контакт только что подтвердил другой человек. Начните регистрацию заново",
            ),
            Err(RegistrationError::AlreadyCompleted | RegistrationError::NotFound) => {
                session.remove(SESSION_KEY);
                return Ok(Redirect::to("/register").into_response());
            }
            Err(RegistrationError::Expired) => {
                session.remove(SESSION_KEY);
                return Ok(Redirect::to("/register").into_response());
            }
            Err(e) => return Err(internal(e)),
        }
    }
    let ctx_pw = uslugi_domain::PasswordContext {
        names: vec![st.name.last.clone(), st.name.first.clone()],
        birth_date: None,
        phone_digits: None,
    };
    let page = PasswordPage {
        layout: Layout::new(&state, "Придумайте пароль").with_errors(true),
        csrf_token: session.csrf_token(&state),
        errors,
        contact_confirmed: confirmed_label(&st.contact),
        strength: (!form.password.is_empty()).then(|| strength(&form.password, &ctx_pw).label),
        consent,
        taken: st.taken,
        by_email: matches!(st.contact, Contact::Email(_)),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /register/status` — the person registering: whether the contact is confirmed, for the
/// «Проверьте почту» page's script (the page works without it through its link).
pub async fn status(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    let Some(id) = current(&session) else {
        return Err(AppError::NotFound);
    };
    let confirmed = match registration::state(ctx(&state), id).await {
        Ok(st) => st.confirmed,
        Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => false,
        Err(e) => return Err(internal(e)),
    };
    Ok(axum::Json(serde_json::json!({ "confirmed": confirmed })).into_response())
}
