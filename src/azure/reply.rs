//! Reading an answer: its body (bounded), `Retry-After`, request id, pages refused while parsing once too large,
//! and the wait a throttled answer asks for.

use std::time::Duration;

use serde_json::Value;

use crate::azure::client::Service;
use crate::azure::error::ApiError;

/// The service's request id among `headers`, when it is a plain token.
pub(super) fn request_id(headers: &reqwest::header::HeaderMap) -> Option<String> {
    ["request-id", "x-ms-request-id"].iter().find_map(|name| {
        let v = headers.get(*name)?.to_str().ok()?.trim();
        (!v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .then(|| v.to_owned())
    })
}

/// Seconds from a `Retry-After` header (`2`, `2.128`); HTTP-date forms are not used by Graph or ARM. (Absurd values
/// are kept within what a duration holds; the `max_retry_after` limit refuses them anyway.)
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    crate::azure::retry::retry_after(headers.get("retry-after")?.to_str().ok()?)
}

/// Reads an answer's body, refusing one larger than `max` bytes (by its `Content-Length`, or as it arrives).
pub(super) async fn read_body(mut resp: reqwest::Response, max: u64) -> Result<Vec<u8>, Outcome> {
    let length = resp.content_length();
    if length.is_some_and(|n| n > max) {
        return Err(Outcome::TooLarge(length.unwrap_or(max)));
    }
    // Sized once when the length is known (no doubling copies of a large page).
    let mut body = Vec::with_capacity(usize::try_from(length.unwrap_or(0)).unwrap_or(0));
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > max {
                    return Err(Outcome::TooLarge(body.len() as u64 + chunk.len() as u64));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(Outcome::Transport(transport_text(&e))),
        }
    }
}

/// Why a list page could not be parsed.
pub(super) enum PageError {
    /// Its `value` holds more items than allowed (found while parsing, before they are all built).
    TooMany,
    Json(String),
}

/// Parses a list page, refusing one whose `value` list holds more than `max` items as soon as it gets there: a flood
/// of tiny items costs no more memory than `max` of them.
pub(super) fn parse_page(bytes: &[u8], max: usize) -> Result<Value, PageError> {
    use serde::de::{DeserializeSeed, Error, MapAccess, SeqAccess, Visitor};
    const TOO_MANY: &str = "azsnap: too many items";

    struct Page(usize);
    impl<'de> Visitor<'de> for Page {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = serde_json::Map::new();
            while let Some(key) = map.next_key::<String>()? {
                let v = if key == "value" { map.next_value_seed(Items(self.0))? } else { map.next_value()? };
                out.insert(key, v);
            }
            Ok(Value::Object(out))
        }
    }
    struct Items(usize);
    impl<'de> DeserializeSeed<'de> for Items {
        type Value = Value;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Items {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of items")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<Value>()? {
                if items.len() == self.0 {
                    return Err(A::Error::custom(TOO_MANY));
                }
                items.push(item);
            }
            Ok(Value::Array(items))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
            serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_owned()))
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let page = serde::Deserializer::deserialize_any(&mut de, Page(max)).and_then(|v| de.end().map(|()| v));
    page.map_err(
        |e| if e.to_string().starts_with(TOO_MANY) { PageError::TooMany } else { PageError::Json(e.to_string()) },
    )
}

/// Why one attempt produced no usable answer.
pub(super) enum Outcome {
    Transport(String),
    TooLarge(u64),
    Redirect(String),
}

/// The JSON of a successful answer: `Null` when empty; a page (`max_items`) refused while parsing once it holds
/// more items than that.
pub(super) fn reply_body(
    service: Service,
    bytes: &[u8],
    max_items: Option<usize>,
    url: &str,
) -> Result<Value, ApiError> {
    match (bytes.is_empty(), max_items) {
        (true, _) => Ok(Value::Null),
        (false, None) => {
            serde_json::from_slice(bytes).map_err(|e| ApiError::Json { url: url.to_owned(), message: e.to_string() })
        }
        (false, Some(max)) => parse_page(bytes, max).map_err(|e| match e {
            PageError::TooMany => ApiError::Untrusted {
                service: service.name(),
                message: format!(
                    "a page of more than {max} items, more than azsnap accepts; refused while parsing ({url})"
                ),
            },
            PageError::Json(message) => ApiError::Json { url: url.to_owned(), message },
        }),
    }
}

/// A transport error's text with its causes (a refused redirect says why only in its source), and the timeout
/// named when it was one.
pub(super) fn transport_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    if e.is_timeout() { format!("timed out ({text})") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_parsed_whole_or_refused_at_the_item_limit() {
        let page = br#"{"value": [{"id": "a"}, {"id": "b"}], "@odata.nextLink": "https://graph.microsoft.com/v1.0/x"}"#;
        let v = parse_page(page, 2).ok().expect("parses");
        assert_eq!(v["value"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["@odata.nextLink"], "https://graph.microsoft.com/v1.0/x");
        assert!(matches!(parse_page(page, 1), Err(PageError::TooMany)));
        assert!(matches!(parse_page(br#"{"value": null}"#, 1), Ok(v) if v["value"].is_null()));
        for bad in [&b"<html>"[..], b"[1]", br#"{"value": [1"#, br#"{"value": []} x"#] {
            assert!(matches!(parse_page(bad, 10), Err(PageError::Json(_))), "{}", String::from_utf8_lossy(bad));
        }
    }
}
