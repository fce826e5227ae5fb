//! «Доступ сервисов к данным»: the services a person has let see their data, and withdrawing
//! that permission, which also ends every token the service holds for the person.

use uslugi_store::{identity::accounts as store_accounts, now_ms, sso::oidc as store};
use uuid::Uuid;

use crate::Ctx;

pub use uslugi_store::sso::oidc::GrantedApp;

/// The services with a remembered consent, newest first.
pub async fn list(
    ctx: Ctx<'_>,
    account_id: Uuid,
) -> Result<Vec<GrantedApp>, uslugi_store::StoreError> {
    store::consents_of(ctx.db, account_id).await
}

/// Withdraws a consent: `Ok(false)` when there was none (a repeated form acts once).
pub async fn withdraw(
    ctx: Ctx<'_>,
    account_id: Uuid,
    client_id: &str,
) -> Result<bool, uslugi_store::StoreError> {
    use sea_orm::TransactionTrait;
    let now = now_ms();
    let txn = ctx.db.begin().await?;
    let had = store::withdraw_consent(&txn, account_id, client_id, now).await?;
    if had {
        store_accounts::journal(
            &txn,
            account_id,
            "oauth.consent_withdrawn",
            serde_json::json!({ "client_id": client_id }),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(had)
}
