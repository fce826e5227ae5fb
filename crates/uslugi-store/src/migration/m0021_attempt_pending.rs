//! An attempt reserved before its check is `pending` until the check decides it: the limits that
//! must hold under parallel guessing count pending attempts, while the captcha, the per-client
//! limit and the growing wait count only decided failures (so that many people signing in at
//! once from one address are not taken for a guesser).

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Pending,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(LoginAttempts::Table)
                .add_column(
                    ColumnDef::new(LoginAttempts::Pending)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(LoginAttempts::Table)
                .drop_column(LoginAttempts::Pending)
                .take(),
        )
        .await
    }
}
