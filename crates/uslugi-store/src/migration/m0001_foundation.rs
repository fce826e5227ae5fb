//! Sessions, background jobs, the delivery outbox and the development mailbox.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    AccountId,
    CsrfToken,
    Data,
    CreatedAt,
    UpdatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    State,
    Attempts,
    MaxAttempts,
    RunAt,
    LockedUntil,
    LastError,
    DedupKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Channel,
    Recipient,
    Subject,
    Body,
    KeyId,
    DedupKey,
    State,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    SentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DevMessages {
    Table,
    Id,
    Channel,
    Recipient,
    Subject,
    Body,
    KeyId,
    CreatedAt,
}

fn ms(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(
                    ColumnDef::new(Sessions::Id)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Sessions::AccountId).uuid().null())
                .col(
                    ColumnDef::new(Sessions::CsrfToken)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(Sessions::Data).text().not_null())
                .col(ms(Sessions::CreatedAt))
                .col(ms(Sessions::UpdatedAt))
                .col(ms(Sessions::LastSeenAt))
                .col(ms(Sessions::ExpiresAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sessions_account_id_idx")
                .table(Sessions::Table)
                .col(Sessions::AccountId)
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sessions_expires_at_idx")
                .table(Sessions::Table)
                .col(Sessions::ExpiresAt)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(ColumnDef::new(Jobs::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Jobs::Kind).string_len(64).not_null())
                .col(ColumnDef::new(Jobs::Payload).text().not_null())
                .col(ColumnDef::new(Jobs::State).string_len(16).not_null())
                .col(
                    ColumnDef::new(Jobs::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(Jobs::MaxAttempts).integer().not_null())
                .col(ms(Jobs::RunAt))
                .col(ColumnDef::new(Jobs::LockedUntil).big_integer().null())
                .col(ColumnDef::new(Jobs::LastError).text().null())
                .col(ColumnDef::new(Jobs::DedupKey).string_len(200).null())
                .col(ms(Jobs::CreatedAt))
                .col(ms(Jobs::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("jobs_dedup_key_key")
                .table(Jobs::Table)
                .col(Jobs::DedupKey)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("jobs_state_run_at_idx")
                .table(Jobs::Table)
                .col(Jobs::State)
                .col(Jobs::RunAt)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(ColumnDef::new(Outbox::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Outbox::Channel).string_len(16).not_null())
                .col(ColumnDef::new(Outbox::Recipient).text().not_null())
                .col(ColumnDef::new(Outbox::Subject).text().not_null())
                .col(ColumnDef::new(Outbox::Body).text().not_null())
                .col(ColumnDef::new(Outbox::KeyId).string_len(32).not_null())
                .col(ColumnDef::new(Outbox::DedupKey).string_len(200).not_null())
                .col(ColumnDef::new(Outbox::State).string_len(16).not_null())
                .col(
                    ColumnDef::new(Outbox::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ms(Outbox::NextAttemptAt))
                .col(ColumnDef::new(Outbox::LockedUntil).big_integer().null())
                .col(ColumnDef::new(Outbox::LastError).text().null())
                .col(ColumnDef::new(Outbox::SentAt).big_integer().null())
                .col(ms(Outbox::CreatedAt))
                .col(ms(Outbox::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_dedup_key_key")
                .table(Outbox::Table)
                .col(Outbox::DedupKey)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_state_next_attempt_idx")
                .table(Outbox::Table)
                .col(Outbox::State)
                .col(Outbox::NextAttemptAt)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DevMessages::Table)
                .col(
                    ColumnDef::new(DevMessages::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(DevMessages::Channel)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(DevMessages::Recipient).text().not_null())
                .col(ColumnDef::new(DevMessages::Subject).text().not_null())
                .col(ColumnDef::new(DevMessages::Body).text().not_null())
                .col(ColumnDef::new(DevMessages::KeyId).string_len(32).not_null())
                .col(ms(DevMessages::CreatedAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("dev_messages_created_at_idx")
                .table(DevMessages::Table)
                .col(DevMessages::CreatedAt)
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DevMessages::Table).take())
            .await?;
        m.drop_table(Table::drop().table(Outbox::Table).take())
            .await?;
        m.drop_table(Table::drop().table(Jobs::Table).take())
            .await?;
        m.drop_table(Table::drop().table(Sessions::Table).take())
            .await
    }
}
