//! Delta queries: `users/delta`, `groups/delta` (with `members@delta`) and `servicePrincipals/delta`. A first round
//! pages through every object and ends with a `@odata.deltaLink`; a later round returns what changed since: objects
//! created or changed (with their selected properties), deleted ones as `{"id", "@removed": {"reason":
//! "changed"}}` (deleted objects stay restorable for 30 days), and for groups the net member changes, removed
//! members marked `@removed` too. Tokens are opaque, carry the selection and the point in the change log, and
//! expire (410).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::directory::{self, DirectoryObject};
use crate::graph::common::{Answer, perms, require};
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::model::Guid;
use crate::odata::parse_filter;
use crate::tenant::ObjectKind;
use crate::world::{Change, World};

const DEFAULT_PAGE: usize = 100;

/// Everything a delta link or next link has to remember.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Token {
    /// `users`, `groups` or `servicePrincipals`.
    k: String,
    /// Selected properties (`members` included for groups' member changes).
    sel: Vec<String>,
    /// Ids the first request filtered on, if any.
    ids: Option<Vec<String>>,
    /// Position in the change log this round started from (`None` on the first round).
    from: Option<usize>,
    /// Position in the change log this round ends at (the next round starts there).
    to: usize,
    /// How many entries of this round were already sent.
    o: usize,
    /// When the delta link was issued (seconds since the epoch).
    iat: u64,
    /// The change log the positions are in ([`World::generation`]).
    #[serde(default)]
    g: String,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn encode(t: &Token) -> String {
    B64.encode(serde_json::to_vec(t).unwrap_or_default())
}

fn decode(s: &str) -> Option<Token> {
    serde_json::from_slice(&B64.decode(s).ok()?).ok()
}

fn bad(message: &str) -> ApiResponse {
    graph_error(400, "Request_BadRequest", message)
}

/// The collection a delta token is for, and what it needs.
fn collection(kind: &str) -> (ObjectKind, &'static directory::Shape, &'static [&'static str]) {
    match kind {
        "users" => (ObjectKind::User, &directory::USER, perms::USERS),
        "groups" => (ObjectKind::Group, &directory::GROUP, perms::GROUPS),
        _ => (ObjectKind::ServicePrincipal, &directory::SERVICE_PRINCIPAL, perms::APPS),
    }
}

/// `GET /users/delta`, `/groups/delta` or `/servicePrincipals/delta`; `kind` is the collection.
pub(crate) fn handle(world: &World, caller: &Caller, req: &ApiRequest, kind: &str, max_age_secs: u64) -> Answer {
    require(caller, collection(kind).2)?;
    // "Sync from now": a delta link for the current state, with no objects (directory resources support it).
    if req.param("$deltatoken").is_some_and(|t| t.eq_ignore_ascii_case("latest")) {
        let t = Token { iat: now_secs(), ..first_round(world, req, kind)? };
        let version = req.path.trim_start_matches('/').split('/').next().unwrap_or("v1.0");
        return Ok(ApiResponse::ok(json!({
            "@odata.context": format!("{}$metadata#{kind}", req.metadata_base()),
            "@odata.deltaLink": format!("{}/{version}/{kind}/delta?$deltatoken={}", req.base_url, encode(&t)),
            "value": [],
        })));
    }
    let token = if let Some(t) = req.param("$deltatoken") {
        let t = decode(t).filter(|t| t.k == kind).ok_or_else(|| bad("The delta token is not valid."))?;
        if t.g != world.generation || now_secs().saturating_sub(t.iat) >= max_age_secs {
            return Err(graph_error(
                410,
                "syncStateNotFound",
                "The sync state generation is not found. The delta token has expired; start a new full sync.",
            ));
        }
        Token { from: Some(t.to), to: world.changes.len(), o: 0, ..t }
    } else if let Some(t) = req.param("$skiptoken") {
        decode(t).filter(|t| t.k == kind).ok_or_else(|| bad("The skip token is not valid."))?
    } else {
        first_round(world, req, kind)?
    };
    let page_size = req
        .header("prefer")
        .and_then(|p| p.split(',').find_map(|x| x.trim().strip_prefix("odata.maxpagesize=")))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_PAGE);
    // Entries from `token.o` on, one more than a page to know whether another page follows.
    let window: Vec<Value> = match token.from {
        None => initial_entries(world, &token, token.o, page_size + 1),
        Some(from) => change_entries(world, &token, from).into_iter().skip(token.o).take(page_size + 1).collect(),
    };
    let more = window.len() > page_size;
    let end = token.o + window.len().min(page_size);
    let mut body = Map::new();
    body.insert("@odata.context".to_owned(), json!(format!("{}$metadata#{kind}", req.metadata_base())));
    let version = req.path.trim_start_matches('/').split('/').next().unwrap_or("v1.0");
    let link = |param: &str, t: &Token| format!("{}/{version}/{kind}/delta?{param}={}", req.base_url, encode(t));
    if more {
        body.insert("@odata.nextLink".to_owned(), json!(link("$skiptoken", &Token { o: end, ..token.clone() })));
    } else {
        body.insert(
            "@odata.deltaLink".to_owned(),
            json!(link("$deltatoken", &Token { o: 0, iat: now_secs(), ..token.clone() })),
        );
    }
    body.insert("value".to_owned(), Value::Array(window.into_iter().take(page_size).collect()));
    Ok(ApiResponse::ok(Value::Object(body)))
}

