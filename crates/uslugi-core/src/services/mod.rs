//! Public services: the catalogue and its search, applications from draft to result, and the
//! agencies' side of them.

pub mod applications;
pub mod catalogue;
pub mod search;
