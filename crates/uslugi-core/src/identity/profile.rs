//! Personal data and the standard account level.
//!
//! The person submits sex, birth date and place, passport, SNILS, INN (optional) and address;
//! the data is stored encrypted in the pending state and a `registry.check` job asks МВД, СФР
//! and ФНС after `registries.check_delay_secs`. The job sets the level to standard, or records
//! which field did not match and keeps the rest; either way the person is told by SMS or e-mail
//! and in the journal.

use std::sync::Arc;

use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uslugi_domain::AccountLevel;
use uslugi_store::{
    Db, StoreError,
    identity::accounts as store_accounts,
    identity::personal_data::{self as store, Submission, SubmitError},
    kernel::jobs,
    now_ms,
};
use uuid::Uuid;

use crate::{
    BoxFuture, Config, CryptoError, Keys,
    identity::accounts,
    identity::registries::{
        InnVerdict, PassportVerdict, PersonQuery, Registries, RegistryError, SnilsVerdict,
    },
    kernel::delivery::EnqueueError,
    kernel::worker::{JobError, JobHandler},
};

/// Job kind of the registry check.
pub const REGISTRY_CHECK: &str = "registry.check";
pub(crate) const PURPOSE: &str = "personal_data.data";

/// The passport as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PassportData {
    /// 4 digits.
    pub series: String,
    /// 6 digits.
    pub number: String,
    /// ДД.ММ.ГГГГ.
    pub issued_on: String,
    /// Кем выдан.
    pub issuer: String,
    /// ХХХ-ХХХ.
    pub division_code: String,
}

/// Personal data as stored (encrypted JSON). Every field is already validated by the domain
/// types at the edge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PersonalData {
    /// `male` or `female`.
    pub sex: String,
    /// ДД.ММ.ГГГГ.
    pub birth_date: String,
    /// Место рождения.
    pub birth_place: String,
    /// Паспорт.
    pub passport: PassportData,
    /// 11 digits.
    pub snils: String,
    /// 12 digits, if known.
    pub inn: Option<String>,
    /// Адрес регистрации.
    pub address: String,
}

/// What a registry did not confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// МВД: no such passport.
    PassportNotFound,
    /// МВД: declared invalid.
    PassportInvalid,
    /// МВД: expired.
    PassportExpired,
    /// МВД: details differ.
    PassportMismatch,
    /// СФР: no such SNILS.
    SnilsNotFound,
    /// СФР: someone else's SNILS.
    SnilsMismatch,
    /// ФНС: another INN.
    InnMismatch,
}

impl Failure {
    /// The form field the failure belongs to.
    pub fn field(self) -> &'static str {
        match self {
            Failure::PassportNotFound | Failure::PassportInvalid | Failure::PassportExpired => {
                "passport_number"
            }
            Failure::PassportMismatch => "passport_series",
            Failure::SnilsNotFound | Failure::SnilsMismatch => "snils",
            Failure::InnMismatch => "inn",
        }
    }

    /// What the person reads next to the field.
    pub fn message(self) -> &'static str {
        match self {
            Failure::PassportNotFound => "Паспорт не найден в реестре МВД. Проверьте серию и номер",
            Failure::PassportInvalid => {
                "Паспорт недействителен по данным МВД. Если вы его заменили, укажите данные нового паспорта"
            }
            Failure::PassportExpired => {
                "Срок действия паспорта истёк по данным МВД. Укажите данные нового паспорта"
            }
            Failure::PassportMismatch => {
                "Данные паспорта не совпадают с данными МВД: проверьте ФИО, дату рождения, дату выдачи и код подразделения"
            }
            Failure::SnilsNotFound => "СНИЛС не найден в реестре СФР. Проверьте номер",
            Failure::SnilsMismatch => {
                "СНИЛС не соответствует данным СФР: он выдан другому человеку или ФИО и дата рождения указаны иначе"
            }
            Failure::InnMismatch => {
                "ИНН не соответствует данным ФНС. Проверьте номер или оставьте поле пустым — мы узнаем ИНН по паспорту"
            }
        }
    }
}

/// The state the pages show.
#[derive(Debug, Clone)]
pub enum ProfileState {
    /// Nothing submitted yet.
    Empty,
    /// «Ожидание проверки данных».
    Pending(PersonalData),
    /// Checked and confirmed.
    Verified(PersonalData),
    /// Some fields were not confirmed.
    Failed(PersonalData, Vec<Failure>),
}

/// Errors of the profile use cases.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Another account holds the SNILS.
    #[error("SNILS taken")]
    SnilsTaken,
    /// Another account holds the INN.
    #[error("INN taken")]
    InnTaken,
    /// The data is being checked; wait for the result.
    #[error("check in progress")]
    Pending,
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Crypto.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Outbox.
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    /// Database.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// Account data.
    #[error(transparent)]
    Account(#[from] accounts::AccountError),
}

