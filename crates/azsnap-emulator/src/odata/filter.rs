//! `$filter` as Graph takes it for directory objects: `eq`/`ne` comparisons, `ge`/`gt`/`le`/`lt` on date-times
//! (`signInActivity/lastSignInDateTime ge 2026-11-01T00:00:00Z`), `and`/`or`, parentheses, `any()` on collections,
//! and refusal (not overflow) of filters too deep or too long.

use serde_json::Value;

/// A parsed `$filter`: a small expression language, enough for the forms Graph documents for directory objects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    Cmp {
        prop: String,
        op: CmpOp,
        value: Value,
    },
    /// `prop/any(c:c eq 'x')`.
    Any {
        prop: String,
        value: Value,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Ge,
    Gt,
    Le,
    Lt,
}

impl Filter {
    /// Every property the filter reads.
    pub(crate) fn props(&self) -> Vec<&str> {
        match self {
            Filter::Cmp { prop, .. } | Filter::Any { prop, .. } => vec![prop.as_str()],
            Filter::And(a, b) | Filter::Or(a, b) => {
                let mut v = a.props();
                v.extend(b.props());
                v
            }
        }
    }

    /// Whether the filter needs Graph's advanced query mode (`ne`).
    pub(crate) fn uses_ne(&self) -> bool {
        match self {
            Filter::Cmp { op, .. } => *op == CmpOp::Ne,
            Filter::Any { .. } => false,
            Filter::And(a, b) | Filter::Or(a, b) => a.uses_ne() || b.uses_ne(),
        }
    }

    /// Evaluates the filter; `get` reads a property of the object.
    pub(crate) fn matches(&self, get: &dyn Fn(&str) -> Value) -> bool {
        match self {
            Filter::Cmp { prop, op, value } => {
                let actual = get(prop);
                let equal = values_equal(&actual, value);
                match op {
                    CmpOp::Eq => equal,
                    CmpOp::Ne => !equal,
                    // A missing value (never signed in) matches no ordering comparison, as in Graph.
                    _ => order(&actual, value).is_some_and(|o| match op {
                        CmpOp::Ge => o.is_ge(),
                        CmpOp::Gt => o.is_gt(),
                        CmpOp::Le => o.is_le(),
                        _ => o.is_lt(),
                    }),
                }
            }
            Filter::Any { prop, value } => {
                get(prop).as_array().is_some_and(|items| items.iter().any(|i| values_equal(i, value)))
            }
            Filter::And(a, b) => a.matches(get) && b.matches(get),
            Filter::Or(a, b) => a.matches(get) || b.matches(get),
        }
    }
}

/// How two values order: date-times as instants, numbers as numbers; `None` when they do not compare.
fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            let (x, y) = (x.parse::<crate::model::Timestamp>().ok()?, y.parse::<crate::model::Timestamp>().ok()?);
            Some(x.cmp(&y))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        _ => None,
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// Parses a `$filter` expression; `None` when it is not of a supported form.
pub(crate) fn parse_filter(text: &str) -> Option<Filter> {
    let tokens = tokenize(text)?;
    // Bounded like Graph's own parser: deep nesting or endless clauses are a 400, never a stack overflow (the
    // parser, the matcher and the tree's drop all recurse).
    if tokens.len() > MAX_FILTER_TOKENS {
        return None;
    }
    let mut pos = 0;
    let f = parse_or(&tokens, &mut pos, 0)?;
    (pos == tokens.len()).then_some(f)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Colon,
}

