//! Reading and rewriting encrypted columns by key id, for the rotation of the data key.
//!
//! A ciphertext starts with the id of the key that made it (`k1:…`), so the values still under an
//! old key are found with a prefix test, and each is replaced only if it has not changed since it
//! was read (the old ciphertext is part of the `WHERE`): a person editing their profile while
//! the rotation runs keeps the newer value. The columns themselves are named by the features
//! that own them; this module only knows tables and columns.

use sea_orm::{
    ConnectionTrait, DbBackend, Statement, Value,
    sea_query::{Alias, Expr, ExprTrait, Func, Order, Query},
};

use crate::StoreError;

/// How a table's primary key is typed (the rows are walked in key order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// A UUID.
    Uuid,
    /// Text.
    Text,
}

/// An encrypted column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The table.
    pub table: &'static str,
    /// Its primary key column.
    pub key: &'static str,
    /// The primary key's type.
    pub key_type: KeyType,
    /// The encrypted column.
    pub column: &'static str,
    /// A column that repeats the key id beside the ciphertext (the outboxes keep one).
    pub key_id_column: Option<&'static str>,
}

/// One value to re-encrypt: its row and its ciphertext.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The row's primary key.
    pub key: Value,
    /// The ciphertext.
    pub value: String,
}

/// The values of `column` that do not start with `current` (the active key id and a colon)
/// among the next `limit` rows after the row `after` in key order, and the key of the last row
/// read (the next `after`, as text so that a job can carry it; `None` at the end).
pub async fn stale(
    db: &impl ConnectionTrait,
    column: &Column,
    current: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<(Vec<Cell>, Option<String>), StoreError> {
    let mut q = Query::select();
    q.column(Alias::new(column.key))
        .column(Alias::new(column.column))
        .from(Alias::new(column.table))
        .and_where(Expr::col(Alias::new(column.column)).is_not_null())
        .order_by(Alias::new(column.key), Order::Asc)
        .limit(limit);
    if let Some(after) = after {
        let after = match column.key_type {
            KeyType::Uuid => Value::from(
                uuid::Uuid::parse_str(after).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ),
            KeyType::Text => Value::from(after.to_owned()),
        };
        q.and_where(Expr::col(Alias::new(column.key)).gt(after));
    }
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(backend.build(&q)).await?;
    let mut last = None;
    let mut cells = Vec::new();
    for row in rows {
        let (key, text) = match column.key_type {
            KeyType::Uuid => {
                let id = row.try_get_by_index::<uuid::Uuid>(0)?;
                (Value::from(id), id.to_string())
            }
            KeyType::Text => {
                let id = row.try_get_by_index::<String>(0)?;
                (Value::from(id.clone()), id)
            }
        };
        let value: String = row.try_get_by_index(1)?;
        last = Some(text);
        if !value.starts_with(current) {
            cells.push(Cell { key, value });
        }
    }
    Ok((cells, last))
}

/// Replaces a value if it is still `old`; returns whether it was.
pub async fn replace(
    db: &impl ConnectionTrait,
    column: &Column,
    cell: &Cell,
    new: &str,
    key_id: &str,
) -> Result<bool, StoreError> {
    let mut q = Query::update();
    q.table(Alias::new(column.table))
        .value(Alias::new(column.column), new)
        .and_where(Expr::col(Alias::new(column.key)).eq(cell.key.clone()))
        .and_where(Expr::col(Alias::new(column.column)).eq(cell.value.as_str()));
    if let Some(kid) = column.key_id_column {
        q.value(Alias::new(kid), key_id);
    }
    let backend = db.get_database_backend();
    Ok(db.execute_raw(backend.build(&q)).await?.rows_affected() == 1)
}

/// Every text column of every table of the schema, as (table, column): the safety net before a
/// key is retired looks through all of them, not only the columns the features name.
pub async fn text_columns(db: &impl ConnectionTrait) -> Result<Vec<(String, String)>, StoreError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND (lower(p.type) LIKE '%text%' OR lower(p.type) LIKE '%char%') \
             ORDER BY 1, 2"
        }
        _ => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() \
             AND data_type IN ('text', 'character varying') ORDER BY 1, 2"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
        .collect()
}

/// How many values of `table.column` start with `prefix`.
pub async fn count_prefixed(
    db: &impl ConnectionTrait,
    table: &str,
    column: &str,
    prefix: &str,
) -> Result<u64, StoreError> {
    // An `integer`: PostgreSQL has no `substr(text, integer, bigint)`.
    let len = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
    // `substr` exists in both SQLite and PostgreSQL and, unlike SQLite's `LIKE`, compares case
    // and treats `_` literally.
    let mut q = Query::select();
    q.expr(Func::count(Expr::col(Alias::new(column))))
        .from(Alias::new(table))
        .and_where(
            Expr::expr(
                Func::cust(Alias::new("substr"))
                    .arg(Expr::col(Alias::new(column)))
                    .arg(1)
                    .arg(len),
            )
            .eq(prefix),
        );
    let backend = db.get_database_backend();
    let row = db.query_one_raw(backend.build(&q)).await?;
    let n: i64 = match row {
        Some(r) => r.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}
