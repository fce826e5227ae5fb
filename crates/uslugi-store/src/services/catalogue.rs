//! The catalogue as one versioned document: imports replace it whole, and every node notices a
//! new version and rebuilds its own index from it.

use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect, Set, sea_query::OnConflict};

use crate::{StoreError, entities::catalogue};

/// The stored catalogue.
pub type CatalogueRow = catalogue::Model;

/// The catalogue, if one was imported.
pub async fn get(db: &impl ConnectionTrait) -> Result<Option<CatalogueRow>, StoreError> {
    Ok(catalogue::Entity::find_by_id(1).one(db).await?)
}

/// The version of the stored catalogue (0 when none).
pub async fn version(db: &impl ConnectionTrait) -> Result<i64, StoreError> {
    let v: Option<i64> = catalogue::Entity::find_by_id(1)
        .select_only()
        .column(catalogue::Column::Version)
        .into_tuple()
        .one(db)
        .await?;
    Ok(v.unwrap_or(0))
}

/// Replaces the catalogue with `body`; returns the new version.
pub async fn put(db: &impl ConnectionTrait, body: String, now: i64) -> Result<i64, StoreError> {
    let version = version(db).await? + 1;
    catalogue::Entity::insert(catalogue::ActiveModel {
        id: Set(1),
        version: Set(version),
        body: Set(body),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(catalogue::Column::Id)
            .update_columns([
                catalogue::Column::Version,
                catalogue::Column::Body,
                catalogue::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(version)
}
