//! Azure Resource Manager: tenants, subscriptions, management groups, resource groups, storage, user-assigned
//! identities, role definitions, role assignments (with ARM's scope semantics) and PIM schedule instances.
//!
//! Every request needs `api-version`. Reads are authorised the way ARM does it: the caller (or a group it is in)
//! needs a role assignment at or above the scope whose actions allow the read.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::builtin;
use crate::http::{ApiRequest, ApiResponse, arm_error};
use crate::model::{ArmId, Guid};
use crate::odata::{decode_skiptoken, next_link};
use crate::state::{EmulatorOptions, World};
use crate::tenant::{AzureRoleAssignment, License, StorageAccount};

type Answer = Result<ApiResponse, ApiResponse>;

const AUTHZ: &str = "/providers/microsoft.authorization/";

/// Answers an ARM request.
pub fn handle(world: &World, opts: &EmulatorOptions, caller: &Caller, req: &ApiRequest) -> ApiResponse {
    match route(world, opts, caller, req) {
        Ok(r) | Err(r) => r,
    }
}

fn route(world: &World, opts: &EmulatorOptions, caller: &Caller, req: &ApiRequest) -> Answer {
    check_api_version(req)?;
    let path = req.path.trim_end_matches('/');
    let lower = path.to_ascii_lowercase();
    let ctx = Ctx { world, opts, caller, req };
    if let Some(at) = lower.rfind(AUTHZ) {
        let scope = if at == 0 { "/" } else { &path[..at] };
        let rest: Vec<&str> = path[at + AUTHZ.len()..].split('/').collect();
        return ctx.authorization(scope, &rest);
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let lsegs: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lsegs.iter().map(String::as_str).collect();
    if req.method != "GET" && !(req.method == "POST" && l == ["providers", "microsoft.management", "getentities"]) {
        return Err(arm_error(
            405,
            "MethodNotAllowed",
            &format!("The HTTP method '{}' is not supported here.", req.method),
        ));
    }
    match l.as_slice() {
        ["tenants"] => ctx.tenants(),
        ["subscriptions"] => ctx.subscriptions(),
        ["subscriptions", _] => ctx.subscription(segs[1]),
        ["subscriptions", _, "resourcegroups"] => ctx.resource_groups(segs[1]),
        ["subscriptions", _, "resourcegroups", _] => ctx.resource_group(segs[1], segs[3]),
        ["subscriptions", _, "providers", "microsoft.storage", "storageaccounts"] => ctx.storage_accounts(segs[1]),
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.storage",
            "storageaccounts",
            _,
            "blobservices",
            "default",
            "containers",
        ] => ctx.containers(segs[1], segs[3], segs[7]),
        ["subscriptions", _, "providers", "microsoft.managedidentity", "userassignedidentities"] => {
            ctx.identities(segs[1])
        }
        ["providers", "microsoft.management", "managementgroups"] => ctx.management_groups(),
        ["providers", "microsoft.management", "managementgroups", _] => ctx.management_group(segs[3]),
        ["providers", "microsoft.management", "managementgroups", _, "descendants"] => ctx.descendants(segs[3]),
        ["providers", "microsoft.management", "getentities"] => ctx.entities(),
        _ => Err(arm_error(
            400,
            "InvalidResourceType",
            &format!("The resource type could not be found for the path '{path}'."),
        )),
    }
}

