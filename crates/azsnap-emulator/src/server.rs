//! The HTTP side of the emulator: axum glue that turns requests into `ApiRequest`s, answers them through
//! [`Emulator::handle`], and serves on one loopback port (plain http, or HTTPS with a [`TlsIdentity`]) until told
//! to stop.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;

use crate::emulator::{Emulator, FAULT_HEADER};
use crate::http::{ApiRequest, ApiResponse};
use crate::tls::TlsIdentity;

/// What every request handler is given: the emulator, and the scheme it is served on (for the links it writes).
#[derive(Clone)]
struct Served {
    emu: Arc<Emulator>,
    scheme: &'static str,
}

/// Turns an HTTP request into the emulator's transport-free form.
fn to_api(scheme: &str, method: &Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> ApiRequest {
    let path = percent_encoding::percent_decode_str(uri.path()).decode_utf8_lossy().into_owned();
    let query: Vec<(String, String)> =
        uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let header = |name: &str| headers.get(name).and_then(|h| h.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    // Behind a TLS-terminating proxy, the links the emulator writes name the address the client used.
    let scheme = match header("x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        Some(p) if p.eq_ignore_ascii_case("http") => "http",
        _ => scheme,
    };
    let host = header("x-forwarded-host").or_else(|| header("host")).unwrap_or("127.0.0.1");
    ApiRequest {
        method: method.as_str().to_owned(),
        path,
        query,
        headers: headers
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_owned())))
            .collect(),
        body: body.to_vec(),
        base_url: format!("{scheme}://{host}"),
    }
}

fn to_http(r: ApiResponse) -> Response {
    let mut builder =
        Response::builder().status(StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    let body = match &r.body {
        Some(v) => {
            builder = builder.header("content-type", "application/json; charset=utf-8");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let mut resp = builder.body(body).unwrap_or_else(|_| Response::new(Body::empty()));
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}

async fn answer(
    State(Served { emu, scheme }): State<Served>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = to_api(scheme, &method, &uri, &headers, body);
    if emu.options.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(emu.options.latency_ms)).await;
    }
    let emu2 = emu.clone();
    // Handlers are synchronous and may scan a large tenant: keep them off the async workers.
    let resp = tokio::task::spawn_blocking(move || emu2.handle(&req)).await;
    match resp {
        Ok(mut r) => {
            match r.header(FAULT_HEADER).map(str::to_owned).as_deref() {
                Some("reset") => return dropped_connection(),
                Some("slow") => tokio::time::sleep(std::time::Duration::from_millis(emu.options.slow_ms)).await,
                _ => {}
            }
            r.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(FAULT_HEADER));
            to_http(r)
        }
        Err(_) => to_http(crate::http::graph_error(500, "InternalServerError", "The emulator failed to answer.")),
    }
}

/// A response whose body fails at once, so the server abandons the connection mid-answer: to the client, the
/// connection drops.
fn dropped_connection() -> Response {
    let stream = futures_fail();
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("content-length", "1024")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn futures_fail() -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> {
    struct Fail(bool);
    impl futures_core::Stream for Fail {
        type Item = Result<Bytes, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            if self.0 {
                return std::task::Poll::Ready(None);
            }
            self.0 = true;
            std::task::Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected fault",
            ))))
        }
    }
    Fail(false)
}

/// A running emulator: its address, and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    scheme: &'static str,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops serving and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Binds `127.0.0.1:port` (0 picks a free port) and serves `emu` over plain http in the background.
pub async fn start(emu: Arc<Emulator>, port: u16) -> std::io::Result<Running> {
    bind(emu, port, None).await
}

/// Like [`start`], over HTTPS with `identity`'s certificate.
pub async fn start_tls(emu: Arc<Emulator>, port: u16, identity: &TlsIdentity) -> std::io::Result<Running> {
    bind(emu, port, Some(tokio_rustls::TlsAcceptor::from(identity.server_config()))).await
}

async fn bind(emu: Arc<Emulator>, port: u16, tls: Option<tokio_rustls::TlsAcceptor>) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (cap, idle) = (emu.options.max_connections.max(1), emu.options.idle_timeout_secs.max(1));
    let scheme = if tls.is_some() { "https" } else { "http" };
    let app = axum::Router::new().fallback(answer).with_state(Served { emu, scheme });
    let task = tokio::spawn(serve(listener, app, tls, cap, std::time::Duration::from_secs(idle), rx));
    Ok(Running { addr, scheme, stop: Some(tx), task })
}

/// The accept loop: at most `cap` connections at once (more are closed as they arrive, so a flood of idle
/// connections cannot use up the process's file descriptors), each closed when it takes longer than `idle` to send
/// a request's headers (or to finish its TLS handshake) or sits idle that long between requests. On `stop`,
/// in-flight requests finish.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    cap: usize,
    idle: std::time::Duration,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(cap));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(idle).keep_alive(true);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of descriptors or a connection that died in the backlog: wait a moment, go on.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let (http, watcher, tls) = (http.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => {
                    let _ = watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await;
                }
                Some(acceptor) => {
                    // A handshake that fails or stalls closes the connection; nothing else is affected.
                    if let Ok(Ok(stream)) = tokio::time::timeout(idle, acceptor.accept(stream)).await {
                        let _ = watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await;
                    }
                }
            }
            drop(slot);
        });
    }
    // In-flight answers get a few seconds to finish; idle connections close at once.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
    Ok(())
}
