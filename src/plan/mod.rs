//! Provisioning plans: values built offline from snapshots (drift to revert, unused access, review decisions),
//! saved as versioned JSON, validated when read back. Building a plan has no side effects; `apply` executes one.

mod build;
mod review_csv;

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{GrantState, Guid, Relation};

pub use build::{from_review, revert, revoke_unused};

/// `kind` of every plan file.
pub const PLAN_KIND: &str = "azsnap-plan";
/// The plan format this build writes and reads.
pub const PLAN_VERSION: u32 = 1;

/// A provisioning plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Always `azsnap-plan`.
    pub kind: String,
    /// The plan format version; this build reads and writes 1.
    pub plan_version: u32,
    /// The azsnap version that built the plan.
    pub tool_version: String,
    /// When the plan was built (RFC 3339, UTC).
    pub created_at: String,
    /// The tenant every action applies to; `apply` refuses credentials for another one.
    pub tenant_id: String,
    pub source: Source,
    /// What to do, in order.
    pub actions: Vec<Action>,
    /// Differences or findings the plan does not act on, and why.
    #[serde(default)]
    pub not_planned: Vec<NotPlanned>,
}

/// Where a plan came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `revert`, `revoke-unused` or `from-review`.
    pub command: String,
    /// The snapshots it was built from.
    pub snapshots: Vec<SnapshotUsed>,
    /// The review sheet, for `from-review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<FileUsed>,
    /// The options it was built with.
    #[serde(default)]
    pub options: serde_json::Value,
}

/// A snapshot a plan was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotUsed {
    /// `baseline`, `current` or `snapshot`.
    pub role: String,
    pub file: String,
    pub fingerprint: String,
    /// When its collection finished.
    pub collected_at: Option<String>,
}

/// A file a plan was built from, with its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileUsed {
    pub file: String,
    pub sha256: String,
}

/// The live state `apply` expects to find before it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    /// The access is there: the action removes it.
    Present,
    /// The access is not there: the action adds it.
    Absent,
}

impl Expectation {
    /// What `operation` must find: its access present to remove it, absent to add it.
    pub fn of(operation: Operation) -> Self {
        if operation.removes() { Expectation::Present } else { Expectation::Absent }
    }

    /// The word a plan file says.
    pub fn as_str(self) -> &'static str {
        match self {
            Expectation::Present => "present",
            Expectation::Absent => "absent",
        }
    }
}

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Add the principal to the target group (Graph `POST /groups/{id}/members/$ref`).
    GroupMemberAdd,
    /// Remove the principal from the target group (`DELETE /groups/{id}/members/{principal}/$ref`).
    GroupMemberRemove,
    /// Make the principal an owner of the target group (`POST /groups/{id}/owners/$ref`).
    GroupOwnerAdd,
    /// Remove the principal from the target group's owners (`DELETE /groups/{id}/owners/{principal}/$ref`).
    GroupOwnerRemove,
    /// Assign the app role `role` of the target service principal (`POST /servicePrincipals/{id}/appRoleAssignedTo`).
    AppRoleAssign,
    /// Remove that app role assignment (`DELETE /servicePrincipals/{id}/appRoleAssignedTo/{assignment}`).
    AppRoleRevoke,
    /// Assign the directory role `role` at `scope`, active (`POST /roleManagement/directory/roleAssignments`).
    DirectoryRoleAdd,
    /// Remove that active directory role assignment (`DELETE /roleManagement/directory/roleAssignments/{id}`).
    DirectoryRoleRemove,
    /// Create an Azure role assignment of `role` at `scope` (ARM `PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`).
    AzureRoleCreate,
    /// Delete that Azure role assignment (ARM `DELETE …/roleAssignments/{name}`).
    AzureRoleDelete,
}