fn check_api_version(req: &ApiRequest) -> Result<(), ApiResponse> {
    let Some(v) = req.param("api-version") else {
        return Err(arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let date = v.strip_suffix("-preview").unwrap_or(v);
    let ok = date.len() == 10
        && date.char_indices().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    if ok {
        Ok(())
    } else {
        Err(arm_error(
            400,
            "InvalidApiVersionParameter",
            &format!("The api-version '{v}' is invalid. The supported versions are dates, e.g. '2022-04-01'."),
        ))
    }
}

struct Ctx<'a> {
    world: &'a World,
    opts: &'a EmulatorOptions,
    caller: &'a Caller,
    req: &'a ApiRequest,
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl Ctx<'_> {
    fn tenant_id(&self) -> &str {
        self.world.tenant.tenant.id.as_str()
    }

    fn root_mg(&self) -> String {
        format!("/providers/microsoft.management/managementgroups/{}", self.tenant_id())
    }

    /// Scopes from `scope` up to `/`, `scope` first, all canonical (lower case).
    fn ancestors(&self, scope: &ArmId) -> Vec<ArmId> {
        let mut out = Vec::new();
        let mut cur = scope.as_str().to_owned();
        loop {
            out.push(ArmId::from_canonical(&cur));
            let segs: Vec<&str> = cur.trim_start_matches('/').split('/').collect();
            let next = match segs.as_slice() {
                [""] => break,
                ["subscriptions", sub] => {
                    let mg = self
                        .world
                        .tenant
                        .subscriptions
                        .iter()
                        .find(|s| s.subscription_id.as_str() == *sub)
                        .and_then(|s| s.management_group.clone());
                    match mg {
                        Some(mg) => {
                            format!("/providers/microsoft.management/managementgroups/{}", mg.to_ascii_lowercase())
                        }
                        None => self.root_mg(),
                    }
                }
                ["providers", "microsoft.management", "managementgroups", mg] => {
                    let parent = self
                        .world
                        .tenant
                        .management_groups
                        .iter()
                        .find(|m| m.name.eq_ignore_ascii_case(mg))
                        .and_then(|m| m.parent.clone());
                    match parent {
                        Some(p) => {
                            format!("/providers/microsoft.management/managementgroups/{}", p.to_ascii_lowercase())
                        }
                        None => "/".to_owned(),
                    }
                }
                [.., "providers", _ns] if segs.len() > 2 => segs[..segs.len() - 2].join("/"),
                _ if segs.len() >= 2 => {
                    let mut up = segs[..segs.len() - 2].to_vec();
                    if up.len() >= 2 && up[up.len() - 2] == "providers" {
                        up.truncate(up.len() - 2);
                    }
                    up.join("/")
                }
                _ => "/".to_owned(),
            };
            cur = if next.starts_with('/') { next } else { format!("/{next}") };
        }
        out
    }

    fn is_at_or_above(&self, candidate: &ArmId, scope: &ArmId) -> bool {
        self.ancestors(scope).contains(candidate)
    }

    /// The caller and every group it is in, transitively.
    fn caller_principals(&self) -> Vec<Guid> {
        let Ok(me) = self.caller.object_id.parse::<Guid>() else { return Vec::new() };
        let mut ids: Vec<Guid> = self.world.transitive_groups(&me).into_iter().collect();
        ids.push(me);
        ids
    }

    fn role_actions(&self, role: &Guid) -> (Vec<String>, Vec<String>) {
        if let Some(b) = builtin::AZURE_ROLES.iter().find(|r| r.0 == role.as_str()) {
            return (b.3.iter().map(|s| (*s).to_owned()).collect(), b.4.iter().map(|s| (*s).to_owned()).collect());
        }
        self.world
            .tenant
            .role_definitions
            .iter()
            .find(|d| &d.name == role)
            .map(|d| (d.actions.clone(), d.not_actions.clone()))
            .unwrap_or_default()
    }

    /// Whether the caller may perform `action` at `scope`.
    fn allowed(&self, action: &str, scope: &ArmId) -> bool {
        let me = self.caller_principals();
        let above = self.ancestors(scope);
        self.world.tenant.role_assignments.iter().any(|a| {
            me.contains(&a.principal_id) && a.scope.parse::<ArmId>().is_ok_and(|s| above.contains(&s)) && {
                let (actions, not_actions) = self.role_actions(&a.role_definition_id);
                actions.iter().any(|p| builtin::action_matches(p, action))
                    && !not_actions.iter().any(|p| builtin::action_matches(p, action))
            }
        })
    }

    fn authorize(&self, action: &str, scope: &ArmId, shown: &str) -> Result<(), ApiResponse> {
        if self.allowed(action, scope) {
            return Ok(());
        }
        let oid = &self.caller.object_id;
        Err(arm_error(
            403,
            "AuthorizationFailed",
            &format!(
                "The client '{oid}' with object id '{oid}' does not have authorization to perform action '{action}' \
                 over scope '{shown}' or the scope is invalid. If access was recently granted, please refresh your \
                 credentials."
            ),
        ))
    }

    /// One page of an ARM list: `value` and an absolute `nextLink` while more remain.
    fn list(&self, items: Vec<Value>) -> Answer {
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

    fn subscription_fact(&self, raw: &str) -> Result<&crate::tenant::Subscription, ApiResponse> {
        self.world
            .tenant
            .subscriptions
            .iter()
            .find(|s| s.subscription_id.as_str().eq_ignore_ascii_case(raw))
            .ok_or_else(|| {
                arm_error(404, "SubscriptionNotFound", &format!("The subscription '{raw}' could not be found."))
            })
    }

    fn visible_subscription(&self, raw: &str) -> Result<&crate::tenant::Subscription, ApiResponse> {
        let sub = self.subscription_fact(raw)?;
        let scope = ArmId::from_canonical(&format!("/subscriptions/{}", sub.subscription_id));
        if self.has_any_access_within(&scope) {
            return Ok(sub);
        }
        self.authorize("Microsoft.Resources/subscriptions/read", &scope, raw)?;
        Ok(sub)
    }

    /// Whether the caller holds any role at, above or below `scope` (what makes ARM list a subscription).
    fn has_any_access_within(&self, scope: &ArmId) -> bool {
        let me = self.caller_principals();
        let above = self.ancestors(scope);
        self.world.tenant.role_assignments.iter().any(|a| {
            me.contains(&a.principal_id)
                && a.scope.parse::<ArmId>().is_ok_and(|s| above.contains(&s) || s.is_within(scope))
        })
    }

    fn tenants(&self) -> Answer {
        let t = &self.world.tenant.tenant;
        let label = t.domain.split('.').next().unwrap_or(&t.domain);
        self.list(vec![json!({
            "id": format!("/tenants/{}", t.id),
            "tenantId": t.id.as_str(),
            "countryCode": t.country_letter_code,
            "displayName": t.display_name,
            "domains": [t.domain, format!("{label}.onmicrosoft.com")],
            "tenantCategory": "Home",
            "defaultDomain": t.domain,
            "tenantType": "AAD",
        })])
    }

    fn subscription_json(&self, s: &crate::tenant::Subscription) -> Value {
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

    fn subscriptions(&self) -> Answer {
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

    fn subscription(&self, raw: &str) -> Answer {
        let s = self.visible_subscription(raw)?;
        Ok(ApiResponse::ok(self.subscription_json(s)))
    }

    fn rg_json(&self, rg: &crate::tenant::ResourceGroup) -> Value {
        json!({
            "id": format!("/subscriptions/{}/resourceGroups/{}", rg.subscription_id, rg.name),
            "name": rg.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": rg.location,
            "tags": rg.tags,
            "properties": {"provisioningState": "Succeeded"},
        })
    }

    fn read_scope(&self, scope: &str, action: &str) -> Result<ArmId, ApiResponse> {
        let id: ArmId = scope
            .parse()
            .map_err(|_| arm_error(400, "InvalidResourceId", &format!("'{scope}' is not a valid resource id.")))?;
        self.authorize(action, &id, scope)?;
        Ok(id)
    }

    fn resource_groups(&self, sub: &str) -> Answer {
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

    fn find_rg(&self, sub: &str, rg: &str) -> Result<&crate::tenant::ResourceGroup, ApiResponse> {
        let s = self.subscription_fact(sub)?;
        self.world
            .tenant
            .resource_groups
            .iter()
            .find(|r| r.subscription_id == s.subscription_id && r.name.eq_ignore_ascii_case(rg))
            .ok_or_else(|| {
                arm_error(404, "ResourceGroupNotFound", &format!("Resource group '{rg}' could not be found."))
            })
    }

    fn resource_group(&self, sub: &str, rg: &str) -> Answer {
        let r = self.find_rg(sub, rg)?;
        self.read_scope(
            &format!("/subscriptions/{}/resourceGroups/{}", r.subscription_id, r.name),
            "Microsoft.Resources/subscriptions/resourceGroups/read",
        )?;
        Ok(ApiResponse::ok(self.rg_json(r)))
    }

    fn storage_json(&self, a: &StorageAccount) -> Value {
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
        let mut primary = obj(endpoints(""));
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
                    "keySource": "Microsoft.Storage"
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
        v["identity"] = match &a.system_assigned_principal_id {
            Some(p) => json!({"type": "SystemAssigned", "principalId": p.as_str(), "tenantId": self.tenant_id()}),
            None => json!({"type": "None"}),
        };
        v
    }

    fn storage_accounts(&self, sub: &str) -> Answer {
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

    fn containers(&self, sub: &str, rg: &str, account: &str) -> Answer {
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

    fn identities(&self, sub: &str) -> Answer {
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
            .map(|i| {
                json!({
                    "id": format!("/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}", i.subscription_id, i.resource_group, i.name),
                    "location": i.location,
                    "name": i.name,
                    "properties": {"clientId": i.client_id.as_str(), "principalId": i.principal_id.as_str(), "tenantId": self.tenant_id()},
                    "tags": i.tags,
                    "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                })
            })
            .collect();
        self.list(items)
    }

    fn mg_json(&self, m: &crate::tenant::ManagementGroup, with_parent: bool) -> Value {
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

    fn mg_scope(name: &str) -> ArmId {
        ArmId::from_canonical(&format!(
            "/providers/microsoft.management/managementgroups/{}",
            name.to_ascii_lowercase()
        ))
    }

    fn management_groups(&self) -> Answer {
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

    fn find_mg(&self, name: &str) -> Result<&crate::tenant::ManagementGroup, ApiResponse> {
        self.world.tenant.management_groups.iter().find(|m| m.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
            arm_error(404, "NotFound", &format!("'{name}' not found. Check the management group name and try again."))
        })
    }

    fn management_group(&self, name: &str) -> Answer {
        let m = self.find_mg(name)?;
        self.authorize("Microsoft.Management/managementGroups/read", &Self::mg_scope(&m.name), name)?;
        Ok(ApiResponse::ok(self.mg_json(m, true)))
    }

    fn descendants(&self, name: &str) -> Answer {
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

    fn entities(&self) -> Answer {
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

    /// `{scope}/providers/Microsoft.Authorization/{rest}`.
    fn authorization(&self, scope: &str, rest: &[&str]) -> Answer {
        let canonical: ArmId = scope
            .parse()
            .map_err(|_| arm_error(400, "InvalidResourceId", &format!("'{scope}' is not a valid scope.")))?;
        self.check_scope_exists(&canonical, scope)?;
        let lower: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
        match (self.req.method.as_str(), lower.iter().map(String::as_str).collect::<Vec<_>>().as_slice()) {
            ("GET", ["roledefinitions"]) => {
                self.authorize("Microsoft.Authorization/roleDefinitions/read", &canonical, scope)?;
                self.role_definitions(&canonical)
            }
            ("GET", ["roledefinitions", id]) => {
                self.authorize("Microsoft.Authorization/roleDefinitions/read", &canonical, scope)?;
                let defs = self.role_definition_items(&canonical);
                defs.into_iter()
                    .find(|d| d["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(id)))
                    .map(ApiResponse::ok)
                    .ok_or_else(|| {
                        arm_error(
                            404,
                            "RoleDefinitionDoesNotExist",
                            "The specified role definition with ID does not exist.",
                        )
                    })
            }
            ("GET", ["roleassignments"]) => {
                self.authorize("Microsoft.Authorization/roleAssignments/read", &canonical, scope)?;
                self.role_assignments(&canonical)
            }
            ("GET", [kind @ ("roleeligibilityscheduleinstances" | "roleassignmentscheduleinstances")]) => {
                self.authorize("Microsoft.Authorization/roleAssignments/read", &canonical, scope)?;
                if self.world.license != License::P2 {
                    return Err(arm_error(
                        400,
                        "AadPremiumLicenseRequired",
                        "The tenant needs an AAD Premium 2 license.",
                    ));
                }
                self.schedule_instances(&canonical, *kind == "roleeligibilityscheduleinstances")
            }
            _ => Err(arm_error(
                400,
                "InvalidResourceType",
                &format!(
                    "The resource type '{}' could not be found in the namespace 'Microsoft.Authorization'.",
                    rest.join("/")
                ),
            )),
        }
    }

    /// 404 for a subscription, resource group or management group that does not exist.
    fn check_scope_exists(&self, scope: &ArmId, shown: &str) -> Result<(), ApiResponse> {
        let segs: Vec<&str> = scope.as_str().trim_start_matches('/').split('/').collect();
        match segs.as_slice() {
            ["subscriptions", sub, ..] => {
                self.subscription_fact(sub)?;
                if let [_, _, "resourcegroups", rg, ..] = segs.as_slice() {
                    self.find_rg(sub, rg)?;
                }
                Ok(())
            }
            ["providers", "microsoft.management", "managementgroups", mg, ..] => self.find_mg(mg).map(|_| ()),
            [""] => Ok(()),
            _ => Err(arm_error(400, "InvalidResourceId", &format!("'{shown}' is not a valid scope."))),
        }
    }

    /// The role definition id as ARM shows it for an assignment or a list at `scope`.
    fn role_definition_ref(&self, scope: &ArmId, role: &Guid) -> String {
        match scope.as_str().strip_prefix("/subscriptions/").and_then(|r| r.split('/').next()) {
            Some(sub) => format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            None => format!("/providers/Microsoft.Authorization/roleDefinitions/{role}"),
        }
    }

    fn role_definition_items(&self, scope: &ArmId) -> Vec<Value> {
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

    fn role_definitions(&self, scope: &ArmId) -> Answer {
        let mut items = self.role_definition_items(scope);
        if let Some(f) = self.req.param("$filter") {
            let f = f.trim();
            if let Some(kind) = quoted_arg(f, "type eq ") {
                items.retain(|d| d["properties"]["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case(&kind)));
            } else if let Some(name) = quoted_arg(f, "roleName eq ") {
                items.retain(|d| d["properties"]["roleName"].as_str().is_some_and(|t| t.eq_ignore_ascii_case(&name)));
            } else if !f.eq_ignore_ascii_case("atScopeAndBelow()") {
                return Err(arm_error(400, "UnsupportedQuery", &format!("The filter '{f}' is not supported.")));
            }
        }
        self.list(items)
    }

    /// The one filter form a role-assignment or schedule list accepts.
    fn scope_filter(&self) -> Result<ScopeFilter, ApiResponse> {
        let Some(f) = self.req.param("$filter").map(str::trim) else { return Ok(ScopeFilter::None) };
        let bad = || {
            arm_error(
                400,
                "UnsupportedQuery",
                &format!(
                    "The filter '{f}' is not supported. Supported filters are atScope(), principalId eq '{{id}}' and assignedTo('{{id}}'), one at a time."
                ),
            )
        };
        if f.eq_ignore_ascii_case("atScope()") {
            return Ok(ScopeFilter::AtScope);
        }
        if f.eq_ignore_ascii_case("asTarget()") {
            return Ok(ScopeFilter::AsTarget);
        }
        if let Some(id) = quoted_arg(f, "principalId eq ") {
            return id.parse().map(ScopeFilter::Principal).map_err(|_| bad());
        }
        if let Some(rest) = f.strip_prefix("assignedTo(")
            && let Some(id) =
                rest.strip_suffix(')').and_then(|s| s.strip_prefix('\'')).and_then(|s| s.strip_suffix('\''))
        {
            return id.parse().map(ScopeFilter::AssignedTo).map_err(|_| bad());
        }
        Err(bad())
    }

    /// Whether an assignment at `at` for `principal` is listed for a request at `scope` with `filter`.
    fn listed(&self, filter: &ScopeFilter, scope: &ArmId, at: &ArmId, principal: &Guid) -> bool {
        let above = self.is_at_or_above(at, scope);
        let below = at.is_within(scope) || self.is_at_or_above(scope, at);
        match filter {
            ScopeFilter::None => above || below,
            ScopeFilter::AtScope => above,
            ScopeFilter::AsTarget => (above || below) && self.caller.object_id == principal.as_str(),
            ScopeFilter::Principal(p) => (above || below) && p == principal,
            ScopeFilter::AssignedTo(p) => {
                (above || below) && (p == principal || self.world.transitive_groups(p).contains(principal))
            }
        }
    }

    fn assignment_json(&self, a: &AzureRoleAssignment) -> Value {
        let scope: ArmId = a.scope.parse().unwrap_or_else(|_| ArmId::root());
        let prefix = if a.scope == "/" { String::new() } else { a.scope.trim_end_matches('/').to_owned() };
        json!({
            "properties": {
                "roleDefinitionId": self.role_definition_ref(&scope, &a.role_definition_id),
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

    fn role_assignments(&self, scope: &ArmId) -> Answer {
        let filter = self.scope_filter()?;
        if matches!(filter, ScopeFilter::AsTarget) {
            return Err(arm_error(
                400,
                "UnsupportedQuery",
                "The filter 'asTarget()' is not supported for role assignments.",
            ));
        }
        let items = self
            .world
            .tenant
            .role_assignments
            .iter()
            .filter(|a| a.scope.parse::<ArmId>().is_ok_and(|at| self.listed(&filter, scope, &at, &a.principal_id)))
            .map(|a| self.assignment_json(a))
            .collect();
        self.list(items)
    }

    fn expanded(&self, scope: &str, role: &Guid, principal: &Guid, principal_type: &str) -> Value {
        let role_name =
            builtin::AZURE_ROLES.iter().find(|r| r.0 == role.as_str()).map(|r| r.1.to_owned()).or_else(|| {
                self.world.tenant.role_definitions.iter().find(|d| &d.name == role).map(|d| d.role_name.clone())
            });
        let principal_name =
            crate::graph::object(self.world, principal).map(|o| o.get("displayName")).unwrap_or(Value::Null);
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

    fn schedule_instances(&self, scope: &ArmId, eligible: bool) -> Answer {
        let filter = self.scope_filter()?;
        let prefix = |s: &str| if s == "/" { String::new() } else { s.trim_end_matches('/').to_owned() };
        let mut items = Vec::new();
        if eligible {
            for e in &self.world.tenant.role_eligibilities {
                let Ok(at) = e.scope.parse::<ArmId>() else { continue };
                if !self.listed(&filter, scope, &at, &e.principal_id) {
                    continue;
                }
                items.push(json!({
                    "properties": {
                        "scope": e.scope,
                        "roleDefinitionId": self.role_definition_ref(&at, &e.role_definition_id),
                        "principalId": e.principal_id.as_str(),
                        "principalType": e.principal_type,
                        "status": "Provisioned",
                        "roleEligibilityScheduleId": format!("{}/providers/Microsoft.Authorization/roleEligibilitySchedules/{}", prefix(&e.scope), e.name),
                        "startDateTime": e.start_date_time,
                        "endDateTime": e.end_date_time,
                        "memberType": e.member_type,
                        "createdOn": e.start_date_time,
                        "condition": null,
                        "conditionVersion": null,
                        "expandedProperties": self.expanded(&e.scope, &e.role_definition_id, &e.principal_id, &e.principal_type),
                    },
                    "name": e.name.as_str(),
                    "id": format!("{}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/{}", prefix(&e.scope), e.name),
                    "type": "Microsoft.Authorization/roleEligibilityScheduleInstances",
                }));
            }
        } else {
            for a in &self.world.tenant.role_assignments {
                let Ok(at) = a.scope.parse::<ArmId>() else { continue };
                if !self.listed(&filter, scope, &at, &a.principal_id) {
                    continue;
                }
                let origin =
                    format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", prefix(&a.scope), a.name);
                items.push(json!({
                    "properties": {
                        "originRoleAssignmentId": origin,
                        "linkedRoleEligibilityScheduleId": null,
                        "linkedRoleEligibilityScheduleInstanceId": null,
                        "assignmentType": "Assigned",
                        "scope": a.scope,
                        "roleDefinitionId": self.role_definition_ref(&at, &a.role_definition_id),
                        "principalId": a.principal_id.as_str(),
                        "principalType": a.principal_type,
                        "status": "Accepted",
                        "roleAssignmentScheduleId": format!("{}/providers/Microsoft.Authorization/roleAssignmentSchedules/{}", prefix(&a.scope), a.name),
                        "startDateTime": a.created_on,
                        "endDateTime": null,
                        "memberType": "Direct",
                        "createdOn": a.created_on,
                        "condition": a.condition,
                        "conditionVersion": a.condition.as_ref().map(|_| "2.0"),
                        "expandedProperties": self.expanded(&a.scope, &a.role_definition_id, &a.principal_id, &a.principal_type),
                    },
                    "name": a.name.as_str(),
                    "id": format!("{}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances/{}", prefix(&a.scope), a.name),
                    "type": "Microsoft.Authorization/roleAssignmentScheduleInstances",
                }));
            }
        }
        self.list(items)
    }
}

enum ScopeFilter {
    None,
    AtScope,
    AsTarget,
    Principal(Guid),
    AssignedTo(Guid),
}

/// The quoted argument of `prefix'value'`, e.g. `type eq 'CustomRole'` → `CustomRole`.
fn quoted_arg(filter: &str, prefix: &str) -> Option<String> {
    let rest =
        filter.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &filter[prefix.len()..])?;
    rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')).map(str::to_owned)
}

/// What a role-assignment write will do, decided on a read-only view of the world.
enum WritePlan {
    Create(AzureRoleAssignment, u16),
    Delete(usize),
    Respond(ApiResponse),
}

/// Answers an ARM write (`PUT` or `DELETE` of a role assignment).
pub fn handle_write(world: &mut World, opts: &EmulatorOptions, caller: &Caller, req: &ApiRequest) -> ApiResponse {
    let plan = {
        let ctx = Ctx { world, opts, caller, req };
        check_api_version(req).and_then(|()| ctx.plan_write())
    };
    match plan {
        Ok(WritePlan::Create(a, status)) => {
            let body = Ctx { world, opts, caller, req }.assignment_json(&a);
            world.tenant.role_assignments.retain(|x| x.name != a.name);
            world.tenant.role_assignments.push(a);
            ApiResponse::json(status, body)
        }
        Ok(WritePlan::Delete(i)) => {
            let removed = world.tenant.role_assignments.remove(i);
            ApiResponse::ok(Ctx { world, opts, caller, req }.assignment_json(&removed))
        }
        Ok(WritePlan::Respond(r)) | Err(r) => r,
    }
}

impl Ctx<'_> {
    fn plan_write(&self) -> Result<WritePlan, ApiResponse> {
        let path = self.req.path.trim_end_matches('/');
        let lower = path.to_ascii_lowercase();
        let marker = "/providers/microsoft.authorization/roleassignments/";
        let Some(at) = lower.rfind(marker) else {
            return Err(arm_error(
                405,
                "MethodNotAllowed",
                &format!("The HTTP method '{}' is not supported for '{path}'.", self.req.method),
            ));
        };
        let scope = if at == 0 { "/" } else { &path[..at] };
        let name_raw = &path[at + marker.len()..];
        let name: Guid = name_raw.parse().map_err(|_| {
            arm_error(
                400,
                "InvalidRoleAssignmentId",
                &format!("The role assignment ID '{name_raw}' is not valid. The role assignment ID must be a GUID."),
            )
        })?;
        let canonical: ArmId = scope
            .parse()
            .map_err(|_| arm_error(400, "InvalidResourceId", &format!("'{scope}' is not a valid scope.")))?;
        self.check_scope_exists(&canonical, scope)?;
        let existing = self
            .world
            .tenant
            .role_assignments
            .iter()
            .position(|a| a.name == name && a.scope.parse::<ArmId>().is_ok_and(|s| s == canonical));
        match self.req.method.as_str() {
            "DELETE" => {
                self.authorize("Microsoft.Authorization/roleAssignments/delete", &canonical, scope)?;
                Ok(match existing {
                    Some(i) => WritePlan::Delete(i),
                    None => WritePlan::Respond(ApiResponse::empty(204)),
                })
            }
            "PUT" => {
                self.authorize("Microsoft.Authorization/roleAssignments/write", &canonical, scope)?;
                let body = self.req.json_body().ok_or_else(|| {
                    arm_error(
                        400,
                        "InvalidRequestContent",
                        "The request content was invalid and could not be deserialized.",
                    )
                })?;
                let props = &body["properties"];
                let role_ref = props["roleDefinitionId"].as_str().unwrap_or_default();
                let role: Guid = role_ref.rsplit('/').next().unwrap_or_default().parse().map_err(|_| {
                    arm_error(
                        400,
                        "InvalidRoleDefinitionId",
                        &format!("The role definition ID '{role_ref}' is not valid."),
                    )
                })?;
                let role_known =
                    self.role_definition_items(&canonical).iter().any(|d| d["name"].as_str() == Some(role.as_str()));
                if !role_known {
                    return Err(arm_error(
                        400,
                        "RoleDefinitionDoesNotExist",
                        &format!("The specified role definition with ID '{role}' does not exist."),
                    ));
                }
                let principal: Guid = props["principalId"].as_str().unwrap_or_default().parse().map_err(|_| {
                    arm_error(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
                })?;
                let Some((kind, _)) = self.world.objects.get(&principal) else {
                    return Err(arm_error(
                        400,
                        "PrincipalNotFound",
                        &format!(
                            "Principal {} does not exist in the directory {}. Check that you have the correct principal ID.",
                            principal.as_str().replace('-', ""),
                            self.tenant_id()
                        ),
                    ));
                };
                let actual_type = match kind {
                    crate::tenant::ObjectKind::User => "User",
                    crate::tenant::ObjectKind::Group => "Group",
                    _ => "ServicePrincipal",
                };
                if let Some(given) = props["principalType"].as_str()
                    && !given.eq_ignore_ascii_case(actual_type)
                {
                    return Err(arm_error(
                        400,
                        "PrincipalTypeNotSupported",
                        &format!(
                            "The principal type '{given}' does not match the principal's actual type '{actual_type}'."
                        ),
                    ));
                }
                if let Some(i) = existing {
                    let a = &self.world.tenant.role_assignments[i];
                    if a.principal_id != principal || a.role_definition_id != role {
                        return Err(arm_error(
                            400,
                            "RoleAssignmentUpdateNotPermitted",
                            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                        ));
                    }
                    return Ok(WritePlan::Respond(ApiResponse::ok(self.assignment_json(a))));
                }
                let duplicate = self.world.tenant.role_assignments.iter().any(|a| {
                    a.principal_id == principal
                        && a.role_definition_id == role
                        && a.scope.parse::<ArmId>().is_ok_and(|s| s == canonical)
                });
                if duplicate {
                    return Err(arm_error(409, "RoleAssignmentExists", "The role assignment already exists."));
                }
                Ok(WritePlan::Create(
                    AzureRoleAssignment {
                        name,
                        scope: scope.to_owned(),
                        role_definition_id: role,
                        principal_id: principal,
                        principal_type: actual_type.to_owned(),
                        condition: props["condition"].as_str().map(str::to_owned),
                        description: props["description"].as_str().map(str::to_owned),
                        created_on: Some(crate::clock::now().to_string()),
                    },
                    201,
                ))
            }
            other => {
                Err(arm_error(405, "MethodNotAllowed", &format!("The HTTP method '{other}' is not supported here.")))
            }
        }
    }
}
