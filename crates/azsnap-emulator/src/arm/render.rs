//! ARM's JSON: list pages with `nextLink`, and each resource type as ARM renders it.

use serde_json::{Map, Value, json};

use super::rbac::{Answer, Ctx};
use crate::builtin;
use crate::http::{ApiResponse, arm_error};
use crate::json::as_object;
use crate::model::{ArmId, Guid};
use crate::odata::{decode_skiptoken, next_link};
use crate::tenant::{AzureRoleAssignment, StorageAccount};

impl Ctx<'_> {
    /// One page of an ARM list: `value` and an absolute `nextLink` while more remain.
    pub(super) fn list(&self, items: Vec<Value>) -> Answer {
        let size = self.opts.arm_page_size.max(1);
        let size = match self.req.param("$top").map(str::parse::<usize>) {
            Some(Ok(n)) if n > 0 => n.min(size),
            Some(_) => return Err(arm_error(400, "InvalidQueryParameterValue", "The value of '$top' is invalid.")),
            None => size,
        };
        let offset = match self.req.param("$skiptoken") {
            None => 0,
            Some(t) => decode_skiptoken(t)
                .ok_or_else(|| arm_error(400, "InvalidSkipToken", "The provided skip token is invalid."))?,
        };
        let end = (offset + size).min(items.len());
        let page: Vec<Value> = items.get(offset..end).map(<[Value]>::to_vec).unwrap_or_default();
        let mut body = Map::new();
        body.insert("value".to_owned(), Value::Array(page));
        if end < items.len() {
            body.insert("nextLink".to_owned(), Value::String(next_link(self.req, end)));
        }
        Ok(ApiResponse::ok(Value::Object(body)))
    }

    pub(super) fn subscription_json(&self, s: &crate::tenant::Subscription) -> Value {
        json!({
            "id": format!("/subscriptions/{}", s.subscription_id),
            "subscriptionId": s.subscription_id.as_str(),
            "tenantId": self.tenant_id(),
            "displayName": s.display_name,
            "state": s.state,
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
            "authorizationSource": "RoleBased",
            "managedByTenants": s.managed_by_tenants.iter().map(|t| json!({"tenantId": t.as_str()})).collect::<Vec<_>>(),
            "tags": s.tags,
        })
    }

    pub(super) fn rg_json(&self, rg: &crate::tenant::ResourceGroup) -> Value {
        json!({
            "id": format!("/subscriptions/{}/resourceGroups/{}", rg.subscription_id, rg.name),
            "name": rg.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": rg.location,
            "tags": rg.tags,
            "properties": {"provisioningState": "Succeeded"},
        })
    }

    pub(super) fn storage_json(&self, a: &StorageAccount) -> Value {
        let id = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts/{}",
            a.subscription_id, a.resource_group, a.name
        );
        let endpoints = |suffix: &str| {
            json!({
                "web": format!("https://{}{suffix}.web.core.windows.net/", a.name),
                "dfs": format!("https://{}{suffix}.dfs.core.windows.net/", a.name),
                "blob": format!("https://{}{suffix}.blob.core.windows.net/", a.name),
                "file": format!("https://{}{suffix}.file.core.windows.net/", a.name),
                "queue": format!("https://{}{suffix}.queue.core.windows.net/", a.name),
                "table": format!("https://{}{suffix}.table.core.windows.net/", a.name),
            })
        };
        let mut primary = as_object(endpoints(""));
        primary.insert("microsoftEndpoints".to_owned(), endpoints("-microsoftrouting"));
        primary.insert("internetEndpoints".to_owned(), endpoints("-internetrouting"));
        let tier = if a.sku.starts_with("Premium") { "Premium" } else { "Standard" };
        let service = json!({"keyType": "Account", "enabled": true, "lastEnabledTime": "2024-01-01T00:00:00.0000000Z"});
        let mut v = json!({
            "id": id,
            "kind": a.kind,
            "location": a.location,
            "name": a.name,
            "type": "Microsoft.Storage/storageAccounts",
            "sku": {"name": a.sku, "tier": tier},
            "tags": a.tags,
            "properties": {
                "isHnsEnabled": false,
                "creationTime": "2024-01-01T00:00:00.0000000Z",
                "primaryEndpoints": primary,
                "primaryLocation": a.location,
                "provisioningState": "Succeeded",
                "routingPreference": {"routingChoice": "MicrosoftRouting", "publishMicrosoftEndpoints": true, "publishInternetEndpoints": true},
                "encryption": {
                    "services": {"file": service, "blob": service},
                    "keySource": "Microsoft.Storage",
                    "requireInfrastructureEncryption": false
                },
                "secondaryLocation": null,
                "statusOfPrimary": "available",
                "statusOfSecondary": null,
                "supportsHttpsTrafficOnly": true,
                "allowBlobPublicAccess": a.allow_blob_public_access,
                "allowSharedKeyAccess": null,
                "publicNetworkAccess": "Enabled",
                "minimumTlsVersion": "TLS1_2",
                "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": [], "resourceAccessRules": []},
                "accessTier": if a.kind == "FileStorage" { Value::Null } else { json!("Hot") },
            },
        });
        // The rest of the documented properties, at a new account's values (one `json!` would be too deep).
        let more = json!({
            "privateEndpointConnections": [],
            "keyCreationTime": {"key1": "2024-01-01T00:00:00.0000000Z", "key2": "2024-01-01T00:00:00.0000000Z"},
            "keyPolicy": null,
            "sasPolicy": null,
            "allowCrossTenantReplication": false,
            "defaultToOAuthAuthentication": false,
            "dnsEndpointType": "Standard",
            "isSftpEnabled": false,
            "isLocalUserEnabled": false,
            "isNfsV3Enabled": false,
            "allowedCopyScope": null,
            "largeFileSharesState": null,
            "azureFilesIdentityBasedAuthentication": null,
            "immutableStorageWithVersioning": null,
        });
        if let Some(props) = v["properties"].as_object_mut() {
            props.extend(as_object(more));
        }
        v["identity"] = match &a.system_assigned_principal_id {
            Some(p) => json!({"type": "SystemAssigned", "principalId": p.as_str(), "tenantId": self.tenant_id()}),
            None => json!({"type": "None"}),
        };
        v
    }

    pub(super) fn identity_json(&self, i: &crate::tenant::UserAssignedIdentity) -> Value {
        json!({
            "id": format!("/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}", i.subscription_id, i.resource_group, i.name),
            "location": i.location,
            "name": i.name,
            "properties": {"clientId": i.client_id.as_str(), "principalId": i.principal_id.as_str(), "tenantId": self.tenant_id()},
            "tags": i.tags,
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        })
    }

    pub(super) fn mg_json(&self, m: &crate::tenant::ManagementGroup, with_parent: bool) -> Value {
        let mut v = json!({
            "id": format!("/providers/Microsoft.Management/managementGroups/{}", m.name),
            "type": "Microsoft.Management/managementGroups",
            "name": m.name,
            "properties": {"tenantId": self.tenant_id(), "displayName": m.display_name},
        });
        if with_parent {
            v["properties"]["details"] = json!({
                "parent": m.parent.as_ref().map(|p| json!({"id": format!("/providers/Microsoft.Management/managementGroups/{p}"), "name": p})),
            });
        }
        v
    }

    /// The role definition id as ARM shows it for an assignment or a list at `scope`.
    pub(super) fn role_definition_ref(&self, scope: &ArmId, role: &Guid) -> String {
        match scope.as_str().strip_prefix("/subscriptions/").and_then(|r| r.split('/').next()) {
            Some(sub) => format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            None => format!("/providers/Microsoft.Authorization/roleDefinitions/{role}"),
        }
    }

    /// The role definition id of an assignment made at `at`, listed at `listed_at`: ARM qualifies it with the
    /// assignment's own subscription, or, for one made higher up (a management group, the root), with the
    /// subscription it is listed at.
    pub(super) fn listed_definition_ref(&self, at: &ArmId, listed_at: &ArmId, role: &Guid) -> String {
        let qualifier = if at.as_str().starts_with("/subscriptions/") { at } else { listed_at };
        self.role_definition_ref(qualifier, role)
    }

    pub(super) fn role_definition_items(&self, scope: &ArmId) -> Vec<Value> {
        let perms = |a: &[String], na: &[String], da: &[String], nda: &[String]| json!([{"actions": a, "notActions": na, "dataActions": da, "notDataActions": nda}]);
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut items: Vec<Value> = builtin::AZURE_ROLES
            .iter()
            .map(|(id, name, desc, actions, not_actions, data_actions)| {
                let guid: Guid = id.parse().unwrap_or_else(|_| Guid::nil());
                json!({
                    "properties": {
                        "roleName": name, "type": "BuiltInRole", "description": desc, "assignableScopes": ["/"],
                        "permissions": perms(&strings(actions), &strings(not_actions), &strings(data_actions), &[]),
                        "createdOn": "2015-02-02T21:55:09.8806423Z", "updatedOn": "2024-01-01T00:00:00.0000000Z",
                        "createdBy": null, "updatedBy": null,
                    },
                    "id": self.role_definition_ref(scope, &guid),
                    "type": "Microsoft.Authorization/roleDefinitions",
                    "name": id,
                })
            })
            .collect();
        for d in &self.world.tenant.role_definitions {
            let visible = d
                .assignable_scopes
                .iter()
                .filter_map(|s| s.parse::<ArmId>().ok())
                .any(|s| scope.is_within(&s) || self.is_at_or_above(&s, scope));
            if !visible {
                continue;
            }
            items.push(json!({
                "properties": {
                    "roleName": d.role_name, "type": "CustomRole", "description": d.description,
                    "assignableScopes": d.assignable_scopes,
                    "permissions": perms(&d.actions, &d.not_actions, &d.data_actions, &d.not_data_actions),
                    "createdOn": "2024-01-01T00:00:00.0000000Z", "updatedOn": "2024-01-01T00:00:00.0000000Z",
                    "createdBy": null, "updatedBy": null,
                },
                "id": self.role_definition_ref(scope, &d.name),
                "type": "Microsoft.Authorization/roleDefinitions",
                "name": d.name.as_str(),
            }));
        }
        items
    }

    /// A role assignment as ARM renders it in a list at `listed_at` (or, for a write, at its own scope).
    pub(super) fn assignment_json(&self, a: &AzureRoleAssignment, listed_at: Option<&ArmId>) -> Value {
        let scope: ArmId = a.scope.parse().unwrap_or_else(|_| ArmId::root());
        let prefix = if a.scope == "/" { String::new() } else { a.scope.trim_end_matches('/').to_owned() };
        json!({
            "properties": {
                "roleDefinitionId": self.listed_definition_ref(&scope, listed_at.unwrap_or(&scope), &a.role_definition_id),
                "principalId": a.principal_id.as_str(),
                "principalType": a.principal_type,
                "scope": a.scope,
                "condition": a.condition,
                "conditionVersion": a.condition.as_ref().map(|_| "2.0"),
                "createdOn": a.created_on,
                "updatedOn": a.created_on,
                "createdBy": null,
                "updatedBy": null,
                "delegatedManagedIdentityResourceId": null,
                "description": a.description,
            },
            "id": format!("{prefix}/providers/Microsoft.Authorization/roleAssignments/{}", a.name),
            "type": "Microsoft.Authorization/roleAssignments",
            "name": a.name.as_str(),
        })
    }

    pub(super) fn expanded(&self, scope: &str, role: &Guid, principal: &Guid, principal_type: &str) -> Value {
        let role_name =
            builtin::AZURE_ROLES.iter().find(|r| r.0 == role.as_str()).map(|r| r.1.to_owned()).or_else(|| {
                self.world.tenant.role_definitions.iter().find(|d| &d.name == role).map(|d| d.role_name.clone())
            });
        let principal_name = self.world.object(principal).map(|o| o.get("displayName")).unwrap_or(Value::Null);
        let scope_type = if scope.contains("/resourceGroups/") || scope.contains("/resourcegroups/") {
            "resourcegroup"
        } else if scope.starts_with("/subscriptions/") {
            "subscription"
        } else {
            "managementgroup"
        };
        let canonical: ArmId = scope.parse().unwrap_or_else(|_| ArmId::root());
        json!({
            "scope": {"id": scope, "displayName": scope.rsplit('/').next(), "type": scope_type},
            "roleDefinition": {"id": self.role_definition_ref(&canonical, role), "displayName": role_name, "type": "BuiltInRole"},
            "principal": {"id": principal.as_str(), "displayName": principal_name, "email": null, "type": principal_type},
        })
    }
}
