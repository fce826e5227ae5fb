//! Devices an account has signed in from, by the blind index of a long-lived device cookie, so
//! that a sign-in from a new device can be reported to the owner.

use sea_orm_migration::prelude::*;

#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KnownDevices {
    Table,
    Id,
    AccountId,
    DeviceBlind,
    CreatedAt,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(KnownDevices::Table)
                .col(
                    ColumnDef::new(KnownDevices::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(KnownDevices::AccountId).uuid().not_null())
                .col(
                    ColumnDef::new(KnownDevices::DeviceBlind)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(KnownDevices::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(KnownDevices::LastSeenAt)
                        .big_integer()
                        .not_null(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("known_devices_account_device_key")
                .table(KnownDevices::Table)
                .col(KnownDevices::AccountId)
                .col(KnownDevices::DeviceBlind)
                .unique()
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(KnownDevices::Table).take())
            .await
    }
}
