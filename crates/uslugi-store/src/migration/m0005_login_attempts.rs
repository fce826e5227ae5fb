//! Login attempts: the basis of the throttling counters (held in the database so that they hold
//! across app nodes) and, later, of the login history in the security cabinet.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Id,
    AccountId,
    IdentifierBlind,
    ClientBlind,
    Success,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LoginAttempts::Table)
                .col(
                    ColumnDef::new(LoginAttempts::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(LoginAttempts::AccountId).uuid().null())
                .col(
                    ColumnDef::new(LoginAttempts::IdentifierBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(LoginAttempts::ClientBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(LoginAttempts::Success).boolean().not_null())
                .col(
                    ColumnDef::new(LoginAttempts::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await?;
        for (name, col) in [
            (
                "login_attempts_identifier_idx",
                LoginAttempts::IdentifierBlind,
            ),
            ("login_attempts_client_idx", LoginAttempts::ClientBlind),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(LoginAttempts::Table)
                    .col(col)
                    .col(LoginAttempts::CreatedAt)
                    .take(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("login_attempts_account_idx")
                .table(LoginAttempts::Table)
                .col(LoginAttempts::AccountId)
                .col(LoginAttempts::CreatedAt)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginAttempts::Table).take())
            .await
    }
}
