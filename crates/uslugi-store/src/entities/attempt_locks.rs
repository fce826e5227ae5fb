//! Table `attempt_locks`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attempt_locks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_blind: String,
    pub touched_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
