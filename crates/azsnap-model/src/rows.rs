//! The four kinds of data row a snapshot holds: principals, resources, role definitions and grants.
//!
//! A grant is one real assignment (membership, ownership, directory role, app role, Azure role, delegated
//! permission). Nested-group and inherited-scope access is not stored: analyses derive it at query time.
//! Column-by-column meaning is documented in `docs/snapshot-format.md`.

use crate::{Guid, Timestamp};

/// Declares a closed enum stored as a fixed lower-case word, with `as_str`, `FromStr`, `Display` and serde (as the word).
#[macro_export]
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word stored in the snapshot.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($word => Ok($name::$variant),)+
                    other => Err(format!(
                        concat!("unknown ", stringify!($name), " '{}'"), other
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = <std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                word.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

word_enum! {
    /// What kind of directory object a principal is.
    PrincipalKind {
        User => "user",
        Group => "group",
        /// A service principal that is not a managed identity (enterprise app, first-party app, legacy).
        ServicePrincipal => "service_principal",
        /// A service principal of type `ManagedIdentity`, system- or user-assigned.
        ManagedIdentity => "managed_identity",
        Device => "device",
        Contact => "contact",
        /// Referenced by a grant but not found in the directory (deleted, foreign, not readable).
        Unknown => "unknown",
    }
}

word_enum! {
    /// Where a principal row came from.
    Origin {
        /// Read from the tenant by this collection.
        Collected => "collected",
        /// Taken from another snapshot given as `--external-identities`.
        External => "external",
        /// Only its id is known, from a grant that names it.
        Unresolved => "unresolved",
    }
}

word_enum! {
    /// What kind of thing a resource is.
    ResourceKind {
        Tenant => "tenant",
        ManagementGroup => "management_group",
        Subscription => "subscription",
        ResourceGroup => "resource_group",
        StorageAccount => "storage_account",
        Container => "container",
        UserAssignedIdentity => "user_assigned_identity",
        /// Any other Azure resource that a role assignment is scoped to.
        Other => "other",
    }
}

word_enum! {
    /// Which role system a role definition belongs to.
    RoleKind {
        /// Entra directory roles (`roleManagement/directory/roleDefinitions`).
        Directory => "directory",
        /// Azure RBAC roles (`Microsoft.Authorization/roleDefinitions`), built-in and custom.
        Azure => "azure",
        /// App roles defined by a service principal (`appRoles`), including default access.
        App => "app",
    }
}

word_enum! {
    /// What a grant gives its principal on its target.
    Relation {
        /// Direct member of a group.
        Member => "member",
        /// Owner of a group, service principal or application.
        Owner => "owner",
        /// Holder of an Entra directory role.
        DirectoryRole => "directory_role",
        /// Holder of an app role on a resource service principal.
        AppRole => "app_role",
        /// Holder of an Azure RBAC role at an ARM scope.
        AzureRole => "azure_role",
        /// Delegated permission grant (OAuth2 consent) to a client service principal.
        Delegated => "delegated",
    }
}

word_enum! {
    /// Whether a grant is in force now, or can be activated (PIM eligibility).
    GrantState {
        Active => "active",
        Eligible => "eligible",
    }
}

/// What a grant means — principal, relation, target, role, scope and state, the grants table's primary key — and
/// so what `diff` and plans match grants on (never the assignment id the service gave it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GrantKey {
    pub principal_id: String,
    pub relation: Relation,
    pub target_id: String,
    pub role_id: String,
    pub scope: String,
    pub state: GrantState,
}

impl GrantKey {
    /// The six key columns as text, in primary-key order (SQL parameters ?1 to ?6).
    pub fn columns(&self) -> [&str; 6] {
        [&self.principal_id, self.relation.as_str(), &self.target_id, &self.role_id, &self.scope, self.state.as_str()]
    }

    /// The grant's meaning without its state, `principal|relation|target|role|scope`: a grant that went from
    /// eligible to active is one change of this meaning.
    pub fn meaning(&self) -> String {
        self.columns()[..5].join("|")
    }
}

/// A user, group, service principal or managed identity. Kind-specific fields are `None` for other kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub id: Guid,
    pub kind: PrincipalKind,
    pub origin: Origin,
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub mail: Option<String>,
    pub user_type: Option<String>,
    pub account_enabled: Option<bool>,
    pub on_premises_sync: Option<bool>,
    pub created_at: Option<Timestamp>,
    pub mailbox_purpose: Option<String>,
    pub last_sign_in: Option<Timestamp>,
    pub last_non_interactive_sign_in: Option<Timestamp>,
    pub last_successful_sign_in: Option<Timestamp>,
    pub security_enabled: Option<bool>,
    pub mail_enabled: Option<bool>,
    pub group_types: Option<String>,
    pub membership_rule: Option<String>,
    pub is_assignable_to_role: Option<bool>,
    pub app_id: Option<Guid>,
    pub service_principal_type: Option<String>,
    pub app_owner_tenant_id: Option<Guid>,
    pub managed_identity_type: Option<String>,
    pub managed_identity_resource_id: Option<String>,
    pub attrs: Option<String>,
}

