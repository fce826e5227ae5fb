//! Single sign-on: whether a code may turn into a refresh token (ESIA's `access_type=offline`;
//! OpenID Connect clients always get one).

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    Offline,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OauthCodes::Table)
                .add_column(
                    ColumnDef::new(OauthCodes::Offline)
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OauthCodes::Table)
                .drop_column(OauthCodes::Offline)
                .take(),
        )
        .await
    }
}
