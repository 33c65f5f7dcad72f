//! What two snapshots both know: `diff` compares a kind of data only where the part that produces it is complete in
//! both snapshots and was collected with the same options. Everything else is "not compared", with the reason,
//! never drift.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{GrantState, Part, PartStatus, Relation};
use crate::store::{Snapshot, StoreError};

/// A part whose data `diff` left out, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotCompared {
    pub part: String,
    /// `group_pim: unavailable (license) in NEW`, without the part name.
    pub reason: String,
    /// Differences found in that data and left out.
    pub items: u64,
}

/// A collection option the two snapshots were taken with differently.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OptionDiffers {
    pub option: String,
    pub old: serde_json::Value,
    pub new: serde_json::Value,
}

/// Options that change what a complete part holds (the others skip whole parts, which their status says).
pub(crate) const CONTENT_OPTIONS: &[(&str, &[&str])] =
    &[("skip_ad_groups", &["groups", "group_owners", "group_pim"]), ("skip_unused_roles", &["role_definitions"])];

/// Options recorded for the record only: they change how a run went, not what it holds.
const RUN_OPTIONS: &[&str] = &["concurrency", "credential"];

/// Which parts compare, for one pair of snapshots.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Part → why it is not compared.
    left_out: BTreeMap<String, String>,
    pub options_differ: Vec<OptionDiffers>,
}

fn side_reason(p: Option<&Part>, side: &str) -> Option<String> {
    match p {
        None => Some(format!("not recorded in {side}")),
        Some(p) if p.status == PartStatus::Complete => None,
        Some(p) if p.status == PartStatus::Skipped => Some(match &p.detail {
            Some(d) => format!("not collected in {side} ({d})"),
            None => format!("not collected in {side}"),
        }),
        Some(p) => Some(match &p.detail {
            Some(d) if !d.is_empty() => format!("{} ({d}) in {side}", p.status),
            _ => format!("{} in {side}", p.status),
        }),
    }
}

impl Coverage {
    pub fn of(old: &Snapshot, new: &Snapshot) -> Result<Self, StoreError> {
        let (old_parts, new_parts) = (old.parts()?, new.parts()?);
        let (old_options, new_options) = (old.meta()?.options, new.meta()?.options);
        Ok(Coverage::from_parts(&old_parts, &new_parts, &old_options, &new_options))
    }

    pub fn from_parts(
        old: &[Part],
        new: &[Part],
        old_options: &serde_json::Value,
        new_options: &serde_json::Value,
    ) -> Self {
        let mut left_out = BTreeMap::new();
        let mut names: Vec<&str> = old.iter().chain(new).map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let (o, n) = (old.iter().find(|p| p.name == name), new.iter().find(|p| p.name == name));
            // Left out the same way on both sides: nothing was expected, nothing is missing.
            if let (Some(o), Some(n)) = (o, n)
                && o.status != PartStatus::Complete
                && o.status != PartStatus::Failed
                && o.status != PartStatus::Denied
                && o.status == n.status
                && o.detail == n.detail
            {
                continue;
            }
            let reasons: Vec<String> = [side_reason(o, "OLD"), side_reason(n, "NEW")].into_iter().flatten().collect();
            if !reasons.is_empty() {
                left_out.insert(name.to_owned(), reasons.join("; "));
            }
        }
        let mut options_differ = Vec::new();
        let keys: std::collections::BTreeSet<&String> =
            [old_options, new_options].iter().filter_map(|o| o.as_object()).flat_map(|o| o.keys()).collect();
        for key in keys {
            let (a, b) = (&old_options[key.as_str()], &new_options[key.as_str()]);
            let unset = |v: &serde_json::Value| v.is_null() || *v == false || v.as_array().is_some_and(Vec::is_empty);
            if a == b || (unset(a) && unset(b)) || RUN_OPTIONS.contains(&key.as_str()) {
                continue;
            }
            options_differ.push(OptionDiffers { option: key.clone(), old: a.clone(), new: b.clone() });
            if let Some((_, parts)) = CONTENT_OPTIONS.iter().find(|(o, _)| o == key) {
                let flag = format!("--{}", key.replace('_', "-"));
                let side = if unset(a) { "NEW" } else { "OLD" };
                for part in *parts {
                    left_out
                        .entry((*part).to_owned())
                        .or_insert_with(|| format!("collected with {flag} in {side} only"));
                }
            }
        }
        Coverage { left_out, options_differ }
    }

    /// Why `part`'s data is not compared, or `None` when it is.
    pub fn left_out(&self, part: &str) -> Option<&str> {
        self.left_out.get(part).map(String::as_str)
    }

    /// Every part not compared, with how many differences were left out in each.
    pub fn report(&self, counts: &BTreeMap<String, u64>) -> Vec<NotCompared> {
        self.left_out
            .iter()
            .map(|(part, reason)| NotCompared {
                part: part.clone(),
                reason: reason.clone(),
                items: counts.get(part).copied().unwrap_or(0),
            })
            .collect()
    }
}

