//! Accounts, their contacts, one-time codes and links, the level history and the journal.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Level,
    Status,
    Name,
    PasswordHash,
    PasswordChangedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccountContacts {
    Table,
    Id,
    AccountId,
    Kind,
    Value,
    ValueBlind,
    ConfirmedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Verifications {
    Table,
    Id,
    Purpose,
    Channel,
    Target,
    TargetBlind,
    SecretHash,
    Attempts,
    MaxAttempts,
    ExpiresAt,
    ResendAfter,
    ConfirmedAt,
    ConsumedAt,
    AccountId,
    Data,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CodeSends {
    Table,
    Id,
    TargetBlind,
    ClientBlind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccountLevels {
    Table,
    Id,
    AccountId,
    Level,
    Channel,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccountJournal {
    Table,
    Id,
    AccountId,
    Event,
    Details,
    CreatedAt,
}

fn ms(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().take()
}

fn fk(name: &str, from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(Accounts::Table, Accounts::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Accounts::Table)
                .col(ColumnDef::new(Accounts::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Accounts::Level).string_len(16).not_null())
                .col(ColumnDef::new(Accounts::Status).string_len(16).not_null())
                .col(ColumnDef::new(Accounts::Name).text().not_null())
                .col(ColumnDef::new(Accounts::PasswordHash).text().not_null())
                .col(ms(Accounts::PasswordChangedAt))
                .col(ms(Accounts::CreatedAt))
                .col(ms(Accounts::UpdatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AccountContacts::Table)
                .col(
                    ColumnDef::new(AccountContacts::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(AccountContacts::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(AccountContacts::Kind)
                        .string_len(8)
                        .not_null(),
                )
                .col(ColumnDef::new(AccountContacts::Value).text().not_null())
                .col(
                    ColumnDef::new(AccountContacts::ValueBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(ms(AccountContacts::ConfirmedAt))
                .col(ms(AccountContacts::CreatedAt))
                .col(ms(AccountContacts::UpdatedAt))
                .foreign_key(&mut fk(
                    "account_contacts_account_fk",
                    (AccountContacts::Table, AccountContacts::AccountId),
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("account_contacts_value_key")
                .table(AccountContacts::Table)
                .col(AccountContacts::Kind)
                .col(AccountContacts::ValueBlind)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("account_contacts_account_kind_key")
                .table(AccountContacts::Table)
                .col(AccountContacts::AccountId)
                .col(AccountContacts::Kind)
                .unique()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Verifications::Table)
                .col(
                    ColumnDef::new(Verifications::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Verifications::Purpose)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Verifications::Channel)
                        .string_len(8)
                        .not_null(),
                )
                .col(ColumnDef::new(Verifications::Target).text().not_null())
                .col(
                    ColumnDef::new(Verifications::TargetBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Verifications::SecretHash)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Verifications::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Verifications::MaxAttempts)
                        .integer()
                        .not_null(),
                )
                .col(ms(Verifications::ExpiresAt))
                .col(ms(Verifications::ResendAfter))
                .col(
                    ColumnDef::new(Verifications::ConfirmedAt)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(Verifications::ConsumedAt)
                        .big_integer()
                        .null(),
                )
                .col(ColumnDef::new(Verifications::AccountId).uuid().null())
                .col(ColumnDef::new(Verifications::Data).text().not_null())
                .col(ms(Verifications::CreatedAt))
                .col(ms(Verifications::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("verifications_secret_hash_idx")
                .table(Verifications::Table)
                .col(Verifications::SecretHash)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CodeSends::Table)
                .col(
                    ColumnDef::new(CodeSends::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(CodeSends::TargetBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(CodeSends::ClientBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(ms(CodeSends::CreatedAt))
                .take(),
        )
        .await?;
        for (name, col) in [
            ("code_sends_target_idx", CodeSends::TargetBlind),
            ("code_sends_client_idx", CodeSends::ClientBlind),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(CodeSends::Table)
                    .col(col)
                    .col(CodeSends::CreatedAt)
                    .take(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(AccountLevels::Table)
                .col(
                    ColumnDef::new(AccountLevels::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(AccountLevels::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(AccountLevels::Level)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AccountLevels::Channel)
                        .string_len(32)
                        .not_null(),
                )
                .col(ms(AccountLevels::CreatedAt))
                .foreign_key(&mut fk(
                    "account_levels_account_fk",
                    (AccountLevels::Table, AccountLevels::AccountId),
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("account_levels_account_idx")
                .table(AccountLevels::Table)
                .col(AccountLevels::AccountId)
                .take(),
        )
        .await?;

        // The journal outlives a deleted account (ASVS: audit kept), so no foreign key.
        m.create_table(
            Table::create()
                .table(AccountJournal::Table)
                .col(
                    ColumnDef::new(AccountJournal::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(AccountJournal::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(AccountJournal::Event)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(AccountJournal::Details).text().not_null())
                .col(ms(AccountJournal::CreatedAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("account_journal_account_idx")
                .table(AccountJournal::Table)
                .col(AccountJournal::AccountId)
                .col(AccountJournal::CreatedAt)
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AccountJournal::Table.into_iden(),
            AccountLevels::Table.into_iden(),
            CodeSends::Table.into_iden(),
            Verifications::Table.into_iden(),
            AccountContacts::Table.into_iden(),
            Accounts::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).take()).await?;
        }
        Ok(())
    }
}
