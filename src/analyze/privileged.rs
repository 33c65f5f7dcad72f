//! The privileged roles list (`queries/privileged_roles.json`): directory and Azure roles whose holders can take
//! over the tenant or its resources.

use std::collections::{BTreeMap, HashSet};

use crate::model::Relation;
use crate::store::{Snapshot, StoreError};

const LIST: &str = include_str!("../../queries/privileged_roles.json");

/// Role ids a user adds (`--privileged-roles FILE`), for every list this process builds.
static EXTRA: std::sync::OnceLock<BTreeMap<String, String>> = std::sync::OnceLock::new();

/// Parses a privileged-roles file: one role id (a GUID) a line, an optional name after it, `#` comments, a BOM
/// allowed. Errors name the line.
pub fn parse_extra(text: &str) -> Result<BTreeMap<String, String>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let (id, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let id: crate::model::Guid =
            id.parse().map_err(|_| format!("line {}: `{id}` is not a role id (a GUID)", n + 1))?;
        out.insert(id.to_string(), name.trim().to_owned());
    }
    Ok(out)
}

/// Adds `extra` to every privileged list built from now on (once a process).
pub fn add_extra(extra: BTreeMap<String, String>) {
    let _ = EXTRA.set(extra);
}

/// Privileged role ids (lower case) with their names.
#[derive(Debug, Clone)]
pub struct Privileged {
    pub directory: BTreeMap<String, String>,
    pub azure: BTreeMap<String, String>,
    /// Microsoft Graph application permissions (app role ids) that let their holder grant any access.
    pub graph_app: BTreeMap<String, String>,
    /// Role ids added by the user, of any kind.
    pub extra: BTreeMap<String, String>,
}

