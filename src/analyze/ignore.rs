//! Ignore rules for `diff` (and `plan revert`): accepted changes, each as narrow as the change it accepts.
//!
//! One rule per line, `#` starts a comment, a UTF-8 BOM is allowed. A rule is `key=value` pairs, any combination of
//! `principal`, `relation`, `role`, `target`, `scope`, with an optional `until=YYYY-MM-DD` and `reason="…"`:
//!
//! ```text
//! principal=10000000-0000-4000-8000-000000000001 reason="break-glass account"
//! principal="Erin Guest" relation=member target="Tier0 Admins" until=2027-01-31 reason="CHG-1234"
//! target=/subscriptions/50000000-0000-4000-8000-000000000003/
//! ```
//!
//! An unquoted value is an id (a GUID; for `target` and `scope` also an ARM id, any case, trailing slash or not);
//! a quoted one is a name, resolved against both snapshots (principals by display name or UPN, targets by display
//! name or name, roles by name), an error when it names more than one object. The older form `principal ID`,
//! `target ID`, `role ID` is a rule with that one key.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::analyze::diff::{Item, ObjectType};
use crate::model::{Guid, Relation};
use crate::store::{Snapshot, StoreError};

const KEYS: &[&str] = &["principal", "relation", "role", "target", "scope", "until", "reason"];

/// What a rule's value names: ids, or a name still to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Ids(BTreeSet<String>),
    Name(String),
}

/// One rule, as written and as resolved.
#[derive(Debug, Clone)]
pub struct Rule {
    pub line: usize,
    pub text: String,
    principal: Option<Value>,
    relation: Option<Relation>,
    role: Option<Value>,
    target: Option<Value>,
    scope: Option<String>,
    until: Option<chrono::NaiveDate>,
    pub reason: Option<String>,
}

/// How a rule fared in one comparison.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleUse {
    pub line: usize,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `applied` (it matched), `unmatched` (it matched nothing: a stale rule?) or `expired` (not applied).
    pub status: &'static str,
    pub matched: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// Every rule of an ignore file.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    rules: Vec<Rule>,
}

/// `a=b c="d e"` (or `principal ID`) as (key, value, quoted) pairs.
fn tokens(line: &str) -> Result<Vec<(String, String, bool)>, String> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    // The older form: `principal ID`.
    if let Some((key, id)) = rest.split_once(char::is_whitespace)
        && !key.contains('=')
        && !id.trim().contains(char::is_whitespace)
        && !id.contains('=')
    {
        return Ok(vec![(key.to_owned(), id.trim().to_owned(), false)]);
    }
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=').ok_or_else(|| format!("expected key=value, found `{rest}`"))?;
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("expected key=value, found `{}`", rest.split_whitespace().next().unwrap_or(rest)));
        }
        let (value, quoted, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').ok_or_else(|| format!("{key}: a quote is not closed"))?;
            (q[..end].to_owned(), true, &q[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (after[..end].to_owned(), false, &after[end..])
        };
        if !next.is_empty() && !next.starts_with(char::is_whitespace) {
            return Err(format!("{key}: expected a space after the value"));
        }
        out.push((key.to_owned(), value, quoted));
        rest = next.trim_start();
    }
    Ok(out)
}

fn guid(key: &str, value: &str) -> Result<String, String> {
    value
        .parse::<Guid>()
        .map(|g| g.to_string())
        .map_err(|_| format!("{key}: `{value}` is not a GUID (quote a name: {key}=\"…\")"))
}

/// An ARM id or path as stored: lower case, no trailing slash (the root stays `/`).
fn arm_path(value: &str) -> String {
    let v = value.trim_end_matches('/').to_ascii_lowercase();
    if v.is_empty() { "/".to_owned() } else { v }
}

fn id_value(key: &str, value: &str, quoted: bool) -> Result<Value, String> {
    if quoted {
        if value.trim().is_empty() {
            return Err(format!("{key}: an empty name"));
        }
        return Ok(Value::Name(value.to_owned()));
    }
    let id = match key {
        "target" if value.starts_with('/') => arm_path(value),
        _ => guid(key, value)?,
    };
    Ok(Value::Ids(BTreeSet::from([id])))
}

