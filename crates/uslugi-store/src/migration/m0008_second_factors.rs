//! Second factors (authenticator app, SMS, later security keys), single-use backup codes, the
//! method and client of each login attempt for the history, and the account flags for
//! deactivation and temporary passwords. New columns are nullable or defaulted, so rows from
//! before stay valid.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SecondFactors {
    Table,
    Id,
    AccountId,
    Kind,
    /// Unique per account: the kind for one-per-account factors, the credential id for keys.
    Slot,
    Label,
    Secret,
    LastStep,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum BackupCodes {
    Table,
    Id,
    AccountId,
    CodeBlind,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Method,
    ClientInfo,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    DeactivatedAt,
    PasswordTemporary,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SecondFactors::Table)
                .col(
                    ColumnDef::new(SecondFactors::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(SecondFactors::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(SecondFactors::Kind)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SecondFactors::Slot)
                        .string_len(255)
                        .not_null(),
                )
                .col(ColumnDef::new(SecondFactors::Label).string_len(255).null())
                .col(ColumnDef::new(SecondFactors::Secret).text().null())
                .col(ColumnDef::new(SecondFactors::LastStep).big_integer().null())
                .col(
                    ColumnDef::new(SecondFactors::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SecondFactors::LastUsedAt)
                        .big_integer()
                        .null(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("second_factors_account_slot_key")
                .table(SecondFactors::Table)
                .col(SecondFactors::AccountId)
                .col(SecondFactors::Slot)
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BackupCodes::Table)
                .col(
                    ColumnDef::new(BackupCodes::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(BackupCodes::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(BackupCodes::CodeBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(BackupCodes::UsedAt).big_integer().null())
                .col(
                    ColumnDef::new(BackupCodes::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("backup_codes_account_code_key")
                .table(BackupCodes::Table)
                .col(BackupCodes::AccountId)
                .col(BackupCodes::CodeBlind)
                .unique()
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(LoginAttempts::Table)
                .add_column(ColumnDef::new(LoginAttempts::Method).string_len(16).null())
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(LoginAttempts::Table)
                .add_column(ColumnDef::new(LoginAttempts::ClientInfo).text().null())
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(ColumnDef::new(Accounts::DeactivatedAt).big_integer().null())
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(
                    ColumnDef::new(Accounts::PasswordTemporary)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (t, c) in [
            (
                Accounts::Table.into_iden(),
                Accounts::PasswordTemporary.into_iden(),
            ),
            (
                Accounts::Table.into_iden(),
                Accounts::DeactivatedAt.into_iden(),
            ),
            (
                LoginAttempts::Table.into_iden(),
                LoginAttempts::ClientInfo.into_iden(),
            ),
            (
                LoginAttempts::Table.into_iden(),
                LoginAttempts::Method.into_iden(),
            ),
        ] {
            m.alter_table(Table::alter().table(t).drop_column(c).take())
                .await?;
        }
        m.drop_table(Table::drop().table(BackupCodes::Table).take())
            .await?;
        m.drop_table(Table::drop().table(SecondFactors::Table).take())
            .await
    }
}
