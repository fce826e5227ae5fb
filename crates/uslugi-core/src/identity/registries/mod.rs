//! State registries: МВД (passport validity), СФР (SNILS), ФНС (INN).
//!
//! [`Registries`] is the port; [`SimulatedRegistries`] is the built-in adapter, answering from a
//! data file of synthetic people shipped with the portal (`data/registries.json`, made by
//! `scripts/gen-registries.py`). The check itself runs as a background job, so the person sees
//! «Ожидание проверки данных» while it runs and the state survives a restart.

pub mod http;

use std::{collections::HashMap, sync::Arc};

use serde::Deserialize;

use crate::{
    BoxFuture,
    kernel::config::{RegistriesAdapter, RegistriesConfig},
};

/// The adapter `[registries]` names.
///
/// # Errors
/// When the adapter cannot be set up (the data file, or the HTTP adapter's URL or key).
pub fn from_config(config: &RegistriesConfig) -> Result<Arc<dyn Registries>, String> {
    match config.adapter {
        RegistriesAdapter::Simulated => Ok(SimulatedRegistries::shared()?),
        RegistriesAdapter::Http => Ok(Arc::new(http::HttpRegistries::new(config)?)),
    }
}

/// What the portal asks about a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonQuery {
    /// Фамилия.
    pub last_name: String,
    /// Имя.
    pub first_name: String,
    /// Отчество.
    pub middle_name: Option<String>,
    /// Дата рождения, ДД.ММ.ГГГГ.
    pub birth_date: String,
    /// Серия паспорта, 4 digits.
    pub passport_series: String,
    /// Номер паспорта, 6 digits.
    pub passport_number: String,
    /// Дата выдачи, ДД.ММ.ГГГГ.
    pub passport_issued_on: String,
    /// Код подразделения, ХХХ-ХХХ.
    pub division_code: String,
    /// СНИЛС, 11 digits.
    pub snils: String,
    /// ИНН, 12 digits, if the person gave it.
    pub inn: Option<String>,
}

/// The answer of МВД about a passport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassportVerdict {
    /// Valid and belongs to the person.
    Valid,
    /// No such passport.
    NotFound,
    /// Declared invalid (lost, stolen, replaced).
    Invalid,
    /// Expired (not replaced at 20 or 45).
    Expired,
    /// Exists, but the name, birth date, issue date or division code differ.
    Mismatch,
}

/// The answer of СФР about a SNILS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnilsVerdict {
    /// Belongs to the person.
    Valid,
    /// No such SNILS.
    NotFound,
    /// Belongs to someone else.
    Mismatch,
}

/// The answer of ФНС.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InnVerdict {
    /// The INN given belongs to the person.
    Valid,
    /// ФНС knows another INN for this passport.
    Mismatch,
    /// The person gave none; ФНС has this one for the passport («Узнать ИНН»).
    Found(String),
    /// The person gave none and ФНС has none.
    Unknown,
}

/// Errors of talking to a registry (not a negative answer).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Try again later.
    #[error("registry unavailable: {0}")]
    Unavailable(String),
}

/// Port: the three registries.
pub trait Registries: Send + Sync + std::fmt::Debug {
    /// МВД: is the passport valid and the person's.
    fn check_passport<'a>(
        &'a self,
        q: &'a PersonQuery,
    ) -> BoxFuture<'a, Result<PassportVerdict, RegistryError>>;
    /// СФР: does the SNILS belong to the person.
    fn check_snils<'a>(
        &'a self,
        q: &'a PersonQuery,
    ) -> BoxFuture<'a, Result<SnilsVerdict, RegistryError>>;
    /// ФНС: the person's INN by passport.
    fn check_inn<'a>(
        &'a self,
        q: &'a PersonQuery,
    ) -> BoxFuture<'a, Result<InnVerdict, RegistryError>>;
}

#[derive(Debug, Deserialize)]
struct PassportRecord {
    series: String,
    number: String,
    last_name: String,
    first_name: String,
    middle_name: Option<String>,
    birth_date: String,
    issued_on: String,
    division_code: String,
    status: String,
}

#[derive(Debug, Deserialize)]
struct SnilsRecord {
    snils: String,
    last_name: String,
    first_name: String,
    middle_name: Option<String>,
    birth_date: String,
}

#[derive(Debug, Deserialize)]
struct InnRecord {
    inn: String,
    passport_series: String,
    passport_number: String,
}