impl Rule {
    fn parse(line: usize, text: &str) -> Result<Rule, String> {
        let mut rule = Rule {
            line,
            text: text.to_owned(),
            principal: None,
            relation: None,
            role: None,
            target: None,
            scope: None,
            until: None,
            reason: None,
        };
        for (key, value, quoted) in tokens(text)? {
            let seen = match key.as_str() {
                "principal" => rule.principal.replace(id_value(&key, &value, quoted)?).is_some(),
                "role" => rule.role.replace(id_value(&key, &value, quoted)?).is_some(),
                "target" => rule.target.replace(id_value(&key, &value, quoted)?).is_some(),
                "relation" => {
                    let Ok(r) = value.to_ascii_lowercase().parse::<Relation>() else {
                        let words: Vec<&str> = Relation::ALL.iter().map(|r| r.as_str()).collect();
                        return Err(format!("relation: `{value}` is not one of {}", words.join(", ")));
                    };
                    rule.relation.replace(r).is_some()
                }
                "scope" => {
                    if !value.starts_with('/') {
                        return Err(format!("scope: `{value}` is not a scope (`/`, or an ARM id)"));
                    }
                    rule.scope.replace(arm_path(&value)).is_some()
                }
                "until" => {
                    let d = chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d")
                        .map_err(|_| format!("until: `{value}` is not a date (YYYY-MM-DD)"))?;
                    rule.until.replace(d).is_some()
                }
                "reason" => rule.reason.replace(value).is_some(),
                other => return Err(format!("unknown key `{other}` (keys: {})", KEYS.join(", "))),
            };
            if seen {
                return Err(format!("`{key}` given twice"));
            }
        }
        if rule.principal.is_none()
            && rule.relation.is_none()
            && rule.role.is_none()
            && rule.target.is_none()
            && rule.scope.is_none()
        {
            return Err("a rule needs at least one of principal, relation, role, target, scope".to_owned());
        }
        Ok(rule)
    }

    fn ids(v: &Option<Value>) -> Option<&BTreeSet<String>> {
        match v {
            Some(Value::Ids(ids)) => Some(ids),
            _ => None,
        }
    }

    fn expired(&self, today: chrono::NaiveDate) -> bool {
        self.until.is_some_and(|u| today > u)
    }

    /// Whether the rule matches `item`: every key it names agrees.
    fn matches(&self, item: &Item) -> bool {
        let is = |v: &Option<Value>, id: &str| v.is_none() || Rule::ids(v).is_some_and(|ids| ids.contains(id));
        match &item.grant {
            Some(g) => {
                is(&self.principal, &g.principal_id)
                    && self.relation.is_none_or(|r| r == g.relation)
                    && is(&self.role, &g.role_id)
                    && is(&self.target, &arm_path(&g.target_id))
                    && self.scope.as_ref().is_none_or(|s| !g.scope.is_empty() && *s == arm_path(&g.scope))
            }
            // An object itself: a rule naming only it.
            None if self.relation.is_some() || self.scope.is_some() => false,
            None => match item.kind {
                ObjectType::Principal => {
                    self.role.is_none()
                        && (self.principal.is_some() || self.target.is_some())
                        && is(&self.principal, &item.key)
                        && is(&self.target, &item.key)
                }
                ObjectType::Resource => {
                    self.principal.is_none() && self.role.is_none() && is(&self.target, &arm_path(&item.key))
                }
                ObjectType::RoleDefinition => {
                    let id = item.key.rsplit(':').next().unwrap_or_default();
                    self.principal.is_none() && self.target.is_none() && is(&self.role, id)
                }
                ObjectType::Grant => false,
            },
        }
    }
}

