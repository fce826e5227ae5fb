//! One row per counted identifier (a login, an account's second factor, …): attempts on the same
//! identifier take its row's lock while they count and reserve, so that parallel guesses are
//! counted one after another and a limit holds exactly, on PostgreSQL as on SQLite.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AttemptLocks {
    Table,
    KeyBlind,
    TouchedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AttemptLocks::Table)
                .col(
                    ColumnDef::new(AttemptLocks::KeyBlind)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(AttemptLocks::TouchedAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AttemptLocks::Table).take())
            .await
    }
}
