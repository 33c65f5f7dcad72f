//! The tenant file: the truth the emulator serves, as documented in `docs/tenant-format.md`.
//!
//! Directory objects are written with Graph's own property names; Azure resources as compact facts from which the
//! emulator builds ARM's shapes. Loading validates every id and every reference, so a served tenant is consistent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{ArmId, Guid};

mod validate;

pub use validate::TenantError;

/// Entra ID license level; decides whether PIM and sign-in activity are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum License {
    Free,
    P1,
    P2,
}

impl License {
    /// The names a tenant file and `mock serve --license` use.
    pub const NAMES: [&str; 3] = ["free", "p1", "p2"];
}

impl std::str::FromStr for License {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "free" => Ok(License::Free),
            "p1" => Ok(License::P1),
            "p2" => Ok(License::P2),
            other => Err(format!("{other:?} is not a license (free, p1, p2)")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantFile {
    pub tenant: TenantInfo,
    #[serde(default)]
    pub apps: Vec<AppRegistration>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub service_principals: Vec<ServicePrincipal>,
    #[serde(default)]
    pub applications: Vec<Application>,
    #[serde(default)]
    pub app_role_assignments: Vec<AppRoleAssignment>,
    #[serde(default)]
    pub oauth2_permission_grants: Vec<OAuth2PermissionGrant>,
    #[serde(default)]
    pub directory_role_definitions: Vec<Map<String, Value>>,
    #[serde(default)]
    pub directory_role_assignments: Vec<DirectoryRoleAssignment>,
    #[serde(default)]
    pub directory_role_eligibilities: Vec<DirectoryRoleSchedule>,
    #[serde(default)]
    pub directory_role_activations: Vec<DirectoryRoleSchedule>,
    #[serde(default)]
    pub group_eligibilities: Vec<GroupSchedule>,
    #[serde(default)]
    pub group_assignments: Vec<GroupSchedule>,
    #[serde(default)]
    pub management_groups: Vec<ManagementGroup>,
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
    #[serde(default)]
    pub resource_groups: Vec<ResourceGroup>,
    #[serde(default)]
    pub storage_accounts: Vec<StorageAccount>,
    #[serde(default)]
    pub user_assigned_identities: Vec<UserAssignedIdentity>,
    #[serde(default)]
    pub role_definitions: Vec<AzureRoleDefinition>,
    #[serde(default)]
    pub role_assignments: Vec<AzureRoleAssignment>,
    #[serde(default)]
    pub role_eligibilities: Vec<AzureRoleEligibility>,
    /// The tenant-wide policies Graph serves under `/policies`.
    #[serde(default)]
    pub policies: Policies,
    /// The directory audit log (`auditLogs/directoryAudits`), oldest first, each entry in Graph's shape: part of the
    /// tenant's state, so a state exported and served again keeps its history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directory_audits: Vec<Map<String, Value>>,
}

/// Tenant-wide policies, as far as the emulator serves them (`/policies/authorizationPolicy`,
/// `/policies/identitySecurityDefaultsEnforcementPolicy`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policies {
    /// Whether security defaults are on.
    #[serde(default)]
    pub security_defaults_enabled: bool,
    /// Properties of the authorization policy that differ from a new tenant's (Graph's names, e.g.
    /// `allowInvitesFrom`, `guestUserRoleId`, `defaultUserRolePermissions`).
    #[serde(default)]
    pub authorization_policy: Map<String, Value>,
}

impl TenantFile {
    /// A tenant with nothing in it yet.
    pub fn empty(tenant: TenantInfo) -> Self {
        TenantFile {
            tenant,
            apps: Vec::new(),
            users: Vec::new(),
            groups: Vec::new(),
            service_principals: Vec::new(),
            applications: Vec::new(),
            app_role_assignments: Vec::new(),
            oauth2_permission_grants: Vec::new(),
            directory_role_definitions: Vec::new(),
            directory_role_assignments: Vec::new(),
            directory_role_eligibilities: Vec::new(),
            directory_role_activations: Vec::new(),
            group_eligibilities: Vec::new(),
            group_assignments: Vec::new(),
            management_groups: Vec::new(),
            subscriptions: Vec::new(),
            resource_groups: Vec::new(),
            storage_accounts: Vec::new(),
            user_assigned_identities: Vec::new(),
            role_definitions: Vec::new(),
            role_assignments: Vec::new(),
            role_eligibilities: Vec::new(),
            policies: Policies::default(),
            directory_audits: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantInfo {
    pub id: Guid,
    pub display_name: String,
    /// The initial and default verified domain, e.g. `contoso.com`.
    pub domain: String,
    pub license: License,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub country_letter_code: Option<String>,
    #[serde(default)]
    pub business_phones: Vec<String>,
}

impl TenantInfo {
    /// The tenant's initial domain: `contoso.com` → `contoso.onmicrosoft.com`.
    pub fn initial_domain(&self) -> String {
        format!("{}.onmicrosoft.com", self.domain.split('.').next().unwrap_or(&self.domain))
    }
}

/// An app registration that can get tokens: its credentials and what it was granted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRegistration {
    pub client_id: Guid,
    pub display_name: String,
    /// The client secret. Only the emulator knows it; it is never printed.
    #[serde(default)]
    pub secret: Option<String>,
    /// Accepted `client_assertion` values (workload identity federation tokens), compared verbatim.
    #[serde(default)]
    pub federated_assertions: Vec<String>,
    /// The object id of the app's service principal; Azure role assignments name it as principal.
    pub service_principal_id: Guid,
    /// Graph application permissions granted (the token's `roles` claim).
    #[serde(default)]
    pub graph_permissions: Vec<String>,
    /// Whether the emulator's managed identity endpoint (`GET /msi/token`) issues tokens as this app.
    #[serde(default)]
    pub managed_identity: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Guid,
    /// Mailbox purpose served by `mailboxSettings/userPurpose`; `null` means no mailbox (404).
    #[serde(default)]
    pub mailbox: Option<String>,
    /// Served only with `$select=signInActivity` on a P1/P2 tenant; `null` means never signed in.
    #[serde(default)]
    pub sign_in_activity: Option<Value>,
    /// The user's manager (another user), served by `$expand=manager` and `GET /users/{id}/manager`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Guid>,
    /// Every other property, with Graph's names (`displayName`, `userType`, `accountEnabled`, …).
    #[serde(flatten)]
    pub props: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: Guid,
    /// Direct members: users, groups, service principals.
    #[serde(default)]
    pub members: Vec<Guid>,
    #[serde(default)]
    pub owners: Vec<Guid>,
    #[serde(flatten)]
    pub props: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    pub id: Guid,
    pub app_id: Guid,
    #[serde(default)]
    pub owners: Vec<Guid>,
    #[serde(flatten)]
    pub props: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: Guid,
    pub app_id: Guid,
    #[serde(default)]
    pub owners: Vec<Guid>,
    #[serde(flatten)]
    pub props: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleAssignment {
    pub id: String,
    pub app_role_id: Guid,
    pub principal_id: Guid,
    pub resource_id: Guid,
    #[serde(default)]
    pub created_date_time: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2PermissionGrant {
    pub id: String,
    pub client_id: Guid,
    pub consent_type: String,
    #[serde(default)]
    pub principal_id: Option<Guid>,
    pub resource_id: Guid,
    pub scope: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRoleAssignment {
    pub id: String,
    pub principal_id: Guid,
    pub role_definition_id: Guid,
    #[serde(default = "root_scope")]
    pub directory_scope_id: String,
}

/// A PIM schedule for a directory role: an eligibility, or a time-bound (or activated) assignment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRoleSchedule {
    pub id: String,
    pub principal_id: Guid,
    pub role_definition_id: Guid,
    #[serde(default = "root_scope")]
    pub directory_scope_id: String,
    #[serde(default)]
    pub start_date_time: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default = "direct")]
    pub member_type: String,
    /// Activations only: `Assigned` (time-bound assignment) or `Activated` (an activated eligibility).
    #[serde(default)]
    pub assignment_type: Option<String>,
}

/// PIM for groups: eligible or time-bound membership (`accessId` `member`) or ownership (`owner`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSchedule {
    pub id: String,
    pub group_id: Guid,
    pub principal_id: Guid,
    pub access_id: String,
    #[serde(default)]
    pub start_date_time: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default = "direct")]
    pub member_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementGroup {
    /// The management group id (its last ARM segment). The tenant root group's name is the tenant id.
    pub name: String,
    pub display_name: String,
    /// Parent management group name; `null` only for the tenant root group.
    #[serde(default)]
    pub parent: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: Guid,
    pub display_name: String,
    #[serde(default = "enabled")]
    pub state: String,
    /// The management group it sits in (default: the tenant root group).
    #[serde(default)]
    pub management_group: Option<String>,
    /// Tenants that manage it through Azure Lighthouse.
    #[serde(default)]
    pub managed_by_tenants: Vec<Guid>,
    #[serde(default)]
    pub tags: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    pub subscription_id: Guid,
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub tags: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageAccount {
    pub subscription_id: Guid,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    /// `StorageV2`, `BlobStorage`, `FileStorage`, `BlockBlobStorage`, `Storage`.
    #[serde(default = "storage_v2")]
    pub kind: String,
    #[serde(default = "standard_lrs")]
    pub sku: String,
    #[serde(default)]
    pub allow_blob_public_access: bool,
    /// Object id of the system-assigned identity, if the account has one.
    #[serde(default)]
    pub system_assigned_principal_id: Option<Guid>,
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default)]
    pub tags: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    /// `None`, `Blob` or `Container`.
    #[serde(default = "none_word")]
    pub public_access: String,
    #[serde(default)]
    pub has_immutability_policy: bool,
    #[serde(default)]
    pub has_legal_hold: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAssignedIdentity {
    pub subscription_id: Guid,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    /// Object id of the identity's service principal.
    pub principal_id: Guid,
    pub client_id: Guid,
    #[serde(default)]
    pub tags: Map<String, Value>,
}

/// A custom Azure role (built-in roles come with the emulator).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureRoleDefinition {
    pub name: Guid,
    pub role_name: String,
    #[serde(default)]
    pub description: String,
    pub assignable_scopes: Vec<String>,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
    #[serde(default)]
    pub data_actions: Vec<String>,
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureRoleAssignment {
    pub name: Guid,
    pub scope: String,
    /// The role's GUID (built-in or custom).
    pub role_definition_id: Guid,
    pub principal_id: Guid,
    pub principal_type: String,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub created_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureRoleEligibility {
    pub name: Guid,
    pub scope: String,
    pub role_definition_id: Guid,
    pub principal_id: Guid,
    pub principal_type: String,
    #[serde(default)]
    pub start_date_time: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default = "direct")]
    pub member_type: String,
}

fn root_scope() -> String {
    "/".to_owned()
}
fn direct() -> String {
    "Direct".to_owned()
}
fn enabled() -> String {
    "Enabled".to_owned()
}
fn storage_v2() -> String {
    "StorageV2".to_owned()
}
fn standard_lrs() -> String {
    "Standard_LRS".to_owned()
}
fn none_word() -> String {
    "None".to_owned()
}

/// What kind of directory object an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    User,
    Group,
    ServicePrincipal,
    Application,
}

impl ObjectKind {
    /// The `principalType` Graph and ARM give an assignment's principal of this kind.
    pub fn principal_type(self) -> &'static str {
        match self {
            ObjectKind::User => "User",
            ObjectKind::Group => "Group",
            ObjectKind::ServicePrincipal | ObjectKind::Application => "ServicePrincipal",
        }
    }
}
