//! Throttling and injected faults: 429 with a `Retry-After` that works, per-request throttling inside `$batch`,
//! and a fault sequence fixed by the seed.

use azsnap_emulator::EmulatorOptions;
use azsnap_emulator::faults::FaultRates;
use azsnap_emulator::limits::Limits;
use serde_json::json;

use crate::common::emulator::{ARM_SCOPE, Emu, GRAPH_SCOPE};

fn limited(edit: impl FnOnce(&mut Limits)) -> Emu {
    let mut limits = Limits::documented(15);
    edit(&mut limits);
    Emu::with(EmulatorOptions { throttle: Some(limits), ..EmulatorOptions::default() })
}

fn retry_after(r: &crate::common::emulator::Reply) -> f64 {
    r.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

#[test]
fn graph_429_carries_a_retry_after_that_lets_the_next_request_through() {
    let emu = limited(|l| l.graph_ru_per_10s = 40.0);
    let t = emu.reader(GRAPH_SCOPE);
    let mut throttled = None;
    for i in 0..25 {
        let r = emu.get("/v1.0/users", &t);
        if r.status == 429 {
            throttled = Some((i, r));
            break;
        }
        assert_eq!(r.headers["x-ms-resource-unit"], "2");
    }
    let (i, r) = throttled.expect("40 RU at 2 RU a request runs out");
    assert_eq!(i, 20, "exactly the bucket's worth of requests got through");
    assert_eq!(r.code(), "TooManyRequests");
    assert_eq!(r.body["error"]["innerError"]["status"], "429");
    assert!(r.headers["x-ms-throttle-scope"].to_str().unwrap().starts_with("Tenant_Application/Read/"));
    let wait = retry_after(&r);
    assert!(wait > 0.0 && wait <= 1.0, "{wait}");
    std::thread::sleep(std::time::Duration::from_secs_f64(wait));
    assert_eq!(emu.get("/v1.0/users", &t).status, 200, "honouring Retry-After is enough");
    assert_eq!(emu.get("/_emulator/stats", &t).body["throttled"], 1);
}

#[test]
fn sign_in_activity_has_its_own_tighter_tier() {
    let emu = limited(|l| l.reports_per_10s = 2.0);
    let t = emu.reader(GRAPH_SCOPE);
    let path = "/v1.0/users?$select=id,signInActivity&$top=500";
    assert_eq!(emu.get(path, &t).status, 200);
    assert_eq!(emu.get(path, &t).status, 200);
    let r = emu.get(path, &t);
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["x-ms-throttle-information"], "ReportsLimitExceeded");
    assert_eq!(emu.get("/v1.0/users?$select=id", &t).status, 200, "other reads are not in the reports tier");
}

