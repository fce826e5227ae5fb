//! Table `account_journal`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_journal")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub event: String,
    pub details: String,
    pub created_at: i64,
    /// Place in the journal chain (1, 2, …).
    #[sea_orm(unique)]
    pub seq: Option<i64>,
    /// The previous entry's `hash`.
    pub prev_hash: Option<String>,
    /// SHA-256 over this entry and `prev_hash` (see `identity::journal`).
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
