//! Single sign-on, more of the client's registration: its public keys for `private_key_jwt`,
//! the ID-token algorithm, where it may send people after logout and whether it may use the
//! `client_credentials` grant; and the identifiers of used client assertions (a `jti` is
//! accepted once).

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Jwks,
    IdTokenAlg,
    PostLogoutRedirectUris,
    ClientCredentials,
}

#[derive(DeriveIden)]
enum OauthTokens {
    Table,
    AccountId,
    ClientId,
}

#[derive(DeriveIden)]
enum OauthAssertions {
    Table,
    JtiHash,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds columns one at a time.
        for col in [
            ColumnDef::new(OauthClients::Jwks).text().null().take(),
            ColumnDef::new(OauthClients::IdTokenAlg)
                .string_len(16)
                .not_null()
                .default("RS256")
                .take(),
            ColumnDef::new(OauthClients::PostLogoutRedirectUris)
                .text()
                .not_null()
                .default("[]")
                .take(),
            ColumnDef::new(OauthClients::ClientCredentials)
                .boolean()
                .not_null()
                .default(false)
                .take(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(col)
                    .take(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(OauthAssertions::Table)
                .col(
                    ColumnDef::new(OauthAssertions::JtiHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(OauthAssertions::ExpiresAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("oauth_assertions_expires_idx")
                .table(OauthAssertions::Table)
                .col(OauthAssertions::ExpiresAt)
                .take(),
        )
        .await?;
        // Withdrawing a consent revokes the service's tokens for the person.
        m.create_index(
            Index::create()
                .name("oauth_tokens_account_client_idx")
                .table(OauthTokens::Table)
                .col(OauthTokens::AccountId)
                .col(OauthTokens::ClientId)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("oauth_tokens_account_client_idx")
                .table(OauthTokens::Table)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(OauthAssertions::Table).take())
            .await?;
        for col in [
            OauthClients::ClientCredentials,
            OauthClients::PostLogoutRedirectUris,
            OauthClients::IdTokenAlg,
            OauthClients::Jwks,
        ] {
            m.alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .drop_column(col)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
