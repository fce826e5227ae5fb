//! «Войти через банк» (`/login/bank…`) and the linked banks in the security cabinet
//! (`/security/banks`). Leaving for the bank is a link, not a form: the CSP's `form-action 'self'`
//! would stop a form's redirect to another site.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Path, Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uslugi_core::{
    identity::login::{self, SignedIn},
    sso::banks::{self, BankError, Pending, Resolution},
};

use crate::{
    AppError, AppState,
    context::{client_ip, ctx},
    identity::second_step::{BANK_LINK, BANK_SIGN_IN, after_password},
    layout::signed_in_layout,
    layout::{self, Layout, render},
    principal::Citizen,
    session::Session,
    sso::oauth::message,
};

/// Session key of a bank sign-in under way.
const PENDING: &str = "bank_login";

#[derive(Debug, Template)]
#[template(path = "login/banks.html")]
struct BanksPage {
    layout: Layout,
    banks: Vec<(String, String)>,
}

/// `GET /login/bank` — anyone: the partner banks.
pub async fn list(State(state): State<AppState>) -> Result<Response, AppError> {
    if state.config.banks.is_empty() {
        return Err(AppError::NotFound);
    }
    let page = BanksPage {
        layout: Layout::new(&state, "Вход через банк"),
        banks: state
            .config
            .banks
            .iter()
            .map(|b| (b.id.clone(), b.name.clone()))
            .collect(),
    };
    Ok(Html(render(&page)?).into_response())
}

fn unavailable(state: &AppState) -> Result<Response, AppError> {
    message(
        state,
        StatusCode::BAD_GATEWAY,
        "Банк сейчас недоступен",
        "Не удалось связаться с банком. Попробуйте позже или войдите по паролю.",
    )
}

/// `GET /login/bank/{id}` — anyone: off to the bank.
pub async fn start(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let bank = banks::find(&state.config, &id).ok_or(AppError::NotFound)?;
    match banks::start(&state.config, bank).await {
        Ok((url, pending)) => {
            session.insert(&state, PENDING, &pending);
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            tracing::warn!(bank = %bank.id, error = %e, "bank sign-in could not start");
            unavailable(&state)
        }
    }
}

/// `GET /login/bank/{id}/callback` — the person, back from the bank.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let bank = banks::find(&state.config, &id).ok_or(AppError::NotFound)?;
    let pending = session.get::<Pending>(PENDING);
    session.remove(PENDING);
    let refused = |text: &str| {
        message(
            &state,
            StatusCode::BAD_REQUEST,
            "Не удалось войти через банк",
            text,
        )
    };
    if q.contains_key("error") {
        return refused(
            "Вход через банк отменён. Вы можете попробовать ещё раз или войти по паролю.",
        );
    }
    let (Some(pending), Some(code), Some(st)) = (pending, q.get("code"), q.get("state")) else {
        return refused(
            "Вход через банк устарел или был начат в другом окне. Начните вход заново.",
        );
    };
    let who = match banks::finish(&state.config, bank, &pending, st, code).await {
        Ok(who) => who,
        Err(BankError::Unavailable(why)) => {
            tracing::warn!(bank = %bank.id, error = %why, "bank unavailable at the callback");
            return unavailable(&state);
        }
        Err(e) => {
            tracing::warn!(bank = %bank.id, error = %e, "bank answer refused");
            return refused("Ответ банка не прошёл проверку. Начните вход заново.");
        }
    };
    let ip = client_ip(&state, peer, &headers);
    let client = login::Client {
        ip: &ip,
        user_agent: crate::identity::second_step::user_agent(&headers),
    };
    match banks::resolve(ctx(&state), bank, &who, &client).await {
        Ok(Resolution::SignIn {
            account_id,
            created,
            must_change_password,
        }) => {
            session.insert(&state, BANK_SIGN_IN, &true);
            let resp = after_password(
                &state,
                &session,
                &headers,
                SignedIn {
                    account_id,
                    reactivated: false,
                    must_change_password,
                },
            )
            .await?;
            if created {
                session.insert(
                    &state,
                    "flash",
                    &"Создана упрощённая учётная запись по данным банка. Чтобы получить стандартную, заполните личные данные",
                );
            }
            Ok(resp)
        }
        Ok(Resolution::Confirm(pending)) => {
            session.insert(&state, BANK_LINK, &pending);
            session.insert(
                &state,
                "flash",
                &format!(
                    "У вас уже есть учётная запись с тем же подтверждённым {}. Войдите в неё, и вход через «{}» привяжется к ней.",
                    if pending.by == "snils" { "СНИЛС" } else { "номером телефона" },
                    bank.name
                ),
            );
            Ok(Redirect::to("/login").into_response())
        }
        Err(BankError::NoName) => refused(
            "Банк не передал ваши фамилию и имя, поэтому учётную запись создать нельзя. Зарегистрируйтесь на портале.",
        ),
        Err(BankError::Inactive) => refused(
            "Учётная запись, к которой привязан банк, заблокирована или отключена. Войдите по паролю или обратитесь в поддержку.",
        ),
        Err(e) => Err(AppError::internal(e)),
    }
}

#[derive(Debug)]
struct LinkView {
    id: String,
    bank: String,
    linked: String,
}

#[derive(Debug, Template)]
#[template(path = "security/banks.html")]
struct LinksPage {
    layout: Layout,
    csrf_token: String,
    flash: Option<String>,
    links: Vec<LinkView>,
}

/// `GET /security/banks` — the signed-in person.
pub async fn links(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
) -> Result<Response, AppError> {
    let account_id = citizen.account_id;
    let links = banks::links(ctx(&state), account_id)
        .await
        .map_err(AppError::internal)?
        .into_iter()
        .map(|l| LinkView {
            id: l.id.to_string(),
            bank: l.bank,
            linked: layout::date(l.linked_at),
        })
        .collect();
    let flash = session.get::<String>("flash");
    session.remove("flash");
    let page = LinksPage {
        layout: signed_in_layout(&state, &session, "Вход через банк"),
        csrf_token: session.csrf_token(&state),
        flash,
        links,
    };
    Ok(Html(render(&page)?).into_response())
}

/// The link to remove.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnlinkForm {
    id: String,
}

/// `POST /security/banks/unlink` — the signed-in person.
pub async fn unlink(
    State(state): State<AppState>,
    session: Session,
    citizen: Citizen,
    form: Result<Form<UnlinkForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let account_id = citizen.account_id;
    if let Ok(id) = form.id.parse()
        && banks::unlink(ctx(&state), account_id, id)
            .await
            .map_err(AppError::internal)?
    {
        session.insert(&state, "flash", &"Банк отвязан");
    }
    Ok(Redirect::to("/security/banks").into_response())
}
