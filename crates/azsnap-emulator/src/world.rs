//! The served tenant and the indexes over it: object lookup, direct and transitive membership, the change log delta
//! queries read, and the ids the emulator mints. Knows nothing of HTTP; every handler reads or changes it.

use std::collections::{HashMap, HashSet};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::directory::DirectoryObject;
use crate::model::Guid;
use crate::tenant::{License, ObjectKind, TenantFile};

/// The served tenant plus indexes over it. Rebuilt after every write.
pub(crate) struct World {
    pub tenant: TenantFile,
    pub license: License,
    /// Object id → (kind, position in its list).
    pub objects: HashMap<Guid, (ObjectKind, usize)>,
    /// Groups each object is a direct member of.
    pub member_of: HashMap<Guid, Vec<Guid>>,
    /// Every change made through the write endpoints, in order; delta queries read it.
    pub changes: Vec<Change>,
    /// Counter for ids the emulator makes up (assignment ids, role assignment names).
    pub minted: u64,
    /// Names this world's change log: delta tokens carry it, and a token from another emulator (or from before a
    /// reset) names a sync state this one does not have.
    pub generation: String,
}

/// A name no other world of this process, or of another run, has.
fn new_generation() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static WORLDS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{nanos:x}.{}.{}", std::process::id(), WORLDS.fetch_add(1, Ordering::Relaxed))
}

/// What an audit entry records of a change: activity name, category, service and operation type.
pub(crate) type Activity = (&'static str, &'static str, &'static str, &'static str);

/// The activities the write endpoints log, as Microsoft Entra names them.
pub(crate) mod activity {
    use super::Activity;
    pub(crate) const ADD_MEMBER: Activity = ("Add member to group", "GroupManagement", "Core Directory", "Assign");
    pub(crate) const REMOVE_MEMBER: Activity =
        ("Remove member from group", "GroupManagement", "Core Directory", "Unassign");
    pub(crate) const ADD_OWNER: Activity = ("Add owner to group", "GroupManagement", "Core Directory", "Assign");
    pub(crate) const REMOVE_OWNER: Activity =
        ("Remove owner from group", "GroupManagement", "Core Directory", "Unassign");
    pub(crate) const ADD_APP_ROLE: Activity =
        ("Add app role assignment to service principal", "ApplicationManagement", "Core Directory", "Assign");
    pub(crate) const REMOVE_APP_ROLE: Activity =
        ("Remove app role assignment from service principal", "ApplicationManagement", "Core Directory", "Unassign");
    pub(crate) const ADD_ROLE_MEMBER: Activity = ("Add member to role", "RoleManagement", "Core Directory", "Assign");
    pub(crate) const REMOVE_ROLE_MEMBER: Activity =
        ("Remove member from role", "RoleManagement", "Core Directory", "Unassign");
    pub(crate) const UPDATE_USER: Activity = ("Update user", "UserManagement", "Core Directory", "Update");
    pub(crate) const DELETE_USER: Activity = ("Delete user", "UserManagement", "Core Directory", "Delete");
    pub(crate) const DELETE_GROUP: Activity = ("Delete group", "GroupManagement", "Core Directory", "Delete");
    pub(crate) const ADD_SERVICE_PRINCIPAL: Activity =
        ("Add service principal", "ApplicationManagement", "Core Directory", "Add");
    pub(crate) const PIM_GROUP_ELIGIBLE_ADD: Activity =
        ("Add eligible member to group in PIM completed (permanent)", "GroupManagement", "PIM", "Add");
    pub(crate) const PIM_GROUP_ELIGIBLE_REMOVE: Activity =
        ("Remove eligible member from group in PIM completed", "GroupManagement", "PIM", "Delete");
    pub(crate) const PIM_GROUP_ACTIVE_ADD: Activity =
        ("Add member to group in PIM completed (permanent)", "GroupManagement", "PIM", "Add");
    pub(crate) const PIM_GROUP_ACTIVE_REMOVE: Activity =
        ("Remove member from group in PIM completed", "GroupManagement", "PIM", "Delete");
}

/// One change to the directory, as delta queries report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A member was added to (`true`) or removed from (`false`) a group.
    Membership { group: Guid, member: Guid, added: bool },
    /// An object was created, or its properties changed.
    Updated { object: Guid },
    /// An object was deleted (it is no longer in the tenant; its kind is kept for the delta it appears in).
    Removed { object: Guid, kind: ObjectKind },
}

impl Change {
    /// The object whose delta entry this change appears in.
    pub(crate) fn object(&self) -> &Guid {
        match self {
            Change::Membership { group, .. } => group,
            Change::Updated { object } | Change::Removed { object, .. } => object,
        }
    }
}

