//! ARM reads of the resource hierarchy: tenants, subscriptions, resource groups, storage accounts and their blob
//! containers, user-assigned identities, management groups, their descendants and `getEntities`.

use serde_json::json;

use super::rbac::{Answer, Ctx};
use crate::http::{ApiResponse, arm_error};
use crate::model::ArmId;

impl Ctx<'_> {
    pub(super) fn tenants(&self) -> Answer {
        let t = &self.world.tenant.tenant;
        self.list(vec![json!({
            "id": format!("/tenants/{}", t.id),
            "tenantId": t.id.as_str(),
            "countryCode": t.country_letter_code,
            "displayName": t.display_name,
            "domains": [t.domain, t.initial_domain()],
            "tenantCategory": "Home",
            "defaultDomain": t.domain,
            "tenantType": "AAD",
        })])
    }

    pub(super) fn subscriptions(&self) -> Answer {
        let items = self
            .world
            .tenant
            .subscriptions
            .iter()
            .filter(|s| {
                self.has_any_access_within(&ArmId::from_canonical(&format!("/subscriptions/{}", s.subscription_id)))
            })
            .map(|s| self.subscription_json(s))
            .collect();
        self.list(items)
    }

    pub(super) fn subscription(&self, raw: &str) -> Answer {
        let s = self.visible_subscription(raw)?;
        Ok(ApiResponse::ok(self.subscription_json(s)))
    }

    /// `GET /subscriptions/{id}/locations`: the regions available to the subscription, to anyone who can see it.
    pub(super) fn locations(&self, raw: &str) -> Answer {
        let s = self.visible_subscription(raw)?;
        let items: Vec<serde_json::Value> = crate::builtin::REGIONS
            .iter()
            .map(|(name, display, group, geography, lat, long, paired)| {
                json!({
                    "id": format!("/subscriptions/{}/locations/{name}", s.subscription_id),
                    "name": name,
                    "type": "Region",
                    "displayName": display,
                    "regionalDisplayName": format!("({geography}) {display}"),
                    "metadata": {
                        "regionType": "Physical",
                        "regionCategory": "Recommended",
                        "geography": geography,
                        "geographyGroup": group,
                        "longitude": long,
                        "latitude": lat,
                        "physicalLocation": display,
                        "pairedRegion": [{
                            "name": paired,
                            "id": format!("/subscriptions/{}/locations/{paired}", s.subscription_id),
                        }],
                    },
                })
            })
            .collect();
        // Locations come in one page; ARM does not page them.
        Ok(ApiResponse::ok(json!({"value": items})))
    }

    pub(super) fn resource_groups(&self, sub: &str) -> Answer {
        let s = self.subscription_fact(sub)?;
        self.read_scope(
            &format!("/subscriptions/{}", s.subscription_id),
            "Microsoft.Resources/subscriptions/resourceGroups/read",
        )?;
        let items = self
            .world
            .tenant
            .resource_groups
            .iter()
            .filter(|rg| rg.subscription_id == s.subscription_id)
            .map(|rg| self.rg_json(rg))
            .collect();
        self.list(items)
    }

    pub(super) fn resource_group(&self, sub: &str, rg: &str) -> Answer {
        let r = self.find_rg(sub, rg)?;
        self.read_scope(
            &format!("/subscriptions/{}/resourceGroups/{}", r.subscription_id, r.name),
            "Microsoft.Resources/subscriptions/resourceGroups/read",
        )?;
        Ok(ApiResponse::ok(self.rg_json(r)))
    }

    pub(super) fn storage_accounts(&self, sub: &str) -> Answer {
        let s = self.subscription_fact(sub)?;
        let sub_scope = format!("/subscriptions/{}", s.subscription_id);
        let items = self
            .world
            .tenant
            .storage_accounts
            .iter()
            .filter(|a| a.subscription_id == s.subscription_id)
            .filter(|a| {
                let scope = ArmId::from_canonical(&format!(
                    "{sub_scope}/resourcegroups/{}/providers/microsoft.storage/storageaccounts/{}",
                    a.resource_group.to_ascii_lowercase(),
                    a.name.to_ascii_lowercase()
                ));
                self.allowed("Microsoft.Storage/storageAccounts/read", &scope)
            })
            .map(|a| self.storage_json(a))
            .collect();
        self.list(items)
    }

    pub(super) fn containers(&self, sub: &str, rg: &str, account: &str) -> Answer {
        let r = self.find_rg(sub, rg)?;
        let a = self
            .world
            .tenant
            .storage_accounts
            .iter()
            .find(|a| a.subscription_id == r.subscription_id && a.resource_group.eq_ignore_ascii_case(rg) && a.name.eq_ignore_ascii_case(account))
            .ok_or_else(|| {
                arm_error(
                    404,
                    "ResourceNotFound",
                    &format!("The Resource 'Microsoft.Storage/storageAccounts/{account}' under resource group '{rg}' was not found."),
                )
            })?;
        let account_id = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts/{}",
            a.subscription_id, a.resource_group, a.name
        );
        self.read_scope(&account_id, "Microsoft.Storage/storageAccounts/blobServices/containers/read")?;
        if a.kind == "FileStorage" {
            return Err(arm_error(400, "FeatureNotSupportedForAccount", "Blob is not supported for the account."));
        }
        let items = a
            .containers
            .iter()
            .map(|c| {
                json!({
                    "id": format!("{account_id}/blobServices/default/containers/{}", c.name),
                    "name": c.name,
                    "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
                    "etag": "\"0x8DC0000000000000\"",
                    "properties": {
                        "publicAccess": c.public_access,
                        "leaseStatus": "Unlocked",
                        "leaseState": "Available",
                        "lastModifiedTime": "2024-01-01T00:00:00Z",
                        "hasImmutabilityPolicy": c.has_immutability_policy,
                        "hasLegalHold": c.has_legal_hold,
                    },
                })
            })
            .collect();
        self.list(items)
    }

    pub(super) fn identities(&self, sub: &str) -> Answer {
        let s = self.subscription_fact(sub)?;
        self.read_scope(
            &format!("/subscriptions/{}", s.subscription_id),
            "Microsoft.ManagedIdentity/userAssignedIdentities/read",
        )?;
        let items = self
            .world
            .tenant
            .user_assigned_identities
            .iter()
            .filter(|i| i.subscription_id == s.subscription_id)
            .map(|i| self.identity_json(i))
            .collect();
        self.list(items)
    }

    pub(super) fn management_groups(&self) -> Answer {
        let items = self
            .world
            .tenant
            .management_groups
            .iter()
            .filter(|m| self.allowed("Microsoft.Management/managementGroups/read", &Self::mg_scope(&m.name)))
            .map(|m| self.mg_json(m, false))
            .collect();
        self.list(items)
    }

    pub(super) fn management_group(&self, name: &str) -> Answer {
        let m = self.find_mg(name)?;
        self.authorize("Microsoft.Management/managementGroups/read", &Self::mg_scope(&m.name), name)?;
        Ok(ApiResponse::ok(self.mg_json(m, true)))
    }

    pub(super) fn descendants(&self, name: &str) -> Answer {
        let root = self.find_mg(name)?;
        self.authorize("Microsoft.Management/managementGroups/descendants/read", &Self::mg_scope(&root.name), name)?;
        let root_scope = Self::mg_scope(&root.name);
        let t = &self.world.tenant;
        let mut items = Vec::new();
        for m in &t.management_groups {
            let scope = Self::mg_scope(&m.name);
            if scope != root_scope && self.is_at_or_above(&root_scope, &scope) {
                items.push(json!({
                    "id": format!("/providers/Microsoft.Management/managementGroups/{}", m.name),
                    "type": "Microsoft.Management/managementGroups",
                    "name": m.name,
                    "properties": {"displayName": m.display_name, "parent": {"id": format!("/providers/Microsoft.Management/managementGroups/{}", m.parent.clone().unwrap_or_default())}},
                }));
            }
        }
        for s in &t.subscriptions {
            let scope = ArmId::from_canonical(&format!("/subscriptions/{}", s.subscription_id));
            if self.is_at_or_above(&root_scope, &scope) {
                let parent = s.management_group.clone().unwrap_or_else(|| self.tenant_id().to_owned());
                items.push(json!({
                    "id": format!("/subscriptions/{}", s.subscription_id),
                    "type": "/subscriptions",
                    "name": s.subscription_id.as_str(),
                    "properties": {"displayName": s.display_name, "parent": {"id": format!("/providers/Microsoft.Management/managementGroups/{parent}")}},
                }));
            }
        }
        self.list(items)
    }

    pub(super) fn entities(&self) -> Answer {
        let t = &self.world.tenant;
        let mut items = Vec::new();
        for m in &t.management_groups {
            if !self.allowed("Microsoft.Management/managementGroups/read", &Self::mg_scope(&m.name)) {
                continue;
            }
            items.push(json!({
                "id": format!("/providers/Microsoft.Management/managementGroups/{}", m.name),
                "type": "Microsoft.Management/managementGroups",
                "name": m.name,
                "properties": {
                    "tenantId": self.tenant_id(),
                    "displayName": m.display_name,
                    "parent": m.parent.as_ref().map(|p| json!({"id": format!("/providers/Microsoft.Management/managementGroups/{p}")})),
                    "permissions": "view",
                },
            }));
        }
        for s in &t.subscriptions {
            if !self.has_any_access_within(&ArmId::from_canonical(&format!("/subscriptions/{}", s.subscription_id))) {
                continue;
            }
            let parent = s.management_group.clone().unwrap_or_else(|| self.tenant_id().to_owned());
            items.push(json!({
                "id": format!("/subscriptions/{}", s.subscription_id),
                "type": "/subscriptions",
                "name": s.subscription_id.as_str(),
                "properties": {
                    "tenantId": self.tenant_id(),
                    "displayName": s.display_name,
                    "parent": {"id": format!("/providers/Microsoft.Management/managementGroups/{parent}")},
                    "permissions": "view",
                },
            }));
        }
        self.list(items)
    }
}