/// The part that produces a principal of `kind`.
pub fn principal_part(kind: &str) -> &'static str {
    match kind {
        "group" => "groups",
        "service_principal" | "managed_identity" => "service_principals",
        _ => "users",
    }
}

/// The part that produces a resource of `kind` with this id (a resource one side knows only as a parent or a
/// grant's scope has kind `other`: its ARM id says what it is).
pub fn resource_part(kind: &str, id: &str) -> &'static str {
    let kind = if kind == "other" { kind_of_arm_id(id) } else { kind };
    match kind {
        "tenant" => "tenant",
        "management_group" => "management_groups",
        "resource_group" => "resource_groups",
        "storage_account" => "storage_accounts",
        "container" => "containers",
        "user_assigned_identity" => "user_assigned_identities",
        _ => "subscriptions",
    }
}

/// What an ARM id names, by its last type segment.
fn kind_of_arm_id(id: &str) -> &'static str {
    let segments: Vec<String> =
        id.to_ascii_lowercase().split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let last_type = segments.len().checked_sub(2).and_then(|i| segments.get(i)).map_or("", String::as_str);
    match last_type {
        "containers" => "container",
        "storageaccounts" => "storage_account",
        "userassignedidentities" => "user_assigned_identity",
        "resourcegroups" => "resource_group",
        "managementgroups" => "management_group",
        _ => "subscription",
    }
}

/// The parts that produce a role definition of `kind`: the role list itself, and the option-dependent
/// `role_definitions` pseudo-part (`--skip-unused-roles` keeps only the roles something holds).
pub fn role_parts(kind: &str) -> [&'static str; 2] {
    let list = match kind {
        "directory" => "directory_roles",
        "app" => "service_principals",
        _ => "azure_role_definitions",
    };
    [list, "role_definitions"]
}

/// The part that produces a grant: its relation, state, and (for ownership) whether the target is a group.
pub fn grant_part(relation: Relation, state: GrantState, target_is_group: bool) -> &'static str {
    let eligible = state == GrantState::Eligible;
    match relation {
        Relation::Member if eligible => "group_pim",
        Relation::Member => "groups",
        Relation::Owner if target_is_group && eligible => "group_pim",
        Relation::Owner if target_is_group => "group_owners",
        Relation::Owner => "service_principal_owners",
        Relation::DirectoryRole if eligible => "directory_role_pim",
        Relation::DirectoryRole => "directory_roles",
        Relation::AppRole => "app_role_assignments",
        Relation::Delegated => "delegated_grants",
        Relation::AzureRole if eligible => "azure_pim",
        Relation::AzureRole => "azure_role_assignments",
    }
}

/// The part a principal's field comes from, when it is not the principal's own list.
pub fn field_part(field: &str) -> Option<&'static str> {
    match field {
        "mailboxPurpose" => Some("mailbox_settings"),
        _ => None,
    }
}

