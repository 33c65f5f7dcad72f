//! OData query options as Graph applies them: `$top` limits, `$select` projection, the `$filter` forms the
//! collector uses, `$count` with `ConsistencyLevel`, and opaque `$skiptoken` paging with absolute nextLinks.

use serde_json::{Map, Value};

mod filter;

pub(crate) use filter::{Filter, parse_filter};

use crate::http::{ApiRequest, ApiResponse, graph_error};

/// What a collection allows: its name in `@odata.context`, selectable and filterable properties.
pub(crate) struct Collection<'a> {
    /// `users`, `groups`, `servicePrincipals`, …
    pub context: &'a str,
    /// Type name for error messages, e.g. `microsoft.graph.user`.
    pub type_name: &'a str,
    pub selectable: &'a [&'a str],
    pub filterable: &'a [&'a str],
    /// Properties whose filter needs advanced query mode (ConsistencyLevel + $count).
    pub advanced_filter: &'a [&'a str],
    /// Maximum `$top` (999 unless the query selects something rarer).
    pub max_top: usize,
    /// Whether `$count` needs `ConsistencyLevel: eventual` (directory objects).
    pub count_needs_eventual: bool,
    /// Navigation properties `$expand` may name (and `$select` may list, rendering nothing for them).
    pub expandable: &'a [&'a str],
}

/// The query options of one Graph list request, validated.
#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    pub top: usize,
    pub select: Option<Vec<String>>,
    pub filter: Option<Filter>,
    pub count: bool,
    pub offset: usize,
    /// `$expand`ed navigation properties.
    pub expand: Vec<Expand>,
}

const DEFAULT_TOP: usize = 100;

/// Graph's limits on `$expand` for directory objects: a page holds at most 100 objects, and an expanded
/// relationship at most 20, with no link to the rest.
pub(crate) const EXPAND_MAX_PAGE: usize = 100;
pub(crate) const EXPAND_MAX_ITEMS: usize = 20;

/// One `$expand` item: `manager`, or `manager($select=id,displayName)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expand {
    pub name: String,
    pub select: Option<Vec<String>>,
}

/// Parses `$expand` against the navigation properties of `type_name`; `Ok(empty)` when there is none.
pub(crate) fn parse_expand(req: &ApiRequest, type_name: &str, expandable: &[&str]) -> Result<Vec<Expand>, ApiResponse> {
    let Some(text) = req.param("$expand") else { return Ok(Vec::new()) };
    let bad = |msg: String| graph_error(400, "BadRequest", &format!("Parsing OData Select and Expand failed: {msg}"));
    let mut items = Vec::new();
    for item in split_top_level(text) {
        let (name, options) = match item.split_once('(') {
            Some((n, rest)) => {
                let Some(inner) = rest.strip_suffix(')') else { return Err(bad(format!("Syntax error in '{item}'."))) };
                (n.trim(), Some(inner))
            }
            None => (item.trim(), None),
        };
        let Some(known) = expandable.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
            return Err(bad(format!("Could not find a property named '{name}' on type '{type_name}'.")));
        };
        let select = match options {
            None => None,
            Some(o) => {
                let Some(list) = o.trim().strip_prefix("$select=") else {
                    return Err(bad(format!("Only $select is supported inside $expand, not '{o}'.")));
                };
                Some(list.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect())
            }
        };
        items.push(Expand { name: (*known).to_owned(), select });
    }
    Ok(items)
}

/// `a,b(c,d),e` → `a`, `b(c,d)`, `e`.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

impl ListQuery {
    /// Reads and checks `$top`, `$select`, `$filter`, `$count`, `$skiptoken`; a bad option is Graph's 400.
    pub(crate) fn parse(req: &ApiRequest, c: &Collection<'_>) -> Result<Self, ApiResponse> {
        let bad = |msg: String| graph_error(400, "Request_BadRequest", &msg);
        let unsupported = |msg: String| graph_error(400, "Request_UnsupportedQuery", &msg);
        for (k, _) in &req.query {
            let k = k.to_ascii_lowercase();
            let expand_allowed = k == "$expand" && !c.expandable.is_empty();
            if k.starts_with('$')
                && !expand_allowed
                && !["$top", "$select", "$filter", "$count", "$skiptoken"].contains(&k.as_str())
            {
                return Err(unsupported(format!("Query option '{k}' is not supported on '{}'.", c.context)));
            }
        }
        let select = match req.param("$select") {
            None => None,
            Some(s) => {
                let mut fields = Vec::new();
                for f in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                    // A navigation property may be selected; only `$expand` brings its content.
                    if c.expandable.iter().any(|k| k.eq_ignore_ascii_case(f)) {
                        continue;
                    }
                    let Some(known) = c.selectable.iter().find(|k| k.eq_ignore_ascii_case(f)) else {
                        return Err(bad(format!("Could not find a property named '{f}' on type '{}'.", c.type_name)));
                    };
                    fields.push((*known).to_owned());
                }
                Some(fields)
            }
        };
        let max_top = match &select {
            Some(s) if s.iter().any(|f| f == "signInActivity") => 500,
            _ => c.max_top,
        };
        let expand = parse_expand(req, c.type_name, c.expandable)?;
        let top = match req.param("$top") {
            None => DEFAULT_TOP.min(max_top),
            Some(t) => match t.parse::<usize>() {
                Ok(n) if (1..=max_top).contains(&n) => n,
                _ => {
                    return Err(bad(format!(
                        "Invalid page size specified: '{t}'. Must be between 1 and {max_top} inclusive."
                    )));
                }
            },
        };
        let eventual = req.header("consistencylevel").is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
        let count = match req.param("$count") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => return Err(bad(format!("Invalid value '{v}' for $count."))),
        };
        let filter = match req.param("$filter") {
            None => None,
            Some(text) => {
                let Some(f) = parse_filter(text) else {
                    return Err(unsupported(format!("Invalid filter clause: '{text}' is not supported.")));
                };
                for p in f.props() {
                    if !c.filterable.iter().any(|k| k.eq_ignore_ascii_case(p)) {
                        return Err(unsupported(format!(
                            "Unsupported or invalid query filter clause specified for property '{p}' of resource '{}'.",
                            c.context
                        )));
                    }
                }
                let advanced = f.uses_ne()
                    || f.props().iter().any(|p| c.advanced_filter.iter().any(|a| a.eq_ignore_ascii_case(p)));
                if advanced && !(eventual && count) {
                    return Err(unsupported(format!(
                        "Unsupported or invalid query filter clause specified for property '{}' of resource '{}'. \
                         This query needs ConsistencyLevel: eventual and $count=true.",
                        f.props().first().copied().unwrap_or_default(),
                        c.context
                    )));
                }
                Some(f)
            }
        };
        if count && c.count_needs_eventual && !eventual {
            return Err(bad("$count is not currently supported.".to_owned()));
        }
        let offset = match req.param("$skiptoken") {
            None => 0,
            Some(tok) => decode_skiptoken(tok)
                .ok_or_else(|| bad("The specified page token value has expired or can not be decoded.".to_owned()))?,
        };
        // With `$expand`, Graph serves at most 100 objects a page, whatever `$top` asked for.
        let top = if expand.is_empty() { top } else { top.min(EXPAND_MAX_PAGE) };
        Ok(ListQuery { top, select, filter, count, offset, expand })
    }
}

