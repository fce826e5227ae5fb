//! «Отключить учётную запись»: the owner deactivates the account; signing in within the grace
//! period (30 days by default) restores it, and after that a job deletes it — the personal data
//! goes, the account id and its journal stay for the audit.

use std::sync::Arc;

use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uslugi_store::{
    Db,
    identity::accounts::{self as store_accounts, status},
    kernel::jobs::{self, NewJob},
    now_ms,
};
use uuid::Uuid;

use crate::{
    BoxFuture,
    identity::accounts,
    identity::registration::Ctx,
    identity::uploads::ObjectStore,
    kernel::delivery,
    kernel::worker::{JobError, JobHandler},
};

/// Job kind of the deletion at the end of the grace period.
pub const DELETE_JOB: &str = "account.delete";

#[derive(Debug, Serialize, Deserialize)]
struct DeletePayload {
    account_id: Uuid,
}

/// Errors of deactivating.
#[derive(Debug, thiserror::Error)]
pub enum DeactivateError {
    /// The password given is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// Too many wrong passwords recently.
    #[error("throttled")]
    Throttled,
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

/// Deactivates the account after checking its password (failures counted like sign-ins): every
/// session ends, the services' tokens are revoked, the owner is told, and the deletion is
/// scheduled for the end of the grace period.
pub async fn deactivate(
    ctx: Ctx<'_>,
    account_id: Uuid,
    password: &str,
    client: &crate::identity::login::Client<'_>,
) -> Result<i64, DeactivateError> {
    let internal = |e: &dyn std::fmt::Display| DeactivateError::Internal(e.to_string());
    match crate::identity::security::reauthenticate(ctx, account_id, password, client).await {
        Ok(()) => {}
        Err(crate::identity::security::ReauthError::WrongPassword) => {
            return Err(DeactivateError::WrongPassword);
        }
        Err(crate::identity::security::ReauthError::Throttled) => {
            return Err(DeactivateError::Throttled);
        }
        Err(crate::identity::security::ReauthError::Internal(e)) => {
            return Err(DeactivateError::Internal(e));
        }
    }
    let contact = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .ok()
        .flatten()
        .and_then(|a| a.contacts.into_iter().next());
    let now = now_ms();
    let delete_at = now + ctx.config.auth.deactivation_grace_days * 86_400_000;
    let payload = serde_json::to_string(&DeletePayload { account_id }).map_err(|e| internal(&e))?;
    let txn = ctx.db.begin().await.map_err(|e| internal(&e))?;
    store_accounts::deactivate(&txn, account_id, now)
        .await
        .map_err(|e| internal(&e))?;
    uslugi_store::identity::sessions::delete_for_account(&txn, account_id)
        .await
        .map_err(|e| internal(&e))?;
    uslugi_store::sso::oidc::revoke_account_tokens(&txn, account_id, now)
        .await
        .map_err(|e| internal(&e))?;
    jobs::enqueue(
        &txn,
        NewJob {
            kind: DELETE_JOB.into(),
            payload,
            run_at: delete_at,
            max_attempts: 10,
            dedup_key: Some(format!("account.delete:{account_id}:{now}")),
        },
        now,
    )
    .await
    .map_err(|e| internal(&e))?;
    store_accounts::journal(
        &txn,
        account_id,
        "account.deactivated",
        serde_json::json!({}),
        now,
    )
    .await
    .map_err(|e| internal(&e))?;
    if let Some(c) = contact {
        let text = format!(
            "Госуслуги: учётная запись отключена. Чтобы отменить отключение, войдите в течение {} дней: {}/login. После этого учётная запись будет удалена",
            ctx.config.auth.deactivation_grace_days, ctx.config.public_url
        );
        let msg = c.notice("Учётная запись отключена", text);
        delivery::enqueue(
            &txn,
            ctx.keys.cipher(),
            &msg,
            &format!("deactivated:{account_id}:{now}"),
        )
        .await
        .map_err(|e| internal(&e))?;
    }
    txn.commit().await.map_err(|e| internal(&e))?;
    Ok(delete_at)
}

/// Undoes a deactivation within the grace period, once a sign-in has passed every step (the
/// password alone does not bring an account back). `Ok(false)` when there was nothing to undo.
pub async fn reactivate(ctx: Ctx<'_>, account_id: Uuid) -> Result<bool, uslugi_store::StoreError> {
    let now = now_ms();
    let grace_ms = ctx.config.auth.deactivation_grace_days * 86_400_000;
    let due = store_accounts::find_account(ctx.db, account_id)
        .await?
        .is_some_and(|r| {
            r.status == status::DEACTIVATED
                && r.deactivated_at.is_some_and(|at| at + grace_ms > now)
        });
    if !due {
        return Ok(false);
    }
    let txn = ctx.db.begin().await?;
    store_accounts::reactivate(&txn, account_id, now).await?;
    store_accounts::journal(
        &txn,
        account_id,
        "account.reactivated",
        serde_json::json!({}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// The job that deletes a deactivated account whose grace period has passed. A sign-in in the
/// meantime reactivates the account, and the job then does nothing.
#[derive(Debug, Clone)]
pub struct AccountDeletion {
    db: Db,
    grace_ms: i64,
    objects: Arc<dyn ObjectStore>,
}

impl AccountDeletion {
    /// The handler.
    pub fn new(db: Db, grace_days: i64, objects: Arc<dyn ObjectStore>) -> AccountDeletion {
        AccountDeletion {
            db,
            grace_ms: grace_days * 86_400_000,
            objects,
        }
    }

    async fn delete(&self, payload: &str) -> Result<(), JobError> {
        let p: DeletePayload =
            serde_json::from_str(payload).map_err(|e| JobError::Permanent(e.to_string()))?;
        let now = now_ms();
        let Some(row) = store_accounts::find_account(&self.db, p.account_id)
            .await
            .map_err(|e| JobError::Temporary(e.to_string()))?
        else {
            return Ok(());
        };
        let due = row.status == status::DEACTIVATED
            && row
                .deactivated_at
                .is_some_and(|at| at + self.grace_ms <= now);
        if !due {
            return Ok(());
        }
        let txn = self
            .db
            .begin()
            .await
            .map_err(|e| JobError::Temporary(e.to_string()))?;
        let keys = store_accounts::erase_everything(&txn, p.account_id, now)
            .await
            .map_err(|e| JobError::Temporary(e.to_string()))?;
        store_accounts::journal(
            &txn,
            p.account_id,
            "account.deleted",
            serde_json::json!({}),
            now,
        )
        .await
        .map_err(|e| JobError::Temporary(e.to_string()))?;
        txn.commit()
            .await
            .map_err(|e| JobError::Temporary(e.to_string()))?;
        for key in keys {
            // The rows are gone; a file left behind is ciphertext nobody can find, so a failure
            // here is logged rather than retried.
            if let Err(e) = self.objects.delete(&key).await {
                tracing::warn!(error = %e, "cannot remove a deleted account's file");
            }
        }
        tracing::info!(account = %p.account_id, "deactivated account deleted");
        Ok(())
    }
}

impl JobHandler for AccountDeletion {
    fn run<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.delete(payload))
    }
}
