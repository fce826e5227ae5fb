//! The services catalogue: agencies, categories and services with their application forms, as
//! data (`data/services.toml` is shipped and imported on first start; `uslugi admin catalogue
//! import FILE` replaces it). A definition is checked whole at import: a malformed one is
//! refused naming the service and the field, and nothing is stored.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use uslugi_domain::{AccountLevel, Money};

/// The catalogue shipped with the project.
pub const BUILTIN: &str = include_str!("../../data/services.toml");

/// An agency (ведомство) that provides services and whose officers work in the console.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    /// Its id, as roles are bound to it (`--agency`).
    pub slug: String,
    /// Its name.
    pub title: String,
}

/// A category of services.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Its id in addresses.
    pub slug: String,
    /// Its name.
    pub title: String,
}

/// Who may receive a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// Физические лица.
    Individual,
    /// Индивидуальные предприниматели.
    SoleProprietor,
    /// Юридические лица.
    LegalEntity,
}

impl Recipient {
    /// The label people see.
    pub fn label(self) -> &'static str {
        match self {
            Recipient::Individual => "Физическим лицам",
            Recipient::SoleProprietor => "Индивидуальным предпринимателям",
            Recipient::LegalEntity => "Юридическим лицам",
        }
    }
}

/// The kinds of form fields; each is checked by its domain type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A line of text.
    Text,
    /// Several lines of text.
    Textarea,
    /// A date (ДД.ММ.ГГГГ).
    Date,
    /// A СНИЛС.
    Snils,
    /// A Russian passport's series and number.
    Passport,
    /// An ИНН of a person.
    Inn,
    /// A mobile phone.
    Phone,
    /// An e-mail address.
    Email,
    /// An address.
    Address,
    /// One of a list.
    Choice,
    /// A whole number.
    Number,
    /// Yes or no.
    Checkbox,
}

/// Where a field's value comes from in the person's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    /// Фамилия.
    LastName,
    /// Имя.
    FirstName,
    /// Отчество.
    MiddleName,
    /// Дата рождения.
    BirthDate,
    /// СНИЛС.
    Snils,
    /// Паспорт.
    Passport,
    /// ИНН.
    Inn,
    /// Адрес регистрации.
    Address,
    /// Телефон.
    Phone,
    /// Электронная почта.
    Email,
}

/// A field of an application form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Its name in the stored values.
    pub name: String,
    /// Its label.
    pub label: String,
    /// Its kind.
    pub kind: FieldKind,
    /// Whether it must be filled.
    #[serde(default)]
    pub required: bool,
    /// Its profile source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
    /// A hint under the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The choices (kind `choice`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The smallest number (kind `number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// The largest number (kind `number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// `field=value`: shown only when that earlier field has that value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_when: Option<String>,
}

impl Field {
    /// The condition as (field, value).
    pub fn condition(&self) -> Option<(&str, &str)> {
        self.show_when.as_deref().and_then(|c| c.split_once('='))
    }
}

/// A step of a form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Its heading.
    pub title: String,
    /// Its fields.
    #[serde(default, rename(deserialize = "field"))]
    pub fields: Vec<Field>,
}

/// A service's card and form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Its id in addresses.
    pub slug: String,
    /// Its name.
    pub title: String,
    /// One sentence about it.
    pub summary: String,
    /// The agency's slug.
    pub agency: String,
    /// The category's slug.
    pub category: String,
    /// Who may receive it.
    pub recipients: Vec<Recipient>,
    /// Region codes where it is provided; empty for all of Russia.
    #[serde(default)]
    pub regions: Vec<String>,
    /// The lowest account level that may apply.
    pub min_level: String,
    /// Who may apply.
    pub who: String,
    /// The documents needed.
    pub documents: Vec<String>,
    /// The state duty, in kopecks.
    pub fee_kopecks: u64,
    /// The duty when applying through the portal, where it is lower.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_fee_kopecks: Option<u64>,
    /// The time limit in working days.
    pub days: u32,
    /// The form of the result.
    pub result: String,
    /// Whether applicants may withdraw before the decision.
    pub cancellable: bool,
    /// Shown on the home page.
    #[serde(default)]
    pub popular: bool,
    /// More words people search it by.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The reasons an officer may refuse with.
    pub refusal_reasons: Vec<String>,
    /// The form.
    #[serde(default, rename(deserialize = "step"))]
    pub steps: Vec<Step>,
}

