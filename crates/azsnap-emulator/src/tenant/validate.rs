//! Loading a tenant file: parsed, then every id and every reference checked, so a served tenant is consistent.

use std::collections::{HashMap, HashSet};

use super::*;

/// Why a tenant file cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("{path}: cannot read tenant file: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: not a valid tenant file: {source}")]
    Parse { path: String, source: serde_json::Error },
    #[error("{path}: inconsistent tenant file: {problem}")]
    Invalid { path: String, problem: String },
}

impl TenantFile {
    /// Parses and validates tenant JSON; `name` names it in errors.
    pub fn parse(text: &[u8], name: &str) -> Result<Self, TenantError> {
        let tenant: TenantFile =
            serde_json::from_slice(text).map_err(|source| TenantError::Parse { path: name.to_owned(), source })?;
        tenant.validate().map_err(|problem| TenantError::Invalid { path: name.to_owned(), problem })?;
        Ok(tenant)
    }

    /// The bundled contoso tenant (`fixtures/tenants/contoso.json`), for the demo.
    pub fn contoso() -> Result<Self, TenantError> {
        Self::parse(include_bytes!("../../../../fixtures/tenants/contoso.json"), "contoso.json (bundled)")
    }

    /// Every directory object id with its kind.
    pub fn object_kinds(&self) -> HashMap<Guid, ObjectKind> {
        let mut kinds = HashMap::new();
        kinds.extend(self.users.iter().map(|u| (u.id.clone(), ObjectKind::User)));
        kinds.extend(self.groups.iter().map(|g| (g.id.clone(), ObjectKind::Group)));
        kinds.extend(self.service_principals.iter().map(|s| (s.id.clone(), ObjectKind::ServicePrincipal)));
        kinds.extend(self.applications.iter().map(|a| (a.id.clone(), ObjectKind::Application)));
        kinds
    }

    /// Checks ids are unique and every reference points at something that exists.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = HashSet::new();
        let all_ids = self
            .users
            .iter()
            .map(|u| &u.id)
            .chain(self.groups.iter().map(|g| &g.id))
            .chain(self.service_principals.iter().map(|s| &s.id))
            .chain(self.applications.iter().map(|a| &a.id));
        for id in all_ids {
            if !seen.insert(id) {
                return Err(format!("object id {id} is used twice"));
            }
        }
        let kinds = self.object_kinds();
        let principal = |id: &Guid, what: &str| match kinds.get(id) {
            Some(ObjectKind::Application) | None => Err(format!("{what} names {id}, which is not a principal here")),
            Some(_) => Ok(()),
        };
        for u in &self.users {
            if let Some(m) = &u.manager
                && kinds.get(m) != Some(&ObjectKind::User)
            {
                return Err(format!("user {} has manager {m}, which is not a user here", u.id));
            }
        }
        for g in &self.groups {
            for m in &g.members {
                principal(m, &format!("group {} member", g.id))?;
            }
            for o in &g.owners {
                principal(o, &format!("group {} owner", g.id))?;
            }
        }
        for s in self.service_principals.iter().map(|s| &s.owners).chain(self.applications.iter().map(|a| &a.owners)) {
            for o in s {
                principal(o, "owner")?;
            }
        }
        let sp_ids: HashSet<&Guid> = self.service_principals.iter().map(|s| &s.id).collect();
        for app in &self.apps {
            if !sp_ids.contains(&app.service_principal_id) {
                return Err(format!(
                    "app {} names service principal {}, which is not in servicePrincipals",
                    app.client_id, app.service_principal_id
                ));
            }
        }
        for a in &self.app_role_assignments {
            principal(&a.principal_id, &format!("app role assignment {}", a.id))?;
            if !sp_ids.contains(&a.resource_id) {
                return Err(format!(
                    "app role assignment {} names resource {}, not a service principal",
                    a.id, a.resource_id
                ));
            }
        }
        for a in &self.directory_role_assignments {
            principal(&a.principal_id, &format!("directory role assignment {}", a.id))?;
        }
        for a in self.directory_role_eligibilities.iter().chain(&self.directory_role_activations) {
            principal(&a.principal_id, &format!("directory role schedule {}", a.id))?;
        }
        let group_ids: HashSet<&Guid> = self.groups.iter().map(|g| &g.id).collect();
        for s in self.group_eligibilities.iter().chain(&self.group_assignments) {
            principal(&s.principal_id, &format!("group schedule {}", s.id))?;
            if !group_ids.contains(&s.group_id) {
                return Err(format!("group schedule {} names group {}, which does not exist", s.id, s.group_id));
            }
            if s.access_id != "member" && s.access_id != "owner" {
                return Err(format!("group schedule {} has accessId '{}' (member or owner)", s.id, s.access_id));
            }
        }
        self.validate_azure()
    }

    /// Checks the Azure hierarchy: every management group but the root has a known parent, every subscription a
    /// known management group, every role assignment and eligibility a valid scope.
    fn validate_azure(&self) -> Result<(), String> {
        let mgs: HashSet<&str> = self.management_groups.iter().map(|m| m.name.as_str()).collect();
        for mg in &self.management_groups {
            match &mg.parent {
                Some(p) if !mgs.contains(p.as_str()) => {
                    return Err(format!("management group {} has unknown parent {p}", mg.name));
                }
                None if mg.name != self.tenant.id.as_str() => {
                    return Err(format!("management group {} has no parent (only the tenant root group may)", mg.name));
                }
                _ => {}
            }
        }
        for s in &self.subscriptions {
            if let Some(mg) = &s.management_group
                && !mgs.contains(mg.as_str())
            {
                return Err(format!("subscription {} is in unknown management group {mg}", s.subscription_id));
            }
        }
        // Azure role assignments may name principals that no longer exist (deleted users show as "Unknown" in
        // the portal), so only their scopes are checked.
        for a in &self.role_assignments {
            a.scope.parse::<ArmId>().map_err(|e| format!("role assignment {}: {e}", a.name))?;
        }
        for a in &self.role_eligibilities {
            a.scope.parse::<ArmId>().map_err(|e| format!("role eligibility {}: {e}", a.name))?;
        }
        Ok(())
    }
}
