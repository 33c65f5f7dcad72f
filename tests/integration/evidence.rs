//! Evidence an auditor can rely on: the seal over metadata and part statuses, Ed25519 signatures (SSHSIG) that
//! `ssh-keygen` accepts, and `verify --key` catching every tamper, re-sealing included.

use std::path::Path;
use std::process::Command;

use azsnap::exit_code;

use crate::bad_input::sql;
use crate::collect::collect;
use crate::common::TestEnv;
use crate::common::emulator::Emu;

/// Whether OpenSSH's `ssh-keygen` can be run here; prints a notice when not.
pub(crate) fn ssh_keygen() -> bool {
    let ok = Command::new("ssh-keygen").arg("-?").output().is_ok();
    if !ok {
        crate::common::notice("ssh-keygen is not installed; the OpenSSH cross-check is skipped");
    }
    ok
}

/// A signing key `name` and `name.pub` made by `azsnap keygen`.
pub(crate) fn keygen(env: &TestEnv, name: &str) {
    env.run(&["keygen", "-o", name, "--comment", "collector@contoso.com"]).expect_code(exit_code::SUCCESS);
}

/// A Contoso snapshot `name`, sealed and signed with `key`.
pub(crate) fn signed_snapshot(env: &TestEnv, name: &str, key: &str) {
    collect(env, &Emu::contoso(), name, &["--signing-key", key]).expect_code(exit_code::SUCCESS);
}

fn one(path: &Path, query: &str) -> String {
    crate::collect::column(path, query).into_iter().next().unwrap_or_default()
}