impl Service {
    /// The lowest level (checked at import).
    pub fn level(&self) -> AccountLevel {
        self.min_level.parse().unwrap_or(AccountLevel::Confirmed)
    }

    /// The duty to pay when applying here.
    pub fn fee(&self) -> Money {
        Money::from_kopecks(self.online_fee_kopecks.unwrap_or(self.fee_kopecks))
    }

    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.steps
            .iter()
            .flat_map(|s| s.fields.iter())
            .find(|f| f.name == name)
    }
}

/// The file as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default, rename = "agency")]
    agencies: Vec<Agency>,
    #[serde(default, rename = "category")]
    categories: Vec<Category>,
    #[serde(default, rename = "service")]
    services: Vec<Service>,
}

/// The catalogue, checked.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Agencies, in file order.
    pub agencies: Vec<Agency>,
    /// Categories, in file order.
    pub categories: Vec<Category>,
    /// Services, in file order.
    pub services: Vec<Service>,
    by_slug: HashMap<String, usize>,
}

/// Why a catalogue was refused (in English: it is read by the administrator at the console).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// Not valid TOML or not the schema.
    #[error("the catalogue is not valid: {0}")]
    Syntax(String),
    /// A definition is wrong.
    #[error("service {service:?}, {what}")]
    Service {
        /// The service's slug.
        service: String,
        /// What is wrong, naming the field.
        what: String,
    },
    /// Something outside the services is wrong.
    #[error("{0}")]
    Other(String),
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 48
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Catalogue {
    /// Reads and checks a catalogue file.
    ///
    /// # Errors
    /// The first problem found, naming the service and the field.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let file: File =
            toml::from_str(text).map_err(|e| CatalogueError::Syntax(e.message().to_owned()))?;
        let mut agencies = HashSet::new();
        for a in &file.agencies {
            if !slug_ok(&a.slug) || !agencies.insert(a.slug.as_str()) {
                return Err(CatalogueError::Other(format!(
                    "agency slug {:?} is invalid or repeated",
                    a.slug
                )));
            }
        }
        let mut categories = HashSet::new();
        for c in &file.categories {
            if !slug_ok(&c.slug) || !categories.insert(c.slug.as_str()) {
                return Err(CatalogueError::Other(format!(
                    "category slug {:?} is invalid or repeated",
                    c.slug
                )));
            }
        }
        let mut by_slug = HashMap::new();
        for (i, s) in file.services.iter().enumerate() {
            let bad = |what: String| CatalogueError::Service {
                service: s.slug.clone(),
                what,
            };
            if !slug_ok(&s.slug) {
                return Err(bad(
                    "the slug must be lowercase Latin letters, digits and -".into(),
                ));
            }
            if by_slug.insert(s.slug.clone(), i).is_some() {
                return Err(bad("the slug is used twice".into()));
            }
            if !agencies.contains(s.agency.as_str()) {
                return Err(bad(format!("agency {:?} is not listed", s.agency)));
            }
            if !categories.contains(s.category.as_str()) {
                return Err(bad(format!("category {:?} is not listed", s.category)));
            }
            if s.min_level.parse::<AccountLevel>().is_err() {
                return Err(bad(format!("min_level {:?} is not a level", s.min_level)));
            }
            if s.days == 0 || s.recipients.is_empty() || s.title.trim().is_empty() {
                return Err(bad("days, recipients and title must be given".into()));
            }
            if s.refusal_reasons.is_empty() {
                return Err(bad("refusal_reasons must list at least one reason".into()));
            }
            if s.online_fee_kopecks.is_some_and(|f| f > s.fee_kopecks) {
                return Err(bad("online_fee_kopecks exceeds fee_kopecks".into()));
            }
            check_form(s).map_err(bad)?;
        }
        Ok(Catalogue {
            agencies: file.agencies,
            categories: file.categories,
            services: file.services,
            by_slug,
        })
    }

    /// The catalogue shipped with the project.
    ///
    /// # Errors
    /// Only if the shipped file is broken (a test keeps it whole).
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        Catalogue::parse(BUILTIN)
    }

    /// A service by slug.
    pub fn service(&self, slug: &str) -> Option<&Service> {
        self.by_slug.get(slug).map(|&i| &self.services[i])
    }

    /// A category by slug.
    pub fn category(&self, slug: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.slug == slug)
    }

    /// An agency's name by slug.
    pub fn agency_title<'a>(&'a self, slug: &'a str) -> &'a str {
        self.agencies
            .iter()
            .find(|a| a.slug == slug)
            .map_or(slug, |a| a.title.as_str())
    }

    /// The services of a category, in file order.
    pub fn in_category<'a>(&'a self, slug: &'a str) -> impl Iterator<Item = &'a Service> + 'a {
        self.services.iter().filter(move |s| s.category == slug)
    }

    /// The services marked popular.
    pub fn popular(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(|s| s.popular)
    }
}

