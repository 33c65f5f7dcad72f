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
}

/// One change to the directory, as delta queries report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A member was added to (`true`) or removed from (`false`) a group.
    Membership { group: Guid, member: Guid, added: bool },
}

impl Change {
    /// The object whose delta entry this change appears in.
    pub(crate) fn object(&self) -> &Guid {
        match self {
            Change::Membership { group, .. } => group,
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
