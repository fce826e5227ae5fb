//! Applications: started from a service's card (the level checked first), filled step by step
//! and saved as a draft at every step, checked whole and sent once, then moved by the agency's
//! officers. Every status change goes through the domain's state machine, is a compare-and-set
//! in the database, is written to the history with its actor, and tells the applicant.
//!
//! The values are personal data: stored encrypted, decrypted only for the applicant and for
//! the officers of the application's agency.

use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::TransactionTrait;
use uslugi_domain::{
    AccountLevel, Actor, ApplicationStatus as Status, Date, Email, Event, Inn, Phone, Snils,
    TransitionError, calendar,
};
use uslugi_store::{now_ms, services::applications as store};
use uuid::Uuid;

use super::catalogue::{Catalogue, Field, FieldKind, Prefill, Service};
use crate::{
    CryptoError, Ctx, Db, Keys, StoreError,
    cabinet::alerts::{self, Topic},
    identity::{
        accounts::{self, Contact},
        profile::{self, ProfileState},
    },
    kernel::delivery::EnqueueError,
};

/// Cipher purpose of the values.
pub(crate) const DATA_PURPOSE: &str = "applications.data";
/// Cipher purpose of the history's messages.
pub(crate) const MESSAGE_PURPOSE: &str = "application_events.message";

/// The values of a form, by field name.
pub type Values = BTreeMap<String, String>;

/// A refused field: its name and the Russian message.
pub type FieldError = (String, String);

/// Why an application use case refused.
#[derive(Debug, thiserror::Error)]
pub enum ApplicationError {
    /// No such application for this person or agency (someone else's looks the same).
    #[error("not found")]
    NotFound,
    /// The service is not (or no longer) in the catalogue.
    #[error("no such service")]
    NoService,
    /// The account's level is below the service's.
    #[error("level too low")]
    Level(AccountLevel),
    /// Fields were refused (the step to show them on, and each field's message).
    #[error("invalid fields")]
    Invalid(usize, Vec<FieldError>),
    /// The state machine says no.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Changed by someone else meanwhile (another tab, another officer).
    #[error("changed meanwhile")]
    Changed,
    /// A message is required for this act.
    #[error("message required")]
    MessageRequired,
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Database.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// Crypto.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Outbox.
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    /// Account data.
    #[error(transparent)]
    Account(#[from] accounts::AccountError),
    /// Profile data.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
}

/// An application as its applicant or officer sees it.
#[derive(Debug, Clone)]
pub struct Application {
    /// Id.
    pub id: Uuid,
    /// The number people dictate on the phone (once sent).
    pub number: Option<String>,
    /// The applicant.
    pub account_id: Uuid,
    /// The service's slug.
    pub service: String,
    /// The agency's slug.
    pub agency: String,
    /// The status.
    pub status: Status,
    /// The first step not yet completed (the number of steps: all done, the review is next).
    pub step: usize,
    /// The values.
    pub values: Values,
    /// The officer who took it.
    pub officer_id: Option<Uuid>,
    /// Created, Unix ms.
    pub created_at: i64,
    /// Last changed, Unix ms.
    pub updated_at: i64,
    /// Sent, Unix ms.
    pub sent_at: Option<i64>,
    /// The deadline, Unix ms (end of the last working day, Moscow time).
    pub due_at: Option<i64>,
}

/// A line of an application list (nothing decrypted).
#[derive(Debug, Clone)]
pub struct Line {
    /// Id.
    pub id: Uuid,
    /// Number.
    pub number: Option<String>,
    /// Service slug.
    pub service: String,
    /// Status.
    pub status: Status,
    /// Last changed.
    pub updated_at: i64,
    /// Sent.
    pub sent_at: Option<i64>,
    /// Deadline.
    pub due_at: Option<i64>,
}

/// A history entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// When.
    pub at: i64,
    /// Who.
    pub actor: Actor,
    /// The status after it.
    pub status: Status,
    /// The message (a request, an answer, a reason, a result).
    pub message: Option<String>,
}

