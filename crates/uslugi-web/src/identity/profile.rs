//! `/profile/personal`: personal data for the registry check and the standard level.

use askama::Template;
use axum::{
    Form,
    extract::{Multipart, Path, State, multipart::MultipartRejection, rejection::FormRejection},
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{
    identity::profile::{self, PassportData, PersonalData, ProfileError, ProfileState},
    identity::uploads,
};
use uslugi_domain::{AgeLimits, BirthDate, Date, Inn, Passport, PassportInput, Snils};
use uuid::Uuid;

use crate::{
    AppError, AppState,
    forms::FieldErrors,
    layout::signed_in_layout,
    layout::{Layout, render},
    session::Session,
};

/// The form as posted (and as shown again).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PersonalForm {
    sex: String,
    birth_date: String,
    birth_place: String,
    passport_series: String,
    passport_number: String,
    passport_issued_on: String,
    passport_issuer: String,
    division_code: String,
    snils: String,
    inn: String,
    address: String,
}

impl PersonalForm {
    fn from_data(d: &PersonalData) -> PersonalForm {
        PersonalForm {
            sex: d.sex.clone(),
            birth_date: d.birth_date.clone(),
            birth_place: d.birth_place.clone(),
            passport_series: d.passport.series.clone(),
            passport_number: d.passport.number.clone(),
            passport_issued_on: d.passport.issued_on.clone(),
            passport_issuer: d.passport.issuer.clone(),
            division_code: d.passport.division_code.clone(),
            snils: Snils::parse(&d.snils)
                .map(|s| s.to_string())
                .unwrap_or_else(|_| d.snils.clone()),
            inn: d.inn.clone().unwrap_or_default(),
            address: d.address.clone(),
        }
    }
}

#[derive(Debug, Template)]
#[template(path = "profile/personal_form.html")]
struct FormPage {
    layout: Layout,
    csrf_token: String,
    form: PersonalForm,
    errors: FieldErrors,
    rejected: bool,
    scan: Option<ScanView>,
    scan_error: Option<String>,
    flash: Option<String>,
}

/// The uploaded scan as the page shows it: «Паспорт.jpg, JPG, 84 КБ».
#[derive(Debug)]
struct ScanView {
    id: Uuid,
    name: String,
    label: &'static str,
    size: String,
}

/// Purpose name of passport scans.
const SCAN: &str = "passport_scan";

#[derive(Debug, Template)]
#[template(path = "profile/personal_pending.html")]
struct PendingPage {
    layout: Layout,
}

