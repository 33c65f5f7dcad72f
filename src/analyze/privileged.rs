//! The privileged roles list (`queries/privileged_roles.json`): directory and Azure roles whose holders can take
//! over the tenant or its resources.

use std::collections::BTreeMap;

const LIST: &str = include_str!("../../queries/privileged_roles.json");

/// Privileged role ids (lower case) with their names.
#[derive(Debug, Clone)]
pub struct Privileged {
    pub directory: BTreeMap<String, String>,
    pub azure: BTreeMap<String, String>,
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
        Privileged { directory: map("directory"), azure: map("azure") }
    }

    /// Whether `role_id` is privileged for `relation` (`directory_role` or `azure_role`).
    pub fn is_privileged(&self, relation: &str, role_id: &str) -> bool {
        match relation {
            "directory_role" => self.directory.contains_key(role_id),
            "azure_role" => self.azure.contains_key(role_id),
            _ => false,
        }
    }

    /// Every privileged role id, as a JSON array (a bound parameter for SQL).
    pub fn ids_json(&self) -> String {
        serde_json::to_string(&self.directory.keys().chain(self.azure.keys()).collect::<Vec<_>>()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_parses_and_names_the_key_roles() {
        let p = Privileged::builtin();
        assert_eq!(
            p.directory.get("62e90394-69f5-4237-9190-012177145e10").map(String::as_str),
            Some("Global Administrator")
        );
        assert!(p.is_privileged("azure_role", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"));
        assert!(!p.is_privileged("azure_role", "acdd72a7-3385-48ef-bd42-f606fba81ae7"), "Reader is not");
        assert!(p.directory.keys().chain(p.azure.keys()).all(|id| crate::model::Guid::is_guid(id)));
    }
}
