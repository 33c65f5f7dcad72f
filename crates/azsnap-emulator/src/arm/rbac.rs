//! ARM's access evaluation: a scope's ancestors (resource → resource group → subscription → management groups →
//! `/`), the caller's principals (itself and its groups), whether a role's actions allow an action there, and the
//! lookups that turn a scope's names into the tenant's objects (404 when they do not exist).

use crate::auth::Caller;
use crate::builtin;
use crate::http::{ApiRequest, ApiResponse, arm_error};
use crate::model::{ArmId, Guid};
use crate::options::EmulatorOptions;
use crate::world::World;

/// What an ARM answer is built from: `Err` is an error answer, returned early with `?`.
pub(super) type Answer = Result<ApiResponse, ApiResponse>;

/// One ARM request and what answering it needs.
pub(super) struct Ctx<'a> {
    pub(super) world: &'a World,
    pub(super) opts: &'a EmulatorOptions,
    pub(super) caller: &'a Caller,
    pub(super) req: &'a ApiRequest,
}

impl Ctx<'_> {
    pub(super) fn tenant_id(&self) -> &str {
        self.world.tenant.tenant.id.as_str()
    }

    pub(super) fn root_mg(&self) -> String {
        format!("/providers/microsoft.management/managementgroups/{}", self.tenant_id())
    }

    /// Scopes from `scope` up to `/`, `scope` first, all canonical (lower case).
    pub(super) fn ancestors(&self, scope: &ArmId) -> Vec<ArmId> {
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

    pub(super) fn is_at_or_above(&self, candidate: &ArmId, scope: &ArmId) -> bool {
        self.ancestors(scope).contains(candidate)
    }

    /// The caller and every group it is in, transitively.
    pub(super) fn caller_principals(&self) -> Vec<Guid> {
        let Ok(me) = self.caller.object_id.parse::<Guid>() else { return Vec::new() };
        let mut ids: Vec<Guid> = self.world.transitive_groups(&me).into_iter().collect();
        ids.push(me);
        ids
    }

    pub(super) fn role_actions(&self, role: &Guid) -> (Vec<String>, Vec<String>) {
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
    pub(super) fn allowed(&self, action: &str, scope: &ArmId) -> bool {
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

    pub(super) fn authorize(&self, action: &str, scope: &ArmId, shown: &str) -> Result<(), ApiResponse> {
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

    /// Whether the caller holds any role at, above or below `scope` (what makes ARM list a subscription).
    pub(super) fn has_any_access_within(&self, scope: &ArmId) -> bool {
        let me = self.caller_principals();
        let above = self.ancestors(scope);
        self.world.tenant.role_assignments.iter().any(|a| {
            me.contains(&a.principal_id)
                && a.scope.parse::<ArmId>().is_ok_and(|s| above.contains(&s) || s.is_within(scope))
        })
    }

    pub(super) fn subscription_fact(&self, raw: &str) -> Result<&crate::tenant::Subscription, ApiResponse> {
        self.world
            .tenant
            .subscriptions
            .iter()
            .find(|s| s.subscription_id.as_str().eq_ignore_ascii_case(raw))
            .ok_or_else(|| {
                arm_error(404, "SubscriptionNotFound", &format!("The subscription '{raw}' could not be found."))
            })
    }

    pub(super) fn visible_subscription(&self, raw: &str) -> Result<&crate::tenant::Subscription, ApiResponse> {
        let sub = self.subscription_fact(raw)?;
        let scope = ArmId::from_canonical(&format!("/subscriptions/{}", sub.subscription_id));
        if self.has_any_access_within(&scope) {
            return Ok(sub);
        }
        self.authorize("Microsoft.Resources/subscriptions/read", &scope, raw)?;
        Ok(sub)
    }

    pub(super) fn read_scope(&self, scope: &str, action: &str) -> Result<ArmId, ApiResponse> {
        let id: ArmId = scope
            .parse()
            .map_err(|_| arm_error(400, "InvalidResourceId", &format!("'{scope}' is not a valid resource id.")))?;
        self.authorize(action, &id, scope)?;
        Ok(id)
    }

    pub(super) fn find_rg(&self, sub: &str, rg: &str) -> Result<&crate::tenant::ResourceGroup, ApiResponse> {
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

    pub(super) fn find_mg(&self, name: &str) -> Result<&crate::tenant::ManagementGroup, ApiResponse> {
        self.world.tenant.management_groups.iter().find(|m| m.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
            arm_error(404, "NotFound", &format!("'{name}' not found. Check the management group name and try again."))
        })
    }

    pub(super) fn mg_scope(name: &str) -> ArmId {
        ArmId::from_canonical(&format!(
            "/providers/microsoft.management/managementgroups/{}",
            name.to_ascii_lowercase()
        ))
    }

    /// 404 for a subscription, resource group or management group that does not exist.
    pub(super) fn check_scope_exists(&self, scope: &ArmId, shown: &str) -> Result<(), ApiResponse> {
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
}
