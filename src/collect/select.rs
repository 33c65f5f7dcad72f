//! Which parts a collection reads: every part by default; `--parts LIST` keeps only those (and what they need),
//! `--skip-parts LIST` and `--skip-sign-in-activity` leave parts out (and what needs them). A part left out is
//! recorded `skipped: option …`, like the other options.

use std::collections::BTreeMap;

/// Every part name, as `info` shows them.
pub const PARTS: &[&str] = &[
    "tenant",
    "users",
    "sign_in_activity",
    "mailbox_settings",
    "groups",
    "group_owners",
    "group_pim",
    "directory_roles",
    "directory_role_pim",
    "service_principals",
    "app_role_assignments",
    "service_principal_owners",
    "delegated_grants",
    "management_groups",
    "subscriptions",
    "resource_groups",
    "storage_accounts",
    "user_assigned_identities",
    "containers",
    "azure_role_definitions",
    "azure_role_assignments",
    "azure_pim",
];

/// (part, the parts it needs): a part reads the objects these list.
const NEEDS: &[(&str, &[&str])] = &[
    ("mailbox_settings", &["users"]),
    ("group_owners", &["groups"]),
    ("group_pim", &["groups"]),
    ("directory_role_pim", &["directory_roles"]),
    ("app_role_assignments", &["service_principals"]),
    ("service_principal_owners", &["service_principals"]),
    ("resource_groups", &["subscriptions"]),
    ("storage_accounts", &["subscriptions"]),
    ("user_assigned_identities", &["subscriptions"]),
    ("containers", &["storage_accounts"]),
    ("azure_role_definitions", &["subscriptions", "management_groups"]),
    ("azure_role_assignments", &["subscriptions", "management_groups"]),
    ("azure_pim", &["subscriptions", "management_groups"]),
];

fn needs(part: &str) -> &'static [&'static str] {
    NEEDS.iter().find(|(p, _)| *p == part).map_or(&[], |(_, n)| n)
}

fn check(names: &[String], option: &str) -> Result<(), String> {
    match names.iter().find(|n| !PARTS.contains(&n.as_str())) {
        Some(bad) => Err(format!("{option}: `{bad}` is not a part (parts: {})", PARTS.join(", "))),
        None => Ok(()),
    }
}

/// The parts to leave out, each with the option that leaves it out (`--skip-parts`), from the command line's
/// choices. `tenant` is always read.
pub fn skipped_parts(
    only: Option<&[String]>,
    skip: &[String],
    skip_sign_ins: bool,
) -> Result<BTreeMap<&'static str, String>, String> {
    let mut out: BTreeMap<&'static str, String> = BTreeMap::new();
    if let Some(only) = only {
        check(only, "--parts")?;
        // What is kept: the parts named and, transitively, what they need.
        let mut keep: Vec<&str> = only.iter().map(String::as_str).collect();
        let mut i = 0;
        while i < keep.len() {
            for n in needs(keep[i]) {
                if !keep.contains(n) {
                    keep.push(n);
                }
            }
            i += 1;
        }
        for p in PARTS.iter().filter(|p| **p != "tenant" && !keep.contains(p)) {
            out.insert(p, "--parts".to_owned());
        }
    }
    check(skip, "--skip-parts")?;
    // (part, the option that leaves it out, why): what needs a part left out is left out too.
    let mut left_out: Vec<(&'static str, &'static str, String)> = Vec::new();
    for name in skip {
        if name == "tenant" {
            return Err("--skip-parts: `tenant` is always read (it names the snapshot's tenant)".to_owned());
        }
        if let Some(p) = PARTS.iter().find(|p| **p == name) {
            left_out.push((p, "--skip-parts", "--skip-parts".to_owned()));
        }
    }
    if skip_sign_ins {
        left_out.push(("sign_in_activity", "--skip-sign-in-activity", "--skip-sign-in-activity".to_owned()));
    }
    while let Some((part, option, why)) = left_out.pop() {
        if out.get(part).is_some_and(|w| w.starts_with(option)) {
            continue;
        }
        out.insert(part, why);
        for (dependent, needs) in NEEDS {
            if needs.contains(&part) {
                left_out.push((dependent, option, format!("{option} (needs {part})")));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn skipping_a_part_skips_what_needs_it() {
        let s = skipped_parts(None, &names(&["subscriptions"]), true).unwrap();
        for p in [
            "subscriptions",
            "resource_groups",
            "storage_accounts",
            "containers",
            "azure_role_assignments",
            "sign_in_activity",
        ] {
            assert!(s.contains_key(p), "{p} not skipped: {s:?}");
        }
        assert_eq!(s["sign_in_activity"], "--skip-sign-in-activity");
        assert_eq!(s["containers"], "--skip-parts (needs storage_accounts)");
        assert_eq!(s["storage_accounts"], "--skip-parts (needs subscriptions)");
        assert!(!s.contains_key("users") && !s.contains_key("management_groups"));
    }

    #[test]
    fn only_some_parts_keeps_what_they_need() {
        let s = skipped_parts(Some(&names(&["containers", "mailbox_settings"])), &[], false).unwrap();
        for kept in ["tenant", "containers", "storage_accounts", "subscriptions", "mailbox_settings", "users"] {
            assert!(!s.contains_key(kept), "{kept} skipped: {s:?}");
        }
        assert_eq!(s["groups"], "--parts");
        assert_eq!(s.len(), PARTS.len() - 6);
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!(skipped_parts(None, &names(&["signins"]), false).unwrap_err().contains("`signins` is not a part"));
        assert!(skipped_parts(Some(&names(&["usrs"])), &[], false).is_err());
        assert!(skipped_parts(None, &names(&["tenant"]), false).is_err());
    }
}
