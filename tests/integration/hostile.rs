//! Broken and hostile servers: a server in front of the emulator that loops, floods, redirects, stalls, sends
//! malformed items or broken tokens. Every case costs bounded time and memory, names the limit or the fault, and
//! never reports a part complete that was not.

use azsnap::exit_code;
use serde_json::{Value, json};

use crate::collect::{READER, SECRET, column};
use crate::common::emulator::{Emu, GRAPH_SCOPE};
use crate::common::hostile::{Hostile, Seen, Tamper, json as answer};
use crate::common::{Run, TestEnv};

fn users_list(s: &Seen<'_>) -> bool {
    s.method == "GET" && s.path.starts_with("/v1.0/users?") && !s.path.contains("signInActivity")
}

/// A rule that tampers with the users list only.
fn on_users(
    tamper: impl Fn(&Seen<'_>) -> Tamper + Send + Sync + 'static,
) -> impl Fn(&Seen<'_>) -> Tamper + Send + Sync {
    move |s| if users_list(s) { tamper(s) } else { Tamper::Pass }
}

fn collect(env: &TestEnv, h: &Hostile, extra: &[&str]) -> Run {
    let mut args = vec!["collect", "--endpoint", h.base.as_str(), "-o", "s.db"];
    args.extend_from_slice(extra);
    env.run_with_env(
        &args,
        &[("AZURE_TENANT_ID", h.emu.tenant.as_str()), ("AZURE_CLIENT_ID", READER), ("AZURE_CLIENT_SECRET", SECRET)],
    )
}

/// Collects through `rule`: the run ends with `code`, and, when a snapshot was written, it is partial with the
/// users part failed for a reason containing `says` while every other part kept its data.
fn users_part_fails(rule: impl Fn(&Seen<'_>) -> Tamper + Send + Sync + 'static, extra: &[&str], says: &str) {
    let env = TestEnv::new();
    let h = Hostile::new(Emu::contoso(), rule);
    let run = collect(&env, &h, extra);
    run.expect_code(exit_code::INCOMPLETE);
    let users =
        column(&env.path("s.db"), "SELECT status || ': ' || coalesce(detail, '') FROM parts WHERE name = 'users'");
    assert!(users[0].starts_with("failed: ") && users[0].contains(says), "{users:?}");
    let complete = column(&env.path("s.db"), "SELECT value FROM meta WHERE key = 'complete'");
    assert_eq!(complete, ["false"]);
    let groups = column(&env.path("s.db"), "SELECT count(*) FROM principals WHERE kind = 'group'");
    assert_ne!(groups, ["0"], "the other parts' data was thrown away");
}

#[test]
fn a_next_link_back_to_an_earlier_page_is_a_loop() {
    users_part_fails(
        on_users(|s| {
            let again = format!("{}{}", s.base, s.path);
            Tamper::Edit(Box::new(move |v: &mut Value| v["@odata.nextLink"] = json!(again)))
        }),
        &[],
        "repeats an earlier page",
    );
}

#[test]
fn endless_new_links_stop_at_the_page_cap() {
    users_part_fails(
        on_users(|s| {
            let next = format!("{}/v1.0/users?$top=999&$skiptoken=n{}", s.base, s.n);
            Tamper::Answer(answer(200, &json!({"value": [], "@odata.nextLink": next})))
        }),
        &["--max-pages", "20"],
        "past 20 pages",
    );
}

#[test]
fn huge_pages_are_refused_not_buffered() {
    // A million (empty) items: under the body limit, over the item limit.
    users_part_fails(
        on_users(|_| {
            let items = vec![json!({}); 1_000_000];
            Tamper::Answer(answer(200, &json!({ "value": items })))
        }),
        &[],
        "a page of more than 100000 items",
    );
    // 40 MB: over the body limit.
    users_part_fails(
        on_users(|_| Tamper::Answer(answer(200, &json!({ "value": [], "padding": "x".repeat(40 << 20) })))),
        &[],
        "over the 32 MiB limit",
    );
}

#[test]
fn a_redirect_to_another_host_is_refused() {
    users_part_fails(
        on_users(|_| {
            let mut r = answer(302, &Value::Null);
            r.headers_mut().insert("location", "http://127.0.0.2:9/v1.0/users".parse().unwrap());
            Tamper::Answer(r)
        }),
        &[],
        "redirect to another host refused",
    );
}

#[test]
fn malformed_items_fail_their_part_with_a_count() {
    users_part_fails(
        on_users(|_| {
            Tamper::Edit(Box::new(|v: &mut Value| {
                let items = v["value"].as_array_mut().unwrap();
                items.push(json!(5));
                items.push(json!({"id": "../../etc/passwd", "displayName": "x"}));
                items.push(json!({"id": "10000000-0000-4000-8000-0000000000f1", "accountEnabled": "yes"}));
                items.push(json!({"id": "10000000-0000-4000-8000-0000000000f2", "createdDateTime": "yesterday"}));
                items.push(json!({"id": "not-a-guid", "displayName": "y"}));
            }))
        }),
        &[],
        "5 malformed items rejected",
    );
}

/// Collects through `rule` and expects exit 5 (a service failure before anything could be collected), no
/// snapshot, and an error line that contains `says`.
fn run_ends(rule: impl Fn(&Seen<'_>) -> Tamper + Send + Sync + 'static, extra: &[&str], says: &str) {
    let env = TestEnv::new();
    let h = Hostile::new(Emu::contoso(), rule);
    let run = collect(&env, &h, extra);
    run.expect_code(exit_code::API_FAILURE);
    assert!(run.stderr.contains(says), "{}", run.stderr);
    for bad in ["panicked", "RUST_BACKTRACE", SECRET] {
        assert!(!run.stderr.contains(bad), "{}", run.stderr);
    }
    assert!(!env.path("s.db").exists() && !env.path("s.db.partial").exists());
}

/// Graph's 429 with this `Retry-After`.
fn throttled(retry_after: &'static str) -> Tamper {
    let mut r = answer(429, &json!({"error": {"code": "TooManyRequests", "message": "slow down"}}));
    r.headers_mut().insert("retry-after", retry_after.parse().unwrap());
    Tamper::Answer(r)
}

#[test]
fn an_endless_retry_after_ends_the_request_and_says_so() {
    users_part_fails(
        on_users(|_| throttled("999999")),
        &[],
        "asked to wait 999999 s (Retry-After), more than the 300 s azsnap waits (--max-retry-after)",
    );
}

#[test]
fn a_server_that_never_answers_or_trickles_hits_the_deadline() {
    for tamper in [|| Tamper::Hang, || Tamper::Trickle] {
        users_part_fails(
            on_users(move |_| tamper()),
            &["--request-deadline", "3", "--read-timeout", "2"],
            "--request-deadline",
        );
    }
}

#[test]
fn a_login_endpoint_answering_html_or_a_broken_token_is_a_service_failure() {
    let token = |s: &Seen<'_>| s.method == "POST" && s.path.ends_with("/oauth2/v2.0/token");
    run_ends(
        move |s| {
            if token(s) {
                let mut r = answer(200, &Value::Null);
                *r.body_mut() = "<html><body>Sign in to the proxy</body></html>".into();
                r.headers_mut().insert("content-type", "text/html".parse().unwrap());
                Tamper::Answer(r)
            } else {
                Tamper::Pass
            }
        },
        &[],
        "not JSON",
    );
    run_ends(
        move |s| {
            if token(s) {
                Tamper::Edit(Box::new(|v: &mut Value| v["expires_in"] = json!(1_000_000_000_000u64)))
            } else {
                Tamper::Pass
            }
        },
        &[],
        "is not a token lifetime",
    );
}

// apply

const WRITER: &str = "a1b2c3d4-0000-4000-8000-000000000002";
const WRITER_SECRET: &str = "contoso-writer-secret";

fn apply_through(h: &Hostile, env: &TestEnv, action: Value) -> Run {
    let plan = json!({
        "kind": "azsnap-plan", "plan_version": 1, "tool_version": "test", "created_at": "2026-11-26T08:00:00Z",
        "tenant_id": h.emu.tenant, "source": {"command": "test", "snapshots": [], "options": {}},
        "actions": [action],
    });
    std::fs::write(env.path("p.json"), plan.to_string()).unwrap();
    env.run_with_env(
        &["apply", "p.json", "--endpoint", h.base.as_str(), "--yes", "--format", "json"],
        &[
            ("AZURE_TENANT_ID", h.emu.tenant.as_str()),
            ("AZURE_CLIENT_ID", WRITER),
            ("AZURE_CLIENT_SECRET", WRITER_SECRET),
        ],
    )
}

fn write_log(emu: &Emu) -> Vec<Value> {
    let t = emu.token(WRITER, WRITER_SECRET, GRAPH_SCOPE).body["access_token"].as_str().unwrap().to_owned();
    emu.get("/_emulator/stats", &t).body["write_log"].as_array().unwrap().clone()
}

#[test]
fn apply_acts_only_on_ids_a_live_answer_may_name() {
    // The Azure role assignment read back names an id that would move the request to another host.
    let env = TestEnv::new();
    let scope = "/subscriptions/50000000-0000-4000-8000-000000000001";
    let h = Hostile::new(Emu::contoso(), move |s| {
        if s.method == "GET" && s.path.contains("/providers/Microsoft.Authorization/roleAssignments?") {
            Tamper::Edit(Box::new(move |v: &mut Value| {
                for i in v["value"].as_array_mut().unwrap() {
                    let id = i["id"].as_str().unwrap().to_owned();
                    i["id"] = json!(format!("@127.0.0.2:9{id}"));
                }
            }))
        } else {
            Tamper::Pass
        }
    });
    let rows = column(
        &{
            crate::collect::collect(&env, &h.emu, "c.db", &[]).expect_code(exit_code::SUCCESS);
            env.path("c.db")
        },
        &format!(
            "SELECT principal_id || '|' || role_id FROM grants WHERE relation = 'azure_role' AND state = 'active' AND scope = '{scope}' LIMIT 1"
        ),
    );
    let (principal, role) = rows[0].split_once('|').unwrap();
    let before = write_log(&h.emu).len();
    let run = apply_through(
        &h,
        &env,
        json!({"id": "a-1", "operation": "azure_role_delete",
               "principal": {"id": principal, "name": "p", "kind": "user"},
               "target": {"id": scope, "name": "sub", "kind": "subscription"},
               "role": {"id": role, "name": "r", "kind": "azure_role"},
               "scope": scope, "reason": "test", "expects": "present", "privileged": false}),
    );
    run.expect_code(exit_code::APPLY_FAILED);
    assert_eq!(run.json()[0]["status"], "failed", "{}", run.stdout);
    assert!(run.json()[0]["detail"].as_str().unwrap().contains("will not act on"), "{}", run.stdout);
    assert_eq!(write_log(&h.emu).len(), before, "a write went out");

    // An app role assignment whose id walks out of its collection.
    let h = Hostile::new(Emu::contoso(), |s| {
        if s.method == "GET" && s.path.contains("/appRoleAssignedTo") {
            Tamper::Edit(Box::new(|v: &mut Value| {
                for i in v["value"].as_array_mut().unwrap() {
                    i["id"] = json!("../../users/10000000-0000-4000-8000-000000000001");
                }
            }))
        } else {
            Tamper::Pass
        }
    });
    let rows = column(
        &env.path("c.db"),
        "SELECT principal_id || '|' || target_id || '|' || role_id FROM grants WHERE relation = 'app_role' LIMIT 1",
    );
    let parts: Vec<&str> = rows[0].split('|').collect();
    let before = write_log(&h.emu).len();
    let run = apply_through(
        &h,
        &env,
        json!({"id": "a-2", "operation": "app_role_revoke",
               "principal": {"id": parts[0], "name": "p", "kind": "user"},
               "target": {"id": parts[1], "name": "app", "kind": "service_principal"},
               "role": {"id": parts[2], "name": "r", "kind": "app_role"},
               "reason": "test", "expects": "present", "privileged": false}),
    );
    run.expect_code(exit_code::APPLY_FAILED);
    assert_eq!(run.json()[0]["status"], "failed", "{}", run.stdout);
    assert_eq!(write_log(&h.emu).len(), before, "a write went out");
}

#[test]
fn a_part_that_exhausts_its_retries_fails_alone() {
    users_part_fails(on_users(|_| throttled("0")), &[], "gave up after 10 attempts (HTTP 429)");
}
