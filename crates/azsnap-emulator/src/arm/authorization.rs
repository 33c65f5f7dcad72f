//! `{scope}/providers/Microsoft.Authorization/…` reads: role definitions, role assignments (with ARM's scope
//! filters) and PIM schedule instances.

use serde_json::json;

use super::rbac::{Answer, Ctx};
use crate::http::{ApiResponse, arm_error};
use crate::model::{ArmId, Guid};
use crate::tenant::License;

impl Ctx<'_> {
    /// `{scope}/providers/Microsoft.Authorization/{rest}`.
    pub(super) fn authorization(&self, scope: &str, rest: &[&str]) -> Answer {
        let canonical: ArmId = scope
            .parse()
            .map_err(|_| arm_error(400, "InvalidResourceId", &format!("'{scope}' is not a valid scope.")))?;
        self.check_scope_exists(&canonical, scope)?;
        let lower: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
        match (self.req.method.as_str(), lower.iter().map(String::as_str).collect::<Vec<_>>().as_slice()) {
            ("GET", ["roledefinitions"]) => {
                let built_in_only = self.authorize_definitions(&canonical, scope)?;
                self.role_definitions(&canonical, built_in_only)
            }
            ("GET", ["roledefinitions", id]) => {
                let built_in_only = self.authorize_definitions(&canonical, scope)?;
                let defs = self.role_definition_items(&canonical);
                defs.into_iter()
                    .filter(|d| !built_in_only || d["properties"]["type"] == "BuiltInRole")
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

    /// Whether the caller may read role definitions at `scope`, and whether only the built-in ones: at `/`, Azure
    /// shows the built-in roles to any authenticated caller, and custom roles only to those with read access.
    fn authorize_definitions(&self, scope: &ArmId, shown: &str) -> Result<bool, ApiResponse> {
        let action = "Microsoft.Authorization/roleDefinitions/read";
        if scope.as_str() == "/" && !self.allowed(action, scope) {
            return Ok(true);
        }
        self.authorize(action, scope, shown).map(|()| false)
    }

    fn role_definitions(&self, scope: &ArmId, built_in_only: bool) -> Answer {
        let mut items = self.role_definition_items(scope);
        if built_in_only {
            items.retain(|d| d["properties"]["type"] == "BuiltInRole");
        }
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
            .map(|a| self.assignment_json(a, Some(scope)))
            .collect();
        self.list(items)
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
                        "roleDefinitionId": self.listed_definition_ref(&at, scope, &e.role_definition_id),
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
                        "roleDefinitionId": self.listed_definition_ref(&at, scope, &a.role_definition_id),
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
