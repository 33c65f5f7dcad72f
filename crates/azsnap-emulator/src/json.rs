//! JSON helpers every layer uses.

use serde_json::{Map, Value};

/// The members of a JSON object (`json!({…})`); anything else gives none.
pub(crate) fn as_object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