/// A synthetic person offered for the demo.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct DemoPerson {
    /// Id in the file.
    pub id: String,
    /// Фамилия.
    pub last_name: String,
    /// Имя.
    pub first_name: String,
    /// Отчество.
    pub middle_name: Option<String>,
    /// `male` or `female`.
    pub sex: String,
    /// ДД.ММ.ГГГГ.
    pub birth_date: String,
    /// Место рождения.
    pub birth_place: String,
    /// Passport.
    pub passport: DemoPassport,
    /// СНИЛС as shown.
    pub snils: String,
    /// ИНН.
    pub inn: String,
    /// Адрес регистрации.
    pub address: String,
    /// Which check fails for this person (`ok` for none).
    pub case: String,
    /// Offered on the demo page.
    pub demo: bool,
}

/// A demo person's passport.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct DemoPassport {
    /// Серия.
    pub series: String,
    /// Номер.
    pub number: String,
    /// Дата выдачи.
    pub issued_on: String,
    /// Кем выдан.
    pub issuer: String,
    /// Код подразделения.
    pub division_code: String,
}

#[derive(Debug, Deserialize)]
struct DataFile {
    mvd_passports: Vec<PassportRecord>,
    sfr_snils: Vec<SnilsRecord>,
    fns_inn: Vec<InnRecord>,
    people: Vec<DemoPerson>,
}

/// The built-in adapter: answers from the shipped data file.
#[derive(Debug)]
pub struct SimulatedRegistries {
    passports: HashMap<String, PassportRecord>,
    snils: HashMap<String, SnilsRecord>,
    inn_by_passport: HashMap<String, String>,
    people: Vec<DemoPerson>,
}

/// The shipped data file.
const DATA: &str = include_str!("../../../data/registries.json");

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Names compare case-insensitively and with «ё» = «е», as registries do.
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().to_lowercase().replace('ё', "е");
    norm(a) == norm(b)
}

fn same_person(
    q: &PersonQuery,
    last: &str,
    first: &str,
    middle: Option<&str>,
    birth: &str,
) -> bool {
    same_name(&q.last_name, last)
        && same_name(&q.first_name, first)
        && same_name(q.middle_name.as_deref().unwrap_or(""), middle.unwrap_or(""))
        && q.birth_date == birth
}

impl SimulatedRegistries {
    /// Loads the shipped data.
    ///
    /// # Errors
    /// When the embedded file does not parse (a build with a broken data file).
    pub fn load() -> Result<SimulatedRegistries, serde_json::Error> {
        let file: DataFile = serde_json::from_str(DATA)?;
        Ok(SimulatedRegistries {
            passports: file
                .mvd_passports
                .into_iter()
                .map(|p| (format!("{}{}", p.series, p.number), p))
                .collect(),
            snils: file
                .sfr_snils
                .into_iter()
                .map(|s| (digits(&s.snils), s))
                .collect(),
            inn_by_passport: file
                .fns_inn
                .into_iter()
                .map(|r| (format!("{}{}", r.passport_series, r.passport_number), r.inn))
                .collect(),
            people: file.people,
        })
    }