/// An opaque token for "continue at offset N".
pub(crate) fn encode_skiptoken(offset: usize) -> String {
    let x = (offset as u64) ^ 0x5a5a_1234_a5a5_4321;
    let check = (x.rotate_left(13) ^ 0x0f0f_f0f0) & 0xffff;
    format!("RFNwdAIAAQAAAD{x:016x}{check:04x}")
}

pub(crate) fn decode_skiptoken(tok: &str) -> Option<usize> {
    let hex = tok.strip_prefix("RFNwdAIAAQAAAD")?;
    if hex.len() != 20 {
        return None;
    }
    let x = u64::from_str_radix(&hex[..16], 16).ok()?;
    let check = u64::from_str_radix(&hex[16..], 16).ok()?;
    (check == (x.rotate_left(13) ^ 0x0f0f_f0f0) & 0xffff).then_some((x ^ 0x5a5a_1234_a5a5_4321) as usize)
}

/// The link to the page at `offset`: the request's own URL (same options) with a new `$skiptoken`.
pub(crate) fn next_link(req: &ApiRequest, offset: usize) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in req.query.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken")) {
        ser.append_pair(k, v);
    }
    ser.append_pair("$skiptoken", &encode_skiptoken(offset));
    let path: String = percent_encoding::utf8_percent_encode(&req.path, PATH).to_string();
    format!("{}{}?{}", req.base_url, path, ser.finish())
}

const PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Builds one page of a Graph collection: filter, count, slice, project, link.
///
/// `items` yields candidate objects lazily; `get` reads a property of one (defaults included); `render` builds the
/// JSON of one object given the projection.
pub(crate) fn page<T>(
    req: &ApiRequest,
    q: &ListQuery,
    context: &str,
    items: impl Iterator<Item = T>,
    get: impl Fn(&T, &str) -> Value,
    render: impl Fn(&T, Option<&[String]>) -> Map<String, Value>,
) -> ApiResponse {
    let mut total = 0usize;
    let mut value = Vec::new();
    let mut more = false;
    for item in items {
        if let Some(f) = &q.filter
            && !f.matches(&|p| get(&item, p))
        {
            continue;
        }
        if total >= q.offset && value.len() < q.top {
            value.push(Value::Object(render(&item, q.select.as_deref())));
        } else if total >= q.offset + q.top {
            more = true;
            if !q.count {
                break;
            }
        }
        total += 1;
    }
    let ctx = match &q.select {
        Some(s) => format!("{}$metadata#{context}({})", req.metadata_base(), s.join(",")),
        None => format!("{}$metadata#{context}", req.metadata_base()),
    };
    let mut body = Map::new();
    body.insert("@odata.context".to_owned(), Value::String(ctx));
    if q.count {
        body.insert("@odata.count".to_owned(), Value::from(total));
    }
    if more {
        body.insert("@odata.nextLink".to_owned(), Value::String(next_link(req, q.offset + q.top)));
    }
    body.insert("value".to_owned(), Value::Array(value));
    ApiResponse::ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptokens_round_trip_and_reject_forgeries() {
        for n in [0, 1, 999, 123_456] {
            assert_eq!(decode_skiptoken(&encode_skiptoken(n)), Some(n));
        }
        let mut forged = encode_skiptoken(5);
        forged.replace_range(forged.len() - 1.., "0");
        let forged_ok = decode_skiptoken(&forged) == Some(5);
        assert!(!forged_ok || encode_skiptoken(5).ends_with('0'));
        assert_eq!(decode_skiptoken("12"), None);
    }
}
