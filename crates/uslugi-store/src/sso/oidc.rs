//! Token signing keys and registered client services.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{oauth_clients, signing_keys},
};

/// A stored signing key (the private key is ciphertext).
pub type SigningKeyRow = signing_keys::Model;
/// A registered client.
pub type ClientRow = oauth_clients::Model;

/// Adds a signing key.
pub async fn insert_key(
    db: &impl ConnectionTrait,
    kid: &str,
    alg: &str,
    private_key: String,
    now: i64,
) -> Result<(), StoreError> {
    signing_keys::Entity::insert(signing_keys::ActiveModel {
        kid: Set(kid.to_owned()),
        alg: Set(alg.to_owned()),
        private_key: Set(private_key),
        created_at: Set(now),
        retired_at: Set(None),
        published_until: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Keys that sign new tokens (not retired), newest first.
pub async fn active_keys(db: &impl ConnectionTrait) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(signing_keys::Entity::find()
        .filter(signing_keys::Column::RetiredAt.is_null())
        .order_by_desc(signing_keys::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Keys to publish: active ones, and retired ones whose tokens may still be valid.
pub async fn published_keys(
    db: &impl ConnectionTrait,
    now: i64,
) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(signing_keys::Entity::find()
        .filter(
            Expr::col(signing_keys::Column::RetiredAt)
                .is_null()
                .or(Expr::col(signing_keys::Column::PublishedUntil).gt(now)),
        )
        .order_by_desc(signing_keys::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Retires every active key created before `before`; they stay published until `until`.
pub async fn retire_keys_before(
    db: &impl ConnectionTrait,
    before: i64,
    until: i64,
    now: i64,
) -> Result<u64, StoreError> {
    let res = signing_keys::Entity::update_many()
        .col_expr(signing_keys::Column::RetiredAt, Expr::value(now))
        .col_expr(signing_keys::Column::PublishedUntil, Expr::value(until))
        .filter(signing_keys::Column::RetiredAt.is_null())
        .filter(signing_keys::Column::CreatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Input for a new client.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// Public identifier.
    pub client_id: String,
    /// The service's name, shown on the consent screen.
    pub name: String,
    /// HMAC of the secret (none for public clients).
    pub secret_hash: Option<String>,
    /// JSON array of exact redirect URIs.
    pub redirect_uris: String,
    /// Space-separated scopes it may ask for.
    pub scopes: String,
    /// Lowest account level it accepts.
    pub min_level: String,
    /// A public client (no secret; PKCE required).
    pub public: bool,
    /// Pairwise subject identifiers.
    pub pairwise: bool,
    /// JSON Web Key Set of the client's public keys (`private_key_jwt`).
    pub jwks: Option<String>,
    /// `RS256` or `ES256`.
    pub id_token_alg: String,
    /// JSON array of exact addresses to return to after logout.
    pub post_logout_redirect_uris: String,
    /// May use the `client_credentials` grant.
    pub client_credentials: bool,
    /// PEM certificate for ESIA-style signed requests.
    pub certificate: Option<String>,
}

/// Registers a client.
pub async fn insert_client(
    db: &impl ConnectionTrait,
    c: NewClient,
    now: i64,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    oauth_clients::Entity::insert(oauth_clients::ActiveModel {
        id: Set(id),
        client_id: Set(c.client_id),
        name: Set(c.name),
        secret_hash: Set(c.secret_hash),
        redirect_uris: Set(c.redirect_uris),
        scopes: Set(c.scopes),
        min_level: Set(c.min_level),
        public: Set(c.public),
        pairwise: Set(c.pairwise),
        created_at: Set(now),
        jwks: Set(c.jwks),
        id_token_alg: Set(c.id_token_alg),
        post_logout_redirect_uris: Set(c.post_logout_redirect_uris),
        client_credentials: Set(c.client_credentials),
        certificate: Set(c.certificate),
    })
    .exec_without_returning(db)
    .await?;
    Ok(id)
}

/// A client by its public identifier.
pub async fn find_client(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<ClientRow>, StoreError> {
    Ok(oauth_clients::Entity::find()
        .filter(oauth_clients::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

/// A stored authorization code.
pub type CodeRow = crate::entities::oauth_codes::Model;
/// A stored token.
pub type TokenRow = crate::entities::oauth_tokens::Model;

/// The scopes an account has granted a client, if any.
pub async fn consent(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    client_id: &str,
) -> Result<Option<String>, StoreError> {
    use crate::entities::oauth_consents;
    Ok(oauth_consents::Entity::find()
        .filter(oauth_consents::Column::AccountId.eq(account_id))
        .filter(oauth_consents::Column::ClientId.eq(client_id))
        .one(db)
        .await?
        .map(|c| c.scopes))
}

/// Records (or widens) a consent.
pub async fn grant_consent(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    client_id: &str,
    scopes: &str,
    now: i64,
) -> Result<(), StoreError> {
    use crate::entities::oauth_consents;
    oauth_consents::Entity::delete_many()
        .filter(oauth_consents::Column::AccountId.eq(account_id))
        .filter(oauth_consents::Column::ClientId.eq(client_id))
        .exec(db)
        .await?;
    oauth_consents::Entity::insert(oauth_consents::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account_id),
        client_id: Set(client_id.to_owned()),
        scopes: Set(scopes.to_owned()),
        granted_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Stores an authorization code (by its hash).
pub async fn insert_code(db: &impl ConnectionTrait, code: CodeRow) -> Result<(), StoreError> {
    use crate::entities::oauth_codes;
    let am: oauth_codes::ActiveModel = code.into();
    oauth_codes::Entity::insert(am)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A code by its hash.
pub async fn find_code(
    db: &impl ConnectionTrait,
    code_hash: &str,
) -> Result<Option<CodeRow>, StoreError> {
    use crate::entities::oauth_codes;
    Ok(oauth_codes::Entity::find_by_id(code_hash.to_owned())
        .one(db)
        .await?)
}

/// Uses up whichever of these codes are unused, in one statement; returns those it used up.
pub async fn take_codes(
    db: &impl ConnectionTrait,
    code_hashes: &[&str],
    now: i64,
) -> Result<Vec<CodeRow>, StoreError> {
    use crate::entities::oauth_codes;
    if code_hashes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(oauth_codes::Entity::update_many()
        .col_expr(oauth_codes::Column::UsedAt, Expr::value(now))
        .filter(oauth_codes::Column::CodeHash.is_in(code_hashes.iter().copied()))
        .filter(oauth_codes::Column::UsedAt.is_null())
        .exec_with_returning(db)
        .await?)
}

/// Makes codes usable again: a code taken in a batch whose request then failed its checks.
pub async fn untake_codes(
    db: &impl ConnectionTrait,
    code_hashes: &[&str],
) -> Result<(), StoreError> {
    use crate::entities::oauth_codes;
    if code_hashes.is_empty() {
        return Ok(());
    }
    oauth_codes::Entity::update_many()
        .col_expr(
            oauth_codes::Column::UsedAt,
            Expr::value(Option::<i64>::None),
        )
        .filter(oauth_codes::Column::CodeHash.is_in(code_hashes.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Uses up whichever of these refresh tokens are live (neither revoked nor expired) and belong to
/// an active account, in one statement; returns those it used up. (An account that is blocked,
/// deactivated or deleted has its tokens revoked when that happens; the condition here closes
/// the gap for a refresh under way at that moment, without a read of its own.)
pub async fn take_refresh_tokens(
    db: &impl ConnectionTrait,
    token_hashes: &[&str],
    now: i64,
) -> Result<Vec<TokenRow>, StoreError> {
    use crate::entities::{accounts, oauth_tokens};
    use sea_orm::sea_query::Query;
    if token_hashes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(oauth_tokens::Entity::update_many()
        .col_expr(oauth_tokens::Column::RevokedAt, Expr::value(now))
        .filter(oauth_tokens::Column::TokenHash.is_in(token_hashes.iter().copied()))
        .filter(oauth_tokens::Column::Kind.eq("refresh"))
        .filter(oauth_tokens::Column::RevokedAt.is_null())
        .filter(oauth_tokens::Column::ExpiresAt.gt(now))
        .filter(
            oauth_tokens::Column::AccountId.in_subquery(
                Query::select()
                    .column(accounts::Column::Id)
                    .from(accounts::Entity)
                    .and_where(accounts::Column::Status.eq(accounts::status::ACTIVE))
                    .to_owned(),
            ),
        )
        .exec_with_returning(db)
        .await?)
}

/// Makes refresh tokens live again: taken in a batch whose request then failed its checks.
pub async fn untake_refresh_tokens(
    db: &impl ConnectionTrait,
    token_hashes: &[&str],
) -> Result<(), StoreError> {
    use crate::entities::oauth_tokens;
    if token_hashes.is_empty() {
        return Ok(());
    }
    oauth_tokens::Entity::update_many()
        .col_expr(
            oauth_tokens::Column::RevokedAt,
            Expr::value(Option::<i64>::None),
        )
        .filter(oauth_tokens::Column::TokenHash.is_in(token_hashes.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores a token (by its hash).
pub async fn insert_token(db: &impl ConnectionTrait, token: TokenRow) -> Result<(), StoreError> {
    insert_tokens(db, vec![token]).await
}

/// Stores tokens (by their hashes) in one statement.
pub async fn insert_tokens(
    db: &impl ConnectionTrait,
    tokens: Vec<TokenRow>,
) -> Result<(), StoreError> {
    use crate::entities::oauth_tokens;
    oauth_tokens::Entity::insert_many(tokens.into_iter().map(oauth_tokens::ActiveModel::from))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A live token by its hash and kind.
pub async fn live_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
    kind: &str,
    now: i64,
) -> Result<Option<TokenRow>, StoreError> {
    use crate::entities::oauth_tokens;
    Ok(oauth_tokens::Entity::find_by_id(token_hash.to_owned())
        .filter(oauth_tokens::Column::Kind.eq(kind))
        .filter(oauth_tokens::Column::RevokedAt.is_null())
        .filter(oauth_tokens::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Revokes every token issued from a code (a replayed code).
pub async fn revoke_from_code(
    db: &impl ConnectionTrait,
    code_hash: &str,
    now: i64,
) -> Result<u64, StoreError> {
    use crate::entities::oauth_tokens;
    let res = oauth_tokens::Entity::update_many()
        .col_expr(oauth_tokens::Column::RevokedAt, Expr::value(now))
        .filter(oauth_tokens::Column::CodeHash.eq(code_hash))
        .filter(oauth_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Revokes every live token of an account (a compromise: recovery, a password change, a block,
/// deactivation). Returns how many.
pub async fn revoke_account_tokens(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    now: i64,
) -> Result<u64, StoreError> {
    use crate::entities::{oauth_codes, oauth_tokens};
    // Unused codes would otherwise still turn into tokens for up to a minute: they are marked
    // used, so that presenting one is refused like any spent code.
    oauth_codes::Entity::update_many()
        .col_expr(oauth_codes::Column::UsedAt, Expr::value(now))
        .filter(oauth_codes::Column::AccountId.eq(account_id))
        .filter(oauth_codes::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let res = oauth_tokens::Entity::update_many()
        .col_expr(oauth_tokens::Column::RevokedAt, Expr::value(now))
        .filter(oauth_tokens::Column::AccountId.eq(account_id))
        .filter(oauth_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Removes every grant of a deleted account: codes, tokens and consents.
pub async fn delete_account_grants(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<(), StoreError> {
    use crate::entities::{oauth_codes, oauth_consents, oauth_tokens};
    oauth_codes::Entity::delete_many()
        .filter(oauth_codes::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    oauth_tokens::Entity::delete_many()
        .filter(oauth_tokens::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    oauth_consents::Entity::delete_many()
        .filter(oauth_consents::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A token by its hash and kind, live or not.
pub async fn find_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
    kind: &str,
) -> Result<Option<TokenRow>, StoreError> {
    use crate::entities::oauth_tokens;
    Ok(oauth_tokens::Entity::find_by_id(token_hash.to_owned())
        .filter(oauth_tokens::Column::Kind.eq(kind))
        .one(db)
        .await?)
}

/// Revokes one token; `Ok(false)` when it was revoked already (a second use).
pub async fn revoke_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    use crate::entities::oauth_tokens;
    let res = oauth_tokens::Entity::update_many()
        .col_expr(oauth_tokens::Column::RevokedAt, Expr::value(now))
        .filter(oauth_tokens::Column::TokenHash.eq(token_hash))
        .filter(oauth_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// A token by its hash, whatever its kind.
pub async fn token_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<TokenRow>, StoreError> {
    use crate::entities::oauth_tokens;
    Ok(oauth_tokens::Entity::find_by_id(token_hash.to_owned())
        .one(db)
        .await?)
}

/// Records a client assertion's `jti` (or the hash of another request that may be taken once, such
/// as a signed ESIA request): `Ok(false)` when it was seen already (a replay). Expired
/// records are dropped on the way, since an expired assertion is refused anyway.
pub async fn record_assertion(
    db: &impl ConnectionTrait,
    jti_hash: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, StoreError> {
    use crate::entities::oauth_assertions;
    oauth_assertions::Entity::delete_many()
        .filter(oauth_assertions::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let res = oauth_assertions::Entity::insert(oauth_assertions::ActiveModel {
        jti_hash: Set(jti_hash.to_owned()),
        expires_at: Set(expires_at),
    })
    .exec_without_returning(db)
    .await;
    match res {
        Ok(_) => Ok(true),
        Err(e) if crate::db::unique_violation(&e).is_some() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// One service a person has let see their data.
#[derive(Debug, Clone)]
pub struct GrantedApp {
    /// The client.
    pub client_id: String,
    /// The service's name.
    pub name: String,
    /// Granted scopes, space-separated.
    pub scopes: String,
    /// When (ms).
    pub granted_at: i64,
}

/// The services an account has granted access to, newest first.
pub async fn consents_of(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Vec<GrantedApp>, StoreError> {
    use crate::entities::oauth_consents;
    let consents = oauth_consents::Entity::find()
        .filter(oauth_consents::Column::AccountId.eq(account_id))
        .order_by_desc(oauth_consents::Column::GrantedAt)
        .all(db)
        .await?;
    let ids: Vec<String> = consents.iter().map(|c| c.client_id.clone()).collect();
    let clients = oauth_clients::Entity::find()
        .filter(oauth_clients::Column::ClientId.is_in(ids))
        .all(db)
        .await?;
    Ok(consents
        .into_iter()
        .map(|c| GrantedApp {
            name: clients
                .iter()
                .find(|k| k.client_id == c.client_id)
                .map(|k| k.name.clone())
                .unwrap_or_default(),
            client_id: c.client_id,
            scopes: c.scopes,
            granted_at: c.granted_at,
        })
        .collect())
}

/// Withdraws a consent and revokes every token the service holds for the account. `Ok(false)`
/// when there was no consent.
pub async fn withdraw_consent(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    client_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    use crate::entities::{oauth_codes, oauth_consents, oauth_tokens};
    // Codes issued in the last minute would otherwise still turn into tokens.
    oauth_codes::Entity::update_many()
        .col_expr(oauth_codes::Column::UsedAt, Expr::value(now))
        .filter(oauth_codes::Column::AccountId.eq(account_id))
        .filter(oauth_codes::Column::ClientId.eq(client_id))
        .filter(oauth_codes::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let res = oauth_consents::Entity::delete_many()
        .filter(oauth_consents::Column::AccountId.eq(account_id))
        .filter(oauth_consents::Column::ClientId.eq(client_id))
        .exec(db)
        .await?;
    oauth_tokens::Entity::update_many()
        .col_expr(oauth_tokens::Column::RevokedAt, Expr::value(now))
        .filter(oauth_tokens::Column::AccountId.eq(account_id))
        .filter(oauth_tokens::Column::ClientId.eq(client_id))
        .filter(oauth_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// An account's ESIA oid, if it has one.
pub async fn esia_oid(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Option<i64>, StoreError> {
    use crate::entities::esia_oids;
    Ok(esia_oids::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .map(|r| r.oid))
}

/// Gives an account an oid: `Ok(false)` when that number (or the account) has one already.
pub async fn insert_esia_oid(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    oid: i64,
) -> Result<bool, StoreError> {
    use crate::entities::esia_oids;
    let res = esia_oids::Entity::insert(esia_oids::ActiveModel {
        account_id: Set(account_id),
        oid: Set(oid),
    })
    .exec_without_returning(db)
    .await;
    match res {
        Ok(_) => Ok(true),
        Err(e) if crate::db::unique_violation(&e).is_some() => Ok(false),
        Err(e) => Err(e.into()),
    }
}