#[test]
fn arm_throttles_per_principal_with_remaining_headers() {
    let emu = limited(|l| l.arm_reads = (3.0, 10.0));
    let t = emu.reader(ARM_SCOPE);
    let path = "/subscriptions/50000000-0000-4000-8000-000000000001/resourcegroups?api-version=2021-04-01";
    let remaining: Vec<String> = (0..3)
        .map(|_| {
            let r = emu.get(path, &t);
            assert_eq!(r.status, 200);
            r.headers["x-ms-ratelimit-remaining-subscription-reads"].to_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(remaining, vec!["2", "1", "0"]);
    let r = emu.get(path, &t);
    assert_eq!((r.status, r.code()), (429, "TooManyRequests"));
    let wait = retry_after(&r);
    assert!(wait >= 1.0);
    std::thread::sleep(std::time::Duration::from_secs_f64(wait));
    assert_eq!(emu.get(path, &t).status, 200);
}

#[test]
fn batch_items_are_throttled_one_by_one() {
    let emu = limited(|l| l.graph_ru_per_10s = 10.0);
    let t = emu.reader(GRAPH_SCOPE);
    let requests: Vec<_> = (1..=15)
        .map(|n| json!({"id": n.to_string(), "method": "GET", "url": format!("/users/10000000-0000-4000-8000-{n:012}?$select=id")}))
        .collect();
    let r = emu.post_json("/v1.0/$batch", &t, &json!({"requests": requests}));
    assert_eq!(r.status, 200, "the batch itself succeeds");
    let responses = r.body["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 15);
    let throttled: Vec<_> = responses.iter().filter(|x| x["status"] == 429).collect();
    assert_eq!(throttled.len(), 5, "10 RU admit 10 one-RU requests");
    assert!(
        throttled.iter().all(|x| x["headers"]["Retry-After"].is_string()),
        "inner 429s carry their own Retry-After"
    );
}

#[test]
fn mailbox_settings_are_limited_per_mailbox_by_outlook_not_by_resource_units() {
    let emu = limited(|l| {
        l.graph_ru_per_10s = 1.0;
        l.outlook_per_10min = 10.0;
    });
    let t = emu.reader(GRAPH_SCOPE);
    let alice = "/users/10000000-0000-4000-8000-000000000001/mailboxSettings/userPurpose";
    let bob = "/users/10000000-0000-4000-8000-000000000002/mailboxSettings/userPurpose";
    let mut requests: Vec<_> = (1..=15).map(|n| json!({"id": n.to_string(), "method": "GET", "url": alice})).collect();
    requests.push(json!({"id": "16", "method": "GET", "url": bob}));
    let r = emu.post_json("/v1.0/$batch", &t, &json!({"requests": requests}));
    let responses = r.body["responses"].as_array().unwrap();
    let status = |id: &str| responses.iter().find(|x| x["id"] == id).unwrap()["status"].as_u64().unwrap();
    let throttled = (1..=15).filter(|n| status(&n.to_string()) == 429).count();
    assert_eq!(throttled, 5, "10 per mailbox per 10 minutes, whatever the identity budget: {responses:?}");
    assert_ne!(status("16"), 429, "another mailbox has its own limit");
    let limits = emu.get("/_emulator/limits", &t).body;
    assert_eq!(limits["limits"]["outlook_per_10min"], 10.0);
}

fn statuses(seed: u64) -> Vec<u16> {
    let emu = Emu::with(EmulatorOptions {
        faults: "5xx=0.3,429=0.2,429-no-retry-after=0.1".parse::<FaultRates>().unwrap(),
        seed,
        ..EmulatorOptions::default()
    });
    let t = emu.reader(GRAPH_SCOPE);
    (0..40).map(|_| emu.get("/v1.0/organization", &t).status).collect()
}

#[test]
fn the_same_seed_gives_the_same_faults() {
    let a = statuses(5);
    assert_eq!(a, statuses(5));
    assert_ne!(a, statuses(6));
    assert!(a.contains(&503) && a.contains(&429) && a.contains(&200), "{a:?}");
}

#[test]
fn dropped_connections_and_slow_pages() {
    let emu = Emu::with(EmulatorOptions { faults: "reset=1".parse().unwrap(), ..EmulatorOptions::default() });
    let t = emu.reader(GRAPH_SCOPE);
    assert!(emu.try_get("/v1.0/users", &t).is_err(), "the connection drops before a full answer");
    let slow =
        Emu::with(EmulatorOptions { faults: "slow=1".parse().unwrap(), slow_ms: 20, ..EmulatorOptions::default() });
    let t = slow.reader(GRAPH_SCOPE);
    let r = slow.get("/v1.0/users", &t);
    assert_eq!(r.status, 200, "a slow answer is still the real answer");
    assert!(r.headers.get("x-emulator-fault").is_none(), "the marker stays inside the emulator");
    assert_eq!(slow.get("/_emulator/stats", &t).body["faults_by_kind"]["slow"], 1);
}

#[test]
fn batch_rules() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let too_many: Vec<_> =
        (0..21).map(|n| json!({"id": n.to_string(), "method": "GET", "url": "/organization"})).collect();
    assert_eq!(emu.post_json("/v1.0/$batch", &t, &json!({"requests": too_many})).status, 400);
    let dup = json!({"requests": [{"id": "1", "method": "GET", "url": "/organization"}, {"id": "1", "method": "GET", "url": "/users"}]});
    assert_eq!(emu.post_json("/v1.0/$batch", &t, &dup).status, 400);
    let chain = json!({"requests": [
        {"id": "a", "method": "GET", "url": "/users/10000000-0000-4000-8000-000000000006/mailboxSettings/userPurpose"},
        {"id": "b", "method": "GET", "url": "/organization", "dependsOn": ["a"]},
        {"id": "c", "method": "GET", "url": "/users/10000000-0000-4000-8000-000000000007/mailboxSettings/userPurpose"},
    ]});
    let r = emu.post_json("/v1.0/$batch", &t, &chain);
    let by_id = |id: &str| r.body["responses"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap().clone();
    assert_eq!(by_id("a")["status"], 404);
    assert_eq!(by_id("a")["body"]["error"]["code"], "MailboxNotEnabledForRESTAPI");
    assert_eq!(by_id("b")["status"], 424, "dependents of a failed request fail");
    assert_eq!(by_id("c")["body"]["value"], "shared");
    let order: Vec<&str> = r.body["responses"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_ne!(order, vec!["a", "b", "c"], "answers come in any order");
}

#[test]
fn resource_graph_queries_carry_the_user_quota_and_are_throttled_past_it() {
    let emu = limited(|l| {
        l.resource_graph_queries = 3;
        l.resource_graph_window_secs = 600.0;
    });
    let t = emu.reader(ARM_SCOPE);
    let query = json!({"query": "resources | count"});
    let path = "/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01";
    for left in ["2", "1", "0"] {
        let r = emu.post_json(path, &t, &query);
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.headers["x-ms-user-quota-remaining"], left);
        assert!(r.headers["x-ms-user-quota-resets-after"].to_str().unwrap().starts_with("00:"));
    }
    let r = emu.post_json(path, &t, &query);
    assert_eq!((r.status, r.code()), (429, "RateLimiting"));
    assert!(retry_after(&r) > 0.0 && retry_after(&r) <= 600.0);
    // ARM's own buckets are not spent by queries: reads still go through.
    assert_eq!(emu.get("/subscriptions?api-version=2022-12-01", &t).status, 200);
}

#[test]
fn stats_count_requests_per_route_with_ids_folded() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    for user in ["10000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000002"] {
        assert_eq!(emu.get(&format!("/v1.0/users/{user}?$select=id"), &t).status, 200);
    }
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/groups/20000000-0000-4000-8000-000000000002/members"},
    ]});
    assert_eq!(emu.post_json("/v1.0/$batch", &t, &batch).status, 200);
    let routes = &emu.get("/_emulator/stats", &t).body["by_route"];
    assert_eq!(routes["GET /v1.0/users/{id}"], 2, "{routes}");
    assert_eq!(routes["POST /v1.0/$batch"], 1, "{routes}");
    assert_eq!(routes["GET /v1.0/groups/{id}/members"], 1, "a $batch item is counted under its route: {routes}");
}
