//! Table `accounts`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub level: String,
    pub status: String,
    pub name: String,
    pub password_hash: String,
    pub password_changed_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub deactivated_at: Option<i64>,
    pub password_temporary: bool,
    pub alert_prefs: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Account states.
pub mod status {
    /// Can sign in.
    pub const ACTIVE: &str = "active";
    /// Blocked (by staff, on a signal a stranger cannot forge), until access is recovered.
    pub const BLOCKED: &str = "blocked";
    /// Deactivated by its owner; signing in within the grace period restores it, after that it
    /// is deleted.
    pub const DEACTIVATED: &str = "deactivated";
    /// Deleted: personal data erased, the journal kept.
    pub const DELETED: &str = "deleted";
}
