//! `/recover/lost`: the way back in without the second factor — personal data that must match,
//! a code to the account's e-mail, a new phone confirmed by its own code; then the second
//! factors are off and every session has ended.

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, State, rejection::FormRejection},
    http::HeaderMap,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{
    identity::accounts::Contact,
    identity::contacts::{self, ContactError},
    identity::lost_factor::{self, Claim},
    identity::registration::RegistrationError,
};
use uslugi_domain::{Date, Email, Phone, Snils};
use uuid::Uuid;

use crate::{
    AppError, AppState,
    context::{client_ip, ctx},
    forms::{FieldErrors, code_error},
    layout::{Layout, render},
    session::Session,
};

const CLAIM_KEY: &str = "lost_factor";
const PHONE_KEY: &str = "lost_factor_phone";

/// The claim as posted (its `Debug` shows none of it: personal data and a password).
#[derive(Default, Deserialize, Clone)]
#[serde(default)]
pub struct ClaimForm {
    email: String,
    last_name: String,
    first_name: String,
    middle_name: String,
    birth_date: String,
    snils: String,
    passport: String,
    /// Never shown again: cleared before the form is re-rendered.
    password: String,
}

impl std::fmt::Debug for ClaimForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimForm").finish_non_exhaustive()
    }
}

#[derive(Debug, Template)]
#[template(path = "recovery/lost/start.html")]
struct StartPage {
    layout: Layout,
    csrf_token: String,
    form: ClaimForm,
    errors: FieldErrors,
}

