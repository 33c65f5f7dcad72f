//! Graph JSON batching (`POST /$batch`): up to 20 requests, answered in any order, each request counted and
//! throttled on its own, `dependsOn` honoured with 424 for dependents of a failed request.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::http::{ApiRequest, ApiResponse, graph_error};

const MAX_REQUESTS: usize = 20;

fn invalid(message: &str) -> ApiResponse {
    graph_error(400, "BadRequest", message)
}

/// Answers a batch; `version` is `v1.0` or `beta`. `answer` answers one item as a request of its own.
pub(crate) fn handle(req: &ApiRequest, version: &str, answer: impl Fn(&ApiRequest) -> ApiResponse) -> ApiResponse {
    let Some(body) = req.json_body() else { return invalid("Invalid batch payload format.") };
    let Some(requests) = body.get("requests").and_then(Value::as_array) else {
        return invalid("Invalid batch payload format: 'requests' is missing.");
    };
    if requests.is_empty() {
        return invalid("The batch contains no requests.");
    }
    if requests.len() > MAX_REQUESTS {
        return invalid(&format!("The number of requests in the batch exceeds the limit of {MAX_REQUESTS}."));
    }
    let mut seen = HashSet::new();
    for r in requests {
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
        if id.is_empty() || !seen.insert(id.to_owned()) {
            return invalid("Each request in the batch needs a unique, non-empty 'id'.");
        }
        if r.get("method").and_then(Value::as_str).is_none() || r.get("url").and_then(Value::as_str).is_none() {
            return invalid(&format!("Request '{id}' needs 'method' and 'url'."));
        }
        if r.get("body").is_some() && !has_content_type(r) {
            return invalid(&format!("Request '{id}' has a body but no Content-Type header."));
        }
    }
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    for r in requests {
        let id = r["id"].as_str().unwrap_or_default().to_owned();
        let failed_dependency = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|d| statuses.get(d).is_none_or(|s| !(200..300).contains(s)));
        let answer = if failed_dependency {
            graph_error(424, "FailedDependency", "A request this request depends on failed.")
        } else {
            answer(&inner_request(req, r, version))
        };
        statuses.insert(id.clone(), answer.status);
        let mut headers = Map::new();
        for (k, v) in &answer.headers {
            headers.insert(k.clone(), Value::String(v.clone()));
        }
        if answer.body.is_some() {
            headers.insert("Content-Type".to_owned(), json!("application/json; odata.metadata=minimal; charset=utf-8"));
        }
        let mut item = Map::new();
        item.insert("id".to_owned(), Value::String(id));
        item.insert("status".to_owned(), Value::from(answer.status));
        item.insert("headers".to_owned(), Value::Object(headers));
        if let Some(b) = answer.body {
            item.insert("body".to_owned(), b);
        }
        responses.push(Value::Object(item));
    }
    // Graph answers in any order; so does the emulator (a fixed shuffle, so runs are reproducible).
    let n = responses.len();
    if n > 1 {
        responses.rotate_left(n / 2);
        responses.swap(0, n - 1);
    }
    ApiResponse::ok(json!({"responses": responses}))
}

fn has_content_type(r: &Value) -> bool {
    r.get("headers")
        .and_then(Value::as_object)
        .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("content-type")))
}

/// One batch item as a request of its own, with the batch's credentials.
fn inner_request(outer: &ApiRequest, item: &Value, version: &str) -> ApiRequest {
    let url = item["url"].as_str().unwrap_or_default();
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
    let mut headers: Vec<(String, String)> =
        outer.headers.iter().filter(|(k, _)| k == "authorization" || k == "host").cloned().collect();
    if let Some(h) = item.get("headers").and_then(Value::as_object) {
        headers.extend(h.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.to_ascii_lowercase(), v.to_owned()))));
    }
    ApiRequest {
        method: item["method"].as_str().unwrap_or("GET").to_ascii_uppercase(),
        path: format!("/{version}/{}", path.trim_start_matches('/')),
        query: form_urlencoded::parse(query.as_bytes()).into_owned().collect(),
        headers,
        body: item.get("body").map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        base_url: outer.base_url.clone(),
    }
}
