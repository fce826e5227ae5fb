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