fn check_form(s: &Service) -> Result<(), String> {
    let mut seen: HashMap<&str, &Field> = HashMap::new();
    for step in &s.steps {
        if step.title.trim().is_empty() {
            return Err("a step has no title".into());
        }
        for f in &step.fields {
            let at = |what: &str| format!("field {:?}: {what}", f.name);
            if !name_ok(&f.name) {
                return Err(at("the name must be lowercase Latin letters, digits and _"));
            }
            if seen.contains_key(f.name.as_str()) {
                return Err(at("the name is used twice"));
            }
            if f.label.trim().is_empty() {
                return Err(at("no label"));
            }
            match f.kind {
                FieldKind::Choice if f.options.len() < 2 => {
                    return Err(at("a choice needs at least two options"));
                }
                FieldKind::Choice => {}
                _ if !f.options.is_empty() => return Err(at("only a choice has options")),
                _ => {}
            }
            if (f.min.is_some() || f.max.is_some()) && f.kind != FieldKind::Number {
                return Err(at("only a number has min and max"));
            }
            if let (Some(lo), Some(hi)) = (f.min, f.max)
                && lo > hi
            {
                return Err(at("min is above max"));
            }
            if let Some(cond) = &f.show_when {
                let Some((name, value)) = cond.split_once('=') else {
                    return Err(at("show_when must be field=value"));
                };
                match seen.get(name) {
                    Some(g)
                        if g.kind == FieldKind::Choice && g.options.iter().any(|o| o == value) => {}
                    Some(g) if g.kind == FieldKind::Checkbox && value == "да" => {}
                    _ => {
                        return Err(at(&format!(
                            "show_when refers to {name:?}={value:?}, which is not an earlier choice or checkbox with that value"
                        )));
                    }
                }
            }
            seen.insert(&f.name, f);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_is_whole_and_large_enough() {
        let c = Catalogue::builtin().unwrap();
        assert!(c.services.len() >= 30, "{}", c.services.len());
        assert!(c.popular().count() >= 4);
        for s in &c.services {
            assert!(c.category(&s.category).is_some());
        }
    }

    const GOOD: &str = r#"
[[agency]]
slug = "mvd"
title = "МВД России"
[[category]]
slug = "docs"
title = "Документы"
[[service]]
slug = "s"
title = "Услуга"
summary = "Кратко"
agency = "mvd"
category = "docs"
recipients = ["individual"]
min_level = "standard"
who = "Все"
documents = ["Паспорт"]
fee_kopecks = 0
days = 5
result = "Справка"
cancellable = true
refusal_reasons = ["Причина"]
[[service.step]]
title = "Шаг"
[[service.step.field]]
name = "reason"
label = "Причина"
kind = "choice"
options = ["Утеря", "Другое"]
[[service.step.field]]
name = "details"
label = "Подробности"
kind = "text"
show_when = "reason=Другое"
"#;

    #[test]
    fn a_good_definition_is_accepted() {
        let c = Catalogue::parse(GOOD).unwrap();
        assert_eq!(
            c.service("s")
                .unwrap()
                .field("details")
                .unwrap()
                .condition(),
            Some(("reason", "Другое"))
        );
    }

    #[test]
    fn a_malformed_definition_names_the_service_and_the_field() {
        let e = Catalogue::parse(&GOOD.replace(
            "show_when = \"reason=Другое\"",
            "show_when = \"reason=Иное\"",
        ))
        .unwrap_err();
        assert!(
            e.to_string().contains("service \"s\", field \"details\""),
            "{e}"
        );
        let e =
            Catalogue::parse(&GOOD.replace("kind = \"choice\"", "kind = \"text\"")).unwrap_err();
        assert!(
            e.to_string()
                .contains("field \"reason\": only a choice has options"),
            "{e}"
        );
        let e =
            Catalogue::parse(&GOOD.replace("agency = \"mvd\"", "agency = \"fns\"")).unwrap_err();
        assert!(
            e.to_string().contains("agency \"fns\" is not listed"),
            "{e}"
        );
        let e = Catalogue::parse(&GOOD.replace("min_level = \"standard\"", "min_level = \"gold\""))
            .unwrap_err();
        assert!(e.to_string().contains("min_level"), "{e}");
        assert!(matches!(
            Catalogue::parse("[[service]]\nslug = 1"),
            Err(CatalogueError::Syntax(_))
        ));
    }
}

/// The catalogue a node serves and its search index, rebuilt when the stored version changes.
#[derive(Debug)]
pub struct Shelf {
    current: std::sync::RwLock<std::sync::Arc<Live>>,
}

/// One version of the catalogue with its index.
#[derive(Debug)]
pub struct Live {
    /// The version it was read at.
    pub version: i64,
    /// The catalogue.
    pub catalogue: Catalogue,
    /// Its search index.
    pub index: super::search::Index,
}

/// Why the catalogue could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum ShelfError {
    /// The catalogue is malformed.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The synonyms are malformed.
    #[error("synonyms: {0}")]
    Synonyms(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

fn live(version: i64, text: &str) -> Result<Live, ShelfError> {
    let catalogue = Catalogue::parse(text)?;
    let index = super::search::Index::build(&catalogue).map_err(ShelfError::Synonyms)?;
    Ok(Live {
        version,
        catalogue,
        index,
    })
}

/// Checks `text` and stores it as the catalogue; returns its version. Nothing is stored when it
/// is refused.
///
/// # Errors
/// The first problem of the definition, naming the service and the field.
pub async fn import(db: &crate::Db, text: &str) -> Result<i64, ShelfError> {
    live(0, text)?;
    Ok(uslugi_store::services::catalogue::put(db, text.to_owned(), crate::now_ms()).await?)
}

/// The stored catalogue's text (the shipped one if none was imported yet).
///
/// # Errors
/// Storage.
pub async fn export(db: &crate::Db) -> Result<String, ShelfError> {
    Ok(uslugi_store::services::catalogue::get(db)
        .await?
        .map_or_else(|| BUILTIN.to_owned(), |r| r.body))
}

impl Shelf {
    /// Loads the stored catalogue, storing the shipped one first on a new portal.
    ///
    /// # Errors
    /// Storage, or a stored catalogue that no longer parses.
    pub async fn load(db: &crate::Db) -> Result<Shelf, ShelfError> {
        let row = match uslugi_store::services::catalogue::get(db).await? {
            Some(row) => row,
            None => {
                import(db, BUILTIN).await?;
                uslugi_store::services::catalogue::get(db)
                    .await?
                    .ok_or_else(|| CatalogueError::Other("the catalogue was not stored".into()))?
            }
        };
        Ok(Shelf {
            current: std::sync::RwLock::new(std::sync::Arc::new(live(row.version, &row.body)?)),
        })
    }

    /// What the node serves now.
    pub fn get(&self) -> std::sync::Arc<Live> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Reads the catalogue again if its stored version changed; returns whether it did.
    ///
    /// # Errors
    /// Storage, or a stored catalogue that no longer parses (the node keeps the old one).
    pub async fn refresh(&self, db: &crate::Db) -> Result<bool, ShelfError> {
        let version = uslugi_store::services::catalogue::version(db).await?;
        if version == self.get().version {
            return Ok(false);
        }
        let Some(row) = uslugi_store::services::catalogue::get(db).await? else {
            return Ok(false);
        };
        let next = std::sync::Arc::new(live(row.version, &row.body)?);
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        Ok(true)
    }
}