fn first_round(world: &World, req: &ApiRequest, kind: &str) -> Result<Token, ApiResponse> {
    let shape = collection(kind).1;
    let mut sel = Vec::new();
    if let Some(s) = req.param("$select") {
        for f in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let known = shape.selectable.iter().find(|k| k.eq_ignore_ascii_case(f)).copied();
            match known {
                Some(k) if k != "signInActivity" => sel.push(k.to_owned()),
                _ if kind == "groups" && f.eq_ignore_ascii_case("members") => sel.push("members".to_owned()),
                _ => {
                    return Err(bad(&format!(
                        "Could not find a property named '{f}' on type '{}'.",
                        &shape.odata_type[1..]
                    )));
                }
            }
        }
    }
    let ids = match req.param("$filter") {
        None => None,
        Some(f) => {
            let parsed = parse_filter(f).filter(|p| p.props().iter().all(|p| p.eq_ignore_ascii_case("id")));
            let Some(parsed) = parsed else {
                return Err(graph_error(
                    400,
                    "Request_UnsupportedQuery",
                    "Delta queries support only $filter=id eq '...'.",
                ));
            };
            let ids = ids_of(&parsed);
            if ids.len() > 50 {
                return Err(bad("A delta $filter may name at most 50 ids."));
            }
            Some(ids)
        }
    };
    for k in req.query.iter().map(|(k, _)| k.to_ascii_lowercase()) {
        if k.starts_with('$') && !["$select", "$filter", "$deltatoken", "$skiptoken"].contains(&k.as_str()) {
            return Err(graph_error(
                400,
                "Request_UnsupportedQuery",
                &format!("Query option '{k}' is not supported with delta."),
            ));
        }
    }
    Ok(Token {
        k: kind.to_owned(),
        sel,
        ids,
        from: None,
        to: world.changes.len(),
        o: 0,
        iat: now_secs(),
        g: world.generation.clone(),
    })
}

fn ids_of(f: &crate::odata::Filter) -> Vec<String> {
    use crate::odata::Filter;
    match f {
        Filter::Cmp { value, .. } => value.as_str().map(|s| vec![s.to_ascii_lowercase()]).unwrap_or_default(),
        Filter::Or(a, b) | Filter::And(a, b) => {
            let mut v = ids_of(a);
            v.extend(ids_of(b));
            v
        }
        Filter::Any { .. } => Vec::new(),
    }
}

fn typed_ref(world: &World, id: &Guid) -> Map<String, Value> {
    let mut m = Map::new();
    let t = world.object(id).map(|o| o.shape().odata_type).unwrap_or("#microsoft.graph.directoryObject");
    m.insert("@odata.type".to_owned(), json!(t));
    m.insert("id".to_owned(), json!(id.as_str()));
    m
}

