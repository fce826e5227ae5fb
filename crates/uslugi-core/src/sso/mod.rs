//! Single sign-on for the agencies' systems: the OpenID Connect provider, its ESIA-compatible
//! variant (plugged into it through `oidc::format`), and sign-in through a partner bank.

pub mod banks;
pub mod esia;
pub mod oidc;

use crate::kernel::rekey::{Encrypted, KeyType};

/// The encrypted columns of this feature (for the rotation of the data key).
pub const ENCRYPTED: &[Encrypted] =
    &[
        Encrypted::by_id("signing_keys", "private_key", &[oidc::keys::PURPOSE])
            .keyed_by("kid", KeyType::Text),
    ];