/// Distinct ids of the objects called `name`, in both snapshots.
fn lookup(old: &Snapshot, sql: &str, name: &str) -> Result<BTreeSet<String>, StoreError> {
    let mut stmt = old.connection().prepare_cached(sql).map_err(|e| StoreError::corrupt(old.path(), e))?;
    let ids = stmt
        .query_map([name], |r| r.get::<_, String>(0))
        .and_then(Iterator::collect::<Result<BTreeSet<String>, _>>)
        .map_err(|e| StoreError::corrupt(old.path(), e))?;
    Ok(ids)
}

const PRINCIPALS_NAMED: &str = "SELECT id FROM main.principals WHERE display_name = ?1 COLLATE NOCASE OR user_principal_name = ?1 COLLATE NOCASE \
     UNION SELECT id FROM new.principals WHERE display_name = ?1 COLLATE NOCASE OR user_principal_name = ?1 COLLATE NOCASE";
const TARGETS_NAMED: &str = "SELECT id FROM main.principals WHERE display_name = ?1 COLLATE NOCASE \
     UNION SELECT id FROM new.principals WHERE display_name = ?1 COLLATE NOCASE \
     UNION SELECT id FROM main.resources WHERE display_name = ?1 COLLATE NOCASE OR name = ?1 COLLATE NOCASE \
     UNION SELECT id FROM new.resources WHERE display_name = ?1 COLLATE NOCASE OR name = ?1 COLLATE NOCASE";
const ROLES_NAMED: &str = "SELECT id FROM main.role_definitions WHERE name = ?1 COLLATE NOCASE \
     UNION SELECT id FROM new.role_definitions WHERE name = ?1 COLLATE NOCASE";

/// Why an ignore file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("line {line}: {message}")]
    Rule { line: usize, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Ignore {
    /// Parses an ignore file's text. Errors name the line.
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = strip_comment(line).trim();
            if line.is_empty() {
                continue;
            }
            rules.push(Rule::parse(n + 1, line).map_err(|message| IgnoreError::Rule { line: n + 1, message })?);
        }
        Ok(Ignore { rules })
    }

    /// Resolves the quoted names against both snapshots (`old` with the newer one attached as `new`): a name of
    /// more than one object is an error, listing them; a name of none matches nothing.
    pub fn resolve(&mut self, old: &Snapshot) -> Result<(), IgnoreError> {
        for rule in &mut self.rules {
            for (key, value, sql) in [
                ("principal", &mut rule.principal, PRINCIPALS_NAMED),
                ("target", &mut rule.target, TARGETS_NAMED),
                ("role", &mut rule.role, ROLES_NAMED),
            ] {
                let Some(Value::Name(name)) = value.clone() else { continue };
                let ids = lookup(old, sql, &name)?;
                if ids.len() > 1 {
                    let shown: Vec<&str> = ids.iter().take(5).map(String::as_str).collect();
                    let more = if ids.len() > 5 { format!(", … and {} more", ids.len() - 5) } else { String::new() };
                    return Err(IgnoreError::Rule {
                        line: rule.line,
                        message: format!(
                            "{key} \"{name}\" is ambiguous: {} objects have that name ({}{more}); use the id",
                            ids.len(),
                            shown.join(", ")
                        ),
                    });
                }
                *value = Some(Value::Ids(ids));
            }
        }
        Ok(())
    }

    /// Leaves out the items the rules in force on `today` match; returns how each rule fared.
    pub fn apply(&self, items: &mut Vec<Item>, today: chrono::NaiveDate) -> Vec<RuleUse> {
        let mut matched = vec![0u64; self.rules.len()];
        items.retain(|item| {
            let mut keep = true;
            for (i, rule) in self.rules.iter().enumerate() {
                if !rule.expired(today) && rule.matches(item) {
                    matched[i] += 1;
                    keep = false;
                }
            }
            keep
        });
        self.rules
            .iter()
            .zip(matched)
            .map(|(rule, n)| RuleUse {
                line: rule.line,
                rule: rule.text.clone(),
                reason: rule.reason.clone(),
                status: if rule.expired(today) {
                    "expired"
                } else if n == 0 {
                    "unmatched"
                } else {
                    "applied"
                },
                matched: n,
                until: rule.until.map(|d| d.to_string()),
            })
            .collect()
    }
}

