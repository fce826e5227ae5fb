//! Uploaded files (scans of documents): metadata here, the encrypted bytes in the object store.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    AccountId,
    Purpose,
    ContentType,
    Size,
    FileName,
    ObjectKey,
    CreatedAt,
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
                .table(Uploads::Table)
                .col(ColumnDef::new(Uploads::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Uploads::AccountId).uuid().not_null())
                .col(ColumnDef::new(Uploads::Purpose).string_len(32).not_null())
                .col(
                    ColumnDef::new(Uploads::ContentType)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(Uploads::Size).big_integer().not_null())
                .col(ColumnDef::new(Uploads::FileName).text().not_null())
                .col(
                    ColumnDef::new(Uploads::ObjectKey)
                        .string_len(128)
                        .not_null(),
                )
                .col(ColumnDef::new(Uploads::CreatedAt).big_integer().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("uploads_account_fk")
                        .from(Uploads::Table, Uploads::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uploads_account_idx")
                .table(Uploads::Table)
                .col(Uploads::AccountId)
                .col(Uploads::Purpose)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Uploads::Table).take())
            .await
    }
}
