//! Azure: management groups, subscriptions with resource groups, storage accounts (some with a system-assigned
//! identity) and blob containers, user-assigned identities, and role assignments at every level.

use std::collections::HashSet;

use serde_json::{Map, json};

use super::builder::{Builder, NewSp, id};
use crate::builtin;
use crate::model::Guid;
use crate::tenant::{
    AzureRoleAssignment, AzureRoleDefinition, AzureRoleEligibility, Container, ManagementGroup, ResourceGroup,
    StorageAccount, Subscription, UserAssignedIdentity,
};

/// Owner, Reader and User Access Administrator.
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";

fn guid(text: &str) -> Guid {
    text.parse().unwrap_or_else(|_| Guid::nil())
}

impl Builder<'_> {
    pub(super) fn azure_hierarchy(&mut self) {
        let tid = self.tid.clone();
        self.t.management_groups =
            vec![ManagementGroup { name: tid.clone(), display_name: "Tenant Root Group".to_owned(), parent: None }];
        for (name, parent) in [
            ("mg-corp", tid.as_str()),
            ("mg-online", tid.as_str()),
            ("mg-corp-prod", "mg-corp"),
            ("mg-corp-dev", "mg-corp"),
        ] {
            self.t.management_groups.push(ManagementGroup {
                name: name.to_owned(),
                display_name: name.to_owned(),
                parent: Some(parent.to_owned()),
            });
        }
        for s in 0..self.sizes.subscriptions {
            self.subscription(s);
        }
        self.mi_ids = self
            .t
            .service_principals
            .iter()
            .filter(|s| s.props.get("servicePrincipalType") == Some(&json!("ManagedIdentity")))
            .map(|s| s.id.clone())
            .collect();
    }

    fn subscription(&mut self, s: usize) {
        let mgs = &self.t.management_groups;
        let sub_id = id(0x5000_0000, s);
        self.t.subscriptions.push(Subscription {
            subscription_id: sub_id.clone(),
            display_name: format!("Subscription {s}"),
            state: if s % 10 == 9 { "Disabled".to_owned() } else { "Enabled".to_owned() },
            management_group: Some(mgs[1 + s % (mgs.len() - 1)].name.clone()),
            managed_by_tenants: Vec::new(),
            tags: Map::new(),
        });
        self.scopes.push((format!("/subscriptions/{sub_id}"), 1));
        for r in 0..self.sizes.resource_groups_per_subscription {
            let rg = format!("rg-{s}-{r}");
            self.t.resource_groups.push(ResourceGroup {
                subscription_id: sub_id.clone(),
                name: rg.clone(),
                location: "westeurope".to_owned(),
                tags: Map::new(),
            });
            self.scopes.push((format!("/subscriptions/{sub_id}/resourceGroups/{rg}"), 2));
            for a in 0..self.sizes.storage_accounts_per_resource_group {
                self.storage_account(&sub_id, &rg, format!("st{s}x{r}x{a}"));
            }
        }
        for u in 0..2 {
            self.user_assigned_identity(&sub_id, s * 2 + u, format!("uami-{s}-{u}"), format!("rg-{s}-0"));
        }
    }

    fn storage_account(&mut self, sub_id: &Guid, rg: &str, name: String) {
        let rng = &mut self.rng;
        let file = rng.chance(0.1);
        let containers: Vec<Container> = if file {
            Vec::new()
        } else {
            (0..rng.below(7))
                .map(|c| Container {
                    name: format!("c{c}"),
                    public_access: if rng.chance(0.05) { "Blob".to_owned() } else { "None".to_owned() },
                    has_immutability_policy: rng.chance(0.05),
                    has_legal_hold: rng.chance(0.02),
                })
                .collect()
        };
        let account_scope =
            format!("/subscriptions/{sub_id}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}");
        let system_identity = if self.rng.chance(0.3) {
            let tid = self.tid.clone();
            Some(self.add_sp(NewSp {
                app_id: id(0x3100_0000, self.t.storage_accounts.len()),
                name: &name,
                owner_org: &tid,
                kind: "ManagedIdentity",
                roles: json!([]),
                alternative_names: json!(["isExplicit=False", account_scope]),
            }))
        } else {
            None
        };
        self.scopes.push((account_scope.clone(), 3));
        for c in &containers {
            self.scopes.push((format!("{account_scope}/blobServices/default/containers/{}", c.name), 4));
        }
        self.t.storage_accounts.push(StorageAccount {
            subscription_id: sub_id.clone(),
            resource_group: rg.to_owned(),
            name,
            location: "westeurope".to_owned(),
            kind: if file { "FileStorage".to_owned() } else { "StorageV2".to_owned() },
            sku: if file { "Premium_LRS".to_owned() } else { "Standard_LRS".to_owned() },
            allow_blob_public_access: self.rng.chance(0.1),
            system_assigned_principal_id: system_identity,
            containers,
            tags: Map::new(),
        });
    }

    fn user_assigned_identity(&mut self, sub_id: &Guid, n: usize, name: String, rg: String) {
        let scope = format!(
            "/subscriptions/{sub_id}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        );
        let client = id(0x3200_0000, n);
        let tid = self.tid.clone();
        let principal = self.add_sp(NewSp {
            app_id: client.clone(),
            name: &name,
            owner_org: &tid,
            kind: "ManagedIdentity",
            roles: json!([]),
            alternative_names: json!(["isExplicit=True", scope]),
        });
        self.t.user_assigned_identities.push(UserAssignedIdentity {
            subscription_id: sub_id.clone(),
            resource_group: rg,
            name,
            location: "westeurope".to_owned(),
            principal_id: principal,
            client_id: client,
            tags: Map::new(),
        });
    }

    /// The tool's apps at the root management group, then assignments at every scope to users, groups and managed
    /// identities; an eligible Owner per subscription; two custom roles, one never assigned.
    pub(super) fn azure_rbac(&mut self) {
        let root = format!("/providers/Microsoft.Management/managementGroups/{}", self.tid);
        self.t.role_assignments = vec![
            assignment(id(0x7000_0000, 0), &root, READER, self.reader_sp.clone(), "ServicePrincipal", "2026-01-01"),
            assignment(
                id(0x7000_0000, 1),
                &root,
                USER_ACCESS_ADMINISTRATOR,
                self.writer_sp.clone(),
                "ServicePrincipal",
                "2026-01-01",
            ),
        ];
        let azure_roles: Vec<&str> = builtin::AZURE_ROLES.iter().map(|r| r.0).collect();
        let mut seen = HashSet::new();
        for (scope, depth) in std::mem::take(&mut self.scopes) {
            let count = match depth {
                1 => 5 + self.rng.below(10),
                2 => 1 + self.rng.below(5),
                3 => self.rng.below(3),
                _ => self.rng.below(2),
            };
            for _ in 0..count {
                let roll = self.rng.unit();
                let (principal, principal_type) = if roll < 0.55 {
                    (self.pick_user(), "User")
                } else if roll < 0.85 {
                    (self.pick_group(), "Group")
                } else {
                    let mi = &self.mi_ids;
                    (mi[self.rng.below(mi.len().max(1)).min(mi.len().saturating_sub(1))].clone(), "ServicePrincipal")
                };
                let role = if depth == 1 && self.rng.chance(0.2) {
                    OWNER
                } else {
                    azure_roles[self.rng.below(azure_roles.len())]
                };
                if !seen.insert((scope.to_ascii_lowercase(), principal.clone(), role)) {
                    continue;
                }
                let name = id(0x7000_0000, self.t.role_assignments.len());
                self.t.role_assignments.push(assignment(name, &scope, role, principal, principal_type, "2025-01-01"));
            }
        }
        self.t.role_eligibilities = (0..self.t.subscriptions.len())
            .map(|k| AzureRoleEligibility {
                name: id(0x8000_0000, k),
                scope: format!("/subscriptions/{}", self.t.subscriptions[k].subscription_id),
                role_definition_id: guid(OWNER),
                principal_id: self.pick_user(),
                principal_type: "User".to_owned(),
                start_date_time: Some("2026-01-01T00:00:00Z".to_owned()),
                end_date_time: Some("2028-06-30T00:00:00Z".to_owned()),
                member_type: "Direct".to_owned(),
            })
            .collect();
        self.t.role_definitions = self.custom_roles();
    }

    fn custom_roles(&self) -> Vec<AzureRoleDefinition> {
        let first_sub = self
            .t
            .subscriptions
            .first()
            .map(|s| format!("/subscriptions/{}", s.subscription_id))
            .unwrap_or_else(|| "/".to_owned());
        let role = |n: usize, name: &str, description: &str, action: &str| AzureRoleDefinition {
            name: id(0x6000_0000, n),
            role_name: name.to_owned(),
            description: description.to_owned(),
            assignable_scopes: vec![first_sub.clone()],
            actions: vec![action.to_owned()],
            not_actions: vec![],
            data_actions: vec![],
            not_data_actions: vec![],
        };
        vec![
            role(0, "Storage Auditor", "Reads storage.", "Microsoft.Storage/storageAccounts/read"),
            role(1, "Unused Operator", "Never assigned.", "Microsoft.Compute/virtualMachines/start/action"),
        ]
    }
}

/// A role assignment without condition or description, created at midnight of `date`.
fn assignment(
    name: Guid,
    scope: &str,
    role: &str,
    principal: Guid,
    principal_type: &str,
    date: &str,
) -> AzureRoleAssignment {
    AzureRoleAssignment {
        name,
        scope: scope.to_owned(),
        role_definition_id: guid(role),
        principal_id: principal,
        principal_type: principal_type.to_owned(),
        condition: None,
        description: None,
        created_on: Some(format!("{date}T00:00:00Z")),
    }
}