impl Operation {
    pub const ALL: &[Operation] = &[
        Operation::GroupMemberAdd,
        Operation::GroupMemberRemove,
        Operation::GroupOwnerAdd,
        Operation::GroupOwnerRemove,
        Operation::AppRoleAssign,
        Operation::AppRoleRevoke,
        Operation::DirectoryRoleAdd,
        Operation::DirectoryRoleRemove,
        Operation::AzureRoleCreate,
        Operation::AzureRoleDelete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::GroupMemberAdd => "group_member_add",
            Operation::GroupMemberRemove => "group_member_remove",
            Operation::GroupOwnerAdd => "group_owner_add",
            Operation::GroupOwnerRemove => "group_owner_remove",
            Operation::AppRoleAssign => "app_role_assign",
            Operation::AppRoleRevoke => "app_role_revoke",
            Operation::DirectoryRoleAdd => "directory_role_add",
            Operation::DirectoryRoleRemove => "directory_role_remove",
            Operation::AzureRoleCreate => "azure_role_create",
            Operation::AzureRoleDelete => "azure_role_delete",
        }
    }

    /// Whether the action takes access away (and so expects it present).
    pub fn removes(self) -> bool {
        matches!(
            self,
            Operation::GroupMemberRemove
                | Operation::GroupOwnerRemove
                | Operation::AppRoleRevoke
                | Operation::DirectoryRoleRemove
                | Operation::AzureRoleDelete
        )
    }

    /// The grant relation the operation changes.
    pub fn relation(self) -> Relation {
        match self {
            Operation::GroupMemberAdd | Operation::GroupMemberRemove => Relation::Member,
            Operation::GroupOwnerAdd | Operation::GroupOwnerRemove => Relation::Owner,
            Operation::AppRoleAssign | Operation::AppRoleRevoke => Relation::AppRole,
            Operation::DirectoryRoleAdd | Operation::DirectoryRoleRemove => Relation::DirectoryRole,
            Operation::AzureRoleCreate | Operation::AzureRoleDelete => Relation::AzureRole,
        }
    }

    /// The operation that adds (`remove = false`) or removes an active grant of `relation` on a target of
    /// `target_kind`, or why there is none.
    pub fn for_grant(
        relation: Relation,
        state: GrantState,
        target_kind: &str,
        remove: bool,
    ) -> Result<Operation, String> {
        if state != GrantState::Active {
            return Err("PIM eligibility is not changed by plans yet".to_owned());
        }
        let (add, del) = match relation {
            Relation::Member if target_kind == "group" => (Operation::GroupMemberAdd, Operation::GroupMemberRemove),
            Relation::Owner if target_kind == "group" => (Operation::GroupOwnerAdd, Operation::GroupOwnerRemove),
            Relation::Owner => return Err("ownership of applications is not changed by plans yet".to_owned()),
            Relation::AppRole => (Operation::AppRoleAssign, Operation::AppRoleRevoke),
            Relation::DirectoryRole => (Operation::DirectoryRoleAdd, Operation::DirectoryRoleRemove),
            Relation::AzureRole => (Operation::AzureRoleCreate, Operation::AzureRoleDelete),
            Relation::Delegated => return Err("delegated permission grants are not changed by plans yet".to_owned()),
            Relation::Member => return Err(format!("a `member` grant on a {target_kind} cannot be planned")),
        };
        Ok(if remove { del } else { add })
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A directory object, resource or role named by an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Object {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// What tells a principal apart from others of its name: a user's UPN, a service principal's application id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// An Azure resource's names from its resource group down (`rg-app/stdata/c1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Object {
    /// A principal as people are shown it: `Ben Jansen (ben@contoso.com)`, or the name alone.
    pub fn label(&self) -> String {
        match &self.detail {
            Some(d) if !d.eq_ignore_ascii_case(&self.name) => format!("{} ({d})", self.name),
            _ => self.name.clone(),
        }
    }

    /// A target as people are shown it: an Azure resource by its path (`rg-app/stdata/c1`), else its name.
    pub fn place(&self) -> &str {
        self.path.as_deref().unwrap_or(&self.name)
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Stable id: derived from the operation and what it acts on, so rebuilding a plan gives the same ids.
    pub id: String,
    pub operation: Operation,
    /// Who gains or loses access.
    pub principal: Object,
    /// The group, service principal, tenant or Azure scope it is on.
    pub target: Object,
    /// The app role, directory role or Azure role; absent for membership and ownership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Object>,
    /// Directory scope (`/`, `/administrativeUnits/{id}`) or ARM scope (lower case); absent when none applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Why the plan does this.
    pub reason: String,
    /// The live state `apply` expects before acting: `present` (to remove) or `absent` (to add).
    pub expects: Expectation,
    /// Whether the access is privileged (`queries/privileged_roles.json`).
    pub privileged: bool,
    /// The assignment id seen in the snapshot, a hint for `apply` (which looks the live one up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<String>,
    /// Who decided it, from the review sheet's `reviewer` column (`from-review`); carried into the apply journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
}

impl Action {
    /// The stable id of an action on these ids.
    pub fn stable_id(operation: Operation, principal: &str, target: &str, role: &str, scope: &str) -> String {
        let mut h = Sha256::new();
        for part in [operation.as_str(), principal, target, role, scope] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        format!("a-{}", crate::model::hex(&digest[..6]))
    }

    /// One line for people: `remove Erin Guest (erin@fabrikam.com) from group Tier0 Admins`.
    pub fn describe(&self) -> String {
        let role = self.role.as_ref().map_or("", |r| r.name.as_str());
        let on = self.target.place();
        let p = &self.principal.label();
        match self.operation {
            Operation::GroupMemberAdd => format!("add {p} to group {on}"),
            Operation::GroupMemberRemove => format!("remove {p} from group {on}"),
            Operation::GroupOwnerAdd => format!("make {p} an owner of group {on}"),
            Operation::GroupOwnerRemove => format!("remove {p} from the owners of group {on}"),
            Operation::AppRoleAssign => format!("assign app role {role} of {on} to {p}"),
            Operation::AppRoleRevoke => format!("revoke app role {role} of {on} from {p}"),
            Operation::DirectoryRoleAdd => format!("assign directory role {role} to {p}"),
            Operation::DirectoryRoleRemove => format!("remove directory role {role} from {p}"),
            Operation::AzureRoleCreate => format!("assign {role} on {on} to {p}"),
            Operation::AzureRoleDelete => format!("remove {role} on {on} from {p}"),
        }
    }
}

/// A difference or finding the plan leaves alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotPlanned {
    pub what: String,
    pub reason: String,
}

/// Why a plan file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{path}: cannot read: {detail}")]
    Read { path: String, detail: String },
    #[error("{path}: not a plan: {detail}")]
    Malformed { path: String, detail: String },
    #[error("{path}: plan version {found} is not one this build reads (it reads {PLAN_VERSION})")]
    Version { path: String, found: String },
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl PlanError {
    /// Whether the error is about an input file (exit 3) rather than the command line.
    pub fn is_bad_input(&self) -> bool {
        match self {
            PlanError::Store(e) => e.is_bad_input(),
            _ => true,
        }
    }
}

impl Plan {
    /// The JSON Schema of the plan format (`docs/plan.schema.json`).
    pub fn schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Plan)).unwrap_or_default()
    }

    /// Reads and validates a plan file.
    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let bytes = crate::files::read(path, crate::files::limit::PLAN)
            .map_err(|e| PlanError::Read { path: path.display().to_string(), detail: e.why })?;
        Plan::from_bytes(path, &bytes)
    }

    /// Parses and validates the plan file `path` whose bytes are `bytes`.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Plan, PlanError> {
        let shown = path.display().to_string();
        let text = std::str::from_utf8(bytes)
            .map_err(|_| PlanError::Malformed { path: shown.clone(), detail: "not UTF-8 text".to_owned() })?;
        Plan::parse(text.trim_start_matches('\u{feff}')).map_err(|e| match e {
            PlanError::Malformed { detail, .. } => PlanError::Malformed { path: shown.clone(), detail },
            PlanError::Version { found, .. } => PlanError::Version { path: shown.clone(), found },
            other => other,
        })
    }

    /// Parses and validates plan JSON.
    pub fn parse(text: &str) -> Result<Plan, PlanError> {
        let bad = |detail: String| PlanError::Malformed { path: String::new(), detail };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        if value.get("kind").and_then(|k| k.as_str()) != Some(PLAN_KIND) {
            return Err(bad(format!("`kind` is not \"{PLAN_KIND}\"")));
        }
        match value.get("plan_version") {
            Some(v) if v.as_u64() == Some(u64::from(PLAN_VERSION)) => {}
            Some(v) => return Err(PlanError::Version { path: String::new(), found: v.to_string() }),
            None => return Err(bad("no `plan_version`".to_owned())),
        }
        let mut plan: Plan = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        plan.normalise();
        plan.validate().map_err(bad)?;
        Ok(plan)
    }

    /// Puts every id in its canonical form: GUIDs and ARM ids compare case-insensitively, so a plan that spells
    /// them in upper case names the same objects, and everything after reading (the tenant check, the lockout
    /// guard, the journal) compares canonical ids only. Run before [`Plan::validate`].
    pub fn normalise(&mut self) {
        self.tenant_id = self.tenant_id.to_ascii_lowercase();
        for a in &mut self.actions {
            a.principal.id = a.principal.id.to_ascii_lowercase();
            if let Some(role) = &mut a.role {
                role.id = role.id.to_ascii_lowercase();
            }
            if a.operation.relation() == Relation::AzureRole {
                a.target.id = a.target.id.to_ascii_lowercase();
                a.scope = a.scope.as_deref().map(str::to_ascii_lowercase);
            } else {
                if Guid::is_guid(&a.target.id) {
                    a.target.id = a.target.id.to_ascii_lowercase();
                }
                a.scope = a.scope.as_deref().map(normalise_directory_scope);
            }
        }
    }

    /// Checks what serde cannot: ids are GUIDs, scopes are well-formed, action ids are unique, each action names
    /// what its operation needs.
    pub fn validate(&self) -> Result<(), String> {
        self.tenant_id.parse::<Guid>().map_err(|_| format!("tenant_id {:?} is not a GUID", self.tenant_id))?;
        let mut seen = std::collections::HashSet::new();
        for a in &self.actions {
            let at = |m: String| format!("action {}: {m}", a.id);
            if a.id.is_empty() || !seen.insert(a.id.as_str()) {
                return Err(format!("action id {:?} is empty or repeated", a.id));
            }
            a.principal
                .id
                .parse::<Guid>()
                .map_err(|_| at(format!("principal id {:?} is not a GUID", a.principal.id)))?;
            let relation = a.operation.relation();
            match relation {
                Relation::Member | Relation::Owner | Relation::AppRole => {
                    a.target
                        .id
                        .parse::<Guid>()
                        .map_err(|_| at(format!("target id {:?} is not a GUID", a.target.id)))?;
                }
                Relation::AzureRole => {
                    let scope = a.scope.as_deref().unwrap_or_default();
                    if !valid_arm_scope(scope) || a.target.id != scope {
                        return Err(at(format!("Azure scope {scope:?} is not an ARM scope equal to the target id")));
                    }
                }
                _ => {
                    let scope = a.scope.as_deref().unwrap_or_default();
                    if !scope.starts_with('/') || scope.contains("..") || scope.contains(['?', '#', ' ']) {
                        return Err(at(format!("directory scope {scope:?} is not valid")));
                    }
                }
            }
            if matches!(relation, Relation::AppRole | Relation::DirectoryRole | Relation::AzureRole) {
                let role = a.role.as_ref().ok_or_else(|| at(format!("{} needs a role", a.operation)))?;
                role.id.parse::<Guid>().map_err(|_| at(format!("role id {:?} is not a GUID", role.id)))?;
            }
            let want = Expectation::of(a.operation);
            if a.expects != want {
                return Err(at(format!("{} expects {:?}, not {:?}", a.operation, want.as_str(), a.expects.as_str())));
            }
        }
        Ok(())
    }
}

