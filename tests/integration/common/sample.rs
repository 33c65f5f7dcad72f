//! A small, hand-made tenant written through the real store writer: every kind of row, every relation.

use std::path::Path;

use azsnap::model::{
    Grant, GrantState, Guid, Origin, Part, PartStatus, Principal, PrincipalKind, Relation, RequestStats, Resource,
    ResourceKind, RoleDefinition, RoleKind, Timestamp,
};
use azsnap::store::{Batch, Finished, NewSnapshot, SnapshotWriter};

pub(crate) const TENANT: &str = "7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f";
const SUB: &str = "11111111-1111-4111-8111-111111111111";

pub(crate) fn guid(n: u32) -> Guid {
    format!("00000000-0000-4000-8000-{n:012}").parse().expect("valid guid")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("valid time")
}

pub(crate) fn new_snapshot() -> NewSnapshot {
    NewSnapshot {
        tenant_id: TENANT.parse().expect("tenant guid"),
        tenant_name: Some("Contoso".to_owned()),
        cloud: "public".to_owned(),
        endpoints: serde_json::json!({"graph": "https://graph.microsoft.com"}),
        options: serde_json::json!({"mailbox_settings": true}),
        started_at: ts("2026-11-26T07:00:00Z"),
    }
}

/// Rows of every kind.
pub(crate) fn batch() -> Batch {
    let mut alice = Principal::new(guid(1), PrincipalKind::User, Origin::Collected);
    alice.display_name = Some("Alice".to_owned());
    alice.user_principal_name = Some("alice@contoso.com".to_owned());
    alice.user_type = Some("Member".to_owned());
    alice.account_enabled = Some(true);
    alice.mailbox_purpose = Some("user".to_owned());
    alice.last_sign_in = Some(ts("2026-11-01T10:00:00Z"));
    let mut room = Principal::new(guid(2), PrincipalKind::User, Origin::Collected);
    room.display_name = Some("Room 1".to_owned());
    room.mailbox_purpose = Some("room".to_owned());
    room.account_enabled = Some(false);
    let mut admins = Principal::new(guid(3), PrincipalKind::Group, Origin::Collected);
    admins.display_name = Some("Admins".to_owned());
    admins.security_enabled = Some(true);
    admins.group_types = Some("[]".to_owned());
    admins.is_assignable_to_role = Some(true);
    let mut app = Principal::new(guid(4), PrincipalKind::ServicePrincipal, Origin::Collected);
    app.display_name = Some("Payroll".to_owned());
    app.app_id = Some(guid(40));
    app.service_principal_type = Some("Application".to_owned());
    let mut mi = Principal::new(guid(5), PrincipalKind::ManagedIdentity, Origin::Collected);
    mi.managed_identity_type = Some("user".to_owned());
    mi.managed_identity_resource_id = Some(format!(
        "/subscriptions/{SUB}/resourcegroups/rg1/providers/microsoft.managedidentity/userassignedidentities/mi1"
    ));
    let gone = Principal::new(guid(6), PrincipalKind::Unknown, Origin::Unresolved);

    let sub_id = format!("/subscriptions/{SUB}");
    let rg_id = format!("{sub_id}/resourcegroups/rg1");
    let acct_id = format!("{rg_id}/providers/microsoft.storage/storageaccounts/acct1");
    let mut tenant = Resource::new(TENANT, ResourceKind::Tenant);
    tenant.display_name = Some("Contoso".to_owned());
    let mut mg = Resource::new("/providers/microsoft.management/managementgroups/root", ResourceKind::ManagementGroup);
    mg.parent_id = Some(TENANT.to_owned());
    let mut sub = Resource::new(sub_id.clone(), ResourceKind::Subscription);
    sub.parent_id = Some(mg.id.clone());
    sub.state = Some("Enabled".to_owned());
    sub.subscription_id = Some(SUB.parse().expect("sub guid"));
    let mut rg = Resource::new(rg_id.clone(), ResourceKind::ResourceGroup);
    rg.parent_id = Some(sub_id.clone());
    let mut acct = Resource::new(acct_id.clone(), ResourceKind::StorageAccount);
    acct.parent_id = Some(rg_id.clone());
    acct.attrs = Some(r#"{"kind":"StorageV2"}"#.to_owned());
    let mut container = Resource::new(format!("{acct_id}/blobservices/default/containers/c1"), ResourceKind::Container);
    container.parent_id = Some(acct_id.clone());
    container.attrs = Some(r#"{"public_access":"None"}"#.to_owned());

    let global_admin: Guid = "62e90394-69f5-4237-9190-012177145e10".parse().expect("guid");
    let owner: Guid = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635".parse().expect("guid");
    let mut ga = RoleDefinition::new(RoleKind::Directory, "", global_admin.clone());
    ga.name = Some("Global Administrator".to_owned());
    ga.builtin = Some(true);
    let mut ow = RoleDefinition::new(RoleKind::Azure, "", owner.clone());
    ow.name = Some("Owner".to_owned());
    ow.builtin = Some(true);
    let mut app_role = RoleDefinition::new(RoleKind::App, guid(4).to_string(), guid(41));
    app_role.name = Some("Payroll.Read".to_owned());

    let mut member = Grant::new(guid(1), Relation::Member, guid(3).to_string());
    member.principal_type = Some("User".to_owned());
    let group_owner = Grant::new(guid(4), Relation::Owner, guid(3).to_string());
    let mut dir_role = Grant::new(guid(3), Relation::DirectoryRole, TENANT);
    dir_role.role_id = global_admin.to_string();
    dir_role.scope = "/".to_owned();
    dir_role.source_id = Some("ra-1".to_owned());
    let mut eligible = dir_role.clone();
    eligible.principal_id = guid(1);
    eligible.state = GrantState::Eligible;
    eligible.end_at = Some(ts("2027-01-01T00:00:00Z"));
    eligible.member_type = Some("Direct".to_owned());
    let mut app_grant = Grant::new(guid(2), Relation::AppRole, guid(4).to_string());
    app_grant.role_id = guid(41).to_string();
    let mut rbac = Grant::new(guid(5), Relation::AzureRole, acct_id.clone());
    rbac.role_id = owner.to_string();
    rbac.scope = acct_id;
    rbac.source_id = Some(format!("{rg_id}/providers/microsoft.authorization/roleassignments/x"));
    let mut orphan = Grant::new(guid(6), Relation::AzureRole, sub_id.clone());
    orphan.role_id = owner.to_string();
    orphan.scope = sub_id;
    let mut delegated = Grant::new(guid(4), Relation::Delegated, guid(4).to_string());
    delegated.role_id = "User.Read".to_owned();
    delegated.scope = "/".to_owned();

    Batch {
        principals: vec![alice, room, admins, app, mi, gone],
        resources: vec![tenant, mg, sub, rg, acct, container],
        role_definitions: vec![ga, ow, app_role],
        grants: vec![member, group_owner, dir_role, eligible, app_grant, rbac, orphan, delegated],
        ..Batch::default()
    }
}

/// Writes `batch` as one complete snapshot at `path`.
pub(crate) fn write(path: &Path, batch: &Batch) -> Finished {
    let mut w = SnapshotWriter::create(path, &new_snapshot(), false).expect("create snapshot");
    w.write(batch).expect("write batch");
    for (name, status, detail) in [
        ("users", PartStatus::Complete, None),
        ("pim", PartStatus::Unavailable, Some("license")),
        ("containers", PartStatus::Skipped, Some("option")),
    ] {
        let part = Part { name: name.to_owned(), status, detail: detail.map(str::to_owned), objects: 3 };
        w.set_part(&part).expect("set part");
    }
    let stats = RequestStats { service: "graph".to_owned(), requests: 12, pages: 10, ..Default::default() };
    w.set_request_stats(&[stats]).expect("stats");
    w.finish(ts("2026-11-26T07:05:00Z"), true).expect("finish")
}

/// Writes the sample tenant at `path`.
pub(crate) fn write_sample(path: &Path) -> Finished {
    write(path, &batch())
}