#[test]
fn keygen_writes_a_secret_only_its_owner_reads_and_never_replaces_one() {
    let env = TestEnv::new();
    let run = env.run(&["keygen", "-o", "k", "--comment", "ci@contoso.com"]);
    run.expect_code(exit_code::SUCCESS);
    assert!(run.stdout.starts_with("SHA256:") && run.stdout.contains("ci@contoso.com (ED25519)"), "{}", run.stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.path("k")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let public = std::fs::read_to_string(env.path("k.pub")).unwrap();
    assert!(public.starts_with("ssh-ed25519 ") && public.trim_end().ends_with("ci@contoso.com"), "{public}");
    let before = std::fs::read(env.path("k")).unwrap();
    env.run(&["keygen", "-o", "k"]).expect_code(exit_code::USAGE);
    assert_eq!(std::fs::read(env.path("k")).unwrap(), before, "an existing key is never replaced");
    if ssh_keygen() {
        let out = Command::new("ssh-keygen").arg("-lf").arg(env.path("k.pub")).output().unwrap();
        let listed = String::from_utf8_lossy(&out.stdout);
        assert!(listed.contains(run.stdout.split_whitespace().next().unwrap()), "{listed}");
    }
}

#[test]
fn a_signed_snapshot_verifies_with_its_key_and_info_names_the_signer() {
    let env = TestEnv::new();
    keygen(&env, "k");
    signed_snapshot(&env, "s.db", "k");
    let run = env.run(&["verify", "s.db", "--key", "k.pub", "--format", "json"]);
    run.expect_code(exit_code::SUCCESS);
    let j = run.json();
    assert_eq!(j["seal"]["status"], "intact");
    assert_eq!(j["signature"]["status"], "valid");
    assert_eq!(j["trusted"], true);
    assert_eq!(j["trusted_as"], "collector@contoso.com");
    let seal = one(&env.path("s.db"), "SELECT sha256 FROM seal");
    assert_eq!(j["seal"]["sha256"], seal.as_str());
    let info = env.run(&["info", "s.db", "--format", "json"]).json();
    assert_eq!(info["seal"], seal.as_str());
    let made = env.run(&["verify", "s.db", "--format", "json"]).json()["signature"]["fingerprint"].clone();
    assert_eq!(info["signed_by"], format!("{} (ED25519)", made.as_str().unwrap()));
    env.run(&["keygen", "-o", "unused"]).expect_code(exit_code::SUCCESS);
    // Another key, an unsigned snapshot: exit 3 with the reason.
    let other = env.run(&["verify", "s.db", "--key", "unused.pub"]);
    other.expect_code(exit_code::BAD_INPUT);
    assert!(other.stderr.contains("which unused.pub does not trust"), "{}", other.stderr);
    collect(&env, &Emu::contoso(), "plain.db", &[]).expect_code(exit_code::SUCCESS);
    env.run(&["verify", "plain.db"]).expect_code(exit_code::SUCCESS);
    let unsigned = env.run(&["verify", "plain.db", "--key", "k.pub"]);
    unsigned.expect_code(exit_code::BAD_INPUT);
    assert!(unsigned.stderr.contains("the snapshot is not signed"), "{}", unsigned.stderr);
    // The same through an allowed-signers file, OpenSSH's format, with a namespace restriction.
    let public = std::fs::read_to_string(env.path("k.pub")).unwrap();
    std::fs::write(env.path("allowed"), format!("# auditors\ncollector@contoso.com namespaces=\"azsnap\" {public}"))
        .unwrap();
    env.run(&["verify", "s.db", "--allowed-signers", "allowed"]).expect_code(exit_code::SUCCESS);
    std::fs::write(env.path("git-only"), format!("collector@contoso.com namespaces=\"git\" {public}")).unwrap();
    env.run(&["verify", "s.db", "--allowed-signers", "git-only"]).expect_code(exit_code::BAD_INPUT);
}

#[test]
fn every_tamper_is_caught_by_verify_with_the_key() {
    let env = TestEnv::new();
    keygen(&env, "k");
    signed_snapshot(&env, "s.db", "k");
    let alice_owner = "DELETE FROM grants WHERE principal_id = '10000000-0000-4000-8000-000000000001' \
                       AND relation = 'azure_role'";
    let cases: &[(&str, &str, &str)] = &[
        ("data", alice_owner, "fingerprint mismatch"),
        ("meta", "UPDATE meta SET value = '2026-01-01T00:00:00Z' WHERE key = 'finished_at'", "meta finished_at"),
        ("tenant name", "UPDATE meta SET value = 'Fabrikam' WHERE key = 'tenant_name'", "meta tenant_name"),
        ("complete", "UPDATE meta SET value = 'false' WHERE key = 'complete'", "meta complete"),
        (
            "part status",
            "UPDATE parts SET status = 'complete', detail = NULL WHERE name = 'mailbox_settings'",
            "parts mailbox_settings",
        ),
        (
            "statistics",
            "UPDATE request_stats SET throttled = throttled + 1 WHERE service = 'graph'",
            "request_stats graph",
        ),
    ];
    for (what, edit, named) in cases {
        let name = format!("{}.db", what.replace(' ', "-"));
        std::fs::copy(env.path("s.db"), env.path(&name)).unwrap();
        sql(&env.path(&name), edit);
        for args in [vec!["verify", &name], vec!["verify", &name, "--key", "k.pub"]] {
            let run = env.run(&args);
            run.expect_code(exit_code::BAD_INPUT);
            assert!(run.stderr.contains(named), "{what}: {}", run.stderr);
        }
        // `info` reads it still, and says that what it shows is not what was collected.
        let info = env.run(&["info", &name]);
        info.expect_code(exit_code::SUCCESS);
        let warned = info.stderr.contains("the metadata was changed after the snapshot was sealed");
        assert_eq!(warned, *what != "data", "{what}: {}", info.stderr);
    }

    // Re-sealed: the data edited, the fingerprint recomputed and written into meta and into the statement, the
    // statement's SHA-256 recomputed. Only the signature can tell.
    std::fs::copy(env.path("s.db"), env.path("resealed.db")).unwrap();
    let path = env.path("resealed.db");
    let old = one(&path, "SELECT value FROM meta WHERE key = 'fingerprint'");
    sql(&path, alice_owner);
    let new = env.run(&["verify", "resealed.db", "--format", "json"]).json()["computed_fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let statement = one(&path, "SELECT statement FROM seal").replace(&old, &new);
    let sha = azsnap::model::sha256_hex(statement.as_bytes());
    {
        #[expect(clippy::disallowed_methods, reason = "the test re-seals a snapshot as an attacker would")]
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute("UPDATE meta SET value = ?1 WHERE key = 'fingerprint'", [&new]).unwrap();
        c.execute("UPDATE seal SET statement = ?1, sha256 = ?2", [&statement, &sha]).unwrap();
    }
    let run = env.run(&["verify", "resealed.db", "--format", "json"]);
    run.expect_code(exit_code::BAD_INPUT);
    let j = run.json();
    assert_eq!(j["seal"]["status"], "intact", "the forgery is self-consistent: {j}");
    assert_eq!(j["signature"]["status"], "invalid");
    // Dropping the signature too leaves a consistent, unsigned file: only a required key catches that.
    sql(&path, "UPDATE seal SET signature = NULL");
    env.run(&["verify", "resealed.db"]).expect_code(exit_code::SUCCESS);
    let keyed = env.run(&["verify", "resealed.db", "--key", "k.pub"]);
    keyed.expect_code(exit_code::BAD_INPUT);
    assert!(keyed.stderr.contains("not signed"), "{}", keyed.stderr);
}

#[test]
fn openssh_accepts_the_snapshot_signature() {
    if !ssh_keygen() {
        return;
    }
    let env = TestEnv::new();
    keygen(&env, "k");
    signed_snapshot(&env, "s.db", "k");
    {
        #[expect(clippy::disallowed_methods, reason = "the test reads the seal as an auditor would, with SQLite")]
        let c = rusqlite::Connection::open(env.path("s.db")).unwrap();
        let (statement, signature): (String, String) =
            c.query_row("SELECT statement, signature FROM seal", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        std::fs::write(env.path("statement.json"), statement).unwrap();
        std::fs::write(env.path("statement.json.sig"), signature).unwrap();
    }
    let public = std::fs::read_to_string(env.path("k.pub")).unwrap();
    std::fs::write(env.path("allowed_signers"), format!("collector@contoso.com {public}")).unwrap();
    let verify = |message: &str| {
        Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f", "allowed_signers", "-I", "collector@contoso.com", "-n", "azsnap"])
            .args(["-s", "statement.json.sig"])
            .current_dir(env.root())
            .stdin(std::fs::File::open(env.path(message)).unwrap())
            .output()
            .unwrap()
    };
    let out = verify("statement.json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Good \"azsnap\" signature"));
    // And OpenSSH refuses an edited statement.
    let edited = std::fs::read_to_string(env.path("statement.json")).unwrap().replace("\"true\"", "\"false\"");
    std::fs::write(env.path("edited.json"), edited).unwrap();
    assert!(!verify("edited.json").status.success());
}

#[test]
fn keys_azsnap_cannot_sign_with_are_refused_before_collecting() {
    let env = TestEnv::new();
    std::fs::write(env.path("junk"), "not a key\n").unwrap();
    let emu = Emu::contoso();
    let run = collect(&env, &emu, "s.db", &["--signing-key", "junk"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stderr.contains("junk: not an OpenSSH private key"), "{}", run.stderr);
    assert!(!env.path("s.db").exists());
    let missing = collect(&env, &emu, "s.db", &["--signing-key", "absent"]);
    missing.expect_code(exit_code::BAD_INPUT);
    if ssh_keygen() {
        let make = |name: &str, extra: &[&str]| {
            let out = Command::new("ssh-keygen").args(["-q", "-f"]).arg(env.path(name)).args(extra).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        };
        make("locked", &["-t", "ed25519", "-N", "passphrase"]);
        let run = collect(&env, &emu, "s.db", &["--signing-key", "locked"]);
        run.expect_code(exit_code::BAD_INPUT);
        assert!(run.stderr.contains("protected by a passphrase"), "{}", run.stderr);
        make("ecdsa", &["-t", "ecdsa", "-N", ""]);
        let run = collect(&env, &emu, "s.db", &["--signing-key", "ecdsa"]);
        run.expect_code(exit_code::BAD_INPUT);
        assert!(run.stderr.contains("Ed25519 keys only"), "{}", run.stderr);
        // An existing OpenSSH Ed25519 key without a passphrase is taken as it is.
        make("mine", &["-t", "ed25519", "-N", "", "-C", "me@contoso.com"]);
        collect(&env, &emu, "s.db", &["--signing-key", "mine"]).expect_code(exit_code::SUCCESS);
        env.run(&["verify", "s.db", "--key", "mine.pub"]).expect_code(exit_code::SUCCESS);
    }
    // The environment variable works as the flag does.
    keygen(&env, "k");
    let vars = crate::collect::creds(&emu);
    let mut vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let key = env.path("k");
    vars.push(("AZSNAP_SIGNING_KEY_FILE", key.to_str().unwrap()));
    env.run_with_env(&["collect", "--endpoint", emu.base.as_str(), "-o", "e.db"], &vars)
        .expect_code(exit_code::SUCCESS);
    env.run(&["verify", "e.db", "--key", "k.pub"]).expect_code(exit_code::SUCCESS);
}

/// Runs `program args…` in `dir`; its success and its stdout and stderr together.
#[cfg(feature = "export")]
fn tool(dir: &Path, program: &str, args: &[&str], stdin: Option<&Path>) -> (bool, String) {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    if let Some(input) = stdin {
        cmd.stdin(std::fs::File::open(dir.join(input)).unwrap());
    }
    let out = cmd.output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
#[cfg(feature = "export")]
fn a_bundle_checks_with_sha256sum_and_ssh_keygen_alone() {
    let env = TestEnv::new();
    keygen(&env, "k");
    signed_snapshot(&env, "s.db", "k");
    let run = env.run(&["export", "s.db", "-o", "bundle", "--include-snapshot", "--signing-key", "k"]);
    run.expect_code(exit_code::SUCCESS);
    let bundle = env.path("bundle");
    assert_eq!(std::fs::read(bundle.join("s.db")).unwrap(), std::fs::read(env.path("s.db")).unwrap());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["other_files"], serde_json::json!(["seal.json", "seal.json.sig", "s.db"]));
    assert_eq!(manifest["snapshot"]["signed_by"], env.run(&["info", "s.db", "--format", "json"]).json()["signed_by"]);
    if Command::new("sha256sum").arg("--version").output().is_ok() {
        let (ok, out) = tool(&bundle, "sha256sum", &["-c", "SHA256SUMS"], None);
        assert!(ok && out.contains("manifest.json: OK") && out.contains("s.db: OK"), "{out}");
        std::fs::write(bundle.join("grants.csv"), "forged\n").unwrap();
        let (ok, out) = tool(&bundle, "sha256sum", &["-c", "SHA256SUMS"], None);
        assert!(!ok && out.contains("grants.csv: FAILED"), "{out}");
    } else {
        crate::common::notice("sha256sum is not installed; the coreutils cross-check is skipped");
    }
    if ssh_keygen() {
        let public = std::fs::read_to_string(env.path("k.pub")).unwrap();
        std::fs::write(bundle.join("allowed_signers"), format!("collector@contoso.com {public}")).unwrap();
        for (message, sig) in [("SHA256SUMS", "SHA256SUMS.sig"), ("seal.json", "seal.json.sig")] {
            let args =
                ["-Y", "verify", "-f", "allowed_signers", "-I", "collector@contoso.com", "-n", "azsnap", "-s", sig];
            let (ok, out) = tool(&bundle, "ssh-keygen", &args, Some(Path::new(message)));
            assert!(ok && out.contains("Good \"azsnap\" signature"), "{message}: {out}");
        }
    }
}

#[test]
#[cfg(feature = "export")]
fn a_snapshot_that_fails_verify_is_not_exported_unless_allowed() {
    let env = TestEnv::new();
    keygen(&env, "k");
    signed_snapshot(&env, "s.db", "k");
    sql(&env.path("s.db"), "UPDATE meta SET value = 'false' WHERE key = 'complete'");
    let run = env.run(&["export", "s.db", "-o", "bundle"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stderr.contains("the seal is broken") && run.stderr.contains("not exported"), "{}", run.stderr);
    assert!(!env.path("bundle").exists());
    let partials: Vec<_> = std::fs::read_dir(env.root()).unwrap().filter_map(Result::ok).collect();
    assert!(partials.iter().all(|e| !e.file_name().to_string_lossy().contains("partial")), "{partials:?}");
    env.run(&["export", "s.db", "-o", "bundle", "--allow-unverified"]).expect_code(exit_code::SUCCESS);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("bundle/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["allow_unverified"], true);
    assert_eq!(manifest["snapshot"]["verified"], false);
    assert!(manifest["snapshot"]["verification_problem"].as_str().unwrap().contains("meta complete"));
    // An earlier bundle, SHA256SUMS and seal files included, is what --force replaces.
    env.run(&["export", "s.db", "-o", "bundle", "--allow-unverified", "--force"]).expect_code(exit_code::SUCCESS);
}
