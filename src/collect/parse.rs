//! Payload to row: Graph and ARM JSON items turned into snapshot rows. Unknown enum values are kept as text;
//! malformed ids make an item be skipped, never a crash.

use serde_json::{Value, json};

use crate::model::{
    ArmId, Grant, GrantState, Guid, Origin, Principal, PrincipalKind, Relation, Resource, ResourceKind, RoleDefinition,
    RoleKind, Timestamp,
};

/// Tenants that own Microsoft's first-party applications.
pub(super) const MICROSOFT_TENANTS: &[&str] =
    &["f8cdef31-a31e-4b4a-93e4-5f571e91255a", "72f988bf-86f1-41af-91ab-2d7cd011db47"];

pub(super) fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub(super) fn boolean(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

pub(super) fn guid(v: &Value, key: &str) -> Option<Guid> {
    v.get(key).and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// A time, with Graph's "never" (`0001-01-01…`) as `None`.
pub(super) fn time(v: &Value, key: &str) -> Option<Timestamp> {
    let s = v.get(key)?.as_str()?;
    if s.starts_with("0001-01-01") {
        return None;
    }
    s.parse().ok()
}

/// A JSON value serialised with sorted keys (serde_json's map is ordered by key), or `None` for null/absent.
pub(super) fn canonical(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.to_string()),
    }
}

pub(super) const USER_SELECT: &str = "id,displayName,userPrincipalName,mail,userType,accountEnabled,onPremisesSyncEnabled,createdDateTime,creationType,externalUserState";

pub(super) fn user(v: &Value) -> Option<Principal> {
    let mut p = Principal::new(guid(v, "id")?, PrincipalKind::User, Origin::Collected);
    p.display_name = text(v, "displayName");
    p.user_principal_name = text(v, "userPrincipalName");
    p.mail = text(v, "mail");
    p.user_type = text(v, "userType");
    p.account_enabled = boolean(v, "accountEnabled");
    p.on_premises_sync = boolean(v, "onPremisesSyncEnabled");
    p.created_at = time(v, "createdDateTime");
    let extra = json!({"creationType": v.get("creationType"), "externalUserState": v.get("externalUserState")});
    p.attrs = (extra["creationType"].is_string() || extra["externalUserState"].is_string()).then(|| extra.to_string());
    Some(p)
}

pub(super) const GROUP_SELECT: &str = "id,displayName,description,mail,mailEnabled,securityEnabled,groupTypes,membershipRule,isAssignableToRole,onPremisesSyncEnabled,createdDateTime";

pub(super) fn group(v: &Value) -> Option<Principal> {
    let mut p = Principal::new(guid(v, "id")?, PrincipalKind::Group, Origin::Collected);
    p.display_name = text(v, "displayName");
    p.mail = text(v, "mail");
    p.mail_enabled = boolean(v, "mailEnabled");
    p.security_enabled = boolean(v, "securityEnabled");
    p.group_types = Some(v.get("groupTypes").filter(|t| t.is_array()).cloned().unwrap_or(json!([])).to_string());
    p.membership_rule = text(v, "membershipRule");
    p.is_assignable_to_role = boolean(v, "isAssignableToRole");
    p.on_premises_sync = boolean(v, "onPremisesSyncEnabled");
    p.created_at = time(v, "createdDateTime");
    Some(p)
}

pub(super) const SP_SELECT: &str = "id,appId,displayName,appDisplayName,servicePrincipalType,appOwnerOrganizationId,accountEnabled,appRoles,alternativeNames,appRoleAssignmentRequired,tags";

