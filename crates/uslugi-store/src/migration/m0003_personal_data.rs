//! Personal data submitted for the registry check (encrypted), with blind indexes that keep
//! SNILS and INN unique across accounts.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersonalData {
    Table,
    AccountId,
    Data,
    SnilsBlind,
    InnBlind,
    State,
    Failures,
    SubmittedAt,
    CheckedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PersonalData::Table)
                .col(
                    ColumnDef::new(PersonalData::AccountId)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(PersonalData::Data).text().not_null())
                .col(
                    ColumnDef::new(PersonalData::SnilsBlind)
                        .string_len(64)
                        .null(),
                )
                .col(ColumnDef::new(PersonalData::InnBlind).string_len(64).null())
                .col(
                    ColumnDef::new(PersonalData::State)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(PersonalData::Failures).text().not_null())
                .col(
                    ColumnDef::new(PersonalData::SubmittedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(PersonalData::CheckedAt).big_integer().null())
                .col(
                    ColumnDef::new(PersonalData::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(PersonalData::UpdatedAt)
                        .big_integer()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("personal_data_account_fk")
                        .from(PersonalData::Table, PersonalData::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        for (name, col) in [
            ("personal_data_snils_key", PersonalData::SnilsBlind),
            ("personal_data_inn_key", PersonalData::InnBlind),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(PersonalData::Table)
                    .col(col)
                    .unique()
                    .take(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PersonalData::Table).take())
            .await
    }
}
