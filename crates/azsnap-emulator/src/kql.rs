//! The subset of the Kusto query language (KQL) the emulator's Resource Graph runs: what the SDKs' samples and the
//! open-source collectors send. A query is a table name and a pipeline of `where` (conditions joined by `and`:
//! `==`, `!=`, `=~`, `!~`, `contains`, `startswith`, `endswith`, `in`, `in~`), `project`, `extend`,
//! `summarize count() [by …]`, `count`, `limit`/`take` and `order by`/`sort by`. Columns are property paths
//! (`properties.principalId`), optionally through `tostring()` or `tolower()`. Anything else is refused with a
//! message saying what, never run differently.

use std::cmp::Ordering;

use serde_json::{Map, Value};

/// A parsed query: the table it reads and what is done to the rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    /// `resources`, `authorizationresources`, `resourcecontainers` (lowercase).
    pub table: String,
    stages: Vec<Stage>,
}

#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Where(Vec<Condition>),
    Project(Vec<(String, Expr)>),
    Extend(Vec<(String, Expr)>),
    Summarize(Vec<(String, Expr)>),
    Count,
    Limit(usize),
    Order(Vec<(Expr, bool)>),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Path(Vec<String>),
    ToString(Box<Expr>),
    ToLower(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    EqCi,
    Ne,
    NeCi,
    Contains,
    StartsWith,
    EndsWith,
    In,
    InCi,
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    left: Expr,
    op: Op,
    right: Vec<Value>,
}

