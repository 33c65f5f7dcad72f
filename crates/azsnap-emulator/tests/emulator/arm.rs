//! ARM reads: api-version, paging, role-assignment scope semantics, role definitions, PIM, authorisation.

use std::collections::BTreeSet;

use azsnap_emulator::{EmulatorOptions, License};
use serde_json::Value;

use crate::common::emulator::{ARM_SCOPE, Emu, TENANT, contoso_json, contoso_path};

const SUB1: &str = "50000000-0000-4000-8000-000000000001";
const SUB2: &str = "50000000-0000-4000-8000-000000000002";
const V: &str = "api-version=2022-04-01";

fn small_pages() -> Emu {
    Emu::with(EmulatorOptions { arm_page_size: 1, ..EmulatorOptions::default() })
}

/// The chain of scopes above a subscription, read from the file: the subscription, its management groups, `/`.
fn chain(file: &Value, sub: &str) -> Vec<String> {
    let mgs = file["managementGroups"].as_array().unwrap();
    let s = file["subscriptions"].as_array().unwrap().iter().find(|s| s["subscriptionId"] == sub).unwrap();
    let mut out = vec![format!("/subscriptions/{sub}")];
    let mut mg = s["managementGroup"].as_str().unwrap_or(TENANT).to_owned();
    loop {
        out.push(format!("/providers/microsoft.management/managementgroups/{mg}"));
        let parent = mgs.iter().find(|m| m["name"] == mg.as_str()).unwrap()["parent"].clone();
        match parent.as_str() {
            Some(p) => mg = p.to_owned(),
            None => break,
        }
    }
    out
}

/// Role assignment names the file places at, above or below `/subscriptions/{sub}`, per ARM's documented rule.
fn expected(file: &Value, sub: &str, at_scope_only: bool, principal: Option<&str>) -> BTreeSet<String> {
    let above = chain(file, sub);
    let here = format!("/subscriptions/{sub}");
    file["roleAssignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            let scope = a["scope"].as_str().unwrap().to_ascii_lowercase();
            let is_above = above.contains(&scope);
            let is_below = scope.starts_with(&format!("{here}/"));
            (is_above || (!at_scope_only && is_below)) && principal.is_none_or(|p| a["principalId"] == p)
        })
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

