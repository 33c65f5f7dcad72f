//! Synthetic tenants of any size with realistic shapes: heavy-tailed group sizes, nested groups, guests, disabled
//! and synced accounts, non-human mailboxes, apps with app roles, managed identities, and subscriptions with many
//! scopes. Deterministic: the same sizes and seed give the same tenant.
//!
//! One [`Builder`] per tenant; each entity family has its file: [`directory`] (users, groups), [`apps`] (service
//! principals, app roles, grants, app registrations), [`azure`] (hierarchy, storage, identities, RBAC), [`roles`]
//! (directory roles and PIM).

mod apps;
mod azure;
mod builder;
mod directory;
mod roles;
mod spec;

use crate::tenant::TenantFile;
use builder::Builder;
pub use spec::{READ_PERMISSIONS, READER_CLIENT, Sizes, WRITE_PERMISSIONS, WRITER_CLIENT};

/// Makes a tenant of `sizes` from `seed`. Each entity family is drawn in a fixed order from one random stream, so
/// the same sizes and seed always give the same tenant.
pub fn generate(sizes: &Sizes, seed: u64) -> TenantFile {
    let mut b = Builder::new(sizes, seed);
    b.users();
    b.service_principals();
    b.azure_hierarchy();
    b.groups();
    b.app_role_assignments();
    b.delegated_grants();
    b.directory_roles();
    b.azure_rbac();
    b.app_registrations();
    b.t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_tenant_is_valid_deterministic_and_varied() {
        let sizes = Sizes {
            users: 300,
            groups: 40,
            apps: 10,
            subscriptions: 2,
            resource_groups_per_subscription: 2,
            storage_accounts_per_resource_group: 2,
        };
        let a = generate(&sizes, 7);
        a.validate().unwrap();
        let b = generate(&sizes, 7);
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        assert_ne!(serde_json::to_string(&generate(&sizes, 8)).unwrap(), serde_json::to_string(&a).unwrap());
        assert_eq!(a.users.len(), 300);
        assert!(a.users.iter().any(|u| u.props["userType"] == "Guest"));
        assert!(a.users.iter().any(|u| u.mailbox.as_deref() == Some("room")));
        assert!(a.users.iter().any(|u| u.mailbox.is_none()));
        assert!(a.groups.iter().any(|g| g.members.iter().any(|m| a.groups.iter().any(|x| &x.id == m))), "some nesting");
        assert!(a.service_principals.iter().any(|s| s.props["servicePrincipalType"] == "ManagedIdentity"));
        let levels: std::collections::HashSet<usize> =
            a.role_assignments.iter().map(|r| r.scope.matches('/').count()).collect();
        assert!(levels.len() >= 4, "assignments at several scope depths: {levels:?}");
    }
}