    /// The process-wide instance (the data file is parsed once).
    ///
    /// # Errors
    /// When the embedded file does not parse.
    pub fn shared() -> Result<std::sync::Arc<SimulatedRegistries>, String> {
        static SHARED: std::sync::OnceLock<Result<std::sync::Arc<SimulatedRegistries>, String>> =
            std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| {
                SimulatedRegistries::load()
                    .map(std::sync::Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// The people offered for the demo.
    pub fn demo_people(&self) -> Vec<DemoPerson> {
        self.people.iter().filter(|p| p.demo).cloned().collect()
    }

    /// Every synthetic person (tests and benchmarks).
    pub fn people(&self) -> &[DemoPerson] {
        &self.people
    }

    fn passport(&self, q: &PersonQuery) -> PassportVerdict {
        let Some(p) = self
            .passports
            .get(&format!("{}{}", q.passport_series, q.passport_number))
        else {
            return PassportVerdict::NotFound;
        };
        if !same_person(
            q,
            &p.last_name,
            &p.first_name,
            p.middle_name.as_deref(),
            &p.birth_date,
        ) || p.issued_on != q.passport_issued_on
            || p.division_code != q.division_code
        {
            return PassportVerdict::Mismatch;
        }
        match p.status.as_str() {
            "valid" => PassportVerdict::Valid,
            "expired" => PassportVerdict::Expired,
            _ => PassportVerdict::Invalid,
        }
    }

    fn snils_verdict(&self, q: &PersonQuery) -> SnilsVerdict {
        match self.snils.get(&digits(&q.snils)) {
            None => SnilsVerdict::NotFound,
            Some(s)
                if same_person(
                    q,
                    &s.last_name,
                    &s.first_name,
                    s.middle_name.as_deref(),
                    &s.birth_date,
                ) =>
            {
                SnilsVerdict::Valid
            }
            Some(_) => SnilsVerdict::Mismatch,
        }
    }

    fn inn_verdict(&self, q: &PersonQuery) -> InnVerdict {
        let known = self
            .inn_by_passport
            .get(&format!("{}{}", q.passport_series, q.passport_number));
        match (&q.inn, known) {
            (Some(given), Some(k)) if given == k => InnVerdict::Valid,
            (Some(_), _) => InnVerdict::Mismatch,
            (None, Some(k)) => InnVerdict::Found(k.clone()),
            (None, None) => InnVerdict::Unknown,
        }
    }
}

impl Registries for SimulatedRegistries {
    fn check_passport<'a>(
        &'a self,
        q: &'a PersonQuery,
    ) -> BoxFuture<'a, Result<PassportVerdict, RegistryError>> {
        Box::pin(async move { Ok(self.passport(q)) })
    }

    fn check_snils<'a>(
        &'a self,
        q: &'a PersonQuery,
    ) -> BoxFuture<'a, Result<SnilsVerdict, RegistryError>> {
        Box::pin(async move { Ok(self.snils_verdict(q)) })
    }

    fn check_inn<'a>(
        &'a self,
        q: &'a PersonQuery,
    ) -> BoxFuture<'a, Result<InnVerdict, RegistryError>> {
        Box::pin(async move { Ok(self.inn_verdict(q)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(p: &DemoPerson) -> PersonQuery {
        PersonQuery {
            last_name: p.last_name.clone(),
            first_name: p.first_name.clone(),
            middle_name: p.middle_name.clone(),
            birth_date: p.birth_date.clone(),
            passport_series: p.passport.series.clone(),
            passport_number: p.passport.number.clone(),
            passport_issued_on: p.passport.issued_on.clone(),
            division_code: p.passport.division_code.clone(),
            snils: digits(&p.snils),
            inn: Some(p.inn.clone()),
        }
    }

    #[test]
    fn every_person_gets_the_verdict_of_their_case() {
        let r = SimulatedRegistries::load().unwrap();
        assert!(r.people().len() >= 250);
        for p in r.people() {
            let q = query(p);
            let (pass, snils, inn) = (r.passport(&q), r.snils_verdict(&q), r.inn_verdict(&q));
            let expected = match p.case.as_str() {
                "ok" => (
                    PassportVerdict::Valid,
                    SnilsVerdict::Valid,
                    InnVerdict::Valid,
                ),
                "passport_invalid" => (
                    PassportVerdict::Invalid,
                    SnilsVerdict::Valid,
                    InnVerdict::Valid,
                ),
                "passport_expired" => (
                    PassportVerdict::Expired,
                    SnilsVerdict::Valid,
                    InnVerdict::Valid,
                ),
                "passport_unknown" => (
                    PassportVerdict::NotFound,
                    SnilsVerdict::Valid,
                    InnVerdict::Valid,
                ),
                "snils_mismatch" => (
                    PassportVerdict::Valid,
                    SnilsVerdict::Mismatch,
                    InnVerdict::Valid,
                ),
                "snils_unknown" => (
                    PassportVerdict::Valid,
                    SnilsVerdict::NotFound,
                    InnVerdict::Valid,
                ),
                "inn_mismatch" => (
                    PassportVerdict::Valid,
                    SnilsVerdict::Valid,
                    InnVerdict::Mismatch,
                ),
                other => panic!("unknown case {other}"),
            };
            assert_eq!((pass, snils, inn), expected, "{} {}", p.id, p.case);
        }
    }

    #[test]
    fn a_changed_birth_date_is_a_mismatch_and_no_inn_is_looked_up() {
        let r = SimulatedRegistries::load().unwrap();
        let p = r
            .demo_people()
            .into_iter()
            .find(|p| p.case == "ok")
            .unwrap();
        let mut q = query(&p);
        q.birth_date = "01.01.1990".into();
        assert_eq!(r.passport(&q), PassportVerdict::Mismatch);
        assert_eq!(r.snils_verdict(&q), SnilsVerdict::Mismatch);
        let mut q = query(&p);
        q.inn = None;
        assert_eq!(r.inn_verdict(&q), InnVerdict::Found(p.inn.clone()));
        // «ё» and case do not matter, as in the registries.
        let mut q = query(&p);
        q.last_name = q.last_name.to_uppercase().replace('Ё', "Е");
        assert_eq!(r.passport(&q), PassportVerdict::Valid);
    }
}
