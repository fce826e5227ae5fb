//! Single sign-on: an authorization code remembers the account's level when the person signed in,
//! so that the token exchange (the hot path) need not read the account again.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    Level,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OauthCodes::Table)
                .add_column(
                    ColumnDef::new(OauthCodes::Level)
                        .string_len(16)
                        .not_null()
                        .default("simplified"),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OauthCodes::Table)
                .drop_column(OauthCodes::Level)
                .take(),
        )
        .await
    }
}
