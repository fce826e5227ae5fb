//! ESIA compatibility: each person's `oid`, the number ESIA integrations know them by. Stored and
//! unique, so that two people can never share one (a hash alone could collide at a country's
//! scale).

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EsiaOids {
    Table,
    AccountId,
    Oid,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EsiaOids::Table)
                .col(
                    ColumnDef::new(EsiaOids::AccountId)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(EsiaOids::Oid)
                        .big_integer()
                        .not_null()
                        .unique_key(),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EsiaOids::Table).take())
            .await
    }
}
