//! Contact changes waiting out their delay: a new phone or e-mail, proven by its code, takes
//! effect for sign-in and recovery only after the owner's old contacts could cancel it.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContactChanges {
    Table,
    Id,
    AccountId,
    Kind,
    Value,
    ValueBlind,
    CancelBlind,
    State,
    EffectiveAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ContactChanges::Table)
                .col(
                    ColumnDef::new(ContactChanges::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(ContactChanges::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(ContactChanges::Kind)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(ContactChanges::Value).text().not_null())
                .col(
                    ColumnDef::new(ContactChanges::ValueBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ContactChanges::CancelBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ContactChanges::State)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ContactChanges::EffectiveAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ContactChanges::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ContactChanges::UpdatedAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("contact_changes_cancel_key")
                .table(ContactChanges::Table)
                .col(ContactChanges::CancelBlind)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("contact_changes_account_idx")
                .table(ContactChanges::Table)
                .col(ContactChanges::AccountId)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ContactChanges::Table).take())
            .await
    }
}
