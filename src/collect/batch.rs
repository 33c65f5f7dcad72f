//! Per-object Graph reads through `$batch`: up to 20 requests a call, several calls in flight, items throttled on
//! their own retried after their own `Retry-After`.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::azure::pace::{GraphTier, Pacer};
use crate::azure::retry::{item_retry_after, retryable};
use crate::azure::{ApiError, AzureClient, Service};
use std::sync::Arc;

const PER_BATCH: usize = 20;
/// Rounds in a row in which every item stayed throttled before giving up. Rounds that make progress do not count:
/// under the documented limits a large tenant's per-object reads take many rounds, and that is fine.
const MAX_STALLED_ROUNDS: u32 = 8;

/// One item's final answer.
#[derive(Debug, Clone)]
pub(super) struct ItemAnswer {
    pub status: u16,
    pub body: Value,
}

impl ItemAnswer {
    /// This answer as an error (for statuses the caller does not expect).
    pub(super) fn error(&self, url: &str) -> ApiError {
        ApiError::Status {
            service: "graph",
            status: self.status,
            code: self.body["error"]["code"].as_str().unwrap_or_default().to_owned(),
            message: self.body["error"]["message"].as_str().unwrap_or_default().to_owned(),
            url: url.to_owned(),
        }
    }
}

/// The pacers of `urls` (item URLs), each with how many of them it paces.
fn tiers<'a>(client: &AzureClient, urls: impl Iterator<Item = &'a str>) -> Vec<(Arc<Pacer>, usize)> {
    let mut out: Vec<(Arc<Pacer>, usize)> = Vec::new();
    for url in urls {
        let Some(pacer) = client.pacers.graph(GraphTier::of(url)) else { continue };
        match out.iter_mut().find(|(p, _)| Arc::ptr_eq(p, pacer)) {
            Some((_, n)) => *n += 1,
            None => out.push((pacer.clone(), 1)),
        }
    }
    out
}

/// Runs GET `urls` (relative to the Graph version root, e.g. `/users/{id}/mailboxSettings/userPurpose`) and calls
/// `each(index, answer)` for every one, in no particular order. 429, 5xx and expired-token items are retried;
/// other statuses are answers. Fails only if a whole batch call fails or items stay throttled.
pub(super) async fn get_all(
    client: &Arc<AzureClient>,
    urls: Vec<String>,
    concurrency: usize,
    mut each: impl FnMut(usize, ItemAnswer) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    crate::collect::progress::expect_items(urls.len() as u64);
    let mut pending: Vec<usize> = (0..urls.len()).collect();
    let urls = Arc::new(urls);
    let endpoint = client.url(Service::Graph, "/v1.0/$batch");
    let mut stalled = 0;
    while stalled < MAX_STALLED_ROUNDS {
        if pending.is_empty() {
            return Ok(());
        }
        let before = pending.len();
        let mut retry = Vec::new();
        let mut wait = Duration::ZERO;
        let mut calls = JoinSet::new();
        let mut chunks = pending.chunks(PER_BATCH).map(<[usize]>::to_vec).collect::<Vec<_>>().into_iter();
        loop {
            while calls.len() < concurrency.max(1) {
                let Some(chunk) = chunks.next() else { break };
                let (client, urls, endpoint) = (client.clone(), urls.clone(), endpoint.clone());
                calls.spawn(async move {
                    // Each item paced in its own tier (one resource unit an identity item: the per-object reads
                    // here cost the minimum).
                    for (pacer, n) in tiers(&client, chunk.iter().map(|&i| urls[i].as_str())) {
                        pacer.acquire(n as f64).await;
                    }
                    let requests: Vec<Value> =
                        chunk.iter().map(|&i| json!({"id": i.to_string(), "method": "GET", "url": urls[i]})).collect();
                    let reply = client
                        .send(
                            Service::Graph,
                            reqwest::Method::POST,
                            &endpoint,
                            &[],
                            Some(&json!({"requests": requests})),
                        )
                        .await?;
                    Ok::<Value, ApiError>(reply.body)
                });
            }
            let Some(done) = calls.join_next().await else { break };
            let body = done.map_err(|e| ApiError::Transport { service: "graph", message: e.to_string() })??;
            let answers = body["responses"].as_array().map_or(&[][..], Vec::as_slice);
            let throttled = answers.iter().filter(|r| r["status"].as_u64() == Some(429)).count() as u64;
            client.note_inner(Service::Graph, answers.len() as u64, throttled);
            // Each tier hears of its own items: a throttled one pauses and slows its tier (once a burst, until the
            // longest Retry-After), answered ones let theirs creep back (once a call).
            let url_of = |r: &Value| r["id"].as_str().and_then(|s| s.parse::<usize>().ok()).and_then(|i| urls.get(i));
            let is_429 = |r: &&Value| r["status"].as_u64() == Some(429);
            let mut slowed: Vec<Arc<Pacer>> = Vec::new();
            for r in answers.iter().filter(is_429) {
                let Some(pacer) = url_of(r).and_then(|u| client.pacers.graph(GraphTier::of(u))) else { continue };
                pacer.throttled(item_wait(r));
                slowed.push(pacer.clone());
            }
            let answered_urls = answers.iter().filter(|r| !is_429(r)).filter_map(url_of).map(String::as_str);
            for (pacer, _) in tiers(client, answered_urls) {
                if !slowed.iter().any(|t| Arc::ptr_eq(t, &pacer)) {
                    pacer.admitted();
                }
            }
            for r in body["responses"].as_array().into_iter().flatten() {
                let Some(i) = r["id"].as_str().and_then(|s| s.parse::<usize>().ok()).filter(|i| *i < urls.len()) else {
                    continue;
                };
                let status = r["status"].as_u64().unwrap_or(0) as u16;
                // An item whose token expired while the batch ran: again a second later, when the credential's
                // cache has let the old token go.
                if status == 401 && r["body"]["error"]["code"] == "InvalidAuthenticationToken" {
                    wait = wait.max(Duration::from_secs(1));
                    retry.push(i);
                } else if retryable(status) {
                    wait = wait.max(item_wait(r));
                    retry.push(i);
                } else {
                    if let Some(items) = r["body"]["value"].as_array()
                        && let Err(why) = crate::azure::items::check_page(items, &urls[i])
                    {
                        return Err(ApiError::Untrusted { service: "graph", message: format!("{why} ({})", urls[i]) });
                    }
                    each(i, ItemAnswer { status, body: r["body"].clone() })?;
                    crate::collect::progress::items(1);
                }
            }
        }
        stalled = if retry.len() == before { stalled + 1 } else { 0 };
        if !retry.is_empty() {
            tokio::time::sleep(wait).await;
        }
        pending = retry;
    }
    if pending.is_empty() {
        Ok(())
    } else {
        Err(ApiError::RetriesExhausted {
            service: "graph",
            attempts: MAX_STALLED_ROUNDS,
            last: format!(
                "{} batch items still throttled after {MAX_STALLED_ROUNDS} rounds without progress",
                pending.len()
            ),
        })
    }
}

/// How long a throttled or failed item asked to wait (a second when it does not say), at most two minutes.
fn item_wait(item: &Value) -> Duration {
    item_retry_after(item).unwrap_or(Duration::from_secs(1)).min(Duration::from_secs(120))
}