/// The part an active grant's time bounds and PIM types come from, when they are not its own list's: an active
/// directory role assignment's from its PIM schedule, an active group membership or ownership's from PIM for groups.
pub fn grant_field_part(
    relation: Relation,
    state: GrantState,
    target_is_group: bool,
    field: &str,
) -> Option<&'static str> {
    if state != GrantState::Active || !matches!(field, "startAt" | "endAt" | "assignmentType" | "memberType") {
        return None;
    }
    match relation {
        Relation::DirectoryRole => Some("directory_role_pim"),
        Relation::Member => Some("group_pim"),
        Relation::Owner if target_is_group => Some("group_pim"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn part(name: &str, status: PartStatus, detail: Option<&str>) -> Part {
        Part { name: name.to_owned(), status, detail: detail.map(str::to_owned), objects: 0 }
    }

    #[test]
    fn only_parts_complete_on_both_sides_with_the_same_options_compare() {
        let old = [
            part("groups", PartStatus::Complete, None),
            part("group_pim", PartStatus::Complete, None),
            part("mailbox_settings", PartStatus::Skipped, Some("option --mailbox-settings not given")),
            part("azure_pim", PartStatus::Skipped, Some("option --skip-p2")),
            part("users", PartStatus::Complete, None),
        ];
        let new = [
            part("groups", PartStatus::Complete, None),
            part("group_pim", PartStatus::Unavailable, Some("license")),
            part("mailbox_settings", PartStatus::Complete, None),
            part("azure_pim", PartStatus::Skipped, Some("option --skip-p2")),
            part("users", PartStatus::Complete, None),
        ];
        let c = Coverage::from_parts(
            &old,
            &new,
            &json!({"skip_ad_groups": false, "concurrency": 8, "mailbox_settings": false}),
            &json!({"skip_ad_groups": true, "concurrency": 4, "mailbox_settings": true}),
        );
        assert_eq!(c.left_out("users"), None);
        assert_eq!(c.left_out("group_pim"), Some("unavailable (license) in NEW"));
        assert_eq!(c.left_out("mailbox_settings"), Some("not collected in OLD (option --mailbox-settings not given)"));
        assert_eq!(c.left_out("azure_pim"), None, "left out alike on both sides: nothing is missing");
        assert_eq!(c.left_out("groups"), Some("collected with --skip-ad-groups in NEW only"));
        let differ: Vec<&str> = c.options_differ.iter().map(|o| o.option.as_str()).collect();
        assert_eq!(differ, ["mailbox_settings", "skip_ad_groups"], "concurrency is how, not what");
    }

    #[test]
    fn failures_and_missing_parts_never_compare() {
        let old = [part("groups", PartStatus::Failed, Some("gave up")), part("users", PartStatus::Complete, None)];
        let new = [part("groups", PartStatus::Failed, Some("gave up"))];
        let c = Coverage::from_parts(&old, &new, &json!({}), &json!({}));
        assert_eq!(c.left_out("groups"), Some("failed (gave up) in OLD; failed (gave up) in NEW"));
        assert_eq!(c.left_out("users"), Some("not recorded in NEW"));
    }

    #[test]
    fn grants_belong_to_the_part_that_reads_them() {
        assert_eq!(grant_part(Relation::Member, GrantState::Eligible, true), "group_pim");
        assert_eq!(grant_part(Relation::Owner, GrantState::Active, false), "service_principal_owners");
        assert_eq!(grant_part(Relation::AzureRole, GrantState::Eligible, false), "azure_pim");
        assert_eq!(grant_part(Relation::DirectoryRole, GrantState::Active, false), "directory_roles");
        assert_eq!(grant_field_part(Relation::Member, GrantState::Active, true, "endAt"), Some("group_pim"));
        assert_eq!(grant_field_part(Relation::AzureRole, GrantState::Active, false, "endAt"), None);
        assert_eq!(
            resource_part(
                "other",
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/blobServices/default/containers/c1"
            ),
            "containers"
        );
        assert_eq!(resource_part("other", "/subscriptions/s/resourceGroups/rg"), "resource_groups");
    }
}
