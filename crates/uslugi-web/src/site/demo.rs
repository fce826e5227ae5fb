//! `/demo` (development mode only): synthetic people from the simulated registries, so that a
//! visitor can walk registration and the registry check end to end.

use askama::Template;
use axum::{extract::State, response::Html};
use uslugi_core::identity::registries::{DemoPerson, SimulatedRegistries};

use crate::{
    AppError, AppState,
    layout::{Layout, render},
};

struct Row {
    person: DemoPerson,
    outcome: &'static str,
    phone: String,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row")
            .field("id", &self.person.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Template)]
#[template(path = "demo/index.html")]
struct DemoPage {
    layout: Layout,
    rows: Vec<Row>,
}

fn outcome(case: &str) -> &'static str {
    match case {
        "ok" => "Все данные сходятся — учётная запись станет стандартной",
        "passport_invalid" => "МВД: паспорт недействителен",
        "passport_expired" => "МВД: срок действия паспорта истёк",
        "passport_unknown" => "МВД: паспорт не найден",
        "snils_mismatch" => "СФР: СНИЛС принадлежит другому человеку",
        "snils_unknown" => "СФР: СНИЛС не найден",
        "inn_mismatch" => "ФНС: ИНН не соответствует паспорту",
        _ => "",
    }
}

/// `GET /demo` — anyone, development mode only.
pub async fn get(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let registries = SimulatedRegistries::shared().map_err(|e| AppError::Internal(e.into()))?;
    let rows = registries
        .demo_people()
        .into_iter()
        .enumerate()
        .map(|(i, person)| Row {
            outcome: outcome(&person.case),
            phone: format!("+7 900 000-00-{:02}", i + 1),
            person,
        })
        .collect();
    Ok(Html(render(&DemoPage {
        layout: Layout::new(&state, "Демонстрационные данные"),
        rows,
    })?))
}
