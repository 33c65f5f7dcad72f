//! The built-in roles the emulator serves at every scope: a working subset of Entra directory roles and Azure
//! RBAC roles, with their real ids, so snapshots of the emulator name roles the way real tenants do.

/// A built-in Entra directory role: (template id, display name, description).
pub const DIRECTORY_ROLES: &[(&str, &str, &str)] = &[
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
    ),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
        "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
    ),
    (
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        "Privileged Authentication Administrator",
        "Can access to view, set and reset authentication method information for any user (admin or non-admin).",
    ),
    (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Security Administrator",
        "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
    ),
    (
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "User Administrator",
        "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
    ),
    (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Application Administrator",
        "Can create and manage all aspects of app registrations and enterprise apps.",
    ),
    (
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Cloud Application Administrator",
        "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
    ),
    (
        "fdd7a751-b60b-444a-984c-02652fe8fa1c",
        "Groups Administrator",
        "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.",
    ),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
        "Can reset passwords for non-administrators and Helpdesk Administrators.",
    ),
    (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
        "Can manage all aspects of the Exchange product.",
    ),
    (
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Global Reader",
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
    (
        "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
        "Directory Readers",
        "Can read basic directory information. Commonly used to grant directory read access to applications and guests.",
    ),
];

/// A built-in Azure role: (GUID, role name, description, actions, not actions, data actions).
pub type AzureBuiltin = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const AUTH_WRITES: &[&str] = &[
    "Microsoft.Authorization/*/Delete",
    "Microsoft.Authorization/*/Write",
    "Microsoft.Authorization/elevateAccess/Action",
];

pub const AZURE_ROLES: &[AzureBuiltin] = &[
    (
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "Owner",
        "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        &["*"],
        &[],
        &[],
    ),
    (
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Contributor",
        "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
        &["*"],
        AUTH_WRITES,
        &[],
    ),
    (
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "Reader",
        "View all resources, but does not allow you to make any changes.",
        &["*/read"],
        &[],
        &[],
    ),
    (
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "User Access Administrator",
        "Lets you manage user access to Azure resources.",
        &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        &[],
        &[],
    ),
    (
        "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        "Role Based Access Control Administrator",
        "Manage access to Azure resources by assigning roles using Azure RBAC.",
        &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ],
        &[],
        &[],
    ),
    (
        "17d1049b-9a84-46fb-8f53-869881c3d3ab",
        "Storage Account Contributor",
        "Permits management of storage accounts.",
        &["Microsoft.Storage/storageAccounts/*", "Microsoft.Resources/subscriptions/resourceGroups/read"],
        &[],
        &[],
    ),
    (
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "Storage Blob Data Owner",
        "Provides full access to Azure Storage blob containers and data, including assigning POSIX access control.",
        &["Microsoft.Storage/storageAccounts/blobServices/containers/*"],
        &[],
        &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"],
    ),
    (
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "Storage Blob Data Contributor",
        "Read, write, and delete Azure Storage containers and blobs.",
        &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/write",
        ],
        &[],
        &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
        ],
    ),
    (
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        "Storage Blob Data Reader",
        "Read and list Azure Storage containers and blobs.",
        &["Microsoft.Storage/storageAccounts/blobServices/containers/read"],
        &[],
        &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
    ),
    (
        "f1a07417-d97a-45cb-824c-7a7467783830",
        "Managed Identity Operator",
        "Read and Assign User Assigned Identity",
        &[
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
        ],
        &[],
        &[],
    ),
];

/// Whether `pattern` (an Azure RBAC action with `*` wildcards, case-insensitive) matches `action`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == a;
    }
    let mut rest = a.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Azure's public regions the emulator lists at `/subscriptions/{id}/locations`: name, display name, geography
/// group, geography, latitude, longitude, paired region.
pub const REGIONS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    ("eastus", "East US", "US", "United States", "37.3719", "-79.8164", "westus"),
    ("eastus2", "East US 2", "US", "United States", "36.6681", "-78.3889", "centralus"),
    ("westus", "West US", "US", "United States", "37.783", "-122.417", "eastus"),
    ("westus2", "West US 2", "US", "United States", "47.233", "-119.852", "westcentralus"),
    ("centralus", "Central US", "US", "United States", "41.5908", "-93.6208", "eastus2"),
    ("westcentralus", "West Central US", "US", "United States", "40.89", "-110.234", "westus2"),
    ("northeurope", "North Europe", "Europe", "Europe", "53.3478", "-6.2597", "westeurope"),
    ("westeurope", "West Europe", "Europe", "Europe", "52.3667", "4.9", "northeurope"),
    ("uksouth", "UK South", "Europe", "United Kingdom", "50.941", "-0.799", "ukwest"),
    ("ukwest", "UK West", "Europe", "United Kingdom", "53.427", "-3.084", "uksouth"),
    ("southeastasia", "Southeast Asia", "Asia Pacific", "Asia Pacific", "1.283", "103.833", "eastasia"),
    ("eastasia", "East Asia", "Asia Pacific", "Asia Pacific", "22.267", "114.188", "southeastasia"),
    ("australiaeast", "Australia East", "Asia Pacific", "Australia", "-33.86", "151.2094", "australiasoutheast"),
    ("australiasoutheast", "Australia Southeast", "Asia Pacific", "Australia", "-37.8136", "144.9631", "australiaeast"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_actions() {
        assert!(action_matches("*", "Microsoft.Authorization/roleAssignments/write"));
        assert!(action_matches("*/read", "Microsoft.Storage/storageAccounts/read"));
        assert!(!action_matches("*/read", "Microsoft.Storage/storageAccounts/write"));
        assert!(action_matches("Microsoft.Authorization/*/Write", "microsoft.authorization/roleassignments/write"));
        assert!(!action_matches("Microsoft.Authorization/*", "Microsoft.Storage/x/read"));
    }

    #[test]
    fn ids_are_unique_guids() {
        let mut ids: Vec<&str> = DIRECTORY_ROLES.iter().map(|r| r.0).chain(AZURE_ROLES.iter().map(|r| r.0)).collect();
        assert!(ids.iter().all(|id| crate::model::Guid::is_guid(id)));
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
