//! The one set of migrations, for every backend. Migrations are expand/contract: a new column is
//! added nullable or with a default first, so that the previous release keeps working while the
//! new one rolls out; removals come in a later migration.

use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_accounts;
mod m0003_personal_data;
mod m0004_uploads;
mod m0005_login_attempts;
mod m0006_session_clients;
mod m0007_known_devices;
mod m0008_second_factors;
mod m0009_notifications;
mod m0010_oidc;
mod m0011_oauth_grants;
mod m0012_oauth_clients_more;
mod m0013_client_certificates;
mod m0014_bank_links;
mod m0015_code_level;
mod m0016_esia_oids;
mod m0017_code_offline;
mod m0018_contact_changes;
mod m0019_attempt_locks;
mod m0020_account_roles;
mod m0021_attempt_pending;
mod m0022_journal_chain;
mod m0023_services;

/// Runs the migrations in order.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_accounts::Migration),
            Box::new(m0003_personal_data::Migration),
            Box::new(m0004_uploads::Migration),
            Box::new(m0005_login_attempts::Migration),
            Box::new(m0006_session_clients::Migration),
            Box::new(m0007_known_devices::Migration),
            Box::new(m0008_second_factors::Migration),
            Box::new(m0009_notifications::Migration),
            Box::new(m0010_oidc::Migration),
            Box::new(m0011_oauth_grants::Migration),
            Box::new(m0012_oauth_clients_more::Migration),
            Box::new(m0013_client_certificates::Migration),
            Box::new(m0014_bank_links::Migration),
            Box::new(m0015_code_level::Migration),
            Box::new(m0016_esia_oids::Migration),
            Box::new(m0017_code_offline::Migration),
            Box::new(m0018_contact_changes::Migration),
            Box::new(m0019_attempt_locks::Migration),
            Box::new(m0020_account_roles::Migration),
            Box::new(m0021_attempt_pending::Migration),
            Box::new(m0022_journal_chain::Migration),
            Box::new(m0023_services::Migration),
        ]
    }
}
