//! The account journal becomes a hash chain: every entry gets a sequence number, the previous
//! entry's hash and its own, and `journal_head` holds the last of them. Entries written before
//! are chained here, in the order they were written.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, Statement},
};

use crate::identity::journal::{Entry, GENESIS, entry_hash};

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccountJournal {
    Table,
    Id,
    Seq,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum JournalHead {
    Table,
    Id,
    Seq,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        m.alter_table(
            Table::alter()
                .table(AccountJournal::Table)
                .add_column(ColumnDef::new(AccountJournal::Seq).big_integer().null())
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AccountJournal::Table)
                .add_column(
                    ColumnDef::new(AccountJournal::PrevHash)
                        .string_len(64)
                        .null(),
                )
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AccountJournal::Table)
                .add_column(ColumnDef::new(AccountJournal::Hash).string_len(64).null())
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("account_journal_seq")
                .table(AccountJournal::Table)
                .col(AccountJournal::Seq)
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(JournalHead::Table)
                .col(
                    ColumnDef::new(JournalHead::Id)
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(JournalHead::Seq).big_integer().not_null())
                .col(ColumnDef::new(JournalHead::Hash).string_len(64).not_null())
                .take(),
        )
        .await?;

        let db = m.get_connection();
        let backend = m.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, account_id, event, details, created_at FROM account_journal \
                 ORDER BY created_at, id",
            ))
            .await?;
        let mut prev = GENESIS.to_owned();
        let mut seq = 0_i64;
        for row in rows {
            seq += 1;
            let id: uuid::Uuid = row.try_get("", "id")?;
            let entry = Entry {
                seq,
                id,
                account_id: row.try_get("", "account_id")?,
                event: row.try_get("", "event")?,
                details: row.try_get("", "details")?,
                created_at: row.try_get("", "created_at")?,
            };
            let hash = entry_hash(&entry, &prev);
            m.exec_stmt(
                Query::update()
                    .table(AccountJournal::Table)
                    .value(AccountJournal::Seq, seq)
                    .value(AccountJournal::PrevHash, prev.clone())
                    .value(AccountJournal::Hash, hash.clone())
                    .and_where(Expr::col(AccountJournal::Id).eq(id))
                    .take(),
            )
            .await?;
            prev = hash;
        }
        let mut head = Query::insert();
        head.into_table(JournalHead::Table)
            .columns([JournalHead::Id, JournalHead::Seq, JournalHead::Hash])
            .values([1.into(), seq.into(), prev.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        m.exec_stmt(head).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(JournalHead::Table).take())
            .await?;
        let mut index = Index::drop();
        index
            .name("account_journal_seq")
            .table(AccountJournal::Table);
        m.drop_index(index).await?;
        for col in [
            AccountJournal::Hash,
            AccountJournal::PrevHash,
            AccountJournal::Seq,
        ] {
            m.alter_table(
                Table::alter()
                    .table(AccountJournal::Table)
                    .drop_column(col)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