fn names(items: &[Value]) -> BTreeSet<String> {
    items.iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn api_version_is_required_and_checked() {
    let emu = Emu::contoso();
    let t = emu.reader(ARM_SCOPE);
    let r = emu.get("/subscriptions", &t);
    assert_eq!((r.status, r.code()), (400, "MissingApiVersionParameter"));
    let r = emu.get("/subscriptions?api-version=latest", &t);
    assert_eq!((r.status, r.code()), (400, "InvalidApiVersionParameter"));
}

#[test]
fn subscriptions_and_resource_groups_page_through_everything() {
    let emu = small_pages();
    let t = emu.reader(ARM_SCOPE);
    let file = contoso_json();
    let subs = emu.walk("/subscriptions?api-version=2022-12-01", &t, &[]);
    let want: Vec<&str> =
        file["subscriptions"].as_array().unwrap().iter().map(|s| s["subscriptionId"].as_str().unwrap()).collect();
    assert_eq!(subs.iter().map(|s| s["subscriptionId"].as_str().unwrap()).collect::<Vec<_>>(), want);
    assert_eq!(subs[2]["state"], "Disabled");
    for sub in want {
        let rgs = emu.walk(&format!("/subscriptions/{sub}/resourcegroups?api-version=2021-04-01"), &t, &[]);
        let want_rgs: Vec<&str> = file["resourceGroups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["subscriptionId"] == sub)
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(rgs.iter().map(|r| r["name"].as_str().unwrap()).collect::<Vec<_>>(), want_rgs);
    }
    let r = emu.get("/subscriptions/50000000-0000-4000-8000-00000000dead/resourcegroups?api-version=2021-04-01", &t);
    assert_eq!((r.status, r.code()), (404, "SubscriptionNotFound"));
    let r = emu.get(
        &format!("/subscriptions/{SUB1}/resourceGroups/nope/providers/Microsoft.Authorization/roleAssignments?{V}"),
        &t,
    );
    assert_eq!((r.status, r.code()), (404, "ResourceGroupNotFound"));
}

#[test]
fn role_assignments_follow_arm_scope_semantics() {
    let emu = small_pages();
    let t = emu.reader(ARM_SCOPE);
    let file = contoso_json();
    let base = format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleAssignments?{V}");
    let all = names(&emu.walk(&base, &t, &[]));
    assert_eq!(all, expected(&file, SUB1, false, None), "no filter: at, above and below");
    assert!(all.len() >= 8, "the fixture exercises every level: {all:?}");
    let at = names(&emu.walk(&format!("{base}&$filter=atScope()"), &t, &[]));
    assert_eq!(at, expected(&file, SUB1, true, None), "atScope(): at and above");
    let bob = "10000000-0000-4000-8000-000000000002";
    let mine = names(&emu.walk(&format!("{base}&$filter=principalId eq '{bob}'"), &t, &[]));
    assert_eq!(mine, expected(&file, SUB1, false, Some(bob)));

    // assignedTo() includes assignments to groups the principal is in (Storage Readers holds one on a storage account).
    let uami = "30000000-0000-4000-8000-000000000007";
    let via_group = names(&emu.walk(&format!("{base}&$filter=assignedTo('{uami}')"), &t, &[]));
    assert_eq!(via_group, BTreeSet::from(["70000000-0000-4000-8000-000000000006".to_owned()]));
    let direct = names(&emu.walk(&format!("/subscriptions/{SUB2}/providers/Microsoft.Authorization/roleAssignments?{V}&$filter=principalId eq '{uami}'"), &t, &[]));
    assert_eq!(direct, BTreeSet::from(["70000000-0000-4000-8000-000000000007".to_owned()]));

    let r = emu.get(&format!("{base}&$filter=atScope() and principalId eq '{bob}'"), &t);
    assert_eq!((r.status, r.code()), (400, "UnsupportedQuery"), "one filter form only");

    // The same assignment at a resource scope is listed below the subscription and at the resource.
    let sa = format!(
        "/subscriptions/{SUB1}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stcontosodata"
    );
    let at_sa = names(&emu.walk(
        &format!("{sa}/providers/Microsoft.Authorization/roleAssignments?{V}&$filter=atScope()"),
        &t,
        &[],
    ));
    assert!(
        at_sa.contains("70000000-0000-4000-8000-000000000006")
            && at_sa.contains("70000000-0000-4000-8000-000000000008")
    );
    assert!(!at_sa.contains("70000000-0000-4000-8000-000000000010"), "rg-app is not above the storage account");
}

#[test]
fn role_definitions_built_in_everywhere_custom_where_assignable() {
    let emu = Emu::contoso();
    let t = emu.reader(ARM_SCOPE);
    let list = |sub: &str, filter: &str| -> BTreeSet<String> {
        emu.walk(
            &format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions?{V}{filter}"),
            &t,
            &[],
        )
        .iter()
        .map(|d| d["properties"]["roleName"].as_str().unwrap().to_owned())
        .collect()
    };
    let sub1 = list(SUB1, "");
    assert!(sub1.contains("Owner") && sub1.contains("Storage Auditor") && !sub1.contains("Legacy VM Operator"));
    let custom3 = list("50000000-0000-4000-8000-000000000003", "&$filter=type eq 'CustomRole'");
    assert_eq!(custom3, BTreeSet::from(["Legacy VM Operator".to_owned()]));
    let r = emu.get(&format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635?{V}"), &t);
    assert_eq!(
        r.body["id"],
        format!(
            "/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
        )
    );
}

#[test]
fn storage_containers_and_identities() {
    let emu = Emu::contoso();
    let t = emu.reader(ARM_SCOPE);
    let accounts = emu.walk(
        &format!("/subscriptions/{SUB1}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01"),
        &t,
        &[],
    );
    let kinds: Vec<&str> = accounts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["StorageV2", "FileStorage"]);
    assert_eq!(accounts[0]["identity"]["principalId"], "30000000-0000-4000-8000-000000000006");
    let rg = format!("/subscriptions/{SUB1}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts");
    let containers =
        emu.walk(&format!("{rg}/stcontosodata/blobServices/default/containers?api-version=2023-05-01"), &t, &[]);
    let public: Vec<(&str, &str)> = containers
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["properties"]["publicAccess"].as_str().unwrap()))
        .collect();
    assert_eq!(public, vec![("reports", "None"), ("public-assets", "Blob"), ("legal", "None")]);
    assert_eq!(containers[2]["properties"]["hasLegalHold"], true);
    let r = emu.get(&format!("{rg}/stcontosofiles/blobServices/default/containers?api-version=2023-05-01"), &t);
    assert_eq!(r.status, 400, "FileStorage accounts have no blob service");
    let ids = emu.walk(
        &format!(
            "/subscriptions/{SUB2}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31"
        ),
        &t,
        &[],
    );
    assert_eq!(ids[0]["properties"]["principalId"], "30000000-0000-4000-8000-000000000007");
}

