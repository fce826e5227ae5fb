//! Single sign-on for the agencies' systems: the OpenID Connect provider, its ESIA-compatible
//! variant (plugged into it through `oidc::format`), and sign-in through a partner bank.

pub mod banks;
pub mod esia;
pub mod oidc;