fn tokenize(text: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return None,
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            _ => {
                let start = i;
                // A date-time literal (`2026-11-01T00:00:00Z`) keeps its colons.
                let date = c.is_ascii_digit();
                while i < chars.len() && !matches!(chars[i], ' ' | '\t' | '(' | ')' | '\'') && (date || chars[i] != ':')
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Some(out)
}

fn keyword(tokens: &[Tok], pos: usize, kw: &str) -> bool {
    matches!(tokens.get(pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

/// The most tokens a `$filter` may have.
const MAX_FILTER_TOKENS: usize = 500;
/// The deepest parentheses may nest in a `$filter`.
const MAX_FILTER_DEPTH: usize = 16;

fn parse_or(t: &[Tok], pos: &mut usize, depth: usize) -> Option<Filter> {
    let mut left = parse_and(t, pos, depth)?;
    while keyword(t, *pos, "or") {
        *pos += 1;
        left = Filter::Or(Box::new(left), Box::new(parse_and(t, pos, depth)?));
    }
    Some(left)
}

fn parse_and(t: &[Tok], pos: &mut usize, depth: usize) -> Option<Filter> {
    let mut left = parse_term(t, pos, depth)?;
    while keyword(t, *pos, "and") {
        *pos += 1;
        left = Filter::And(Box::new(left), Box::new(parse_term(t, pos, depth)?));
    }
    Some(left)
}

fn parse_term(t: &[Tok], pos: &mut usize, depth: usize) -> Option<Filter> {
    if t.get(*pos) == Some(&Tok::Open) {
        if depth >= MAX_FILTER_DEPTH {
            return None;
        }
        *pos += 1;
        let inner = parse_or(t, pos, depth + 1)?;
        if t.get(*pos) != Some(&Tok::Close) {
            return None;
        }
        *pos += 1;
        return Some(inner);
    }
    let Some(Tok::Word(word)) = t.get(*pos) else { return None };
    *pos += 1;
    // `groupTypes/any(c:c eq 'Unified')`
    if let Some(prop) = word.strip_suffix("/any") {
        let var = match (t.get(*pos), t.get(*pos + 1), t.get(*pos + 2)) {
            (Some(Tok::Open), Some(Tok::Word(v)), Some(Tok::Colon)) => v.clone(),
            _ => return None,
        };
        *pos += 3;
        match (t.get(*pos), t.get(*pos + 1), t.get(*pos + 2), t.get(*pos + 3)) {
            (Some(Tok::Word(v)), Some(Tok::Word(op)), Some(lit), Some(Tok::Close))
                if *v == var && op.eq_ignore_ascii_case("eq") =>
            {
                let value = literal(lit)?;
                *pos += 4;
                return Some(Filter::Any { prop: prop.to_owned(), value });
            }
            _ => return None,
        }
    }
    let op = match t.get(*pos) {
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("eq") => CmpOp::Eq,
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("ne") => CmpOp::Ne,
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("ge") => CmpOp::Ge,
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("gt") => CmpOp::Gt,
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("le") => CmpOp::Le,
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("lt") => CmpOp::Lt,
        _ => return None,
    };
    let value = literal(t.get(*pos + 1)?)?;
    *pos += 2;
    Some(Filter::Cmp { prop: word.clone(), op, value })
}

fn literal(tok: &Tok) -> Option<Value> {
    match tok {
        Tok::Str(s) => Some(Value::String(s.clone())),
        Tok::Word(w) => match w.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" => Some(Value::Null),
            n if n.parse::<crate::model::Timestamp>().is_ok() => Some(Value::String(n.to_owned())),
            n => n.parse::<i64>().ok().map(Value::from),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_match() {
        let f = parse_filter("servicePrincipalType eq 'ManagedIdentity'").unwrap();
        let obj = serde_json::json!({"servicePrincipalType": "ManagedIdentity", "groupTypes": ["Unified"]});
        let get = |p: &str| obj.get(p).cloned().unwrap_or(Value::Null);
        assert!(f.matches(&get));
        assert!(parse_filter("groupTypes/any(c:c eq 'Unified')").unwrap().matches(&get));
        assert!(!parse_filter("groupTypes/any(c:c eq 'DynamicMembership')").unwrap().matches(&get));
        let ne = parse_filter("onPremisesSyncEnabled ne true").unwrap();
        assert!(ne.uses_ne() && ne.matches(&get), "null is not true");
        let both = parse_filter("(accountEnabled eq false) and userType eq 'Guest'").unwrap();
        assert_eq!(both.props(), vec!["accountEnabled", "userType"]);
        let quoted = parse_filter("principalId eq 'a''b'").unwrap();
        assert!(quoted.matches(&|_| Value::from("a'b")), "a doubled quote is one quote");
        assert!(!quoted.matches(&|_| Value::from("a''b")));
        let since = parse_filter("signInActivity/lastSignInDateTime ge 2026-11-01T00:00:00Z").unwrap();
        assert!(since.matches(&|_| Value::from("2026-11-20T08:12:00Z")));
        assert!(since.matches(&|_| Value::from("2026-11-01T00:00:00Z")), "ge includes the instant itself");
        assert!(!since.matches(&|_| Value::from("2026-10-31T23:59:59.9Z")));
        assert!(!since.matches(&|_| Value::Null), "never signed in matches no ordering");
        assert!(parse_filter("x lt 3").unwrap().matches(&|_| Value::from(2)));
        for bad in ["", "startswith(displayName,'a')", "x gt", "x eq", "x eq 'a' and", "(x eq 1"] {
            assert!(parse_filter(bad).is_none(), "{bad:?} parsed");
        }
    }

    #[test]
    fn deep_or_long_filters_are_refused_not_overflowing() {
        let deep = format!("{}x eq 1{}", "(".repeat(3_000), ")".repeat(3_000));
        assert!(parse_filter(&deep).is_none());
        let long = vec!["x eq 1"; 100_000].join(" or ");
        assert!(parse_filter(&long).is_none());
        let ok = format!("{}x eq 1{}", "(".repeat(MAX_FILTER_DEPTH), ")".repeat(MAX_FILTER_DEPTH));
        assert!(parse_filter(&ok).is_some());
    }
}
