//! Migrations on the test backend.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use uslugi_store::db;
use uslugi_testkit::fresh_database;

#[tokio::test]
async fn migrations_are_current_after_migrate_and_a_second_run_changes_nothing() {
    let (_, conn) = fresh_database().await;
    assert!(db::migrations_current(&conn).await.unwrap());
    db::migrate(&conn).await.unwrap();
    assert!(db::migrations_current(&conn).await.unwrap());
    db::ping(&conn).await.unwrap();
}

#[tokio::test]
async fn the_backend_is_the_one_the_test_command_asked_for() {
    let (url, conn) = fresh_database().await;
    let expected = uslugi_testkit::backend();
    assert_eq!(db::backend_of(&conn), expected);
    assert_eq!(uslugi_store::Backend::from_url(&url), Some(expected));
}

mod journal {
    use sea_orm::ConnectionTrait;
    use uslugi_store::identity::{
        accounts::{self, NewAccount},
        journal::{Verdict, head, verify},
    };
    use uuid::Uuid;

    /// A database with one account and `n` journal entries.
    async fn journal_of(n: usize) -> (uslugi_store::Db, Uuid) {
        let (_, db) = uslugi_testkit::fresh_database().await;
        let id = Uuid::now_v7();
        accounts::insert_account(
            &db,
            NewAccount {
                id,
                level: "simplified".into(),
                name: "x".into(),
                password_hash: "x".into(),
            },
            1,
        )
        .await
        .unwrap();
        for i in 0..n {
            accounts::journal(
                &db,
                id,
                "test.event",
                serde_json::json!({ "i": i }),
                1000 + i as i64,
            )
            .await
            .unwrap();
        }
        (db, id)
    }

    async fn broken_at(db: &uslugi_store::Db, anchors: &[(i64, String)]) -> (i64, String) {
        match verify(db, anchors).await.unwrap() {
            Verdict::Broken { seq, reason, .. } => (seq, reason),
            Verdict::Intact { .. } => panic!("the tampering was not found"),
        }
    }

    #[tokio::test]
    async fn an_untouched_chain_is_intact_and_its_head_matches() {
        let (db, _) = journal_of(5).await;
        let (seq, hash) = head(&db).await.unwrap();
        assert_eq!(seq, 5);
        assert_eq!(
            verify(&db, &[(5, hash.clone())]).await.unwrap(),
            Verdict::Intact {
                entries: 5,
                head: hash
            }
        );
    }

    #[tokio::test]
    async fn an_edited_entry_is_found() {
        let (db, _) = journal_of(5).await;
        db.execute_unprepared("UPDATE account_journal SET details = '{\"i\":99}' WHERE seq = 3")
            .await
            .unwrap();
        let (seq, reason) = broken_at(&db, &[]).await;
        assert_eq!(seq, 3, "{reason}");
        assert!(reason.contains("changed"), "{reason}");
    }

    #[tokio::test]
    async fn a_deleted_entry_and_a_deleted_tail_are_found() {
        let (db, _) = journal_of(5).await;
        db.execute_unprepared("DELETE FROM account_journal WHERE seq = 2")
            .await
            .unwrap();
        let (seq, reason) = broken_at(&db, &[]).await;
        assert_eq!(seq, 2, "{reason}");
        assert!(reason.contains("missing"), "{reason}");

        let (db, _) = journal_of(5).await;
        db.execute_unprepared("DELETE FROM account_journal WHERE seq >= 4")
            .await
            .unwrap();
        let (seq, reason) = broken_at(&db, &[]).await;
        assert_eq!(seq, 4, "{reason}");
    }