fn encrypt(keys: &Keys, data: &PersonalData) -> Result<String, CryptoError> {
    let json = serde_json::to_string(data).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    keys.cipher().encrypt(PURPOSE, &json)
}

fn decrypt(keys: &Keys, text: &str) -> Result<PersonalData, CryptoError> {
    let json = keys.cipher().decrypt(PURPOSE, text)?;
    serde_json::from_str(&json).map_err(|e| CryptoError::Invalid(e.to_string()))
}

/// The current state for an account.
pub async fn state(db: &Db, keys: &Keys, account_id: Uuid) -> Result<ProfileState, ProfileError> {
    let Some(row) = store::find(db, account_id).await? else {
        return Ok(ProfileState::Empty);
    };
    let data = decrypt(keys, &row.data)?;
    Ok(match row.state.as_str() {
        store::state::PENDING => ProfileState::Pending(data),
        store::state::VERIFIED => ProfileState::Verified(data),
        _ => {
            let failures: Vec<Failure> = serde_json::from_str(&row.failures).unwrap_or_default();
            ProfileState::Failed(data, failures)
        }
    })
}

#[derive(Debug, Serialize, Deserialize)]
struct CheckPayload {
    account_id: Uuid,
    submitted_at: i64,
}

/// Submits personal data for the check («Отправить на проверку»).
pub async fn submit(
    db: &Db,
    keys: &Keys,
    config: &Config,
    account_id: Uuid,
    data: PersonalData,
) -> Result<(), ProfileError> {
    if let Some(row) = store::find(db, account_id).await?
        && row.state == store::state::PENDING
    {
        return Err(ProfileError::Pending);
    }
    let now = now_ms();
    let bi = keys.blind_index();
    let txn = db.begin().await?;
    store::submit(
        &txn,
        Submission {
            account_id,
            data: encrypt(keys, &data)?,
            snils_blind: bi.compute("snils", &data.snils),
            inn_blind: data.inn.as_deref().map(|i| bi.compute("inn", i)),
        },
        now,
    )
    .await
    .map_err(|e| match e {
        SubmitError::SnilsTaken => ProfileError::SnilsTaken,
        SubmitError::InnTaken => ProfileError::InnTaken,
        SubmitError::Store(s) => ProfileError::Store(s),
    })?;
    let payload = serde_json::to_string(&CheckPayload {
        account_id,
        submitted_at: now,
    })
    .map_err(|e| CryptoError::Invalid(e.to_string()))?;
    jobs::enqueue(
        &txn,
        jobs::NewJob {
            kind: REGISTRY_CHECK.into(),
            payload,
            run_at: now + config.registries.check_delay_secs * 1000,
            max_attempts: 10,
            dedup_key: Some(format!("{REGISTRY_CHECK}:{account_id}:{now}")),
        },
        now,
    )
    .await?;
    store_accounts::journal(
        &txn,
        account_id,
        "profile.submitted",
        serde_json::json!({}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The job handler of [`REGISTRY_CHECK`].
#[derive(Debug, Clone)]
pub struct RegistryCheck {
    db: Db,
    keys: Keys,
    registries: Arc<dyn Registries>,
}

impl RegistryCheck {
    /// A handler using these registries.
    pub fn new(db: Db, keys: Keys, registries: Arc<dyn Registries>) -> RegistryCheck {
        RegistryCheck {
            db,
            keys,
            registries,
        }
    }

    async fn check(&self, payload: &str) -> Result<(), JobError> {
        let p: CheckPayload = serde_json::from_str(payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let temp = |e: &dyn std::fmt::Display| JobError::Temporary(e.to_string());
        let Some(row) = store::find(&self.db, p.account_id)
            .await
            .map_err(|e| temp(&e))?
        else {
            return Ok(()); // Account deleted meanwhile.
        };
        if row.submitted_at != p.submitted_at || row.state != store::state::PENDING {
            return Ok(()); // Superseded by a newer submission.
        }
        let mut data =
            decrypt(&self.keys, &row.data).map_err(|e| JobError::Permanent(e.to_string()))?;
        let account = accounts::load(&self.db, &self.keys, p.account_id)
            .await
            .map_err(|e| temp(&e))?
            .ok_or_else(|| JobError::Permanent("account missing".into()))?;
        let prefs = crate::cabinet::alerts::prefs(&self.db, p.account_id)
            .await
            .map_err(|e| temp(&e))?;
        let q = PersonQuery {
            last_name: account.name.last.clone(),
            first_name: account.name.first.clone(),
            middle_name: account.name.middle.clone(),
            birth_date: data.birth_date.clone(),
            passport_series: data.passport.series.clone(),
            passport_number: data.passport.number.clone(),
            passport_issued_on: data.passport.issued_on.clone(),
            division_code: data.passport.division_code.clone(),
            snils: data.snils.clone(),
            inn: data.inn.clone(),
        };
        let unavailable = |e: RegistryError| JobError::Temporary(e.to_string());
        let mut failures = Vec::new();
        match self
            .registries
            .check_passport(&q)
            .await
            .map_err(unavailable)?
        {
            PassportVerdict::Valid => {}
            PassportVerdict::NotFound => failures.push(Failure::PassportNotFound),
            PassportVerdict::Invalid => failures.push(Failure::PassportInvalid),
            PassportVerdict::Expired => failures.push(Failure::PassportExpired),
            PassportVerdict::Mismatch => failures.push(Failure::PassportMismatch),
        }
        match self.registries.check_snils(&q).await.map_err(unavailable)? {
            SnilsVerdict::Valid => {}
            SnilsVerdict::NotFound => failures.push(Failure::SnilsNotFound),
            SnilsVerdict::Mismatch => failures.push(Failure::SnilsMismatch),
        }
        let mut found_inn = None;
        match self.registries.check_inn(&q).await.map_err(unavailable)? {
            InnVerdict::Valid | InnVerdict::Unknown => {}
            InnVerdict::Mismatch => failures.push(Failure::InnMismatch),
            InnVerdict::Found(inn) => found_inn = Some(inn),
        }
        let now = now_ms();
        let verified = failures.is_empty();
        let new_data = match (&found_inn, verified) {
            (Some(inn), true) => {
                data.inn = Some(inn.clone());
                Some(encrypt(&self.keys, &data).map_err(|e| JobError::Permanent(e.to_string()))?)
            }
            _ => None,
        };
        let failures_json = serde_json::to_string(&failures).unwrap_or_else(|_| "[]".into());
        let release_snils = failures
            .iter()
            .any(|f| matches!(f, Failure::SnilsNotFound | Failure::SnilsMismatch));
        let release_inn = failures.contains(&Failure::InnMismatch);
        let txn = self.db.begin().await.map_err(|e| temp(&e))?;
        let recorded = store::record_check(
            &txn,
            p.account_id,
            p.submitted_at,
            if verified {
                store::state::VERIFIED
            } else {
                store::state::FAILED
            },
            &failures_json,
            new_data,
            release_snils,
            release_inn,
            now,
        )
        .await
        .map_err(|e| temp(&e))?;
        if !recorded {
            return Ok(());
        }
        let codes: Vec<_> = failures
            .iter()
            .map(|f| serde_json::to_value(f).unwrap_or_default())
            .collect();
        if verified {
            if account.level < AccountLevel::Standard {
                store_accounts::set_level(
                    &txn,
                    p.account_id,
                    AccountLevel::Standard.as_str(),
                    "registries",
                    now,
                )
                .await
                .map_err(|e| temp(&e))?;
            }
            store_accounts::journal(
                &txn,
                p.account_id,
                "profile.verified",
                serde_json::json!({ "level": "standard" }),
                now,
            )
            .await
            .map_err(|e| temp(&e))?;
        } else {
            store_accounts::journal(
                &txn,
                p.account_id,
                "profile.rejected",
                serde_json::json!({ "failures": codes }),
                now,
            )
            .await
            .map_err(|e| temp(&e))?;
        }
        {
            let text = if verified {
                "Госуслуги: личные данные проверены. Ваша учётная запись стала стандартной."
            } else {
                "Госуслуги: личные данные не прошли проверку. Откройте личный кабинет, чтобы узнать, какие поля исправить."
            };
            let subject = if verified {
                "Данные проверены"
            } else {
                "Данные не прошли проверку"
            };
            crate::cabinet::alerts::send(
                &txn,
                &self.keys,
                p.account_id,
                crate::cabinet::alerts::Topic::DataCheck,
                &account.contacts,
                prefs,
                subject,
                text,
                &format!("{REGISTRY_CHECK}:{}:{}", p.account_id, p.submitted_at),
            )
            .await
            .map_err(|e| temp(&e))?;
        }
        txn.commit().await.map_err(|e| temp(&e))?;
        if let Some(inn) = found_inn
            && verified
        {
            // Outside the transaction: a clash (someone else claimed this INN) must not undo
            // the verification; the INN then simply stays without its uniqueness index.
            let bi = self.keys.blind_index().compute("inn", &inn);
            if !store::set_inn_blind(&self.db, p.account_id, &bi)
                .await
                .map_err(|e| temp(&e))?
            {
                tracing::warn!(account = %p.account_id, "INN found by ФНС is held by another account");
            }
        }
        tracing::info!(account = %p.account_id, verified, failures = failures.len(), "registry check finished");
        Ok(())
    }
}

impl JobHandler for RegistryCheck {
    fn run<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.check(payload))
    }
}
