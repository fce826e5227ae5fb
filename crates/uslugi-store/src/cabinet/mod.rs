//! Queries of the cabinet's notifications.

pub mod notifications;
