//! `azsnap info`: the JSON interface scripts rely on, and the table for people.

use azsnap::exit_code;
use azsnap::model::{PrincipalKind, ResourceKind};

use crate::common::{TestEnv, sample};

#[test]
fn json_reports_meta_parts_and_counts_of_what_was_written() {
    let env = TestEnv::new();
    let finished = sample::write_sample(&env.path("s.db"));
    let run = env.run(&["info", "s.db", "--format", "json"]);
    run.expect_code(exit_code::SUCCESS);
    let j = run.json();

    assert_eq!(j["format_version"], azsnap::store::FORMAT.to_string());
    assert_eq!(j["tenant_id"], sample::TENANT);
    assert_eq!(j["tenant_name"], "Contoso");
    assert_eq!(j["complete"], true);
    assert_eq!(j["fingerprint"], finished.fingerprint.as_str());
    assert_eq!(j["started_at"], "2026-11-26T07:00:00Z");
    assert_eq!(j["finished_at"], "2026-11-26T07:05:00Z");
    assert_eq!(j["options"]["mailbox_settings"], true);
    assert_eq!(j["parts"]["users"], "complete");
    assert_eq!(j["parts"]["pim"], "unavailable: license");
    assert_eq!(j["parts"]["containers"], "skipped: option");
    assert_eq!(j["request_stats"][0]["requests"], 12);

    let b = sample::batch();
    let principals = |k: PrincipalKind| b.principals.iter().filter(|p| p.kind == k).count();
    let resources = |k: ResourceKind| b.resources.iter().filter(|r| r.kind == k).count();
    let c = &j["counts"];
    for (key, want) in [
        ("users", principals(PrincipalKind::User)),
        ("groups", principals(PrincipalKind::Group)),
        ("service_principals", principals(PrincipalKind::ServicePrincipal)),
        ("managed_identities", principals(PrincipalKind::ManagedIdentity)),
        ("subscriptions", resources(ResourceKind::Subscription)),
        ("resource_groups", resources(ResourceKind::ResourceGroup)),
        ("storage_accounts", resources(ResourceKind::StorageAccount)),
        ("containers", resources(ResourceKind::Container)),
        ("role_definitions", b.role_definitions.len()),
        ("grants", b.grants.len()),
    ] {
        assert_eq!(c[key], want as u64, "counts.{key}");
    }
    assert_eq!(c["grants_by_relation"]["azure_role"], 2);
}

#[test]
fn table_names_tenant_fingerprint_and_parts() {
    let env = TestEnv::new();
    let finished = sample::write_sample(&env.path("s.db"));
    let run = env.run(&["info", "s.db"]);
    run.expect_code(exit_code::SUCCESS);
    for want in
        ["Contoso (7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f)", finished.fingerprint.as_str(), "unavailable: license"]
    {
        assert!(run.stdout.contains(want), "{want} missing from:\n{}", run.stdout);
    }
    assert!(run.stderr.is_empty(), "a complete snapshot has no warnings: {}", run.stderr);
}

#[test]
fn partial_snapshot_is_reported_with_warnings() {
    use azsnap::model::{Part, PartStatus};
    use azsnap::store::SnapshotWriter;

    let env = TestEnv::new();
    let mut w = SnapshotWriter::create(&env.path("p.db"), &sample::new_snapshot(), false).unwrap();
    w.write(&sample::batch()).unwrap();
    let denied = Part {
        name: "sign_in_activity".to_owned(),
        status: PartStatus::Denied,
        detail: Some("missing permission AuditLog.Read.All".to_owned()),
        objects: 0,
    };
    w.set_part(&denied).unwrap();
    w.finish("2026-11-26T07:05:00Z".parse().unwrap(), false).unwrap();

    let run = env.run(&["info", "p.db", "--format", "json"]);
    run.expect_code(exit_code::SUCCESS);
    let j = run.json();
    assert_eq!(j["complete"], false);
    assert_eq!(j["parts"]["sign_in_activity"], "denied: missing permission AuditLog.Read.All");
    let warnings = j["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("partial")), "{warnings:?}");

    let quiet = env.run(&["info", "p.db", "--quiet"]);
    quiet.expect_code(exit_code::SUCCESS);
    assert!(quiet.stderr.is_empty(), "--quiet silences warnings: {}", quiet.stderr);
    let loud = env.run(&["info", "p.db"]);
    assert!(loud.stderr.contains("warning: part sign_in_activity denied"), "{}", loud.stderr);
}

#[test]
fn a_format_1_0_file_reads_its_request_stats_without_inner_counts() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("old.db"));
    {
        #[expect(clippy::disallowed_methods, reason = "the test turns a snapshot into a format 1.0 file")]
        let c = rusqlite::Connection::open(env.path("old.db")).unwrap();
        c.execute_batch(
            "ALTER TABLE request_stats DROP COLUMN inner_requests; ALTER TABLE request_stats DROP COLUMN inner_throttled;
             DROP TABLE seal; UPDATE meta SET value = '1.0' WHERE key = 'format_version'; PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let j = env.run(&["info", "old.db", "--format", "json"]).json();
    assert_eq!(j["format_version"], "1.0");
    assert_eq!(j["request_stats"][0]["requests"], 12);
    assert_eq!(j["request_stats"][0]["inner_requests"], 0);
    assert_eq!(j["seal"], serde_json::Value::Null);
    // Verified as before (the data against its fingerprint), with a note that the metadata is not sealed; a
    // trusted key cannot be satisfied by a file that has no seal to sign.
    let verify = env.run(&["verify", "old.db"]);
    verify.expect_code(exit_code::SUCCESS);
    assert!(verify.stderr.contains("format 1.0 predates seals"), "{}", verify.stderr);
}