/// A directory scope with its GUID segments in lower case (`/administrativeUnits/{id}`, `/{appId}`); the rest of
/// the path is kept as written (Graph's segment names are case-sensitive).
fn normalise_directory_scope(scope: &str) -> String {
    scope
        .split('/')
        .map(|seg| if Guid::is_guid(seg) { seg.to_ascii_lowercase() } else { seg.to_owned() })
        .collect::<Vec<_>>()
        .join("/")
}

/// An ARM scope azsnap will put into a URL: `/`, or segments of letters, digits and `-._()` under
/// `/subscriptions/`, `/providers/microsoft.management/managementgroups/`; no `..`, query or fragment.
pub fn valid_arm_scope(scope: &str) -> bool {
    if scope == "/" {
        return true;
    }
    let ok_chars = scope.chars().all(|c| c.is_ascii_alphanumeric() || "/-._()".contains(c));
    ok_chars
        && !scope.contains("..")
        && !scope.contains("//")
        && !scope.ends_with('/')
        && (scope.starts_with("/subscriptions/")
            || scope.starts_with("/providers/microsoft.management/managementgroups/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_round_trip_and_pair_up() {
        for op in Operation::ALL {
            let json = serde_json::to_string(op).unwrap();
            assert_eq!(json, format!("\"{}\"", op.as_str()));
            let add = Operation::for_grant(op.relation(), GrantState::Active, "group", false).unwrap();
            let del = Operation::for_grant(op.relation(), GrantState::Active, "group", true).unwrap();
            assert!(!add.removes() && del.removes());
            assert!(*op == add || *op == del);
        }
        assert!(Operation::for_grant(Relation::AzureRole, GrantState::Eligible, "", true).is_err());
        assert!(Operation::for_grant(Relation::Owner, GrantState::Active, "service_principal", true).is_err());
        assert!(Operation::for_grant(Relation::Delegated, GrantState::Active, "service_principal", true).is_err());
    }

    #[test]
    fn stable_ids_depend_on_every_part() {
        let base = Action::stable_id(Operation::GroupMemberRemove, "p", "t", "", "");
        assert_eq!(base, Action::stable_id(Operation::GroupMemberRemove, "p", "t", "", ""));
        assert_ne!(base, Action::stable_id(Operation::GroupMemberAdd, "p", "t", "", ""));
        assert_ne!(base, Action::stable_id(Operation::GroupMemberRemove, "p", "t2", "", ""));
        assert_ne!(
            Action::stable_id(Operation::GroupMemberRemove, "ab", "c", "", ""),
            Action::stable_id(Operation::GroupMemberRemove, "a", "bc", "", "")
        );
    }

    #[test]
    fn arm_scopes_are_checked_before_they_reach_a_url() {
        assert!(valid_arm_scope("/subscriptions/5000/resourcegroups/rg-app"));
        assert!(valid_arm_scope("/providers/microsoft.management/managementgroups/mg-prod"));
        assert!(valid_arm_scope("/"));
        for bad in [
            "",
            "subscriptions/x",
            "/subscriptions/x/../y",
            "/subscriptions/x?api-version=1",
            "https://evil/x",
            "/subscriptions/x/",
            "/other/x",
        ] {
            assert!(!valid_arm_scope(bad), "{bad}");
        }
    }
}