/// A service principal (or managed identity) and the app roles it defines.
pub(super) fn service_principal(v: &Value) -> Option<(Principal, Vec<RoleDefinition>)> {
    let id = guid(v, "id")?;
    let typ = text(v, "servicePrincipalType");
    let managed = typ.as_deref() == Some("ManagedIdentity");
    let mut p = Principal::new(
        id.clone(),
        if managed { PrincipalKind::ManagedIdentity } else { PrincipalKind::ServicePrincipal },
        Origin::Collected,
    );
    p.display_name = text(v, "displayName");
    p.app_id = guid(v, "appId");
    p.service_principal_type = typ;
    p.app_owner_tenant_id = guid(v, "appOwnerOrganizationId");
    p.account_enabled = boolean(v, "accountEnabled");
    if managed {
        let names: Vec<&str> = v
            .get("alternativeNames")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        p.managed_identity_type = Some(
            if names.iter().any(|n| n.eq_ignore_ascii_case("isExplicit=True")) { "user" } else { "system" }.to_owned(),
        );
        p.managed_identity_resource_id =
            names.iter().find(|n| n.starts_with('/')).and_then(|n| n.parse::<ArmId>().ok()).map(|a| a.to_string());
    }
    let first_party = p.app_owner_tenant_id.as_ref().is_some_and(|t| MICROSOFT_TENANTS.contains(&t.as_str()));
    let extra = json!({"appDisplayName": v.get("appDisplayName"), "appRoleAssignmentRequired": v.get("appRoleAssignmentRequired"), "tags": v.get("tags"), "firstParty": first_party});
    p.attrs = Some(extra.to_string());
    let roles = v
        .get("appRoles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let mut d = RoleDefinition::new(RoleKind::App, id.to_string(), guid(r, "id")?);
            d.name = text(r, "value").or_else(|| text(r, "displayName"));
            d.description = text(r, "description").or_else(|| text(r, "displayName"));
            d.enabled = boolean(r, "isEnabled");
            d.builtin = Some(false);
            d.assignable_scopes = canonical(r.get("allowedMemberTypes"));
            Some(d)
        })
        .collect();
    Some((p, roles))
}

/// The principal kind a directory object's `@odata.type` names.
pub(super) fn kind_of(v: &Value) -> (PrincipalKind, Option<String>) {
    match v.get("@odata.type").and_then(Value::as_str).unwrap_or_default() {
        "#microsoft.graph.user" => (PrincipalKind::User, Some("User".to_owned())),
        "#microsoft.graph.group" => (PrincipalKind::Group, Some("Group".to_owned())),
        "#microsoft.graph.servicePrincipal" => (PrincipalKind::ServicePrincipal, Some("ServicePrincipal".to_owned())),
        "#microsoft.graph.device" => (PrincipalKind::Device, Some("Device".to_owned())),
        "#microsoft.graph.orgContact" => (PrincipalKind::Contact, Some("OrgContact".to_owned())),
        _ => (PrincipalKind::Unknown, None),
    }
}

/// A membership or ownership link from a directory object listing.
pub(super) fn link(v: &Value, relation: Relation, target: &Guid) -> Option<Grant> {
    let mut g = Grant::new(guid(v, "id")?, relation, target.to_string());
    g.principal_type = kind_of(v).1;
    Some(g)
}

/// An Azure role definition from ARM.
pub(super) fn azure_role_definition(v: &Value) -> Option<RoleDefinition> {
    let p = v.get("properties")?;
    let mut d = RoleDefinition::new(RoleKind::Azure, "", guid(v, "name")?);
    d.name = text(p, "roleName");
    d.description = text(p, "description");
    d.builtin = text(p, "type").map(|t| t.eq_ignore_ascii_case("BuiltInRole"));
    d.permissions = canonical(p.get("permissions"));
    d.assignable_scopes = canonical(p.get("assignableScopes"));
    Some(d)
}

/// The trailing GUID of an ARM role definition id (`…/roleDefinitions/{guid}`), lower-cased.
pub(super) fn role_guid(role_definition_id: &str) -> Option<String> {
    role_definition_id.rsplit('/').next().and_then(|g| g.parse::<Guid>().ok()).map(|g| g.to_string())
}