impl Principal {
    /// A principal with only its id, kind and origin set.
    pub fn new(id: Guid, kind: PrincipalKind, origin: Origin) -> Self {
        Principal {
            id,
            kind,
            origin,
            display_name: None,
            user_principal_name: None,
            mail: None,
            user_type: None,
            account_enabled: None,
            on_premises_sync: None,
            created_at: None,
            mailbox_purpose: None,
            last_sign_in: None,
            last_non_interactive_sign_in: None,
            last_successful_sign_in: None,
            security_enabled: None,
            mail_enabled: None,
            group_types: None,
            membership_rule: None,
            is_assignable_to_role: None,
            app_id: None,
            service_principal_type: None,
            app_owner_tenant_id: None,
            managed_identity_type: None,
            managed_identity_resource_id: None,
            attrs: None,
        }
    }
}

/// A thing access is granted on: the tenant, a management group, subscription, resource group, storage account,
/// container or other Azure resource. Groups and service principals are targets too, but live in principals.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Canonical id: the tenant GUID for the tenant, the lower-case ARM id for everything else.
    pub id: String,
    pub kind: ResourceKind,
    pub name: Option<String>,
    pub display_name: Option<String>,
    /// The canonical id of the enclosing resource (management group, subscription, …), if any.
    pub parent_id: Option<String>,
    /// The ARM id as the service spelled it.
    pub arm_id: Option<String>,
    pub subscription_id: Option<Guid>,
    pub location: Option<String>,
    pub state: Option<String>,
    /// Kind-specific properties, as a JSON object with sorted keys.
    pub attrs: Option<String>,
}

impl Resource {
    /// A resource with only its id and kind set.
    pub fn new(id: impl Into<String>, kind: ResourceKind) -> Self {
        Resource {
            id: id.into(),
            kind,
            name: None,
            display_name: None,
            parent_id: None,
            arm_id: None,
            subscription_id: None,
            location: None,
            state: None,
            attrs: None,
        }
    }
}

/// A role: an Entra directory role, an Azure RBAC role or an app role.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDefinition {
    pub kind: RoleKind,
    /// For app roles, the id of the service principal that defines them; empty for other kinds.
    pub resource_id: String,
    pub id: Guid,
    pub name: Option<String>,
    pub description: Option<String>,
    pub builtin: Option<bool>,
    pub enabled: Option<bool>,
    /// Permissions as a JSON value with sorted keys (actions, data actions, allowed resource actions).
    pub permissions: Option<String>,
    /// Assignable scopes (Azure custom roles) or allowed member types (app roles), as a JSON array.
    pub assignable_scopes: Option<String>,
}

impl RoleDefinition {
    /// A role definition with only its kind, defining resource and id set.
    pub fn new(kind: RoleKind, resource_id: impl Into<String>, id: Guid) -> Self {
        RoleDefinition {
            kind,
            resource_id: resource_id.into(),
            id,
            name: None,
            description: None,
            builtin: None,
            enabled: None,
            permissions: None,
            assignable_scopes: None,
        }
    }
}

/// One real assignment. Its meaning is (principal, relation, target, role, scope, state); a snapshot holds at most
/// one grant per meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub principal_id: Guid,
    /// The principal type as the API reported it (`User`, `Group`, `ServicePrincipal`, `ForeignGroup`, …).
    pub principal_type: Option<String>,
    pub relation: Relation,
    /// What the grant is on: a group or service principal id, the tenant id, or a lower-case ARM id.
    pub target_id: String,
    /// The role definition id; empty for memberships and ownerships.
    pub role_id: String,
    /// Where the role applies: a directory scope (`/`, `/administrativeUnits/…`) or an ARM scope; empty if none.
    pub scope: String,
    pub state: GrantState,
    pub assignment_type: Option<String>,
    pub member_type: Option<String>,
    pub start_at: Option<Timestamp>,
    pub end_at: Option<Timestamp>,
    pub created_at: Option<Timestamp>,
    /// The assignment id the service gave it, when it has one.
    pub source_id: Option<String>,
    pub condition: Option<String>,
}

impl Grant {
    /// An active grant with no dates, role or scope.
    pub fn new(principal_id: Guid, relation: Relation, target_id: impl Into<String>) -> Self {
        Grant {
            principal_id,
            principal_type: None,
            relation,
            target_id: target_id.into(),
            role_id: String::new(),
            scope: String::new(),
            state: GrantState::Active,
            assignment_type: None,
            member_type: None,
            start_at: None,
            end_at: None,
            created_at: None,
            source_id: None,
            condition: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for k in PrincipalKind::ALL {
            assert_eq!(k.as_str().parse::<PrincipalKind>().unwrap(), *k);
        }
        for r in Relation::ALL {
            assert_eq!(r.to_string().parse::<Relation>().unwrap(), *r);
        }
        assert!("User".parse::<PrincipalKind>().is_err(), "words are case-sensitive");
    }
}
