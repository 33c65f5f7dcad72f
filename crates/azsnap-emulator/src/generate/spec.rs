//! What a generated tenant is made of: how much of everything, and the two app registrations every one has.

/// How much of everything to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    pub users: usize,
    pub groups: usize,
    pub apps: usize,
    pub subscriptions: usize,
    pub resource_groups_per_subscription: usize,
    pub storage_accounts_per_resource_group: usize,
}

impl Sizes {
    /// A size preset: `s` (1k users), `m` (20k), `l` (200k), `xl` (1M).
    pub fn preset(name: &str) -> Option<Self> {
        let (users, groups, apps, subscriptions) = match name {
            "s" => (1_000, 150, 40, 3),
            "m" => (20_000, 2_000, 300, 10),
            "l" => (200_000, 15_000, 1_500, 40),
            "xl" => (1_000_000, 60_000, 5_000, 100),
            _ => return None,
        };
        Some(Sizes {
            users,
            groups,
            apps,
            subscriptions,
            resource_groups_per_subscription: 8,
            storage_accounts_per_resource_group: 2,
        })
    }
}

/// The reader and writer app registrations every generated tenant has (as contoso does).
pub const READER_CLIENT: &str = "a1b2c3d4-0000-4000-8000-000000000001";
pub const WRITER_CLIENT: &str = "a1b2c3d4-0000-4000-8000-000000000002";
pub const READ_PERMISSIONS: &[&str] = &[
    "Organization.Read.All",
    "User.Read.All",
    "AuditLog.Read.All",
    "GroupMember.Read.All",
    "Application.Read.All",
    "DelegatedPermissionGrant.Read.All",
    "RoleManagement.Read.Directory",
    "RoleEligibilitySchedule.Read.Directory",
    "RoleAssignmentSchedule.Read.Directory",
    "PrivilegedEligibilitySchedule.Read.AzureADGroup",
    "PrivilegedAssignmentSchedule.Read.AzureADGroup",
    "MailboxSettings.Read",
];
pub const WRITE_PERMISSIONS: &[&str] =
    &["GroupMember.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "RoleManagement.ReadWrite.Directory"];