    #[tokio::test]
    async fn an_inserted_entry_is_found_with_or_without_a_place_in_the_chain() {
        let (db, account) = journal_of(3).await;
        let backend = db.get_database_backend();
        let id = Uuid::now_v7();
        // Without a number.
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => "INSERT INTO account_journal (id, account_id, event, details, created_at) VALUES ($1, $2, 'forged', '{}', 5)",
                _ => "INSERT INTO account_journal (id, account_id, event, details, created_at) VALUES (?, ?, 'forged', '{}', 5)",
            },
            [id.into(), account.into()],
        ))
        .await
        .unwrap();
        let (_, reason) = broken_at(&db, &[]).await;
        assert!(reason.contains("outside the chain"), "{reason}");

        // In the middle, the later ones renumbered to make room.
        let (db, account) = journal_of(3).await;
        db.execute_unprepared("UPDATE account_journal SET seq = seq + 10 WHERE seq >= 2")
            .await
            .unwrap();
        db.execute_unprepared("UPDATE account_journal SET seq = seq - 9 WHERE seq >= 12")
            .await
            .unwrap();
        let hash: String = "ab".repeat(32);
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => "INSERT INTO account_journal (id, account_id, event, details, created_at, seq, prev_hash, hash) SELECT $1, $2, 'forged', '{}', 5, 2, hash, $3 FROM account_journal WHERE seq = 1",
                _ => "INSERT INTO account_journal (id, account_id, event, details, created_at, seq, prev_hash, hash) SELECT ?, ?, 'forged', '{}', 5, 2, hash, ? FROM account_journal WHERE seq = 1",
            },
            [Uuid::now_v7().into(), account.into(), hash.into()],
        ))
        .await
        .unwrap();
        let (seq, reason) = broken_at(&db, &[]).await;
        assert_eq!(seq, 2, "{reason}");
    }

    #[tokio::test]
    async fn a_rewritten_chain_is_found_by_an_anchor_logged_before() {
        let (db, _) = journal_of(4).await;
        let (seq, hash) = head(&db).await.unwrap();
        // Someone deletes the last entry and moves the head back to the one before, as a
        // careful forger would: the chain itself is consistent again.
        db.execute_unprepared(
            "UPDATE journal_head SET seq = 3, hash = (SELECT hash FROM account_journal WHERE seq = 3)",
        )
        .await
        .unwrap();
        db.execute_unprepared("DELETE FROM account_journal WHERE seq = 4")
            .await
            .unwrap();
        assert!(matches!(
            verify(&db, &[]).await.unwrap(),
            Verdict::Intact { .. }
        ));
        let (at, reason) = broken_at(&db, &[(seq, hash)]).await;
        assert_eq!(at, 4, "{reason}");
    }
}

#[tokio::test]
async fn entries_written_before_the_chain_are_chained_by_its_migration() {
    use sea_orm_migration::MigratorTrait;
    use uslugi_store::identity::journal::{Verdict, verify};
    let (_, conn) = fresh_database().await;
    // Back to the schema before the chain (it and the services layer after it undone), with
    // entries written then.
    uslugi_store::migration::Migrator::down(&conn, Some(2))
        .await
        .unwrap();
    let account = uuid::Uuid::now_v7();
    use sea_orm::ConnectionTrait;
    let backend = conn.get_database_backend();
    let p = |i: usize| match backend {
        sea_orm::DbBackend::Postgres => format!("${i}"),
        _ => "?".to_owned(),
    };
    conn.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        format!(
            "INSERT INTO accounts (id, level, status, name, password_hash, password_changed_at, created_at, updated_at, password_temporary, alert_prefs) VALUES ({}, 'simplified', 'active', 'x', 'x', 1, 1, 1, false, '{{}}')",
            p(1)
        ),
        [account.into()],
    ))
    .await
    .unwrap();
    for i in 0..3_i64 {
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO account_journal (id, account_id, event, details, created_at) VALUES ({}, {}, 'old.event', '{{}}', {})",
                p(1),
                p(2),
                p(3)
            ),
            [uuid::Uuid::now_v7().into(), account.into(), (100 - i).into()],
        ))
        .await
        .unwrap();
    }
    db::migrate(&conn).await.unwrap();
    assert!(matches!(
        verify(&conn, &[]).await.unwrap(),
        Verdict::Intact { entries: 3, .. }
    ));
}
