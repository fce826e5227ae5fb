//! Table `oauth_clients`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub scopes: String,
    pub min_level: String,
    pub public: bool,
    pub pairwise: bool,
    pub created_at: i64,
    pub jwks: Option<String>,
    pub id_token_alg: String,
    pub post_logout_redirect_uris: String,
    pub client_credentials: bool,
    pub certificate: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
