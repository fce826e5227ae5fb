//! In-app notifications (the «в личном кабинете» channel of alerts, encrypted: they name devices
//! and addresses), and each account's choice of alert channels.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    AccountId,
    Topic,
    Title,
    Body,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    AlertPrefs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(
                    ColumnDef::new(Notifications::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Notifications::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(Notifications::Topic)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(Notifications::Title).text().not_null())
                .col(ColumnDef::new(Notifications::Body).text().not_null())
                .col(
                    ColumnDef::new(Notifications::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Notifications::ReadAt).big_integer().null())
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("notifications_account_idx")
                .table(Notifications::Table)
                .col(Notifications::AccountId)
                .col(Notifications::CreatedAt)
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(
                    ColumnDef::new(Accounts::AlertPrefs)
                        .text()
                        .not_null()
                        .default("{}"),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .drop_column(Accounts::AlertPrefs)
                .take(),
        )
        .await?;
        m.drop_table(Table::drop().table(Notifications::Table).take())
            .await
    }
}