impl World {
    pub(crate) fn new(tenant: TenantFile, license_override: Option<License>) -> Self {
        let license = license_override.unwrap_or(tenant.tenant.license);
        let mut world = World {
            tenant,
            license,
            objects: HashMap::new(),
            member_of: HashMap::new(),
            changes: Vec::new(),
            minted: 0,
            generation: new_generation(),
        };
        world.reindex();
        world
    }

    pub(crate) fn reindex(&mut self) {
        let t = &self.tenant;
        let mut objects = HashMap::new();
        for (i, u) in t.users.iter().enumerate() {
            objects.insert(u.id.clone(), (ObjectKind::User, i));
        }
        for (i, g) in t.groups.iter().enumerate() {
            objects.insert(g.id.clone(), (ObjectKind::Group, i));
        }
        for (i, s) in t.service_principals.iter().enumerate() {
            objects.insert(s.id.clone(), (ObjectKind::ServicePrincipal, i));
        }
        for (i, a) in t.applications.iter().enumerate() {
            objects.insert(a.id.clone(), (ObjectKind::Application, i));
        }
        let mut member_of: HashMap<Guid, Vec<Guid>> = HashMap::new();
        for g in &t.groups {
            for m in &g.members {
                member_of.entry(m.clone()).or_default().push(g.id.clone());
            }
        }
        self.objects = objects;
        self.member_of = member_of;
    }

    /// A new id, unique in this emulator run and the same for the same run: `n`-th id of `kind`.
    pub(crate) fn mint(&mut self, kind: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        self.minted += 1;
        Sha256::digest(format!("{kind}:{}:{}", self.tenant.tenant.id, self.minted).as_bytes()).into()
    }

    /// Adds `member` to `group`'s direct members and records the change.
    pub(crate) fn add_member(&mut self, group_index: usize, member: Guid) {
        let group = self.tenant.groups[group_index].id.clone();
        self.tenant.groups[group_index].members.push(member.clone());
        self.member_of.entry(member.clone()).or_default().push(group.clone());
        self.changes.push(Change::Membership { group, member, added: true });
    }

    /// Removes `member` from `group`'s direct members and records the change.
    pub(crate) fn remove_member(&mut self, group_index: usize, member: &Guid) {
        let group = self.tenant.groups[group_index].id.clone();
        self.tenant.groups[group_index].members.retain(|m| m != member);
        if let Some(groups) = self.member_of.get_mut(member) {
            groups.retain(|g| *g != group);
        }
        self.changes.push(Change::Membership { group, member: member.clone(), added: false });
    }

    /// Adds an entry to the directory audit log, timed now, naming the objects `targets` (looked up now, so an
    /// object about to be deleted keeps its name) and the app `app_id` that made the change, in Graph's shape.
    pub(crate) fn audit(&mut self, app_id: &str, activity: Activity, targets: &[&Guid]) {
        let (activity, category, service, operation) = activity;
        let targets: Vec<serde_json::Value> = targets
            .iter()
            .map(|id| {
                let object = self.object(id);
                let text = |p: &str| object.map(|o| o.get(p)).unwrap_or(serde_json::Value::Null);
                let kind = self.target_type(id);
                serde_json::json!({
                    "id": id.as_str(),
                    "displayName": text("displayName"),
                    "type": kind,
                    "userPrincipalName": if kind == "User" { text("userPrincipalName") } else { serde_json::Value::Null },
                    "groupType": null,
                    "modifiedProperties": [],
                })
            })
            .collect();
        let n = self.tenant.directory_audits.len();
        let id = Guid::derived(&format!("audit:{}:{}:{n}", self.tenant.tenant.id, self.generation));
        let app = self.tenant.apps.iter().find(|x| x.client_id.as_str() == app_id);
        let entry = crate::json::as_object(serde_json::json!({
            "id": id.as_str(),
            "category": category,
            "correlationId": id.as_str(),
            "result": "success",
            "resultReason": "",
            "activityDisplayName": activity,
            "activityDateTime": crate::clock::now().to_string(),
            "loggedByService": service,
            "operationType": operation,
            "initiatedBy": {
                "user": null,
                "app": {
                    "appId": app_id,
                    "displayName": app.map(|x| x.display_name.as_str()),
                    "servicePrincipalId": app.map(|x| x.service_principal_id.as_str()),
                    "servicePrincipalName": null,
                },
            },
            "targetResources": targets,
            "additionalDetails": [],
        }));
        self.tenant.directory_audits.push(entry);
    }

