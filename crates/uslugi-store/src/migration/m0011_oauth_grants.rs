//! Single sign-on grants: remembered consents, authorization codes (single use, 60 s) and
//! tokens (stored as hashes; a replayed code revokes what was issued from it).

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthConsents {
    Table,
    Id,
    AccountId,
    ClientId,
    Scopes,
    GrantedAt,
}

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    CodeHash,
    ClientId,
    AccountId,
    RedirectUri,
    Scopes,
    Nonce,
    CodeChallenge,
    AuthTime,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum OauthTokens {
    Table,
    TokenHash,
    Kind,
    ClientId,
    AccountId,
    Scopes,
    CodeHash,
    ExpiresAt,
    RevokedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OauthConsents::Table)
                .col(
                    ColumnDef::new(OauthConsents::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(OauthConsents::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(OauthConsents::ClientId)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(OauthConsents::Scopes).text().not_null())
                .col(
                    ColumnDef::new(OauthConsents::GrantedAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("oauth_consents_account_client_key")
                .table(OauthConsents::Table)
                .col(OauthConsents::AccountId)
                .col(OauthConsents::ClientId)
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OauthCodes::Table)
                .col(
                    ColumnDef::new(OauthCodes::CodeHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(OauthCodes::ClientId)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(OauthCodes::AccountId).uuid().not_null())
                .col(ColumnDef::new(OauthCodes::RedirectUri).text().not_null())
                .col(ColumnDef::new(OauthCodes::Scopes).text().not_null())
                .col(ColumnDef::new(OauthCodes::Nonce).text().null())
                .col(
                    ColumnDef::new(OauthCodes::CodeChallenge)
                        .string_len(128)
                        .null(),
                )
                .col(
                    ColumnDef::new(OauthCodes::AuthTime)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OauthCodes::ExpiresAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(OauthCodes::UsedAt).big_integer().null())
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OauthTokens::Table)
                .col(
                    ColumnDef::new(OauthTokens::TokenHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(OauthTokens::Kind).string_len(16).not_null())
                .col(
                    ColumnDef::new(OauthTokens::ClientId)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(OauthTokens::AccountId).uuid().null())
                .col(ColumnDef::new(OauthTokens::Scopes).text().not_null())
                .col(ColumnDef::new(OauthTokens::CodeHash).string_len(64).null())
                .col(
                    ColumnDef::new(OauthTokens::ExpiresAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(OauthTokens::RevokedAt).big_integer().null())
                .col(
                    ColumnDef::new(OauthTokens::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("oauth_tokens_code_idx")
                .table(OauthTokens::Table)
                .col(OauthTokens::CodeHash)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OauthTokens::Table).take())
            .await?;
        m.drop_table(Table::drop().table(OauthCodes::Table).take())
            .await?;
        m.drop_table(Table::drop().table(OauthConsents::Table).take())
            .await
    }
}
