//! When to try a request again, and how long the service asked to wait: one rule for whole requests (the client's
//! attempt loop) and for the items of a `$batch`, which carry their own status and `Retry-After`.

use std::time::Duration;

use serde_json::Value;

/// Whether an answer with `status` may be tried again: timeouts, throttling and the transient server errors.
pub fn retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// A `Retry-After` value in seconds (fractions allowed), if it is one.
pub fn retry_after(value: &str) -> Option<Duration> {
    let v = value.trim().parse::<f64>().ok()?;
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(1e12)))
}

/// The `Retry-After` of one `$batch` item answer (its `headers` object, any letter case).
pub fn item_retry_after(item: &Value) -> Option<Duration> {
    let headers = item["headers"].as_object()?;
    let (_, v) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))?;
    retry_after(v.as_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn waits_are_read_from_headers_and_batch_items_alike() {
        assert_eq!(retry_after(" 2.5 "), Some(Duration::from_millis(2500)));
        for bad in ["", "-1", "NaN", "inf", "Wed, 21 Oct 2026 07:28:00 GMT"] {
            assert_eq!(retry_after(bad), None, "{bad:?}");
        }
        assert_eq!(item_retry_after(&json!({"headers": {"retry-after": "3"}})), Some(Duration::from_secs(3)));
        assert_eq!(item_retry_after(&json!({"headers": {"Retry-After": "1"}})), Some(Duration::from_secs(1)));
        assert_eq!(item_retry_after(&json!({"status": 429})), None);
        assert!(retryable(429) && retryable(503) && retryable(408));
        assert!(!retryable(400) && !retryable(403) && !retryable(404) && !retryable(401));
    }
}
