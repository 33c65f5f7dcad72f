//! Test support for azsnap and its emulator: an in-process emulator on a free loopback port, with a small blocking
//! HTTP client, the bundled Contoso tenant, and how a test says why it skipped.
#![expect(clippy::unwrap_used, reason = "test support: a failed call is a failed test, with its panic message")]

use std::sync::Arc;

use azsnap_emulator::{Emulator, EmulatorOptions, Running, TenantFile};
use serde_json::Value;

pub const TENANT: &str = "7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f";
pub const READER: &str = "a1b2c3d4-0000-4000-8000-000000000001";
pub const READER_SECRET: &str = "contoso-reader-secret";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// Says why a test skipped, straight to stderr, past the test harness's capture, so the skip is visible in CI logs.
pub fn notice(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "notice: {why}");
}

/// The contoso tenant file, as the test reads it (the expected truth).
pub fn contoso_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tenants/contoso.json")
}

/// The tenant file at `path`, read and validated.
pub fn tenant_file(path: &std::path::Path) -> TenantFile {
    TenantFile::parse(&std::fs::read(path).expect("tenant file"), &path.display().to_string()).expect("valid tenant")
}

pub fn contoso_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(contoso_path()).unwrap()).unwrap()
}

/// What an HTTP call returned.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The service error code (Graph/ARM `error.code`, or the token endpoint's `error`).
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().or_else(|| self.body["error"].as_str()).unwrap_or("")
    }
}

pub struct Emu {
    rt: tokio::runtime::Runtime,
    running: Option<Running>,
    pub base: String,
    /// The served tenant's id (token requests go to it).
    pub tenant: String,
    client: reqwest::Client,
}

impl Emu {
    pub fn contoso() -> Self {
        Self::with(EmulatorOptions::default())
    }

    pub fn with(options: EmulatorOptions) -> Self {
        Self::serve(tenant_file(&contoso_path()), options)
    }

    pub fn serve(tenant: TenantFile, options: EmulatorOptions) -> Self {
        let tenant_id = tenant.tenant.id.to_string();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let emu = Arc::new(Emulator::new(tenant, options));
        let running = rt.block_on(azsnap_emulator::start(emu, 0)).unwrap();
        let base = running.base_url();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        Emu { rt, running: Some(running), base, tenant: tenant_id, client }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) }
    }

    fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        self.rt.block_on(async {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap();
            let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
            Reply { status, headers, body }
        })
    }

    /// Client-credentials token request with a form body.
    pub fn token_form(&self, tenant: &str, form: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.send(
            self.client
                .post(self.url(&format!("/{tenant}/oauth2/v2.0/token")))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
    }

    pub fn token(&self, client_id: &str, secret: &str, scope: &str) -> Reply {
        self.token_form(
            &self.tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", scope),
            ],
        )
    }

    /// A token of the reader app for `scope`.
    pub fn reader(&self, scope: &str) -> String {
        let r = self.token(READER, READER_SECRET, scope);
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    /// A GET whose transport errors are returned, not panicked on.
    pub fn try_get(&self, path: &str, token: &str) -> Result<Reply, reqwest::Error> {
        self.rt.block_on(async {
            let resp = self.client.get(self.url(path)).bearer_auth(token).send().await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = resp.text().await?;
            Ok(Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) })
        })
    }

    /// A GET without a token (the login host's public documents).
    pub fn get_public(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path)))
    }

    pub fn get(&self, path: &str, token: &str) -> Reply {
        self.get_with(path, token, &[])
    }

    pub fn get_with(&self, path: &str, token: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.client.get(self.url(path)).bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req)
    }

    pub fn post_json(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(self.client.post(self.url(path)).bearer_auth(token).json(body))
    }

    /// A request with any method and a JSON body (`PATCH`, …).
    pub fn send_json(&self, method: reqwest::Method, path: &str, token: &str, body: &Value) -> Reply {
        self.send(self.client.request(method, self.url(path)).bearer_auth(token).json(body))
    }

    pub fn put_json(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(self.client.put(self.url(path)).bearer_auth(token).json(body))
    }

    pub fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(self.client.delete(self.url(path)).bearer_auth(token))
    }

    /// Follows `@odata.nextLink` / `nextLink` from `path` to the end; every item of every page, in order.
    pub fn walk(&self, path: &str, token: &str, headers: &[(&str, &str)]) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = Some(self.url(path));
        let mut pages = 0;
        while let Some(url) = next {
            pages += 1;
            assert!(pages < 10_000, "paging does not end");
            let r = self.get_with(&url, token, headers);
            assert_eq!(r.status, 200, "{url}: {:?}", r.body);
            items.extend(r.body["value"].as_array().unwrap().iter().cloned());
            next = r.body["@odata.nextLink"].as_str().or(r.body["nextLink"].as_str()).map(str::to_owned);
            if let Some(n) = &next {
                assert!(n.starts_with(&self.base), "nextLink {n} is not on the emulator's own base URL");
            }
        }
        items
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            self.rt.block_on(r.stop());
        }
    }
}

/// Every `.rs` file below `dir`, for tests that read the sources (the layering checks).
pub fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
