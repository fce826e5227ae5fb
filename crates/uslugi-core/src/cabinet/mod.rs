//! The personal cabinet's own matters: alerts to the owner (SMS, e-mail, the cabinet's list) and
//! questions to the support service.

pub mod alerts;
pub mod support;

use crate::kernel::rekey::Encrypted;

/// The encrypted columns of this feature (for the rotation of the data key).
pub const ENCRYPTED: &[Encrypted] = &[
    Encrypted::by_id("notifications", "title", &[alerts::PURPOSE]),
    Encrypted::by_id("notifications", "body", &[alerts::PURPOSE]),
];
