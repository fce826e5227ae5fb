//! ESIA compatibility: a client service's certificate (PEM), whose key verifies the signed
//! `client_secret` of its ESIA-style requests.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Certificate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .add_column(ColumnDef::new(OauthClients::Certificate).text().null())
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .drop_column(OauthClients::Certificate)
                .take(),
        )
        .await
    }
}
