//! Queries of the services layer: the catalogue document and applications with their history.

pub mod applications;
pub mod catalogue;