#[derive(Debug, Template)]
#[template(path = "profile/personal_verified.html")]
struct VerifiedPage {
    layout: Layout,
    rows: Vec<(&'static str, String)>,
}

/// Today's date (UTC) as a domain date.
pub fn today() -> Date {
    let d = time::OffsetDateTime::now_utc().date();
    Date::from_ymd(
        u16::try_from(d.year()).unwrap_or(2000),
        u8::from(d.month()),
        d.day(),
    )
    .unwrap_or(uslugi_domain::passport::PASSPORT_INTRODUCED)
}

fn signed_in(session: &Session) -> Option<Uuid> {
    session.account_id()
}

/// `GET /profile/personal` — the signed-in person.
pub async fn get(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    let Some(account_id) = signed_in(&session) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let st = profile::state(&state.db, &state.keys, account_id)
        .await
        .map_err(AppError::internal)?;
    Ok(match st {
        ProfileState::Empty => {
            form_page(
                &state,
                &session,
                PersonalForm::default(),
                FieldErrors::default(),
                false,
                None,
            )
            .await?
        }
        ProfileState::Pending(_) => pending_page(&state, &session)?,
        ProfileState::Verified(d) => verified_page(&state, &session, &d)?,
        ProfileState::Failed(d, failures) => {
            let mut errors = FieldErrors::default();
            for f in failures {
                errors.add(f.field(), f.message());
            }
            form_page(
                &state,
                &session,
                PersonalForm::from_data(&d),
                errors,
                true,
                None,
            )
            .await?
        }
    })
}

async fn form_page(
    state: &AppState,
    session: &Session,
    form: PersonalForm,
    errors: FieldErrors,
    rejected: bool,
    scan_error: Option<String>,
) -> Result<Response, AppError> {
    let Some(account_id) = session.account_id() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let scan = uploads::latest(&state.db, &state.keys, account_id, SCAN)
        .await
        .map_err(AppError::internal)?
        .map(|u| ScanView {
            id: u.id,
            name: u.file_name,
            label: u.kind_label,
            size: uploads::human_size(u.size),
        });
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let has_errors = (!errors.is_empty() && !rejected) || scan_error.is_some();
    let page = FormPage {
        layout: signed_in_layout(state, session, "Личные данные").with_errors(has_errors),
        csrf_token: session.csrf_token(state),
        form,
        errors,
        rejected,
        scan,
        scan_error,
        flash,
    };
    Ok(Html(render(&page)?).into_response())
}

fn pending_page(state: &AppState, session: &Session) -> Result<Response, AppError> {
    let page = PendingPage {
        layout: signed_in_layout(state, session, "Ожидание проверки данных"),
    };
    Ok(Html(render(&page)?).into_response())
}

fn verified_page(
    state: &AppState,
    session: &Session,
    d: &PersonalData,
) -> Result<Response, AppError> {
    let sex = if d.sex == "female" {
        "Женский"
    } else {
        "Мужской"
    };
    let mut rows = vec![
        ("Пол", sex.to_owned()),
        ("Дата рождения", d.birth_date.clone()),
        ("Место рождения", d.birth_place.clone()),
        (
            "Паспорт",
            format!(
                "{} {} {}",
                &d.passport.series[..2],
                &d.passport.series[2..],
                d.passport.number
            ),
        ),
        ("Дата выдачи", d.passport.issued_on.clone()),
        ("Кем выдан", d.passport.issuer.clone()),
        ("Код подразделения", d.passport.division_code.clone()),
        (
            "СНИЛС",
            Snils::parse(&d.snils)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        ),
    ];
    if let Some(inn) = &d.inn {
        rows.push(("ИНН", inn.clone()));
    }
    rows.push(("Адрес регистрации", d.address.clone()));
    let page = VerifiedPage {
        layout: signed_in_layout(state, session, "Личные данные"),
        rows,
    };
    Ok(Html(render(&page)?).into_response())
}

pub(crate) fn parse(form: &PersonalForm, errors: &mut FieldErrors) -> Option<PersonalData> {
    let today = today();
    let sex = match form.sex.as_str() {
        "male" | "female" => Some(form.sex.clone()),
        _ => {
            errors.add("sex", "Выберите пол");
            None
        }
    };
    let birth = match BirthDate::parse(&form.birth_date, today, AgeLimits::default()) {
        Ok(b) => Some(b.date()),
        Err(e) => {
            errors.add("birth_date", e.to_string());
            None
        }
    };
    let place = form
        .birth_place
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if place.is_empty() {
        errors.add("birth_place", "Введите место рождения, как в паспорте");
    } else if place.chars().count() > 200 {
        errors.add(
            "birth_place",
            "Место рождения слишком длинное: не больше 200 символов",
        );
    }
    let passport = match Passport::parse(
        PassportInput {
            series: &form.passport_series,
            number: &form.passport_number,
            issued_on: &form.passport_issued_on,
            issuer: &form.passport_issuer,
            division_code: &form.division_code,
        },
        today,
        birth,
    ) {
        Ok(p) => Some(p),
        Err(list) => {
            for (field, e) in list {
                let id = match field.as_str() {
                    "series" => "passport_series",
                    "number" => "passport_number",
                    "issued_on" => "passport_issued_on",
                    "issuer" => "passport_issuer",
                    _ => "division_code",
                };
                errors.add(id, e.to_string());
            }
            None
        }
    };
    let snils = match Snils::parse(&form.snils) {
        Ok(s) => Some(s),
        Err(e) => {
            errors.add("snils", e.to_string());
            None
        }
    };
    let inn = if form.inn.trim().is_empty() {
        Some(None)
    } else {
        match Inn::parse_person(&form.inn) {
            Ok(i) => Some(Some(i.as_str().to_owned())),
            Err(e) => {
                errors.add("inn", e.to_string());
                None
            }
        }
    };
    let address = form
        .address
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if address.is_empty() {
        errors.add("address", "Введите адрес регистрации, как в паспорте");
    } else if address.chars().count() < 10 {
        errors.add(
            "address",
            "Адрес слишком короткий: укажите город, улицу, дом и квартиру",
        );
    } else if address.chars().count() > 300 {
        errors.add("address", "Адрес слишком длинный: не больше 300 символов");
    }
    let (sex, birth, passport, snils, inn) = (sex?, birth?, passport?, snils?, inn?);
    if !errors.is_empty() {
        return None;
    }
    Some(PersonalData {
        sex,
        birth_date: birth.to_string(),
        birth_place: place,
        passport: PassportData {
            series: passport.series().as_str().to_owned(),
            number: passport.number().as_str().to_owned(),
            issued_on: passport.issued_on().to_string(),
            issuer: passport.issuer().as_str().to_owned(),
            division_code: passport.division_code().to_string(),
        },
        snils: snils.as_digits().to_owned(),
        inn,
        address,
    })
}

/// `POST /profile/personal` — the signed-in person: «Отправить на проверку».
pub async fn post(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<PersonalForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Some(account_id) = signed_in(&session) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut errors = FieldErrors::default();
    if let Some(data) = parse(&form, &mut errors) {
        match profile::submit(&state.db, &state.keys, &state.config, account_id, data).await {
            Ok(()) | Err(ProfileError::Pending) => {
                return Ok(Redirect::to("/profile/personal").into_response());
            }
            Err(ProfileError::SnilsTaken) => errors.add(
                "snils",
                "Этот СНИЛС указан в другой учётной записи. Если он ваш, обратитесь в центр обслуживания с паспортом",
            ),
            Err(ProfileError::InnTaken) => errors.add(
                "inn",
                "Этот ИНН указан в другой учётной записи. Если он ваш, обратитесь в центр обслуживания с паспортом",
            ),
            Err(e) => return Err(AppError::internal(e)),
        }
    }
    form_page(&state, &session, form, errors, false, None).await
}

/// `POST /profile/personal/scan?csrf_token=…` — the signed-in person: a scan or photo of the
/// passport page (multipart field `file`).
pub async fn scan_post(
    State(state): State<AppState>,
    session: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let Some(account_id) = signed_in(&session) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let mut multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut refused = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) if name.is_empty() && bytes.is_empty() => {}
                    Ok(bytes) => file = Some((name, bytes.to_vec())),
                    Err(_) => refused = Some(uploads::FileError::TooLarge),
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                refused = Some(uploads::FileError::TooLarge);
                break;
            }
        }
    }
    let result = match (refused, file) {
        (Some(e), _) => Err(e.to_string()),
        (None, None) => Err(uploads::FileError::Missing.to_string()),
        (None, Some((name, bytes))) => {
            match uploads::save(
                &state.db,
                &state.keys,
                state.objects.as_ref(),
                account_id,
                SCAN,
                &name,
                &bytes,
            )
            .await
            {
                Ok(_) => Ok(()),
                Err(uploads::UploadError::File(e)) => Err(e.to_string()),
                Err(e) => return Err(AppError::internal(e)),
            }
        }
    };
    match result {
        Ok(()) => {
            session.insert(&state, "flash", &"Скан паспорта загружен");
            Ok(Redirect::to("/profile/personal").into_response())
        }
        Err(message) => {
            let st = profile::state(&state.db, &state.keys, account_id)
                .await
                .map_err(AppError::internal)?;
            let form = match &st {
                ProfileState::Failed(d, _)
                | ProfileState::Verified(d)
                | ProfileState::Pending(d) => PersonalForm::from_data(d),
                ProfileState::Empty => PersonalForm::default(),
            };
            let mut resp = form_page(
                &state,
                &session,
                form,
                FieldErrors::default(),
                false,
                Some(message),
            )
            .await?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
    }
}

/// `GET /profile/uploads/{id}` — the owner of the file only; anyone else gets 404.
pub async fn upload_get(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let Some(account_id) = signed_in(&session) else {
        return Err(AppError::NotFound);
    };
    let (content_type, name, bytes) = uploads::read(
        &state.db,
        &state.keys,
        state.objects.as_ref(),
        account_id,
        id,
    )
    .await
    .map_err(AppError::internal)?
    .ok_or(AppError::NotFound)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // RFC 6266: the ASCII fallback plus the UTF-8 name.
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"scan\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

/// `GET /profile/personal/status` — the signed-in person: the check state as JSON, for the
/// waiting page's script (the page works without it through its link).
pub async fn status(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    let Some(account_id) = signed_in(&session) else {
        return Err(AppError::NotFound);
    };
    let st = profile::state(&state.db, &state.keys, account_id)
        .await
        .map_err(AppError::internal)?;
    let name = match st {
        ProfileState::Empty => "empty",
        ProfileState::Pending(_) => "pending",
        ProfileState::Verified(_) => "verified",
        ProfileState::Failed(..) => "failed",
    };
    Ok(axum::Json(serde_json::json!({ "state": name })).into_response())
}