    /// The audit target type of the object `id`.
    pub(crate) fn target_type(&self, id: &Guid) -> &'static str {
        match self.objects.get(id).map(|(k, _)| *k) {
            Some(ObjectKind::Application) => "Application",
            Some(kind) => kind.principal_type(),
            None => "Other",
        }
    }

    /// Records that the object `id` was created or its properties changed.
    pub(crate) fn touched(&mut self, id: Guid) {
        self.changes.push(Change::Updated { object: id });
    }

    /// Deletes the directory object `id` and every link to it, as the directory does: its memberships (recorded as
    /// member removals), ownerships, app role assignments, delegated grants, directory role assignments and
    /// schedules, PIM for groups. Azure role assignments stay (ARM shows them with an unknown principal).
    /// Returns the object's kind, or `None` when there is no such object.
    pub(crate) fn remove_object(&mut self, id: &Guid) -> Option<ObjectKind> {
        let (kind, index) = self.objects.get(id).copied()?;
        for gi in 0..self.tenant.groups.len() {
            if self.tenant.groups[gi].members.contains(id) {
                self.remove_member(gi, id);
            }
        }
        let t = &mut self.tenant;
        for g in &mut t.groups {
            g.owners.retain(|o| o != id);
        }
        for s in &mut t.service_principals {
            s.owners.retain(|o| o != id);
        }
        for a in &mut t.applications {
            a.owners.retain(|o| o != id);
        }
        t.app_role_assignments.retain(|a| &a.principal_id != id && &a.resource_id != id);
        t.oauth2_permission_grants
            .retain(|g| &g.client_id != id && &g.resource_id != id && g.principal_id.as_ref() != Some(id));
        t.directory_role_assignments.retain(|a| &a.principal_id != id);
        t.directory_role_eligibilities.retain(|a| &a.principal_id != id);
        t.directory_role_activations.retain(|a| &a.principal_id != id);
        t.group_eligibilities.retain(|a| &a.principal_id != id && &a.group_id != id);
        t.group_assignments.retain(|a| &a.principal_id != id && &a.group_id != id);
        match kind {
            ObjectKind::User => {
                t.users.remove(index);
                for u in &mut t.users {
                    if u.manager.as_ref() == Some(id) {
                        u.manager = None;
                    }
                }
            }
            ObjectKind::Group => {
                t.groups.remove(index);
            }
            ObjectKind::ServicePrincipal => {
                t.service_principals.remove(index);
            }
            ObjectKind::Application => {
                t.applications.remove(index);
            }
        }
        self.reindex();
        self.changes.push(Change::Removed { object: id.clone(), kind });
        Some(kind)
    }

    /// Groups `id` belongs to, directly or through nested groups.
    pub(crate) fn transitive_groups(&self, id: &Guid) -> HashSet<Guid> {
        let mut seen = HashSet::new();
        let mut stack = vec![id.clone()];
        while let Some(next) = stack.pop() {
            for g in self.member_of.get(&next).into_iter().flatten() {
                if seen.insert(g.clone()) {
                    stack.push(g.clone());
                }
            }
        }
        seen
    }

    /// The directory object `id`, whatever its kind.
    pub(crate) fn object(&self, id: &Guid) -> Option<&dyn DirectoryObject> {
        let (kind, i) = self.objects.get(id)?;
        let t = &self.tenant;
        Some(match kind {
            ObjectKind::User => &t.users[*i] as &dyn DirectoryObject,
            ObjectKind::Group => &t.groups[*i],
            ObjectKind::ServicePrincipal => &t.service_principals[*i],
            ObjectKind::Application => &t.applications[*i],
        })
    }

    /// Every object below `group` through nested groups, nested groups included, each once.
    pub(crate) fn transitive_members(&self, group: &Guid) -> Vec<Guid> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut stack = vec![group.clone()];
        while let Some(g) = stack.pop() {
            let Some((ObjectKind::Group, i)) = self.objects.get(&g) else { continue };
            for m in &self.tenant.groups[*i].members {
                if seen.insert(m.clone()) {
                    out.push(m.clone());
                    stack.push(m.clone());
                }
            }
        }
        out
    }

    /// Reads under `lock`, whether or not a writer panicked (the world is rebuilt whole by every write).
    pub(crate) fn read(lock: &RwLock<World>) -> RwLockReadGuard<'_, World> {
        lock.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes under `lock`, whether or not an earlier writer panicked.
    pub(crate) fn write(lock: &RwLock<World>) -> RwLockWriteGuard<'_, World> {
        lock.write().unwrap_or_else(PoisonError::into_inner)
    }
}
