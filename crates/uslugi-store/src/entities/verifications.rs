//! Table `verifications`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub purpose: String,
    pub channel: String,
    pub target: String,
    pub target_blind: String,
    pub secret_hash: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub expires_at: i64,
    pub resend_after: i64,
    pub confirmed_at: Option<i64>,
    pub consumed_at: Option<i64>,
    pub account_id: Option<Uuid>,
    pub data: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
