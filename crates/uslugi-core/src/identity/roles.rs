//! Staff roles: granted to accounts by an administrator (today from the command line), bound to
//! a service centre or an agency, journaled, and checked by the staff pages. A grant or a
//! revocation is a privilege change: the account's sessions end, so the next sign-in sees it.

use sea_orm::TransactionTrait;
use uslugi_domain::{Role, ScopeKind};
use uslugi_store::{
    Db, StoreError, identity::accounts as store_accounts, identity::roles as store,
    identity::sessions, now_ms,
};
use uuid::Uuid;

use crate::{Keys, identity::accounts::blind};

/// A role as held: the role and where it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The service centre or agency it is bound to; `None` for the whole portal.
    pub scope: Option<String>,
}

/// A grant as listed.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The account.
    pub account_id: Uuid,
    /// The grant.
    pub grant: Grant,
    /// When, Unix ms.
    pub granted_at: i64,
    /// Who granted it.
    pub granted_by: String,
}

/// Why a grant is refused (in English: the command line is for operators of the portal).
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    /// An operator needs `--office`, an officer `--agency`, an administrator neither.
    #[error("{0}")]
    Scope(&'static str),
    /// No such account.
    #[error("no account with that id, phone or e-mail")]
    NoAccount,
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for RoleError {
    fn from(e: sea_orm::DbErr) -> Self {
        RoleError::Store(e.into())
    }
}

impl Grant {
    /// A grant, checked: the scope must fit the role. Scope ids are letters, digits, `-`, `_`
    /// and `.`, up to 64 characters.
    pub fn new(role: Role, office: Option<&str>, agency: Option<&str>) -> Result<Grant, RoleError> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        let scope = match (role.scope_kind(), office, agency) {
            (ScopeKind::Office, Some(o), None) if valid(o) => Some(o.to_owned()),
            (ScopeKind::Office, _, _) => {
                return Err(RoleError::Scope(
                    "an operator is bound to a service centre: give --office ID (and no --agency)",
                ));
            }
            (ScopeKind::Agency, None, Some(a)) if valid(a) => Some(a.to_owned()),
            (ScopeKind::Agency, _, _) => {
                return Err(RoleError::Scope(
                    "an officer is bound to an agency: give --agency ID (and no --office)",
                ));
            }
            (ScopeKind::Portal, None, None) => None,
            (ScopeKind::Portal, _, _) => {
                return Err(RoleError::Scope(
                    "an administrator is not bound to an office or agency",
                ));
            }
        };
        Ok(Grant { role, scope })
    }

    fn stored_scope(&self) -> &str {
        self.scope.as_deref().unwrap_or_default()
    }
}

fn from_row(row: &store::RoleRow) -> Option<Grant> {
    Some(Grant {
        role: row.role.parse().ok()?,
        scope: (!row.scope.is_empty()).then(|| row.scope.clone()),
    })
}

/// Finds an account by its id, or by a confirmed phone or e-mail (as the command line takes it).
pub async fn find_account(db: &Db, keys: &Keys, who: &str) -> Result<Uuid, RoleError> {
    let who = who.trim();
    let id = if let Ok(id) = Uuid::parse_str(who) {
        store_accounts::find_account(db, id).await?.map(|a| a.id)
    } else if let Ok(e) = uslugi_domain::Email::parse(who) {
        let b = keys.blind_index().compute(blind::EMAIL, e.as_str());
        store_accounts::find_contact_by_blind(db, blind::EMAIL, &b)
            .await?
            .map(|c| c.account_id)
    } else if let Ok(p) = uslugi_domain::Phone::parse(who) {
        let b = keys.blind_index().compute(blind::PHONE, p.as_e164());
        store_accounts::find_contact_by_blind(db, blind::PHONE, &b)
            .await?
            .map(|c| c.account_id)
    } else {
        None
    };
    id.ok_or(RoleError::NoAccount)
}

/// Grants a role; `Ok(false)` when the account had it already. Journaled; the account's sessions
/// end (a privilege change).
pub async fn grant(db: &Db, account_id: Uuid, grant: &Grant, by: &str) -> Result<bool, RoleError> {
    change(db, account_id, grant, by, true).await
}

/// Revokes a role; `Ok(false)` when the account did not have it. Journaled; the account's
/// sessions end.
pub async fn revoke(db: &Db, account_id: Uuid, grant: &Grant, by: &str) -> Result<bool, RoleError> {
    change(db, account_id, grant, by, false).await
}

async fn change(
    db: &Db,
    account_id: Uuid,
    grant: &Grant,
    by: &str,
    on: bool,
) -> Result<bool, RoleError> {
    if store_accounts::find_account(db, account_id)
        .await?
        .is_none()
    {
        return Err(RoleError::NoAccount);
    }
    let now = now_ms();
    let txn = db.begin().await?;
    let changed = if on {
        store::grant(
            &txn,
            account_id,
            grant.role.as_str(),
            grant.stored_scope(),
            by,
            now,
        )
        .await?
    } else {
        store::revoke(&txn, account_id, grant.role.as_str(), grant.stored_scope()).await?
    };
    if changed {
        store_accounts::journal(
            &txn,
            account_id,
            if on { "role.granted" } else { "role.revoked" },
            serde_json::json!({ "role": grant.role.as_str(), "scope": grant.scope, "by": by }),
            now,
        )
        .await?;
        sessions::delete_for_account(&txn, account_id).await?;
    }
    txn.commit().await?;
    Ok(changed)
}

/// The account's roles.
pub async fn of_account(db: &Db, account_id: Uuid) -> Result<Vec<Grant>, StoreError> {
    Ok(store::of_account(db, account_id)
        .await?
        .iter()
        .filter_map(from_row)
        .collect())
}

/// Every grant (of one account, if given).
pub async fn list(db: &Db, account_id: Option<Uuid>) -> Result<Vec<Listed>, StoreError> {
    let rows = match account_id {
        Some(id) => store::of_account(db, id).await?,
        None => store::all(db).await?,
    };
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(Listed {
                account_id: r.account_id,
                grant: from_row(r)?,
                granted_at: r.granted_at,
                granted_by: r.granted_by.clone(),
            })
        })
        .collect())
}
