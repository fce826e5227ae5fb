//! Staff roles granted to accounts, each bound to a scope (a service centre, an agency, or the
//! portal as a whole, stored as an empty scope).

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccountRoles {
    Table,
    Id,
    AccountId,
    Role,
    Scope,
    GrantedAt,
    GrantedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AccountRoles::Table)
                .col(
                    ColumnDef::new(AccountRoles::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(AccountRoles::AccountId).uuid().not_null())
                .col(ColumnDef::new(AccountRoles::Role).string_len(16).not_null())
                .col(
                    ColumnDef::new(AccountRoles::Scope)
                        .string_len(64)
                        .not_null()
                        .default(""),
                )
                .col(
                    ColumnDef::new(AccountRoles::GrantedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AccountRoles::GrantedBy)
                        .string_len(64)
                        .not_null(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("account_roles_grant_key")
                .table(AccountRoles::Table)
                .col(AccountRoles::AccountId)
                .col(AccountRoles::Role)
                .col(AccountRoles::Scope)
                .unique()
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AccountRoles::Table).take())
            .await
    }
}
