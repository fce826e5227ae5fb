//! Staff roles: what a person may do for others beyond their own account. A role is granted to an
//! account and bound to where it applies: an operator to a service centre, an agency officer to
//! an agency; an administrator to the whole portal.

use std::str::FromStr;

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// An operator at a service centre (центр обслуживания): confirms identities, helps with
    /// access.
    Operator,
    /// An officer of an agency (ведомство): works on the applications addressed to it.
    Officer,
    /// An administrator of the portal.
    Admin,
}

/// What a role is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// A service centre.
    Office,
    /// An agency.
    Agency,
    /// The whole portal.
    Portal,
}

/// A stored or typed role code is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Неизвестная роль: допустимы operator, officer, admin")]
pub struct RoleError;

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Operator, Role::Officer, Role::Admin];

    /// Stable code for storage and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Officer => "officer",
            Role::Admin => "admin",
        }
    }

    /// The role's name as people read it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Operator => "Оператор центра обслуживания",
            Role::Officer => "Сотрудник ведомства",
            Role::Admin => "Администратор портала",
        }
    }

    /// What the role is bound to.
    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::Operator => ScopeKind::Office,
            Role::Officer => ScopeKind::Agency,
            Role::Admin => ScopeKind::Portal,
        }
    }
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(RoleError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_from_their_codes_and_name_their_scope() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!("root".parse::<Role>(), Err(RoleError));
        assert_eq!(Role::Operator.scope_kind(), ScopeKind::Office);
        assert_eq!(Role::Officer.scope_kind(), ScopeKind::Agency);
        assert_eq!(Role::Admin.scope_kind(), ScopeKind::Portal);
    }
}
