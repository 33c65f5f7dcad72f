//! ARM writes: `PUT` and `DELETE` of a role assignment, with ARM's validation and answers.

use serde_json::Value;

use super::rbac::Ctx;
use crate::http::{ApiResponse, arm_error};
use crate::model::{ArmId, Guid};
use crate::tenant::AzureRoleAssignment;

/// What a role-assignment write will do, decided on a read-only view of the world.
pub(super) enum WritePlan {
    Create(AzureRoleAssignment, u16),
    Delete(usize),
    Respond(ApiResponse),
}

impl Ctx<'_> {
    pub(super) fn plan_write(&self) -> Result<WritePlan, ApiResponse> {
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
            "PUT" => self.plan_create(scope, &canonical, name, existing),
            other => {
                Err(arm_error(405, "MethodNotAllowed", &format!("The HTTP method '{other}' is not supported here.")))
            }
        }
    }

    /// A `PUT` of assignment `name` at `scope`: the role and principal checked, an existing one answered as it is.
    fn plan_create(
        &self,
        scope: &str,
        canonical: &ArmId,
        name: Guid,
        existing: Option<usize>,
    ) -> Result<WritePlan, ApiResponse> {
        self.authorize("Microsoft.Authorization/roleAssignments/write", canonical, scope)?;
        let body = self.req.json_body().ok_or_else(|| {
            arm_error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
        })?;
        let props = &body["properties"];
        let role_ref = props["roleDefinitionId"].as_str().unwrap_or_default();
        let role: Guid = role_ref.rsplit('/').next().unwrap_or_default().parse().map_err(|_| {
            arm_error(400, "InvalidRoleDefinitionId", &format!("The role definition ID '{role_ref}' is not valid."))
        })?;
        let role_known =
            self.role_definition_items(canonical).iter().any(|d| d["name"].as_str() == Some(role.as_str()));
        if !role_known {
            return Err(arm_error(
                400,
                "RoleDefinitionDoesNotExist",
                &format!("The specified role definition with ID '{role}' does not exist."),
            ));
        }
        let (principal, actual_type) = self.principal(props)?;
        if let Some(i) = existing {
            let a = &self.world.tenant.role_assignments[i];
            if a.principal_id != principal || a.role_definition_id != role {
                return Err(arm_error(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                ));
            }
            return Ok(WritePlan::Respond(ApiResponse::ok(self.assignment_json(a, None))));
        }
        let duplicate = self.world.tenant.role_assignments.iter().any(|a| {
            a.principal_id == principal
                && a.role_definition_id == role
                && a.scope.parse::<ArmId>().is_ok_and(|s| s == *canonical)
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

    /// The principal a new assignment names, with its type as the directory has it; the type given must match.
    fn principal(&self, props: &Value) -> Result<(Guid, &'static str), ApiResponse> {
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
        let actual_type = kind.principal_type();
        if let Some(given) = props["principalType"].as_str()
            && !given.eq_ignore_ascii_case(actual_type)
        {
            return Err(arm_error(
                400,
                "PrincipalTypeNotSupported",
                &format!("The principal type '{given}' does not match the principal's actual type '{actual_type}'."),
            ));
        }
        Ok((principal, actual_type))
    }
}