fn line(row: &store::ApplicationRow) -> Result<Line, ApplicationError> {
    Ok(Line {
        id: row.id,
        number: row.number.clone(),
        service: row.service.clone(),
        status: status_of(&row.status)?,
        updated_at: row.updated_at,
        sent_at: row.sent_at,
        due_at: row.due_at,
    })
}

fn status_of(s: &str) -> Result<Status, ApplicationError> {
    Status::parse(s).ok_or_else(|| StoreError::Corrupt(format!("status {s:?}")).into())
}

fn open(keys: &Keys, row: store::ApplicationRow) -> Result<Application, ApplicationError> {
    let json = keys.cipher().decrypt(DATA_PURPOSE, &row.data)?;
    let values: Values =
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Application {
        id: row.id,
        number: row.number,
        account_id: row.account_id,
        service: row.service,
        agency: row.agency,
        status: status_of(&row.status)?,
        step: usize::try_from(row.step).unwrap_or(0),
        values,
        officer_id: row.officer_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
        sent_at: row.sent_at,
        due_at: row.due_at,
    })
}

fn seal(keys: &Keys, values: &Values) -> Result<String, ApplicationError> {
    let json = serde_json::to_string(values).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    Ok(keys.cipher().encrypt(DATA_PURPOSE, &json)?)
}

/// What the profile says, for pre-filling: the value of each source it has, and which of them
/// the registries verified (those are shown read-only and always taken from the profile).
#[derive(Debug, Clone, Default)]
pub struct FromProfile {
    /// Values by source.
    pub values: HashMap<Prefill, String>,
    /// Sources verified by the registries.
    pub verified: HashSet<Prefill>,
}

/// Reads the profile for pre-filling.
pub async fn from_profile(
    db: &Db,
    keys: &Keys,
    account_id: Uuid,
) -> Result<FromProfile, ApplicationError> {
    let mut out = FromProfile::default();
    let Some(account) = accounts::load(db, keys, account_id).await? else {
        return Err(ApplicationError::NotFound);
    };
    out.values
        .insert(Prefill::LastName, account.name.last.clone());
    out.values
        .insert(Prefill::FirstName, account.name.first.clone());
    if let Some(m) = &account.name.middle {
        out.values.insert(Prefill::MiddleName, m.clone());
    }
    for c in &account.contacts {
        match c {
            Contact::Phone(p) => out.values.entry(Prefill::Phone).or_insert(p.to_string()),
            Contact::Email(e) => out.values.entry(Prefill::Email).or_insert(e.to_string()),
        };
    }
    let (data, verified) = match profile::state(db, keys, account_id).await? {
        ProfileState::Verified(d) => (Some(d), true),
        ProfileState::Pending(d) | ProfileState::Failed(d, _) => (Some(d), false),
        ProfileState::Empty => (None, false),
    };
    if let Some(d) = data {
        let mut put = |k: Prefill, v: String| {
            if !v.is_empty() {
                out.values.insert(k, v);
                if verified {
                    out.verified.insert(k);
                }
            }
        };
        put(Prefill::BirthDate, d.birth_date.clone());
        put(Prefill::Snils, d.snils.clone());
        put(
            Prefill::Passport,
            format!("{} {}", d.passport.series, d.passport.number),
        );
        put(Prefill::Inn, d.inn.clone().unwrap_or_default());
        put(Prefill::Address, d.address.clone());
        if verified {
            // The name was checked with the data.
            for k in [Prefill::LastName, Prefill::FirstName, Prefill::MiddleName] {
                if out.values.contains_key(&k) {
                    out.verified.insert(k);
                }
            }
        }
    }
    Ok(out)
}

/// Whether a field is shown, given the values so far.
pub fn visible(field: &Field, values: &Values) -> bool {
    match field.condition() {
        None => true,
        Some((name, value)) => values.get(name).is_some_and(|v| v == value),
    }
}

