//! Directory roles: a few Global Administrators, other active roles, and PIM eligibilities.

use super::builder::Builder;
use crate::builtin;
use crate::model::Guid;
use crate::tenant::{DirectoryRoleAssignment, DirectoryRoleSchedule};

impl Builder<'_> {
    pub(super) fn directory_roles(&mut self) {
        let roles = builtin::DIRECTORY_ROLES;
        let mut assignments: Vec<DirectoryRoleAssignment> = Vec::new();
        for k in 0..(5 + self.sizes.users / 20_000) {
            let (role, ..) = roles[if k < 3 { 0 } else { self.rng.below(roles.len()) }];
            let principal = self.pick_user();
            if assignments.iter().any(|d| d.principal_id == principal && d.role_definition_id.as_str() == role) {
                continue;
            }
            assignments.push(DirectoryRoleAssignment {
                id: format!("dra-{k}"),
                principal_id: principal,
                role_definition_id: role.parse().unwrap_or_else(|_| Guid::nil()),
                directory_scope_id: "/".to_owned(),
            });
        }
        self.t.directory_role_assignments = assignments;
        let eligibilities: Vec<DirectoryRoleSchedule> = (0..(10 + self.sizes.users / 10_000))
            .map(|k| DirectoryRoleSchedule {
                id: format!("dre-{k}"),
                principal_id: self.pick_user(),
                role_definition_id: roles[self.rng.below(roles.len())].0.parse().unwrap_or_else(|_| Guid::nil()),
                directory_scope_id: "/".to_owned(),
                start_date_time: Some("2026-01-01T00:00:00Z".to_owned()),
                end_date_time: if k % 2 == 0 { Some("2028-12-31T00:00:00Z".to_owned()) } else { None },
                member_type: "Direct".to_owned(),
                assignment_type: None,
            })
            .collect();
        self.t.directory_role_eligibilities =
            dedup_by(eligibilities, |e| (e.principal_id.clone(), e.role_definition_id.clone()));
    }
}

/// `items` without the later ones whose `key` was seen before.
fn dedup_by<T, K: Eq + std::hash::Hash>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    items.into_iter().filter(|i| seen.insert(key(i))).collect()
}
