//! Single sign-on: the token signing keys (private keys encrypted; retired keys stay published
//! until the tokens they signed have expired) and the registered client services.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    Alg,
    PrivateKey,
    CreatedAt,
    RetiredAt,
    PublishedUntil,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    ClientId,
    Name,
    SecretHash,
    RedirectUris,
    Scopes,
    MinLevel,
    Public,
    Pairwise,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SigningKeys::Table)
                .col(
                    ColumnDef::new(SigningKeys::Kid)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(SigningKeys::Alg).string_len(16).not_null())
                .col(ColumnDef::new(SigningKeys::PrivateKey).text().not_null())
                .col(
                    ColumnDef::new(SigningKeys::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(SigningKeys::RetiredAt).big_integer().null())
                .col(
                    ColumnDef::new(SigningKeys::PublishedUntil)
                        .big_integer()
                        .null(),
                )
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OauthClients::Table)
                .col(
                    ColumnDef::new(OauthClients::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(OauthClients::ClientId)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(OauthClients::Name).text().not_null())
                .col(
                    ColumnDef::new(OauthClients::SecretHash)
                        .string_len(64)
                        .null(),
                )
                .col(ColumnDef::new(OauthClients::RedirectUris).text().not_null())
                .col(ColumnDef::new(OauthClients::Scopes).text().not_null())
                .col(
                    ColumnDef::new(OauthClients::MinLevel)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(OauthClients::Public).boolean().not_null())
                .col(ColumnDef::new(OauthClients::Pairwise).boolean().not_null())
                .col(
                    ColumnDef::new(OauthClients::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OauthClients::Table).take())
            .await?;
        m.drop_table(Table::drop().table(SigningKeys::Table).take())
            .await
    }
}