#[test]
fn management_groups_and_descendants() {
    let emu = Emu::contoso();
    let t = emu.reader(ARM_SCOPE);
    let mgs = emu.walk("/providers/Microsoft.Management/managementGroups?api-version=2021-04-01", &t, &[]);
    assert_eq!(mgs.len(), 3);
    let d = emu.walk(
        "/providers/Microsoft.Management/managementGroups/mg-platform/descendants?api-version=2021-04-01",
        &t,
        &[],
    );
    let names: BTreeSet<&str> = d.iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["mg-prod", SUB1, SUB2]));
}

#[test]
fn azure_pim_needs_p2_and_lists_eligibility() {
    let p1 = Emu::with(EmulatorOptions { license: Some(License::P1), ..EmulatorOptions::default() });
    let t = p1.reader(ARM_SCOPE);
    let path = format!(
        "/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances?api-version=2020-10-01"
    );
    let r = p1.get(&path, &t);
    assert_eq!((r.status, r.code()), (400, "AadPremiumLicenseRequired"));
    let p2 = Emu::contoso();
    let t = p2.reader(ARM_SCOPE);
    let grace = "10000000-0000-4000-8000-000000000012";
    let items = p2.walk(&format!("{path}&$filter=assignedTo('{grace}')"), &t, &[]);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["properties"]["endDateTime"], "2028-06-30T00:00:00Z");
    let all = p2.walk(&format!("/providers/Microsoft.Management/managementGroups/{TENANT}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances?api-version=2020-10-01"), &t, &[]);
    assert_eq!(all.len(), contoso_json()["roleEligibilities"].as_array().unwrap().len());
}

#[test]
fn reads_need_a_role_at_or_above_the_scope() {
    let mut tenant = crate::common::emulator::tenant_file(&contoso_path());
    // The reader loses its tenant-wide Reader role; it keeps nothing in Azure.
    tenant.role_assignments.retain(|a| a.principal_id.as_str() != "30000000-0000-4000-8000-000000000001");
    let emu = Emu::serve(tenant, EmulatorOptions::default());
    let t = emu.reader(ARM_SCOPE);
    let subs = emu.walk("/subscriptions?api-version=2022-12-01", &t, &[]);
    assert!(subs.is_empty(), "a principal with no role sees no subscriptions");
    let r = emu.get(&format!("/subscriptions/{SUB1}/resourcegroups?api-version=2021-04-01"), &t);
    assert_eq!((r.status, r.code()), (403, "AuthorizationFailed"));
}