fn render(obj: &dyn DirectoryObject, t: &Token) -> Map<String, Value> {
    let fields: Vec<String> = t.sel.iter().filter(|f| *f != "members").cloned().collect();
    if t.sel.is_empty() { obj.render(None, false) } else { obj.render(Some(&fields), false) }
}

fn wanted(t: &Token, id: &Guid) -> bool {
    t.ids.as_ref().is_none_or(|ids| ids.iter().any(|i| i == id.as_str()))
}

/// `count` entries of the first round starting at `skip`, rendered (only those: pages stay cheap on big tenants).
fn initial_entries(world: &World, t: &Token, skip: usize, count: usize) -> Vec<Value> {
    let with_members = t.sel.iter().any(|f| f == "members");
    let page = |objects: &mut dyn Iterator<Item = &dyn DirectoryObject>| -> Vec<Value> {
        objects.skip(skip).take(count).map(|o| Value::Object(render(o, t))).collect()
    };
    match collection(&t.k).0 {
        ObjectKind::User => {
            page(&mut world.tenant.users.iter().filter(|u| wanted(t, &u.id)).map(|u| u as &dyn DirectoryObject))
        }
        ObjectKind::ServicePrincipal => page(
            &mut world.tenant.service_principals.iter().filter(|s| wanted(t, &s.id)).map(|s| s as &dyn DirectoryObject),
        ),
        _ => world
            .tenant
            .groups
            .iter()
            .filter(|g| wanted(t, &g.id))
            .skip(skip)
            .take(count)
            .map(|g| {
                let mut m = render(g, t);
                if with_members {
                    let members: Vec<Value> = g.members.iter().map(|id| Value::Object(typed_ref(world, id))).collect();
                    m.insert("members@delta".to_owned(), Value::Array(members));
                }
                Value::Object(m)
            })
            .collect(),
    }
}

/// Objects of the token's collection changed in `changes[from..to]`, each once, in the order of their first change:
/// deleted ones as `@removed`, the rest as they are now, groups with their net member changes.
fn change_entries(world: &World, t: &Token, from: usize) -> Vec<Value> {
    let (own_kind, _, _) = collection(&t.k);
    let mut order: Vec<Guid> = Vec::new();
    let mut seen: HashSet<Guid> = HashSet::new();
    let mut members: BTreeMap<Guid, Vec<(Guid, bool)>> = BTreeMap::new();
    let mut removed: HashMap<Guid, ObjectKind> = HashMap::new();
    for change in world.changes.get(from..t.to).unwrap_or_default() {
        let id = change.object().clone();
        if seen.insert(id.clone()) {
            order.push(id.clone());
        }
        match change {
            Change::Membership { member, added, .. } => {
                let list = members.entry(id).or_default();
                list.retain(|(m, _)| m != member);
                list.push((member.clone(), *added));
            }
            Change::Updated { .. } => {}
            Change::Removed { kind, .. } => {
                removed.insert(id, *kind);
            }
        }
    }
    let with_members = t.sel.iter().any(|f| f == "members");
    order
        .iter()
        .filter(|id| wanted(t, id))
        .filter_map(|id| {
            if let Some(kind) = removed.get(id) {
                return (*kind == own_kind).then(|| json!({"id": id.as_str(), "@removed": {"reason": "changed"}}));
            }
            let (kind, _) = world.objects.get(id)?;
            if *kind != own_kind {
                return None;
            }
            let mut m = render(world.object(id)?, t);
            if let Some(changes) = members.get(id).filter(|_| with_members) {
                let deltas: Vec<Value> = changes
                    .iter()
                    .map(|(member, added)| {
                        let mut r = typed_ref(world, member);
                        if !added {
                            r.insert("@removed".to_owned(), json!({"reason": "deleted"}));
                        }
                        Value::Object(r)
                    })
                    .collect();
                m.insert("members@delta".to_owned(), Value::Array(deltas));
            }
            Some(Value::Object(m))
        })
        .collect()
}