/// Checks one typed value by the field's kind; returns it as stored (normalised) or the
/// Russian message for the field. An empty optional value is `Ok(None)`.
pub fn check(field: &Field, raw: &str) -> Result<Option<String>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return if field.required && field.kind != FieldKind::Checkbox {
            Err(match field.kind {
                FieldKind::Choice => format!("Выберите: {}", field.label.to_lowercase()),
                _ => format!("Заполните поле «{}»", field.label),
            })
        } else {
            Ok(None)
        };
    }
    let long = |max: usize| {
        if raw.chars().count() > max {
            Err(format!("Не больше {max} символов"))
        } else {
            Ok(Some(raw.to_owned()))
        }
    };
    match field.kind {
        FieldKind::Text => long(200),
        FieldKind::Textarea => long(2000),
        FieldKind::Address => long(500),
        FieldKind::Date => Date::parse_ru(raw)
            .map(|d| Some(d.to_string()))
            .map_err(|e| e.to_string()),
        FieldKind::Snils => Snils::parse(raw)
            .map(|s| Some(s.to_string()))
            .map_err(|e| e.to_string()),
        FieldKind::Inn => Inn::parse_person(raw)
            .map(|s| Some(s.to_string()))
            .map_err(|e| e.to_string()),
        FieldKind::Phone => Phone::parse(raw)
            .map(|s| Some(s.to_string()))
            .map_err(|e| e.to_string()),
        FieldKind::Email => Email::parse(raw)
            .map(|s| Some(s.to_string()))
            .map_err(|e| e.to_string()),
        FieldKind::Passport => {
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 10 || raw.chars().any(|c| !c.is_ascii_digit() && c != ' ') {
                Err("Введите серию и номер паспорта: 10 цифр, например 4510 123456".into())
            } else {
                Ok(Some(format!("{} {}", &digits[..4], &digits[4..])))
            }
        }
        FieldKind::Choice => {
            if field.options.iter().any(|o| o == raw) {
                Ok(Some(raw.to_owned()))
            } else {
                Err(format!(
                    "Выберите один из вариантов: {}",
                    field.label.to_lowercase()
                ))
            }
        }
        FieldKind::Number => {
            let n: i64 = raw
                .replace([' ', '\u{a0}'], "")
                .parse()
                .map_err(|_| "Введите целое число".to_owned())?;
            match (field.min, field.max) {
                (Some(lo), _) if n < lo => Err(format!("Не меньше {lo}")),
                (_, Some(hi)) if n > hi => Err(format!("Не больше {hi}")),
                _ => Ok(Some(n.to_string())),
            }
        }
        FieldKind::Checkbox => Ok((raw == "да").then(|| "да".to_owned())),
    }
}

/// Starts an application: checks the account's level, pre-fills from the profile and saves the
/// draft. Returns its id.
pub async fn start(
    ctx: Ctx<'_>,
    catalogue: &Catalogue,
    account_id: Uuid,
    slug: &str,
) -> Result<Uuid, ApplicationError> {
    let service = catalogue.service(slug).ok_or(ApplicationError::NoService)?;
    let account = accounts::load(ctx.db, ctx.keys, account_id)
        .await?
        .ok_or(ApplicationError::NotFound)?;
    if account.level < service.level() {
        return Err(ApplicationError::Level(service.level()));
    }
    let profile = from_profile(ctx.db, ctx.keys, account_id).await?;
    let mut values = Values::new();
    for f in service.steps.iter().flat_map(|s| s.fields.iter()) {
        if let Some(v) = f.prefill.and_then(|p| profile.values.get(&p)) {
            values.insert(f.name.clone(), v.clone());
        }
    }
    let now = now_ms();
    let id = Uuid::now_v7();
    store::insert(
        ctx.db,
        store::ApplicationRow {
            id,
            number: None,
            account_id,
            service: service.slug.clone(),
            agency: service.agency.clone(),
            status: Status::Draft.as_str().into(),
            step: 0,
            data: seal(ctx.keys, &values)?,
            officer_id: None,
            created_at: now,
            updated_at: now,
            sent_at: None,
            due_at: None,
        },
    )
    .await?;
    Ok(id)
}