fn start_page(
    state: &AppState,
    session: &Session,
    mut form: ClaimForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    form.password.clear();
    let page = StartPage {
        layout: Layout::new(state, "Восстановление без второго фактора")
            .with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        form,
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /recover/lost` — anyone.
pub async fn start_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    start_page(
        &state,
        &session,
        ClaimForm::default(),
        FieldErrors::default(),
    )
}

fn parse_claim(form: &ClaimForm, errors: &mut FieldErrors) -> Option<Claim> {
    let email = match Email::parse(&form.email) {
        Ok(e) => Some(e),
        Err(e) => {
            errors.add("email", e.to_string());
            None
        }
    };
    if form.last_name.trim().is_empty() {
        errors.add("last_name", "Введите фамилию");
    }
    if form.first_name.trim().is_empty() {
        errors.add("first_name", "Введите имя");
    }
    let birth_date = match Date::parse_ru(&form.birth_date) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.add("birth_date", "Введите дату рождения в формате ДД.ММ.ГГГГ");
            None
        }
    };
    let snils = if form.snils.trim().is_empty() {
        None
    } else {
        match Snils::parse(&form.snils) {
            Ok(s) => Some(s),
            Err(e) => {
                errors.add("snils", e.to_string());
                None
            }
        }
    };
    let passport_digits: String = form
        .passport
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let passport = if passport_digits.is_empty() {
        None
    } else if passport_digits.len() == 10 && passport_digits.bytes().all(|b| b.is_ascii_digit()) {
        Some(passport_digits)
    } else {
        errors.add(
            "passport",
            "Введите серию и номер паспорта — 10 цифр, например 4510 123456",
        );
        None
    };
    if form.snils.trim().is_empty() && form.passport.trim().is_empty() {
        errors.add("snils", "Укажите СНИЛС или серию и номер паспорта");
    }
    if form.password.is_empty() {
        errors.add("password", "Введите пароль от учётной записи");
    }
    if !errors.is_empty() {
        return None;
    }
    Some(Claim {
        email: email?,
        last: form.last_name.clone(),
        first: form.first_name.clone(),
        middle: form.middle_name.clone(),
        birth_date: birth_date?,
        snils,
        passport,
        password: form.password.clone(),
    })
}

/// `POST /recover/lost` — anyone. The answer is the same whether or not the data matched.
pub async fn start_post(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<ClaimForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut errors = FieldErrors::default();
    let Some(claim) = parse_claim(&form, &mut errors) else {
        return start_page(&state, &session, form, errors);
    };
    let ip = client_ip(&state, peer, &headers);
    let client = uslugi_core::identity::login::Client {
        ip: &ip,
        user_agent: crate::identity::second_step::user_agent(&headers),
    };
    match lost_factor::start(ctx(&state), &claim, &client).await {
        Ok(id) => {
            session.insert(&state, CLAIM_KEY, &id);
            session.remove(PHONE_KEY);
            Ok(Redirect::to("/recover/lost/confirm").into_response())
        }
        Err(RegistrationError::TooManyCodes { retry_after_secs }) => Err(
            AppError::TooManyRequests(u64::try_from(retry_after_secs).unwrap_or(3600)),
        ),
        Err(e) => Err(AppError::internal(e)),
    }
}

#[derive(Debug, Template)]
#[template(path = "recovery/lost/code.html")]
struct CodePage {
    layout: Layout,
    csrf_token: String,
    action: &'static str,
    intro: String,
    label: &'static str,
    errors: FieldErrors,
}

fn code_page(
    state: &AppState,
    session: &Session,
    phone_step: bool,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let page = CodePage {
        layout: Layout::new(state, "Введите код").with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        action: if phone_step {
            "/recover/lost/phone/confirm"
        } else {
            "/recover/lost/confirm"
        },
        intro: if phone_step {
            "Мы отправили СМС с кодом на новый номер. Код действует 5 минут.".into()
        } else {
            "Если данные совпали с подтверждёнными данными учётной записи, на её электронную почту пришёл код. Код действует 5 минут.".into()
        },
        label: if phone_step {
            "Код из СМС"
        } else {
            "Код из письма"
        },
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /recover/lost/confirm` — the person recovering.
pub async fn confirm_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    if session.get::<Uuid>(CLAIM_KEY).is_none() {
        return Ok(Redirect::to("/recover/lost").into_response());
    }
    code_page(&state, &session, false, FieldErrors::default())
}

/// A code as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

fn six_digits(code: &str) -> Option<String> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// `POST /recover/lost/confirm` — the person recovering.
pub async fn confirm_post(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Some(id) = session.get::<Uuid>(CLAIM_KEY) else {
        return Ok(Redirect::to("/recover/lost").into_response());
    };
    let mut errors = FieldErrors::default();
    match six_digits(&form.code) {
        None => errors.add("code", "Введите код — 6 цифр"),
        Some(code) => match lost_factor::confirm_code(ctx(&state), id, &code).await {
            Ok(_) => return Ok(Redirect::to("/recover/lost/phone").into_response()),
            Err(
                e @ (RegistrationError::WrongCode { .. }
                | RegistrationError::CodeVoid
                | RegistrationError::Expired),
            ) => errors.add("code", code_error(&e).unwrap_or_default()),
            Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => {
                session.remove(CLAIM_KEY);
                return Ok(Redirect::to("/recover/lost").into_response());
            }
            Err(e) => return Err(AppError::internal(e)),
        },
    }
    code_page(&state, &session, false, errors)
}

async fn confirmed_account(
    state: &AppState,
    session: &Session,
) -> Result<Option<(Uuid, Uuid)>, AppError> {
    let Some(id) = session.get::<Uuid>(CLAIM_KEY) else {
        return Ok(None);
    };
    Ok(lost_factor::confirmed_account(ctx(state), id)
        .await
        .map_err(AppError::internal)?
        .map(|account| (id, account)))
}

#[derive(Debug, Template)]
#[template(path = "recovery/lost/phone.html")]
struct PhonePage {
    layout: Layout,
    csrf_token: String,
    phone: String,
    errors: FieldErrors,
}

fn phone_page(
    state: &AppState,
    session: &Session,
    phone: String,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let page = PhonePage {
        layout: Layout::new(state, "Новый номер телефона").with_errors(!errors.is_empty()),
        csrf_token: session.csrf_token(state),
        phone,
        errors,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `GET /recover/lost/phone` — the person recovering, after the e-mail code.
pub async fn phone_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    if confirmed_account(&state, &session).await?.is_none() {
        return Ok(Redirect::to("/recover/lost").into_response());
    }
    phone_page(&state, &session, String::new(), FieldErrors::default())
}

/// The new phone as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PhoneForm {
    phone: String,
}

/// `POST /recover/lost/phone` — the person recovering: sends a code to the new phone.
pub async fn phone_post(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<PhoneForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Some((_, account_id)) = confirmed_account(&state, &session).await? else {
        return Ok(Redirect::to("/recover/lost").into_response());
    };
    let mut errors = FieldErrors::default();
    let phone = match Phone::parse(&form.phone) {
        Ok(p) => p,
        Err(e) => {
            errors.add("phone", e.to_string());
            return phone_page(&state, &session, form.phone, errors);
        }
    };
    let ip = client_ip(&state, peer, &headers);
    match contacts::start(ctx(&state), account_id, Contact::Phone(phone), &ip).await {
        Ok(vid) => {
            session.insert(&state, PHONE_KEY, &vid);
            Ok(Redirect::to("/recover/lost/phone/confirm").into_response())
        }
        Err(ContactError::AlreadyYours) => {
            errors.add(
                "phone",
                "Этот номер уже указан в учётной записи. Укажите новый номер",
            );
            phone_page(&state, &session, form.phone, errors)
        }
        Err(ContactError::Flow(RegistrationError::TooManyCodes { retry_after_secs })) => Err(
            AppError::TooManyRequests(u64::try_from(retry_after_secs).unwrap_or(3600)),
        ),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// `GET /recover/lost/phone/confirm` — the person recovering.
pub async fn phone_confirm_get(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    if session.get::<Uuid>(PHONE_KEY).is_none() {
        return Ok(Redirect::to("/recover/lost/phone").into_response());
    }
    code_page(&state, &session, true, FieldErrors::default())
}

#[derive(Debug, Template)]
#[template(path = "recovery/lost/done.html")]
struct DonePage {
    layout: Layout,
}

/// `POST /recover/lost/phone/confirm` — the person recovering: the new phone is set, the second
/// factors are off, every session has ended.
pub async fn phone_confirm_post(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (Some((claim_id, account_id)), Some(vid)) = (
        confirmed_account(&state, &session).await?,
        session.get::<Uuid>(PHONE_KEY),
    ) else {
        return Ok(Redirect::to("/recover/lost").into_response());
    };
    let mut errors = FieldErrors::default();
    match six_digits(&form.code) {
        None => errors.add("code", "Введите код — 6 цифр"),
        Some(code) => {
            match contacts::confirm_for_recovery(ctx(&state), account_id, vid, &code).await {
                Ok(_) => {
                    lost_factor::finish(ctx(&state), claim_id)
                        .await
                        .map_err(AppError::internal)?;
                    session.remove(CLAIM_KEY);
                    session.remove(PHONE_KEY);
                    let page = DonePage {
                        layout: Layout::new(&state, "Доступ восстановлен"),
                    };
                    return Ok(Html(render(&page)?).into_response());
                }
                Err(ContactError::Flow(
                    e @ (RegistrationError::WrongCode { .. }
                    | RegistrationError::CodeVoid
                    | RegistrationError::Expired),
                )) => errors.add("code", code_error(&e).unwrap_or_default()),
                Err(ContactError::Flow(
                    RegistrationError::NotFound | RegistrationError::AlreadyCompleted,
                )) => {
                    session.remove(PHONE_KEY);
                    return Ok(Redirect::to("/recover/lost/phone").into_response());
                }
                Err(e) => return Err(AppError::internal(e)),
            }
        }
    }
    code_page(&state, &session, true, errors)
}