/// One token of a pipeline stage.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(f64),
    Symbol(&'static str),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..].iter().position(|&d| d == c).ok_or("a string literal is not closed")?;
            out.push(Token::Text(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c.is_ascii_digit() {
            let len = chars[i..].iter().take_while(|d| d.is_ascii_digit() || **d == '.').count();
            let text: String = chars[i..i + len].iter().collect();
            out.push(Token::Number(text.parse().map_err(|_| format!("'{text}' is not a number"))?));
            i += len;
        } else if c.is_alphabetic() || c == '_' {
            let len =
                chars[i..].iter().take_while(|d| d.is_alphanumeric() || matches!(d, '_' | '.' | '-' | '~')).count();
            out.push(Token::Word(chars[i..i + len].iter().collect()));
            i += len;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let symbol = ["==", "!=", "=~", "!~"].into_iter().find(|s| *s == two);
            match symbol {
                Some(s) => {
                    out.push(Token::Symbol(s));
                    i += 2;
                }
                None => {
                    let one = ["=", "(", ")", ","].into_iter().find(|s| s.starts_with(c));
                    out.push(Token::Symbol(one.ok_or_else(|| format!("unexpected character '{c}'"))?));
                    i += 1;
                }
            }
        }
    }
    Ok(out)
}

/// Splits a query into its pipeline stages at `|` outside string literals.
fn stages(text: &str) -> Vec<String> {
    let (mut out, mut current, mut quote) = (Vec::new(), String::new(), None);
    for c in text.chars() {
        match (c, quote) {
            ('|', None) => out.push(std::mem::take(&mut current)),
            ('\'' | '"', None) => {
                quote = Some(c);
                current.push(c);
            }
            (q, Some(open)) if q == open => {
                quote = None;
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    out.push(current);
    out
}

/// Parses a query; the error says what is not understood or not supported.
pub(crate) fn parse(text: &str) -> Result<Query, String> {
    let mut parts = stages(text).into_iter();
    let table = parts.next().map(|t| t.trim().to_ascii_lowercase()).unwrap_or_default();
    if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("the query must start with a table name, not '{table}'"));
    }
    let stages = parts.map(|p| parse_stage(&tokenize(&p)?)).collect::<Result<Vec<_>, _>>()?;
    Ok(Query { table, stages })
}

fn parse_stage(tokens: &[Token]) -> Result<Stage, String> {
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
        _ => None,
    };
    let Some(op) = word(0) else { return Err("an empty pipeline stage".to_owned()) };
    let rest = &tokens[1..];
    match op.as_str() {
        "where" => parse_conditions(rest).map(Stage::Where),
        "project" => parse_columns(rest).map(Stage::Project),
        "extend" => parse_columns(rest).map(Stage::Extend),
        "count" if rest.is_empty() => Ok(Stage::Count),
        "limit" | "take" => match rest {
            [Token::Number(n)] if *n >= 0.0 => Ok(Stage::Limit(*n as usize)),
            _ => Err(format!("'{op}' takes one number")),
        },
        "summarize" => match rest {
            [Token::Word(f), Token::Symbol("("), Token::Symbol(")"), tail @ ..] if f.eq_ignore_ascii_case("count") => {
                match tail {
                    [] => Ok(Stage::Summarize(Vec::new())),
                    [Token::Word(by), columns @ ..] if by.eq_ignore_ascii_case("by") => {
                        parse_columns(columns).map(Stage::Summarize)
                    }
                    _ => Err("only 'summarize count() [by column, …]' is supported".to_owned()),
                }
            }
            _ => Err("only 'summarize count() [by column, …]' is supported".to_owned()),
        },
        "order" | "sort" if word(1).as_deref() == Some("by") => parse_order(&tokens[2..]).map(Stage::Order),
        other => Err(format!("the operator '{other}' is not supported by the emulator")),
    }
}

/// `a, b = c, tostring(d)`.
fn parse_columns(tokens: &[Token]) -> Result<Vec<(String, Expr)>, String> {
    let mut out = Vec::new();
    for item in tokens.split(|t| *t == Token::Symbol(",")) {
        let (name, expr) = match item {
            [Token::Word(alias), Token::Symbol("="), expr @ ..] => (alias.clone(), parse_expr(expr)?),
            expr => {
                let e = parse_expr(expr)?;
                (default_name(&e), e)
            }
        };
        out.push((name, expr));
    }
    Ok(out)
}

/// The column name KQL gives an unnamed expression: `properties.x` → `properties_x`.
fn default_name(e: &Expr) -> String {
    match e {
        Expr::Path(p) => p.join("_"),
        Expr::ToString(inner) | Expr::ToLower(inner) => default_name(inner),
    }
}

fn parse_expr(tokens: &[Token]) -> Result<Expr, String> {
    match tokens {
        [Token::Word(path)] => Ok(Expr::Path(path.split('.').map(str::to_owned).collect())),
        [Token::Word(f), Token::Symbol("("), inner @ .., Token::Symbol(")")] => {
            let inner = Box::new(parse_expr(inner)?);
            match f.to_ascii_lowercase().as_str() {
                "tostring" => Ok(Expr::ToString(inner)),
                "tolower" => Ok(Expr::ToLower(inner)),
                other => Err(format!("the function '{other}' is not supported by the emulator")),
            }
        }
        _ => Err(format!("cannot read the expression '{}'", show(tokens))),
    }
}

fn parse_order(tokens: &[Token]) -> Result<Vec<(Expr, bool)>, String> {
    tokens
        .split(|t| *t == Token::Symbol(","))
        .map(|item| match item {
            [expr @ .., Token::Word(dir)] if dir.eq_ignore_ascii_case("asc") => Ok((parse_expr(expr)?, false)),
            [expr @ .., Token::Word(dir)] if dir.eq_ignore_ascii_case("desc") => Ok((parse_expr(expr)?, true)),
            // KQL sorts descending unless told otherwise.
            expr => Ok((parse_expr(expr)?, true)),
        })
        .collect()
}

fn parse_conditions(tokens: &[Token]) -> Result<Vec<Condition>, String> {
    let mut out = Vec::new();
    let mut rest = tokens;
    loop {
        let end = rest.iter().position(
            |t| matches!(t, Token::Word(w) if w.eq_ignore_ascii_case("and" ) || w.eq_ignore_ascii_case("or")),
        );
        let (this, next) = match end {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        out.push(parse_condition(this)?);
        match next {
            None => return Ok(out),
            Some([Token::Word(w), tail @ ..]) if w.eq_ignore_ascii_case("and") => rest = tail,
            Some(_) => return Err("'or' is not supported by the emulator; use one query per alternative".to_owned()),
        }
    }
}

fn parse_condition(tokens: &[Token]) -> Result<Condition, String> {
    let at = tokens
        .iter()
        .position(|t| match t {
            Token::Symbol(s) => ["==", "!=", "=~", "!~"].contains(s),
            Token::Word(w) => {
                ["contains", "startswith", "endswith", "in", "in~"].contains(&w.to_ascii_lowercase().as_str())
            }
            _ => false,
        })
        .ok_or_else(|| format!("cannot read the condition '{}'", show(tokens)))?;
    let op = match &tokens[at] {
        Token::Symbol("==") => Op::Eq,
        Token::Symbol("!=") => Op::Ne,
        Token::Symbol("=~") => Op::EqCi,
        Token::Symbol("!~") => Op::NeCi,
        Token::Word(w) => match w.to_ascii_lowercase().as_str() {
            "contains" => Op::Contains,
            "startswith" => Op::StartsWith,
            "endswith" => Op::EndsWith,
            "in" => Op::In,
            _ => Op::InCi,
        },
        _ => unreachable!("position matched an operator"),
    };
    let left = parse_expr(&tokens[..at])?;
    let right = &tokens[at + 1..];
    let values = match (op, right) {
        (Op::In | Op::InCi, [Token::Symbol("("), list @ .., Token::Symbol(")")]) => {
            list.split(|t| *t == Token::Symbol(",")).map(literal).collect::<Result<Vec<_>, _>>()?
        }
        (Op::In | Op::InCi, _) => return Err("'in' takes a list in parentheses".to_owned()),
        (_, one) => vec![literal(one)?],
    };
    Ok(Condition { left, op, right: values })
}

fn literal(tokens: &[Token]) -> Result<Value, String> {
    match tokens {
        [Token::Text(t)] => Ok(Value::String(t.clone())),
        [Token::Number(n)] => Ok(serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)),
        [Token::Word(w)] if w == "true" || w == "false" => Ok(Value::Bool(w == "true")),
        _ => Err(format!("expected a literal, not '{}'", show(tokens))),
    }
}

fn show(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            Token::Word(w) => w.clone(),
            Token::Text(t) => format!("'{t}'"),
            Token::Number(n) => n.to_string(),
            Token::Symbol(s) => (*s).to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Expr {
    fn eval(&self, row: &Map<String, Value>) -> Value {
        match self {
            Expr::Path(path) => {
                let mut v = row.get(&path[0]).cloned().unwrap_or(Value::Null);
                for p in &path[1..] {
                    v = v.get(p).cloned().unwrap_or(Value::Null);
                }
                v
            }
            Expr::ToString(e) => match e.eval(row) {
                Value::String(s) => Value::String(s),
                Value::Null => Value::String(String::new()),
                other => Value::String(other.to_string()),
            },
            Expr::ToLower(e) => match e.eval(row) {
                Value::String(s) => Value::String(s.to_lowercase()),
                other => other,
            },
        }
    }
}

impl Condition {
    fn holds(&self, row: &Map<String, Value>) -> bool {
        let left = self.left.eval(row);
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let (l, r) = (text(&left), self.right.first().map(text).unwrap_or_default());
        match self.op {
            Op::Eq => self.right.first() == Some(&left),
            Op::Ne => self.right.first() != Some(&left),
            Op::EqCi => l.eq_ignore_ascii_case(&r),
            Op::NeCi => !l.eq_ignore_ascii_case(&r),
            Op::Contains => l.to_lowercase().contains(&r.to_lowercase()),
            Op::StartsWith => l.to_lowercase().starts_with(&r.to_lowercase()),
            Op::EndsWith => l.to_lowercase().ends_with(&r.to_lowercase()),
            Op::In => self.right.contains(&left),
            Op::InCi => self.right.iter().any(|v| text(v).eq_ignore_ascii_case(&l)),
        }
    }
}

/// Runs the pipeline over the table's rows.
pub(crate) fn run(query: &Query, mut rows: Vec<Map<String, Value>>) -> Vec<Map<String, Value>> {
    for stage in &query.stages {
        rows = match stage {
            Stage::Where(conditions) => rows.into_iter().filter(|r| conditions.iter().all(|c| c.holds(r))).collect(),
            Stage::Project(columns) => {
                rows.iter().map(|r| columns.iter().map(|(n, e)| (n.clone(), e.eval(r))).collect()).collect()
            }
            Stage::Extend(columns) => rows
                .into_iter()
                .map(|mut r| {
                    let added: Vec<(String, Value)> = columns.iter().map(|(n, e)| (n.clone(), e.eval(&r))).collect();
                    r.extend(added);
                    r
                })
                .collect(),
            Stage::Summarize(by) => summarize(&rows, by),
            Stage::Count => vec![[("Count".to_owned(), Value::from(rows.len()))].into_iter().collect()],
            Stage::Limit(n) => rows.into_iter().take(*n).collect(),
            Stage::Order(keys) => {
                rows.sort_by(|a, b| {
                    keys.iter()
                        .map(|(e, desc)| {
                            let o = compare(&e.eval(a), &e.eval(b));
                            if *desc { o.reverse() } else { o }
                        })
                        .find(|o| *o != Ordering::Equal)
                        .unwrap_or(Ordering::Equal)
                });
                rows
            }
        };
    }
    rows
}

/// `summarize count() by …`: one row per distinct key, in order of first appearance, with `count_`.
fn summarize(rows: &[Map<String, Value>], by: &[(String, Expr)]) -> Vec<Map<String, Value>> {
    let mut groups: Vec<(Vec<Value>, u64)> = Vec::new();
    for r in rows {
        let key: Vec<Value> = by.iter().map(|(_, e)| e.eval(r)).collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => groups.push((key, 1)),
        }
    }
    if by.is_empty() && groups.is_empty() {
        groups.push((Vec::new(), 0));
    }
    groups
        .into_iter()
        .map(|(key, n)| {
            let mut row: Map<String, Value> = by.iter().map(|(name, _)| name.clone()).zip(key).collect();
            row.insert("count_".to_owned(), Value::from(n));
            row
        })
        .collect()
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => a.to_string().cmp(&b.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rows() -> Vec<Map<String, Value>> {
        [
            json!({"name": "a", "type": "microsoft.storage/storageaccounts", "properties": {"n": 1}}),
            json!({"name": "b", "type": "microsoft.storage/storageaccounts", "properties": {"n": 2}}),
            json!({"name": "c", "type": "microsoft.managedidentity/userassignedidentities", "properties": {"n": 3}}),
        ]
        .into_iter()
        .map(crate::json::as_object)
        .collect()
    }

    fn names(out: &[Map<String, Value>]) -> Vec<&str> {
        out.iter().filter_map(|r| r.get("name").and_then(Value::as_str)).collect()
    }

    #[test]
    fn where_project_and_case_rules() {
        let q = parse("Resources | where type =~ 'Microsoft.Storage/storageAccounts' | project name, properties.n")
            .unwrap();
        let out = run(&q, rows());
        assert_eq!(names(&out), ["a", "b"]);
        assert_eq!(out[1].get("properties_n"), Some(&json!(2)));
        // `==` is case-sensitive, `=~` is not.
        let q = parse("resources | where type == 'Microsoft.Storage/storageAccounts'").unwrap();
        assert!(run(&q, rows()).is_empty());
        let q = parse("resources | where type in~ ('MICROSOFT.STORAGE/STORAGEACCOUNTS') and name != 'a'").unwrap();
        assert_eq!(names(&run(&q, rows())), ["b"]);
    }

    #[test]
    fn summarize_count_order_and_limit() {
        let q = parse("resources | summarize count()").unwrap();
        assert_eq!(run(&q, rows()), vec![crate::json::as_object(json!({"count_": 3}))]);
        let q = parse("resources | summarize count() by type | order by count_ desc").unwrap();
        let out = run(&q, rows());
        assert_eq!(out[0].get("count_"), Some(&json!(2)));
        assert_eq!(out[1].get("type"), Some(&json!("microsoft.managedidentity/userassignedidentities")));
        let q = parse("resources | order by name asc | take 2 | count").unwrap();
        assert_eq!(run(&q, rows()), vec![crate::json::as_object(json!({"Count": 2}))]);
    }

    #[test]
    fn what_is_outside_the_subset_is_refused_by_name() {
        for (query, says) in [
            ("resources | join kind=inner (resources) on id", "join"),
            ("resources | where name == 'a' or name == 'b'", "'or'"),
            ("resources | where parse_json(name) == 'a'", "parse_json"),
            ("resources | where name == 'a", "not closed"),
            ("resources | summarize dcount(name)", "summarize count()"),
            ("| where name == 'a'", "table name"),
        ] {
            let e = parse(query).unwrap_err();
            assert!(e.contains(says), "{query}: {e}");
        }
    }
}