/// An Azure role assignment (active) or eligibility schedule instance (eligible) from ARM.
pub(super) fn azure_grant(v: &Value, state: GrantState) -> Option<Grant> {
    let p = v.get("properties")?;
    let scope: ArmId = text(p, "scope")?.parse().ok()?;
    let mut g = Grant::new(guid(p, "principalId")?, Relation::AzureRole, scope.to_string());
    g.principal_type = text(p, "principalType");
    g.role_id = role_guid(&text(p, "roleDefinitionId")?)?;
    g.scope = scope.to_string();
    g.state = state;
    g.condition = text(p, "condition");
    g.created_at = time(p, "createdOn");
    match state {
        GrantState::Active => g.source_id = text(v, "id").map(|s| s.to_ascii_lowercase()),
        GrantState::Eligible => {
            g.start_at = time(p, "startDateTime");
            g.end_at = time(p, "endDateTime");
            g.member_type = text(p, "memberType");
            g.source_id =
                text(p, "roleEligibilityScheduleId").or_else(|| text(v, "id")).map(|s| s.to_ascii_lowercase());
        }
    }
    Some(g)
}

/// An ARM resource of `kind` with its canonical id, parent and ARM spelling.
pub(super) fn arm_resource(v: &Value, kind: ResourceKind, parent: Option<String>) -> Option<Resource> {
    let arm = text(v, "id")?;
    let id: ArmId = arm.parse().ok()?;
    let mut r = Resource::new(id.to_string(), kind);
    r.name = text(v, "name");
    r.display_name =
        v.pointer("/properties/displayName").and_then(Value::as_str).map(str::to_owned).or_else(|| text(v, "name"));
    r.parent_id = parent;
    r.subscription_id = arm
        .split('/')
        .nth(2)
        .filter(|_| arm.to_ascii_lowercase().starts_with("/subscriptions/"))
        .and_then(|s| s.parse().ok());
    r.arm_id = Some(arm);
    r.location = text(v, "location");
    Some(r)
}

/// The parent of an ARM id: the id without its last `type/name` pair (and a `providers/ns` pair before it).
pub(super) fn arm_parent(id: &str) -> Option<String> {
    let segs: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    if segs.len() < 4 {
        return None;
    }
    let mut up = &segs[..segs.len() - 2];
    if up.len() >= 2 && up[up.len() - 2].eq_ignore_ascii_case("providers") {
        up = &up[..up.len() - 2];
    }
    Some(format!("/{}", up.join("/")).to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_is_none_and_ids_are_canonical() {
        let v = json!({"a": "0001-01-01T00:00:00Z", "b": "2026-01-02T03:04:05Z", "id": "ABCDEF00-0000-4000-8000-000000000001"});
        assert_eq!(time(&v, "a"), None);
        assert_eq!(time(&v, "b").map(|t| t.to_string()).as_deref(), Some("2026-01-02T03:04:05Z"));
        assert_eq!(guid(&v, "id").map(|g| g.to_string()).as_deref(), Some("abcdef00-0000-4000-8000-000000000001"));
    }

    #[test]
    fn managed_identity_kind_and_resource() {
        let v = json!({"id": "30000000-0000-4000-8000-000000000007", "servicePrincipalType": "ManagedIdentity",
                       "alternativeNames": ["isExplicit=True", "/subscriptions/S/resourcegroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/X"]});
        let (p, roles) = service_principal(&v).unwrap();
        assert_eq!(p.kind, PrincipalKind::ManagedIdentity);
        assert_eq!(p.managed_identity_type.as_deref(), Some("user"));
        assert_eq!(
            p.managed_identity_resource_id.as_deref(),
            Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/x")
        );
        assert!(roles.is_empty());
    }

    #[test]
    fn arm_parents() {
        assert_eq!(
            arm_parent("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a").as_deref(),
            Some("/subscriptions/s/resourcegroups/rg")
        );
        assert_eq!(arm_parent("/subscriptions/s/resourceGroups/rg").as_deref(), Some("/subscriptions/s"));
        assert_eq!(
            arm_parent("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/blobServices/default/containers/c").as_deref(),
            Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.storage/storageaccounts/a/blobservices/default")
        );
        assert_eq!(role_guid("/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/8E3AF657-A8FF-443C-A75C-2FE8C4BCB635").as_deref(), Some("8e3af657-a8ff-443c-a75c-2fe8c4bcb635"));
    }
}
