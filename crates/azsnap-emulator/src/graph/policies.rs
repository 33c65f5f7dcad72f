//! The tenant-wide settings tools read first: the policy singletons under `/policies` and the tenant's domains.

use serde_json::{Value, json};

use crate::auth::Caller;
use crate::graph::common::{Answer, not_found, require};
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::world::World;

/// Who may read policies (`Policy.Read.All`, or the broader directory permissions).
const POLICY_READ: &[&str] = &["Policy.Read.All", "Policy.ReadWrite.Authorization", "Directory.Read.All"];

/// Who may read domains.
const DOMAIN_READ: &[&str] = &["Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All"];

/// `GET /policies/authorizationPolicy` and `GET /policies/identitySecurityDefaultsEnforcementPolicy`.
pub(crate) fn policy(world: &World, caller: &Caller, req: &ApiRequest, name: &str) -> Answer {
    require(caller, POLICY_READ)?;
    let context = |entity: &str| format!("{}$metadata#policies/{entity}/$entity", req.metadata_base());
    let policies = &world.tenant.policies;
    let body = match name {
        "authorizationPolicy" => {
            let mut p = json!({
                "@odata.context": context("authorizationPolicy"),
                "id": "authorizationPolicy",
                "allowInvitesFrom": "everyone",
                "allowedToSignUpEmailBasedSubscriptions": true,
                "allowedToUseSSPR": true,
                "allowEmailVerifiedUsersToJoinOrganization": false,
                "allowUserConsentForRiskyApps": null,
                "blockMsolPowerShell": false,
                "description": "Used to manage authorization related settings across the company.",
                "displayName": "Authorization Policy",
                "enabledPreviewFeatures": [],
                // Guest users have limited access to properties and memberships of directory objects.
                "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
                "permissionGrantPolicyIdsAssignedToDefaultUserRole": ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"],
                "defaultUserRolePermissions": {
                    "allowedToCreateApps": true,
                    "allowedToCreateSecurityGroups": true,
                    "allowedToCreateTenants": true,
                    "allowedToReadBitlockerKeysForOwnedDevice": true,
                    "allowedToReadOtherUsers": true,
                    "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"],
                },
            });
            if let Some(obj) = p.as_object_mut() {
                obj.extend(policies.authorization_policy.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            p
        }
        "identitySecurityDefaultsEnforcementPolicy" => json!({
            "@odata.context": context("identitySecurityDefaultsEnforcementPolicy"),
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. \
                            When enabled, these recommendations will be automatically enforced in your organization. \
                            Administrators and users will be better protected from common identity related attacks.",
            "isEnabled": policies.security_defaults_enabled,
        }),
        other => {
            return Err(graph_error(400, "BadRequest", &format!("Resource not found for the segment '{other}'.")));
        }
    };
    Ok(ApiResponse::ok(body))
}

/// `GET /domains` and `GET /domains/{name}`: the tenant's default (custom) domain and its initial
/// `onmicrosoft.com` domain.
pub(crate) fn domains(world: &World, caller: &Caller, req: &ApiRequest, name: Option<&str>) -> Answer {
    require(caller, DOMAIN_READ)?;
    let t = &world.tenant.tenant;
    let domain = |id: &str, default: bool, initial: bool| {
        json!({
            "authenticationType": "Managed",
            "availabilityStatus": null,
            "id": id,
            "isAdminManaged": true,
            "isDefault": default,
            "isInitial": initial,
            "isRoot": true,
            "isVerified": true,
            "supportedServices": ["Email", "OfficeCommunicationsOnline"],
            "passwordValidityPeriodInDays": 2_147_483_647,
            "passwordNotificationWindowInDays": 14,
            "state": null,
        })
    };
    let all = [domain(&t.domain, true, false), domain(&t.initial_domain(), false, true)];
    match name {
        None => Ok(ApiResponse::ok(json!({
            "@odata.context": format!("{}$metadata#domains", req.metadata_base()),
            "value": all,
        }))),
        Some(n) => {
            let mut d = all
                .into_iter()
                .find(|d| d["id"].as_str().is_some_and(|id| id.eq_ignore_ascii_case(n)))
                .ok_or_else(|| not_found(n))?;
            d["@odata.context"] = Value::String(format!("{}$metadata#domains/$entity", req.metadata_base()));
            Ok(ApiResponse::ok(d))
        }
    }
}
