//! `azsnap access`: effective Azure access computed by an independent model of the tenant file (scopes inherit
//! down the management group → subscription → resource group → resource tree; groups pass their access to
//! their members, nested; PIM-eligible links make the access eligible) must equal what the command reports.

use std::collections::{BTreeMap, BTreeSet};

use azsnap::exit_code;
use serde_json::Value;

use super::snap_arg;
use crate::common::TestEnv;
use crate::common::emulator::contoso_json;

type Grant = (String, String, String); // (principal or target, role id, state)

fn arr<'a>(v: &'a Value, k: &str) -> &'a Vec<Value> {
    v[k].as_array().unwrap()
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_owned()
}

/// The tenant file as a model: every Azure scope with its parent, group members, role assignments.
struct Model {
    parent: BTreeMap<String, String>,
    members: BTreeMap<String, Vec<(String, &'static str)>>,
    assignments: Vec<(String, String, String, &'static str)>, // scope, principal, role, state
}

impl Model {
    fn new(t: &Value) -> Model {
        let mg = |name: &str| format!("/providers/microsoft.management/managementgroups/{name}");
        let root = s(&t["tenant"], "id");
        let mut parent = BTreeMap::new();
        for m in arr(t, "managementGroups") {
            if let Some(p) = m["parent"].as_str() {
                parent.insert(mg(&s(m, "name")), mg(p));
            }
        }
        for sub in arr(t, "subscriptions") {
            let group = sub["managementGroup"].as_str().map_or_else(|| root.clone(), str::to_owned);
            parent.insert(format!("/subscriptions/{}", s(sub, "subscriptionId")), mg(&group));
        }
        let rg = |v: &Value, name: &str| format!("/subscriptions/{}/resourcegroups/{}", s(v, "subscriptionId"), name);
        for g in arr(t, "resourceGroups") {
            parent.insert(rg(g, &s(g, "name")).to_lowercase(), format!("/subscriptions/{}", s(g, "subscriptionId")));
        }
        for a in arr(t, "storageAccounts") {
            let group = rg(a, &s(a, "resourceGroup")).to_lowercase();
            let id = format!("{group}/providers/microsoft.storage/storageaccounts/{}", s(a, "name")).to_lowercase();
            for c in a["containers"].as_array().into_iter().flatten() {
                let name = c["name"].as_str().or(c.as_str()).unwrap();
                parent.insert(format!("{id}/blobservices/default/containers/{name}").to_lowercase(), id.clone());
            }
            parent.insert(id, group);
        }
        for u in arr(t, "userAssignedIdentities") {
            let group = rg(u, &s(u, "resourceGroup")).to_lowercase();
            let id = format!("{group}/providers/microsoft.managedidentity/userassignedidentities/{}", s(u, "name"));
            parent.insert(id.to_lowercase(), group);
        }
        let mut members: BTreeMap<String, Vec<(String, &'static str)>> = BTreeMap::new();
        for g in arr(t, "groups") {
            for m in arr(g, "members") {
                members.entry(s(g, "id")).or_default().push((m.as_str().unwrap().to_owned(), "active"));
            }
        }
        for (key, state) in [("groupEligibilities", "eligible"), ("groupAssignments", "active")] {
            for e in arr(t, key).iter().filter(|e| e["accessId"] == "member") {
                members.entry(s(e, "groupId")).or_default().push((s(e, "principalId"), state));
            }
        }
        let mut assignments = Vec::new();
        for (key, state) in [("roleAssignments", "active"), ("roleEligibilities", "eligible")] {
            for a in arr(t, key) {
                let role = s(a, "roleDefinitionId");
                let role = role.rsplit('/').next().unwrap().to_owned();
                assignments.push((s(a, "scope").to_lowercase(), s(a, "principalId"), role, state));
            }
        }
        Model { parent, members, assignments }
    }

    fn holders(&self, principal: &str, state: &'static str, out: &mut Vec<(String, &'static str)>) {
        out.push((principal.to_owned(), state));
        for (m, link) in self.members.get(principal).into_iter().flatten() {
            self.holders(m, if *link == "eligible" { "eligible" } else { state }, out);
        }
    }

    /// Everyone with an Azure role reaching `resource`: (principal, role, state).
    fn on(&self, resource: &str) -> BTreeSet<Grant> {
        let mut scopes = vec![resource.to_owned()];
        while let Some(p) = self.parent.get(scopes.last().unwrap()) {
            scopes.push(p.clone());
        }
        let mut out = BTreeSet::new();
        for (scope, principal, role, state) in &self.assignments {
            if scopes.contains(scope) {
                let mut hs = Vec::new();
                self.holders(principal, state, &mut hs);
                out.extend(hs.into_iter().map(|(h, st)| (h, role.clone(), st.to_owned())));
            }
        }
        out
    }

    fn resources(&self) -> BTreeSet<String> {
        self.parent.keys().chain(self.parent.values()).cloned().collect()
    }
}

fn access(args: &[&str]) -> Value {
    let env = TestEnv::new();
    let run = env.run(&[&["access", snap_arg()], args, &["--format", "json"]].concat());
    run.expect_code(exit_code::SUCCESS);
    run.json()
}

fn azure(report: &Value, key: &str) -> BTreeSet<Grant> {
    arr(report, "access")
        .iter()
        .filter(|a| a["relation"] == "azure_role")
        .map(|a| (s(a, key), s(a, "role_id"), s(a, "state")))
        .collect()
}

#[test]
fn every_resource_shows_exactly_the_modelled_azure_access() {
    let model = Model::new(&contoso_json());
    let resources = model.resources();
    assert!(resources.len() > 15, "{resources:?}");
    for r in &resources {
        let report = access(&["--resource", r]);
        assert_eq!(s(&report["subject"], "id"), *r);
        assert_eq!(azure(&report, "principal_id"), model.on(r), "access on {r}");
    }
}

#[test]
fn every_principal_reaches_exactly_the_modelled_resources() {
    let model = Model::new(&contoso_json());
    let mut by_principal: BTreeMap<String, BTreeSet<Grant>> = BTreeMap::new();
    for r in model.resources() {
        for (p, role, state) in model.on(&r) {
            by_principal.entry(p).or_default().insert((r.clone(), role, state));
        }
    }
    assert!(by_principal.len() > 10);
    for (principal, want) in &by_principal {
        let report = access(&["--principal", principal]);
        assert_eq!(&azure(&report, "target_id"), want, "access of {principal}");
    }
}

#[test]
fn paths_name_the_groups_in_order_and_mark_inheritance() {
    // Ivan is in Platform On-Call ⊂ Platform Core ⊂ Platform Engineers, which is Contributor on Contoso Platform.
    let report = access(&["--principal", "ivan@contoso.com"]);
    let rg = arr(&report, "access")
        .iter()
        .find(|a| a["target"] == "rg-platform" && a["role"] == "Contributor")
        .expect("Contributor inherited on rg-platform");
    assert_eq!(rg["via"], serde_json::json!(["Platform On-Call", "Platform Core", "Platform Engineers"]), "{rg}");
    let path = rg["path"].as_str().unwrap();
    assert!(path.starts_with(
        "Ivan Oncall → Platform On-Call → Platform Core → Platform Engineers → Contributor on rg-platform"
    ));
    assert!(path.contains("(inherited from Contoso Platform)"), "{path}");
    // His Tier0 Admins membership is PIM-eligible, so everything through it is eligible.
    assert!(arr(&report, "access").iter().filter(|a| a["via"][0] == "Tier0 Admins").all(|a| a["state"] == "eligible"));
}

#[test]
fn principals_and_resources_are_found_by_id_upn_name_and_arm_id() {
    let alice = "10000000-0000-4000-8000-000000000001";
    for how in [alice, "ALICE@contoso.com", "Alice Admin", "alice admin"] {
        assert_eq!(s(&access(&["--principal", how])["subject"], "id"), alice, "{how}");
    }
    let sub = "/subscriptions/50000000-0000-4000-8000-000000000001";
    for how in [
        "50000000-0000-4000-8000-000000000001",
        "/SUBSCRIPTIONS/50000000-0000-4000-8000-000000000001/",
        "Contoso Production",
    ] {
        assert_eq!(s(&access(&["--resource", how])["subject"], "id"), sub, "{how}");
    }
    // A group as a resource: its members and owners.
    let tier0 = access(&["--resource", "Tier0 Admins"]);
    let relations: BTreeSet<String> = arr(&tier0, "access").iter().map(|a| s(a, "relation")).collect();
    assert_eq!(relations, BTreeSet::from(["member".to_owned(), "owner".to_owned()]));
}

#[test]
fn privileged_filter_keeps_only_privileged_roles() {
    let all = access(&["--principal", "Alice Admin"]);
    let privileged = access(&["--principal", "Alice Admin", "--privileged"]);
    let n = arr(&privileged, "access").len();
    assert!(n > 0 && n < arr(&all, "access").len());
    assert!(arr(&privileged, "access").iter().all(|a| a["privileged"] == true));
}

#[test]
fn unknown_and_ambiguous_names_are_usage_errors() {
    let env = TestEnv::new();
    let run = env.run(&["access", snap_arg(), "--principal", "Nobody Here"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("no principal matches \"Nobody Here\""), "{}", run.stderr);
    let run = env.run(&["access", snap_arg(), "--resource", "/subscriptions/00000000-0000-4000-8000-00000000dead"]);
    run.expect_code(exit_code::USAGE);
    let run = env.run(&["access", snap_arg(), "--principal", "x", "--resource", "y"]);
    run.expect_code(exit_code::USAGE);
    let run = env.run(&["access", "missing.db", "--principal", "x"]);
    run.expect_code(exit_code::BAD_INPUT);
    run.expect_one_line_error();
}

#[test]
fn tenant_wide_directory_roles_pass_through_groups_and_eligible_membership() {
    let t = contoso_json();
    let model = Model::new(&t);
    let mut want = BTreeSet::new();
    for (key, state) in [
        ("directoryRoleAssignments", "active"),
        ("directoryRoleActivations", "active"),
        ("directoryRoleEligibilities", "eligible"),
    ] {
        for a in arr(&t, key).iter().filter(|a| a["directoryScopeId"] == "/") {
            let mut hs = Vec::new();
            model.holders(&s(a, "principalId"), state, &mut hs);
            want.extend(hs.into_iter().map(|(h, st)| (h, s(a, "roleDefinitionId"), st.to_owned())));
        }
    }
    let report = access(&["--resource", &s(&t["tenant"], "id")]);
    let got: BTreeSet<Grant> = arr(&report, "access")
        .iter()
        .filter(|a| a["relation"] == "directory_role" && a["scope"] == "/")
        .map(|a| (s(a, "principal_id"), s(a, "role_id"), s(a, "state")))
        .collect();
    assert_eq!(got, want);
    // Ivan's membership of Tier0 Admins is only eligible, so its active User Administrator role is eligible for him.
    assert!(got.contains(&(
        "10000000-0000-4000-8000-000000000014".to_owned(),
        "fe930be7-5e62-47db-91af-98c3a49a38b1".to_owned(),
        "eligible".to_owned()
    )));
}

#[test]
fn an_ambiguous_name_says_how_many_match_and_tells_them_apart() {
    use azsnap::mock::EmulatorOptions;
    // Fourteen users of one name, told apart by their UPNs.
    let emu = crate::collect::contoso_with(
        |t| {
            for n in 0..14 {
                let mut u = t.users[0].clone();
                u.id = format!("10000000-0000-4000-8000-0000000009{n:02}").parse().unwrap();
                u.props.insert("displayName".into(), "Ben Jansen".into());
                u.props.insert("userPrincipalName".into(), format!("ben.jansen{n}@contoso.com").into());
                t.users.push(u);
            }
        },
        EmulatorOptions::default(),
    );
    let env = TestEnv::new();
    crate::collect::collect(&env, &emu, "c.db", &[]).expect_code(exit_code::SUCCESS);
    let run = env.run(&["access", "c.db", "--principal", "ben jansen"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("14 principals match \"ben jansen\"; give an id"), "{}", run.stderr);
    assert!(run.stderr.contains("(user, Ben Jansen, ben.jansen0@contoso.com)"), "{}", run.stderr);
    assert!(run.stderr.contains("… and 4 more"), "{}", run.stderr);
}

/// Graphviz's `dot`, when installed (`.ci/run` installs it).
fn graphviz() -> Option<std::path::PathBuf> {
    let found = std::process::Command::new("dot").arg("-V").output().is_ok_and(|o| o.status.success());
    found.then(|| "dot".into())
}

#[test]
fn the_paths_draw_as_a_graph_that_graphviz_and_mermaid_read() {
    let env = TestEnv::new();
    let dot = env.run(&["access", snap_arg(), "--principal", "ivan@contoso.com", "--format", "dot"]);
    dot.expect_code(exit_code::SUCCESS);
    // Node ids by label, and edges as label pairs.
    let mut names = BTreeMap::new();
    let mut edges = BTreeSet::new();
    for line in dot.stdout.lines().map(str::trim) {
        if let Some((a, b)) = line.split_once(" -> ") {
            edges.insert((a.to_owned(), b.split([' ', ';']).next().unwrap().to_owned()));
        } else if let Some((id, rest)) = line.split_once(" [label=\"") {
            names.insert(id.to_owned(), rest.split('"').next().unwrap().to_owned());
        }
    }
    let edge = |a: &str, b: &str| edges.iter().any(|(x, y)| names[x] == a && names[y] == b);
    // Ivan → Platform On-Call → Platform Core → Platform Engineers → Contributor → the scopes below.
    assert!(edge("Ivan Oncall", "Platform On-Call"), "{}", dot.stdout);
    assert!(edge("Platform On-Call", "Platform Core"), "{}", dot.stdout);
    assert!(edge("Platform Core", "Platform Engineers"), "{}", dot.stdout);
    assert!(edge("Platform Engineers", "Contributor"), "{}", dot.stdout);
    assert!(edge("Contributor", "rg-platform"), "{}", dot.stdout);
    // One node per object: the table's rows through Platform Core share its node.
    assert_eq!(names.values().filter(|n| *n == "Platform Core").count(), 1, "{}", dot.stdout);
    let rows = access(&["--principal", "ivan@contoso.com"]);
    let targets: BTreeSet<String> = arr(&rows, "access").iter().map(|a| s(a, "target")).collect();
    for t in &targets {
        assert!(names.values().any(|n| n == t), "target {t} missing from the graph");
    }
    match graphviz() {
        Some(bin) => {
            let path = env.path("ivan.dot");
            std::fs::write(&path, &dot.stdout).unwrap();
            let svg = std::process::Command::new(bin).args(["-Tsvg"]).arg(&path).output().unwrap();
            assert!(svg.status.success(), "dot rejected the graph: {}", String::from_utf8_lossy(&svg.stderr));
            assert!(String::from_utf8_lossy(&svg.stdout).contains("Platform Engineers"));
        }
        None => azsnap_emulator_harness::notice("Graphviz `dot` is not installed; the DOT output was not rendered"),
    }
    let mermaid = env.run(&["access", snap_arg(), "--principal", "ivan@contoso.com", "--format", "mermaid"]);
    mermaid.expect_code(exit_code::SUCCESS);
    assert!(mermaid.stdout.starts_with("flowchart LR\n"), "{}", mermaid.stdout);
    assert_eq!(mermaid.stdout.lines().filter(|l| l.contains(" -->") || l.contains(" -.->")).count(), edges.len());
}