impl Privileged {
    /// The built-in list.
    pub fn builtin() -> Self {
        let v: serde_json::Value = serde_json::from_str(LIST).unwrap_or_default();
        let map = |k: &str| -> BTreeMap<String, String> {
            v[k].as_object()
                .map(|o| {
                    o.iter()
                        .map(|(id, n)| (id.to_ascii_lowercase(), n.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default()
        };
        Privileged {
            directory: map("directory"),
            azure: map("azure"),
            graph_app: map("graph_app"),
            extra: EXTRA.get().cloned().unwrap_or_default(),
        }
    }

    /// Whether `role_id` is privileged for `relation` (`directory_role`, `azure_role`, or `app_role`: a dangerous
    /// Graph application permission).
    pub fn is_privileged(&self, relation: Relation, role_id: &str) -> bool {
        let listed = match relation {
            Relation::DirectoryRole => self.directory.contains_key(role_id),
            Relation::AzureRole => self.azure.contains_key(role_id),
            Relation::AppRole => self.graph_app.contains_key(role_id),
            Relation::Member | Relation::Owner | Relation::Delegated => return false,
        };
        listed || self.extra.contains_key(role_id)
    }

    /// Groups whose membership or ownership is privileged in the snapshot's `schemas` (`main`, and an attached
    /// `new`): holders of a privileged role, and the groups nested in them, at any depth.
    pub fn groups(&self, snap: &Snapshot, schemas: &[&str]) -> Result<HashSet<String>, StoreError> {
        let ids = self.ids_json();
        let mut out = HashSet::new();
        for schema in schemas {
            let sql = include_str!("../../queries/analyze/privileged_groups.sql").replace("{schema}", schema);
            let mut stmt = snap.connection().prepare(&sql).map_err(|e| StoreError::corrupt(snap.path(), e))?;
            let found = stmt
                .query_map([&ids], |r| r.get::<_, String>(0))
                .and_then(Iterator::collect::<Result<Vec<String>, _>>)
                .map_err(|e| StoreError::corrupt(snap.path(), e))?;
            out.extend(found);
        }
        Ok(out)
    }

    /// This list plus the snapshot's custom Azure roles that can do anything (`*`) or hand out access
    /// (`Microsoft.Authorization/*/write`, `…/*`, `…/roleAssignments/write`), in its `schemas` (`main`, and an
    /// attached `new`).
    pub fn with_custom_roles(&self, snap: &Snapshot, schemas: &[&str]) -> Result<Privileged, StoreError> {
        let mut out = self.clone();
        for schema in schemas {
            let sql = format!(
                "SELECT id, coalesce(name, id), coalesce(permissions, '[]') FROM {schema}.role_definitions \
                 WHERE kind = 'azure' AND coalesce(builtin, 0) = 0"
            );
            let mut stmt = snap.connection().prepare(&sql).map_err(|e| StoreError::corrupt(snap.path(), e))?;
            let roles = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|e| StoreError::corrupt(snap.path(), e))?;
            for (id, name, permissions) in roles {
                if grants_everything(&permissions) {
                    out.azure.insert(id.to_ascii_lowercase(), name);
                }
            }
        }
        Ok(out)
    }

    /// Whether a grant is privileged: a privileged role, or membership or ownership of a group in `groups`
    /// ([`Privileged::groups`]). The one rule `diff`, `plan` and `access` mark by.
    pub fn grant(&self, relation: Relation, role_id: &str, target_id: &str, groups: &HashSet<String>) -> bool {
        self.is_privileged(relation, role_id)
            || (matches!(relation, Relation::Member | Relation::Owner) && groups.contains(target_id))
    }

    /// Every privileged role id of any relation (app roles too), as a JSON array (a bound parameter for SQL).
    pub fn all_ids_json(&self) -> String {
        Self::json(self.directory.keys().chain(self.azure.keys()).chain(self.graph_app.keys()).chain(self.extra.keys()))
    }

    /// Every privileged directory and Azure role id, as a JSON array (a bound parameter for SQL).
    pub fn ids_json(&self) -> String {
        Self::json(self.directory.keys().chain(self.azure.keys()).chain(self.extra.keys()))
    }

    fn json<'a>(ids: impl Iterator<Item = &'a String>) -> String {
        serde_json::to_string(&ids.collect::<Vec<_>>()).unwrap_or_default()
    }
}

/// Whether an Azure role's permissions (ARM's `permissions` list, as JSON) include every action or the right to
/// change role assignments.
fn grants_everything(permissions: &str) -> bool {
    let v: serde_json::Value = serde_json::from_str(permissions).unwrap_or_default();
    let lists = v.as_array().map(Vec::as_slice).unwrap_or_default();
    lists.iter().flat_map(|p| p["actions"].as_array().into_iter().flatten()).filter_map(|a| a.as_str()).any(|a| {
        matches!(
            a.to_ascii_lowercase().as_str(),
            "*" | "microsoft.authorization/*"
                | "microsoft.authorization/*/write"
                | "microsoft.authorization/roleassignments/write"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_privileged_roles_file_lists_guids_and_names_bad_lines() {
        let extra = parse_extra("\u{feff}# ours\n60000000-0000-4000-8000-00000000000A Storage Auditor\n\n").unwrap();
        assert_eq!(extra.get("60000000-0000-4000-8000-00000000000a").map(String::as_str), Some("Storage Auditor"));
        assert_eq!(parse_extra("\nStorage Auditor").unwrap_err(), "line 2: `Storage` is not a role id (a GUID)");
    }

    #[test]
    fn custom_roles_that_can_do_anything_or_grant_access_are_privileged() {
        assert!(grants_everything(r#"[{"actions": ["*"], "notActions": ["Microsoft.Compute/*"]}]"#));
        assert!(grants_everything(r#"[{"actions": ["Microsoft.Authorization/*/Write"]}]"#));
        assert!(grants_everything(r#"[{"actions": ["microsoft.authorization/roleAssignments/write"]}]"#));
        assert!(!grants_everything(r#"[{"actions": ["Microsoft.Compute/virtualMachines/*"]}]"#));
        assert!(!grants_everything("not json"));
    }

    #[test]
    fn the_list_parses_and_names_the_key_roles() {
        let p = Privileged::builtin();
        assert_eq!(
            p.directory.get("62e90394-69f5-4237-9190-012177145e10").map(String::as_str),
            Some("Global Administrator")
        );
        assert!(p.is_privileged(Relation::AzureRole, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"));
        assert!(!p.is_privileged(Relation::AzureRole, "acdd72a7-3385-48ef-bd42-f606fba81ae7"), "Reader is not");
        assert!(
            p.directory
                .keys()
                .chain(p.azure.keys())
                .chain(p.graph_app.keys())
                .all(|id| crate::model::Guid::is_guid(id))
        );
        assert!(
            p.is_privileged(Relation::AppRole, "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8"),
            "RoleManagement.ReadWrite.Directory"
        );
        assert!(
            !p.is_privileged(Relation::AppRole, "7ab1d382-f21e-4acd-a863-ba3e13f7da61"),
            "Directory.Read.All is not"
        );
    }
}
