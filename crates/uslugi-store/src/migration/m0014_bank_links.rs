//! Sign-in through partner banks: which bank identity (provider and subject, as a blind index)
//! belongs to which account.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BankLinks {
    Table,
    Id,
    AccountId,
    Provider,
    SubjectBlind,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BankLinks::Table)
                .col(
                    ColumnDef::new(BankLinks::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(BankLinks::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(BankLinks::Provider)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BankLinks::SubjectBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BankLinks::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("bank_links_provider_subject_key")
                .table(BankLinks::Table)
                .col(BankLinks::Provider)
                .col(BankLinks::SubjectBlind)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("bank_links_account_idx")
                .table(BankLinks::Table)
                .col(BankLinks::AccountId)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BankLinks::Table).take())
            .await
    }
}
