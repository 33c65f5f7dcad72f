//! Transport-free requests and responses, so the same handlers serve HTTP, `$batch` inner requests and tests.
//! Also the error envelopes of Graph, ARM and the token endpoint.

use serde_json::{Value, json};

use crate::model::Guid;

/// An HTTP request as the emulator's handlers see it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    /// The percent-decoded path, e.g. `/v1.0/users` or `/subscriptions/…`.
    pub path: String,
    /// Query parameters in order, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `http://host:port` the client used, for absolute links.
    pub base_url: String,
}

impl ApiRequest {
    pub fn get(path: &str) -> Self {
        ApiRequest {
            method: "GET".to_owned(),
            path: path.to_owned(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            base_url: "http://127.0.0.1".to_owned(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// `http://host:port/v1.0/` (or `/beta/`): the prefix of `@odata.context` for this request's API version.
    pub fn metadata_base(&self) -> String {
        let version = if self.path.starts_with("/beta/") { "beta" } else { "v1.0" };
        format!("{}/{version}/", self.base_url)
    }

    pub fn json_body(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A response before it is turned into HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl ApiResponse {
    pub fn json(status: u16, body: Value) -> Self {
        ApiResponse { status, headers: Vec::new(), body: Some(body) }
    }

    pub fn ok(body: Value) -> Self {
        ApiResponse::json(200, body)
    }

    pub fn empty(status: u16) -> Self {
        ApiResponse { status, headers: Vec::new(), body: None }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A Graph error: `{"error":{"code","message","innerError":{…}}}`.
pub(crate) fn graph_error(status: u16, code: &str, message: &str) -> ApiResponse {
    let request_id = pseudo_request_id(code, message);
    ApiResponse::json(
        status,
        json!({"error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": crate::clock::now().to_string(),
                "request-id": request_id,
                "client-request-id": request_id,
            }
        }}),
    )
}

/// Graph's 429 answer (headers added by the caller).
pub(crate) fn graph_throttled() -> ApiResponse {
    let mut r = graph_error(429, "TooManyRequests", "Please retry again later.");
    if let Some(Value::Object(inner)) = r.body.as_mut().and_then(|b| b.pointer_mut("/error/innerError")) {
        inner.insert("code".to_owned(), json!("429"));
        inner.insert("message".to_owned(), json!("Please retry after"));
        inner.insert("status".to_owned(), json!("429"));
    }
    r
}

/// ARM's 429 answer for a bucket of `scope` (`…/reads`, `…/writes`, `…/deletes`).
pub(crate) fn arm_throttled(scope: &str) -> ApiResponse {
    if scope == "user/resourcegraph" {
        let why = "Client application has been throttled and should not attempt to repeat the request until an \
                   amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.";
        return ApiResponse::json(
            429,
            json!({"error": {"code": "RateLimiting", "message": why, "details": [{"code": "RateLimiting", "message": why}]}}),
        );
    }
    let op = if scope.ends_with("reads") {
        "Read"
    } else if scope.ends_with("deletes") {
        "Delete"
    } else {
        "Write"
    };
    arm_error(
        429,
        "TooManyRequests",
        &format!(
            "The request is being throttled as the limit has been reached for operation type - '{op}'. For more \
             information, see - https://aka.ms/armthrottling"
        ),
    )
}

/// An ARM error: `{"error":{"code","message"}}`.
pub(crate) fn arm_error(status: u16, code: &str, message: &str) -> ApiResponse {
    ApiResponse::json(status, json!({"error": {"code": code, "message": message}}))
}

/// A token endpoint (AADSTS) error.
pub(crate) fn aad_error(status: u16, error: &str, code: u32, description: &str) -> ApiResponse {
    let trace = pseudo_request_id(error, description);
    let now = crate::clock::now().as_datetime().format("%Y-%m-%d %H:%M:%SZ").to_string();
    ApiResponse::json(
        status,
        json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {trace}\r\nTimestamp: {now}"
            ),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": trace,
        }),
    )
}

/// A GUID-shaped id derived from the text, so errors are reproducible.
fn pseudo_request_id(a: &str, b: &str) -> String {
    Guid::derived(&format!("{a}\0{b}")).to_string()
}