/// A line without its `#` comment (a `#` inside quotes is kept).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::diff::Change;
    use crate::model::GrantState;

    fn err(text: &str) -> String {
        Ignore::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn rules_parse_in_both_forms_and_bad_ones_name_their_line() {
        let r = Ignore::parse(
            "\u{feff}# accepted\nprincipal 10000000-0000-4000-8000-00000000000A\n\n\
             principal=\"Erin Guest\" relation=member target=/Subscriptions/S1/ until=2027-01-31 reason=\"CHG #12\" # why\n",
        )
        .unwrap();
        assert_eq!(r.rules.len(), 2);
        assert_eq!(
            Rule::ids(&r.rules[0].principal).unwrap().iter().next().map(String::as_str),
            Some("10000000-0000-4000-8000-00000000000a")
        );
        let second = &r.rules[1];
        assert_eq!(second.line, 4);
        assert_eq!(second.principal, Some(Value::Name("Erin Guest".to_owned())));
        assert_eq!(Rule::ids(&second.target).unwrap().iter().next().map(String::as_str), Some("/subscriptions/s1"));
        assert_eq!(second.reason.as_deref(), Some("CHG #12"));
        assert!(err("user x").starts_with("line 1: unknown key `user`"), "{}", err("user x"));
        assert!(
            err("\n\nprincipal=abc").starts_with("line 3: principal: `abc` is not a GUID"),
            "{}",
            err("principal=abc")
        );
        assert!(err("relation=friend").contains("not one of member"), "{}", err("relation=friend"));
        assert!(err("until=2027-13-01 role=62e90394-69f5-4237-9190-012177145e10").contains("not a date"));
        assert!(err("reason=\"only a reason\"").contains("needs at least one of"));
        assert!(err("principal=\"open").contains("not closed"));
    }

    fn grant(principal: &str, relation: Relation, target: &str) -> Item {
        Item {
            change: Change::Added,
            kind: ObjectType::Grant,
            key: String::new(),
            name: String::new(),
            object_kind: relation.to_string(),
            privileged: false,
            part: "groups".to_owned(),
            grant: Some(crate::analyze::diff::GrantView {
                principal_id: principal.to_owned(),
                principal_name: String::new(),
                principal_kind: "user".to_owned(),
                principal_detail: String::new(),
                relation,
                target_id: target.to_owned(),
                target_name: String::new(),
                target_path: String::new(),
                role_id: String::new(),
                role_name: String::new(),
                scope: String::new(),
                state: GrantState::Active,
                end_at: None,
            }),
            fields: Vec::new(),
        }
    }

    #[test]
    fn a_rule_matches_only_the_combination_it_names_until_it_expires() {
        let p = "10000000-0000-4000-8000-000000000005";
        let g = "20000000-0000-4000-8000-000000000007";
        let other = "20000000-0000-4000-8000-000000000002";
        let rules = Ignore::parse(&format!(
            "principal={p} relation=member target={g} until=2026-12-31\nprincipal={p} relation=owner until=2026-01-01\n\
             target={other} relation=member"
        ))
        .unwrap();
        let mut items =
            vec![grant(p, Relation::Member, g), grant(p, Relation::Member, other), grant(p, Relation::Owner, g)];
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let used = rules.apply(&mut items, today);
        assert_eq!(items.len(), 1, "the owner grant stays: its rule expired");
        assert_eq!(items[0].grant.as_ref().unwrap().relation, Relation::Owner);
        let status: Vec<(&str, u64)> = used.iter().map(|u| (u.status, u.matched)).collect();
        assert_eq!(status, [("applied", 1), ("expired", 0), ("applied", 1)]);
        let mut none = vec![grant(p, Relation::AppRole, g)];
        let used = rules.apply(&mut none, today);
        assert_eq!(used[0].status, "unmatched");
    }
}
