//! The personal cabinet's own matters: alerts to the owner (SMS, e-mail, the cabinet's list) and
//! questions to the support service.

pub mod alerts;
pub mod support;
