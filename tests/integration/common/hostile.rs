//! A hostile server for tests: in front of the emulator, passing requests through (with the emulator's own links
//! rewritten to point back at it), except where a rule answers in its place or edits the emulator's answer.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Response, StatusCode};
use serde_json::Value;

use crate::common::emulator::Emu;

/// What the server does with one request.
pub(crate) enum Tamper {
    /// Pass it to the emulator and return its answer.
    Pass,
    /// Pass it on and edit the JSON answer.
    Edit(Box<dyn FnOnce(&mut Value) + Send>),
    /// Answer this instead.
    Answer(Response<Body>),
    /// Send headers, then the body one byte a second.
    Trickle,
    /// Accept the request and never answer.
    Hang,
}

/// What a rule sees of a request: its method, its path and query, and the server's own base URL.
pub(crate) struct Seen<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub base: &'a str,
    /// How many requests the server has seen before this one.
    pub n: u64,
}

pub(crate) type Rule = dyn Fn(&Seen<'_>) -> Tamper + Send + Sync;

pub(crate) struct Hostile {
    /// Serves for as long as the value lives.
    _rt: tokio::runtime::Runtime,
    pub base: String,
    pub emu: Emu,
}

/// A JSON answer.
pub(crate) fn json(status: u16, body: &Value) -> Response<Body> {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    r
}

/// Byte chunks from a channel, as a body stream.
struct Chunks(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

impl Hostile {
    /// Starts the server in front of `emu`, applying `rule` to every request.
    pub(crate) fn new(emu: Emu, rule: impl Fn(&Seen<'_>) -> Tamper + Send + Sync + 'static) -> Hostile {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let rule: Arc<Rule> = Arc::new(rule);
        let (upstream, me) = (emu.base.clone(), base.clone());
        let http = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let count = Arc::new(AtomicU64::new(0));
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let (rule, upstream, me, http, count) =
                (rule.clone(), upstream.clone(), me.clone(), http.clone(), count.clone());
            async move { handle(req, &*rule, &upstream, &me, &http, count.fetch_add(1, Ordering::SeqCst)).await }
        });
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Hostile { _rt: rt, base, emu }
    }
}

async fn handle(
    req: Request<Body>,
    rule: &Rule,
    upstream: &str,
    me: &str,
    http: &reqwest::Client,
    n: u64,
) -> Response<Body> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let tamper = rule(&Seen { method: &method, path: &path, base: me, n });
    let edit = match tamper {
        Tamper::Answer(r) => return r,
        Tamper::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return json(500, &Value::Null);
        }
        Tamper::Trickle => {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            tokio::spawn(async move {
                for b in b"{\"value\": [] }".iter().cycle().take(3600) {
                    if tx.send(Ok(Bytes::from(vec![*b]))).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
            let mut r = Response::new(Body::from_stream(Chunks(rx)));
            r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
            return r;
        }
        Tamper::Edit(f) => Some(f),
        Tamper::Pass => None,
    };
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20).await.unwrap_or_default();
    let mut out = http.request(parts.method.clone(), format!("{upstream}{path}"));
    for (k, v) in &parts.headers {
        if k != "host" && k != "content-length" {
            out = out.header(k, v);
        }
    }
    let resp = match out.body(bytes).send().await {
        Ok(r) => r,
        Err(e) => return json(502, &serde_json::json!({"error": e.to_string()})),
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default().replace(upstream, me);
    let text = match (edit, serde_json::from_str::<Value>(&text)) {
        (Some(f), Ok(mut v)) => {
            f(&mut v);
            v.to_string()
        }
        _ => text,
    };
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    for (k, v) in &headers {
        if k != "content-length" && k != "transfer-encoding" {
            r.headers_mut().insert(k, v.clone());
        }
    }
    r
}