/// The applicant's own application.
pub async fn own(
    db: &Db,
    keys: &Keys,
    account_id: Uuid,
    id: Uuid,
) -> Result<Application, ApplicationError> {
    let row = store::find_of_account(db, id, account_id)
        .await?
        .ok_or(ApplicationError::NotFound)?;
    open(keys, row)
}

/// Checks the posted values of step `index` against the values so far; returns the new values
/// (hidden fields dropped, verified profile values kept as the profile has them).
fn apply_step(
    service: &Service,
    index: usize,
    mut values: Values,
    posted: &HashMap<String, String>,
    profile: &FromProfile,
) -> Result<Values, Vec<FieldError>> {
    let Some(step) = service.steps.get(index) else {
        return Ok(values);
    };
    let mut errors = Vec::new();
    for f in &step.fields {
        if let Some(v) = f
            .prefill
            .filter(|p| profile.verified.contains(p))
            .and_then(|p| profile.values.get(&p))
        {
            values.insert(f.name.clone(), v.clone());
            continue;
        }
        if !visible(f, &values) {
            values.remove(&f.name);
            continue;
        }
        match check(f, posted.get(&f.name).map_or("", String::as_str)) {
            Ok(Some(v)) => {
                values.insert(f.name.clone(), v);
            }
            Ok(None) => {
                values.remove(&f.name);
            }
            Err(message) => {
                errors.push((f.name.clone(), message));
                // Kept as typed so the form shows it again.
                if let Some(raw) = posted.get(&f.name) {
                    values.insert(f.name.clone(), raw.trim().to_owned());
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// Saves step `index` of a draft from the posted form. With refused fields the typed values
/// are not saved and the errors come back with the step.
pub async fn save_step(
    ctx: Ctx<'_>,
    catalogue: &Catalogue,
    account_id: Uuid,
    id: Uuid,
    index: usize,
    posted: &HashMap<String, String>,
) -> Result<Application, ApplicationError> {
    let app = own(ctx.db, ctx.keys, account_id, id).await?;
    if app.status != Status::Draft {
        return Err(
            TransitionError::NotNow(uslugi_domain::application::StatusPhrase::of(app.status))
                .into(),
        );
    }
    let service = catalogue
        .service(&app.service)
        .ok_or(ApplicationError::NoService)?;
    let profile = from_profile(ctx.db, ctx.keys, account_id).await?;
    let values = apply_step(service, index, app.values.clone(), posted, &profile)
        .map_err(|e| ApplicationError::Invalid(index, e))?;
    let step = app.step.max(index + 1).min(service.steps.len());
    let saved = store::save_draft(
        ctx.db,
        id,
        seal(ctx.keys, &values)?,
        i32::try_from(step).unwrap_or(0),
        now_ms(),
    )
    .await?;
    if !saved {
        return Err(ApplicationError::Changed);
    }
    own(ctx.db, ctx.keys, account_id, id).await
}

/// Every required visible field of every step, checked: the first step with a problem and its
/// errors.
fn check_all(service: &Service, values: &Values) -> Result<(), ApplicationError> {
    for (i, step) in service.steps.iter().enumerate() {
        let errors: Vec<FieldError> = step
            .fields
            .iter()
            .filter(|f| visible(f, values))
            .filter_map(|f| {
                check(f, values.get(&f.name).map_or("", String::as_str))
                    .err()
                    .map(|m| (f.name.clone(), m))
            })
            .collect();
        if !errors.is_empty() {
            return Err(ApplicationError::Invalid(i, errors));
        }
    }
    Ok(())
}

/// A number people can dictate: ten digits, the first not zero.
fn new_number() -> Result<String, ApplicationError> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    let n = u64::from_le_bytes(b) % 9_000_000_000 + 1_000_000_000;
    Ok(n.to_string())
}

/// The end of the working day `days` working days after `now`, Moscow time, as Unix ms.
fn deadline(now: i64, days: u32) -> i64 {
    const MSK: i64 = 3 * 3_600_000;
    const DAY: i64 = 86_400_000;
    let local_day = (now + MSK).div_euclid(DAY);
    let today = calendar::civil_from_days(local_day).unwrap_or_else(|| {
        Date::from_ymd(2026, 1, 1).unwrap_or_else(|_| unreachable!("a valid date"))
    });
    let due = calendar::add_working_days(today, days);
    (calendar::days_from_civil(due) + 1) * DAY - MSK - 1
}

/// Sends a draft. Sending twice (a double click, two tabs, a retry) sends once: the second
/// finds it sent and returns it as it is.
pub async fn send(
    ctx: Ctx<'_>,
    catalogue: &Catalogue,
    account_id: Uuid,
    id: Uuid,
) -> Result<Application, ApplicationError> {
    let app = own(ctx.db, ctx.keys, account_id, id).await?;
    if app.status != Status::Draft {
        return Ok(app);
    }
    let service = catalogue
        .service(&app.service)
        .ok_or(ApplicationError::NoService)?;
    let account = accounts::load(ctx.db, ctx.keys, account_id)
        .await?
        .ok_or(ApplicationError::NotFound)?;
    if account.level < service.level() {
        return Err(ApplicationError::Level(service.level()));
    }
    check_all(service, &app.values)?;
    Status::Draft.apply(Event::Send, Actor::Applicant, service.cancellable)?;
    let prefs = alerts::prefs(ctx.db, account_id).await?;
    let now = now_ms();
    let due = deadline(now, service.days);
    let mut number = new_number()?;
    for _ in 0..5 {
        if !store::number_taken(ctx.db, &number).await? {
            break;
        }
        number = new_number()?;
    }
    let txn = ctx.db.begin().await?;
    if !store::send(&txn, id, &number, now, due).await? {
        drop(txn);
        return own(ctx.db, ctx.keys, account_id, id).await;
    }
    store::record(
        &txn,
        store::NewEvent {
            application_id: id,
            actor: Actor::Applicant.as_str(),
            actor_id: Some(account_id),
            event: Event::Send.as_str(),
            status: Status::Sent.as_str(),
            message: None,
            at: now,
        },
    )
    .await?;
    alerts::send(
        &txn,
        ctx.keys,
        account_id,
        Topic::Applications,
        &account.contacts,
        prefs,
        "Заявление отправлено",
        &format!(
            "Заявление № {number} «{}» отправлено в ведомство «{}». Срок рассмотрения — до {} МСК.",
            service.title,
            catalogue.agency_title(&service.agency),
            alerts::moscow_date_time(due)
        ),
        &format!("application:{id}:send"),
    )
    .await?;
    txn.commit().await?;
    own(ctx.db, ctx.keys, account_id, id).await
}

/// Deletes a draft (a sent application is not deleted: it can be cancelled).
pub async fn delete_draft(db: &Db, account_id: Uuid, id: Uuid) -> Result<(), ApplicationError> {
    if store::delete_draft(db, id, account_id).await? {
        Ok(())
    } else {
        Err(ApplicationError::NotFound)
    }
}

/// A page of the person's applications, newest change first, and how many there are: through
/// the read path, nothing decrypted.
pub async fn list(
    reader: &crate::Reader,
    account_id: Uuid,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Line>, u64), ApplicationError> {
    let (rows, total) = uslugi_store::reader::applications_page(
        reader,
        account_id,
        page.saturating_mul(per_page),
        per_page,
    )
    .await?;
    let lines = rows.iter().map(line).collect::<Result<_, _>>()?;
    Ok((lines, total))
}

/// The history of an application, oldest first.
pub async fn history(db: &Db, keys: &Keys, id: Uuid) -> Result<Vec<Entry>, ApplicationError> {
    store::history(db, id)
        .await?
        .into_iter()
        .map(|r| {
            Ok(Entry {
                at: r.at,
                actor: if r.actor == Actor::Officer.as_str() {
                    Actor::Officer
                } else {
                    Actor::Applicant
                },
                status: status_of(&r.status)?,
                message: r
                    .message
                    .map(|m| keys.cipher().decrypt(MESSAGE_PURPOSE, &m))
                    .transpose()?,
            })
        })
        .collect()
}

/// What an act on a sent application is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// The applicant withdraws it.
    Cancel,
    /// The applicant answers a request.
    Answer,
    /// An officer takes it into work.
    Take,
    /// An officer asks the applicant for something.
    Ask,
    /// An officer completes it with a result.
    Complete,
    /// An officer refuses it with a reason.
    Refuse,
}

impl Act {
    fn event(self) -> Event {
        match self {
            Act::Cancel => Event::Cancel,
            Act::Answer => Event::Correct,
            Act::Take => Event::Take,
            Act::Ask => Event::RequestInfo,
            Act::Complete => Event::Complete,
            Act::Refuse => Event::Refuse,
        }
    }

    fn needs_message(self) -> bool {
        matches!(self, Act::Answer | Act::Ask | Act::Complete | Act::Refuse)
    }

    fn actor(self) -> Actor {
        match self {
            Act::Cancel | Act::Answer => Actor::Applicant,
            _ => Actor::Officer,
        }
    }

    /// The applicant's notice: its subject and the sentence after the number.
    fn notice(self) -> (&'static str, &'static str) {
        match self {
            Act::Cancel => ("Заявление отменено", "отменено по вашей просьбе."),
            Act::Answer => ("Ответ отправлен", "— ваш ответ передан в ведомство."),
            Act::Take => ("Заявление в обработке", "взято в работу."),
            Act::Ask => (
                "Требуется уточнение",
                "— ведомство просит уточнить сведения. Ответьте в личном кабинете.",
            ),
            Act::Complete => (
                "Услуга оказана",
                "— услуга оказана. Результат в личном кабинете.",
            ),
            Act::Refuse => (
                "Отказ по заявлению",
                "— ведомство отказало. Причина в личном кабинете.",
            ),
        }
    }
}

/// Who acts: the applicant on their own application, or an officer of its agency.
#[derive(Debug, Clone)]
pub enum By {
    /// The applicant.
    Applicant(Uuid),
    /// An officer of an agency.
    Officer {
        /// Their account.
        account_id: Uuid,
        /// Their agency.
        agency: String,
    },
}

/// Acts on a sent application: the state machine decides, the change is a compare-and-set (two
/// officers taking the same application: one wins, the other is told it changed), the history
/// records it with its message, and the applicant is told.
pub async fn act(
    ctx: Ctx<'_>,
    catalogue: &Catalogue,
    by: &By,
    id: Uuid,
    act: Act,
    message: Option<&str>,
) -> Result<Status, ApplicationError> {
    let row = match by {
        By::Applicant(account_id) => store::find_of_account(ctx.db, id, *account_id).await?,
        By::Officer { agency, .. } => store::find_of_agency(ctx.db, id, agency).await?,
    }
    .ok_or(ApplicationError::NotFound)?;
    let from = status_of(&row.status)?;
    let cancellable = catalogue
        .service(&row.service)
        .is_none_or(|s| s.cancellable);
    let actor = match by {
        By::Applicant(_) => Actor::Applicant,
        By::Officer { .. } => Actor::Officer,
    };
    if actor != act.actor() {
        return Err(TransitionError::NotYours.into());
    }
    let to = from.apply(act.event(), actor, cancellable)?;
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    if act.needs_message() && message.is_none() {
        return Err(ApplicationError::MessageRequired);
    }
    if message.is_some_and(|m| m.chars().count() > 4000) {
        return Err(ApplicationError::Invalid(
            0,
            vec![("message".into(), "Не больше 4000 символов".into())],
        ));
    }
    let (actor_id, officer) = match by {
        By::Applicant(a) => (*a, None),
        By::Officer { account_id, .. } => (*account_id, (act == Act::Take).then_some(*account_id)),
    };
    let applicant = accounts::load(ctx.db, ctx.keys, row.account_id)
        .await?
        .ok_or(ApplicationError::NotFound)?;
    let prefs = alerts::prefs(ctx.db, row.account_id).await?;
    let now = now_ms();
    let sealed = message
        .map(|m| ctx.keys.cipher().encrypt(MESSAGE_PURPOSE, m))
        .transpose()?;
    let txn = ctx.db.begin().await?;
    if !store::transition(&txn, id, from.as_str(), to.as_str(), officer, now).await? {
        return Err(ApplicationError::Changed);
    }
    store::record(
        &txn,
        store::NewEvent {
            application_id: id,
            actor: actor.as_str(),
            actor_id: Some(actor_id),
            event: act.event().as_str(),
            status: to.as_str(),
            message: sealed,
            at: now,
        },
    )
    .await?;
    let (subject, sentence) = act.notice();
    let title = catalogue
        .service(&row.service)
        .map_or(row.service.as_str(), |s| s.title.as_str());
    alerts::send(
        &txn,
        ctx.keys,
        row.account_id,
        Topic::Applications,
        &applicant.contacts,
        prefs,
        subject,
        &format!(
            "Заявление № {} «{title}» {sentence}",
            row.number.as_deref().unwrap_or_default()
        ),
        &format!("application:{id}:{}:{now}", act.event().as_str()),
    )
    .await?;
    txn.commit().await?;
    Ok(to)
}

/// An application of the officer's agency (drafts are never shown to agencies).
pub async fn of_agency(
    db: &Db,
    keys: &Keys,
    agency: &str,
    id: Uuid,
) -> Result<Application, ApplicationError> {
    let row = store::find_of_agency(db, id, agency)
        .await?
        .ok_or(ApplicationError::NotFound)?;
    open(keys, row)
}

/// The agency's queue: applications in `statuses` (every sent one when empty), oldest first.
pub async fn queue(
    db: &Db,
    agency: &str,
    statuses: &[Status],
    limit: u64,
) -> Result<Vec<Line>, ApplicationError> {
    let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    store::queue_of_agency(db, agency, &names, limit)
        .await?
        .iter()
        .map(line)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind, required: bool) -> Field {
        Field {
            name: "f".into(),
            label: "Поле".into(),
            kind,
            required,
            prefill: None,
            hint: None,
            options: if kind == FieldKind::Choice {
                vec!["Да".into(), "Нет".into()]
            } else {
                Vec::new()
            },
            min: (kind == FieldKind::Number).then_some(1),
            max: (kind == FieldKind::Number).then_some(10),
            show_when: None,
        }
    }

    #[test]
    fn each_kind_is_checked_by_its_type() {
        use FieldKind as K;
        assert_eq!(
            check(&field(K::Text, true), "  "),
            Err("Заполните поле «Поле»".into())
        );
        assert_eq!(check(&field(K::Text, false), ""), Ok(None));
        assert_eq!(
            check(&field(K::Date, true), "1.2.2020"),
            Ok(Some("01.02.2020".into()))
        );
        assert!(check(&field(K::Date, true), "31.02.2020").is_err());
        assert!(check(&field(K::Snils, true), "112-233-445 00").is_err());
        assert_eq!(
            check(&field(K::Passport, true), "4510123456"),
            Ok(Some("4510 123456".into()))
        );
        assert!(check(&field(K::Passport, true), "45-10 123456").is_err());
        assert!(check(&field(K::Choice, true), "Может быть").is_err());
        assert_eq!(check(&field(K::Choice, true), "Да"), Ok(Some("Да".into())));
        assert_eq!(
            check(&field(K::Number, true), "11"),
            Err("Не больше 10".into())
        );
        assert_eq!(check(&field(K::Number, true), "3"), Ok(Some("3".into())));
        assert_eq!(check(&field(K::Checkbox, true), ""), Ok(None));
        assert!(check(&field(K::Phone, true), "123").is_err());
        assert!(check(&field(K::Email, true), "a@").is_err());
    }

    #[test]
    fn the_deadline_is_the_end_of_a_working_day_in_moscow() {
        // Friday 04.12.2026 12:00 МСК + 1 working day → Monday 07.12.2026 23:59:59.999 МСК.
        let friday_noon = (calendar::days_from_civil(Date::from_ymd(2026, 12, 4).unwrap())
            * 86_400_000)
            + 9 * 3_600_000;
        let due = deadline(friday_noon, 1);
        assert_eq!(alerts::moscow_date_time(due), "07.12.2026 23:59");
    }
}
