//! Server-side web sessions. The primary key is the SHA-256 of the cookie value, so a copy of the
//! table does not hand out live sessions.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub account_id: Option<Uuid>,
    pub csrf_token: String,
    pub data: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub client_info: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
