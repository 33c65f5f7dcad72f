//! The differences themselves, read from SQL by column name: objects present on one side only, objects whose
//! fields changed, and grants added, removed or changed (from the merge of both grant tables).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::types::Value as Sql;

use super::merge::{merge_grants, split_values};
use super::{Change, Field, GrantView, Item, ObjectType, arm_path_names};
use crate::analyze::privileged::Privileged;
use crate::model::GrantKey;
use crate::store::{Snapshot, StoreError};

/// The compared values of a grant, in the order of `grants_scan.sql`'s value columns.
const GRANT_FIELDS: &[&str] = &["startAt", "endAt", "assignmentType", "memberType", "condition"];

fn text(v: &Sql) -> Option<String> {
    match v {
        Sql::Null => None,
        Sql::Integer(i) => Some(i.to_string()),
        Sql::Real(f) => Some(f.to_string()),
        Sql::Text(t) => Some(t.clone()),
        Sql::Blob(_) => Some("<blob>".to_owned()),
    }
}

/// A word column parsed into its enum; an unknown word means the file is not what azsnap wrote.
fn word<T: std::str::FromStr<Err = String>>(snap: &Snapshot, value: &str) -> Result<T, StoreError> {
    value.parse().map_err(|detail| StoreError::Corrupt { path: snap.path().to_owned(), detail })
}

/// The rows of `sql`, each read by `read` with the query's column names at hand.
fn read_rows<T>(
    snap: &Snapshot,
    sql: &str,
    read: impl Fn(&rusqlite::Row<'_>, &[String]) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let corrupt = |e| StoreError::corrupt(snap.path(), e);
    let mut stmt = snap.connection().prepare(sql).map_err(corrupt)?;
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    stmt.query_map([], |r| read(r, &columns)).and_then(Iterator::collect).map_err(corrupt)
}

/// The fields of a row whose `old:<field>` and `new:<field>` columns differ.
fn changed_fields(row: &rusqlite::Row<'_>, columns: &[String]) -> rusqlite::Result<Vec<Field>> {
    let mut out = Vec::new();
    for field in columns.iter().filter_map(|c| c.strip_prefix("old:")) {
        let old = text(&row.get::<_, Sql>(format!("old:{field}").as_str())?);
        let new = text(&row.get::<_, Sql>(format!("new:{field}").as_str())?);
        if old != new {
            out.push(Field { field: field.to_owned(), old, new });
        }
    }
    Ok(out)
}

/// An item that is not a grant.
fn object_item(change: Change, kind: ObjectType, key: String, name: String, object_kind: String) -> Item {
    Item {
        change,
        kind,
        key,
        name,
        object_kind,
        privileged: false,
        part: String::new(),
        grant: None,
        fields: Vec::new(),
    }
}

/// Principals, resources and role definitions added, removed or changed.
pub(super) fn object_items(old: &Snapshot, privileged_principals: &HashSet<String>) -> Result<Vec<Item>, StoreError> {
    type Raw = (String, String, String, String, String);
    let read = |r: &rusqlite::Row<'_>, _: &[String]| -> rusqlite::Result<Raw> {
        Ok((r.get("change")?, r.get("item_type")?, r.get("key")?, r.get("object_kind")?, r.get("name")?))
    };
    let mut items = Vec::new();
    for (change, kind, key, object_kind, name) in
        read_rows(old, include_str!("../../../queries/diff/entities_added_removed.sql"), read)?
    {
        let mut item = object_item(word(old, &change)?, word(old, &kind)?, key, name, object_kind);
        item.privileged = item.kind == ObjectType::Principal && privileged_principals.contains(&item.key);
        items.push(item);
    }
    let changed = [
        (ObjectType::Principal, include_str!("../../../queries/diff/principals_changed.sql")),
        (ObjectType::Resource, include_str!("../../../queries/diff/resources_changed.sql")),
        (ObjectType::RoleDefinition, include_str!("../../../queries/diff/role_definitions_changed.sql")),
    ];
    for (kind, sql) in changed {
        let read = |r: &rusqlite::Row<'_>, columns: &[String]| -> rusqlite::Result<Item> {
            let mut item = object_item(Change::Changed, kind, r.get("key")?, r.get("name")?, r.get("object_kind")?);
            item.fields = changed_fields(r, columns)?;
            Ok(item)
        };
        for mut item in read_rows(old, sql, read)? {
            item.privileged = kind == ObjectType::Principal && privileged_principals.contains(&item.key);
            items.push(item);
        }
    }
    Ok(items)
}

/// A grant key as the merge joins it (NUL between columns); an unknown relation or state word is a corrupt file.
fn grant_key(snap: &Snapshot, joined: &str) -> Result<GrantKey, StoreError> {
    let k: Vec<&str> = joined.split('\0').collect();
    let [principal_id, relation, target_id, role_id, scope, state] = k[..] else {
        return Err(StoreError::Corrupt {
            path: snap.path().to_owned(),
            detail: format!("a grant key of {} columns", k.len()),
        });
    };
    Ok(GrantKey {
        principal_id: principal_id.to_owned(),
        relation: word(snap, relation)?,
        target_id: target_id.to_owned(),
        role_id: role_id.to_owned(),
        scope: scope.to_owned(),
        state: word(snap, state)?,
    })
}

/// One side of a grant difference: what changed, the grant as people read it, and its changed fields.
type Side = (Change, GrantView, Vec<Field>);

/// Grants added, removed or changed, by merging both grant tables in key order; a removal and an addition of the
/// same grant in another state become one change of `state`.
pub(super) fn grant_items(
    old: &Snapshot,
    new_path: &Path,
    privileged: &Privileged,
    privileged_principals: &HashSet<String>,
) -> Result<Vec<Item>, StoreError> {
    let mut by_meaning: HashMap<String, Vec<Side>> = HashMap::new();
    let mut order = Vec::new();
    let mut names = old
        .connection()
        .prepare_cached(include_str!("../../../queries/diff/grant_names.sql"))
        .map_err(|e| StoreError::corrupt(old.path(), e))?;
    for (change, key, values, old_values) in merge_grants(old, new_path)? {
        let key = grant_key(old, &key)?;
        let v = split_values(&values);
        let [principal, relation, target, role, ..] = key.columns();
        let view = names
            .query_row((principal, target, role, relation), |r| {
                Ok(GrantView {
                    principal_id: key.principal_id.clone(),
                    principal_name: r.get("principal_name")?,
                    principal_kind: r.get("principal_kind")?,
                    principal_detail: r.get("principal_detail")?,
                    relation: key.relation,
                    target_id: key.target_id.clone(),
                    target_name: r.get("target_name")?,
                    target_path: arm_path_names(&key.target_id),
                    role_id: key.role_id.clone(),
                    role_name: r.get("role_name")?,
                    scope: key.scope.clone(),
                    state: key.state,
                    end_at: v[1].clone(),
                })
            })
            .map_err(|e| StoreError::corrupt(old.path(), e))?;
        let changed_fields = match &old_values {
            Some(o) => {
                let o = split_values(o);
                GRANT_FIELDS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| o[*i] != v[*i])
                    .map(|(i, f)| Field { field: (*f).to_owned(), old: o[i].clone(), new: v[i].clone() })
                    .collect()
            }
            None => Vec::new(),
        };
        let meaning = key.meaning();
        if !by_meaning.contains_key(&meaning) {
            order.push(meaning.clone());
        }
        by_meaning.entry(meaning).or_default().push((change, view, changed_fields));
    }
    let mut items = Vec::new();
    for meaning in order {
        let entries = by_meaning.remove(&meaning).unwrap_or_default();
        let mut push = |change: Change, view: GrantView, fields: Vec<Field>| {
            let privileged = privileged.grant(view.relation, &view.role_id, &view.target_id, privileged_principals);
            items.push(Item {
                change,
                kind: ObjectType::Grant,
                key: meaning.clone(),
                name: view.principal_name.clone(),
                object_kind: view.relation.to_string(),
                privileged,
                part: String::new(),
                grant: Some(view),
                fields,
            });
        };
        match state_change(&entries) {
            Some((view, fields)) => push(Change::Changed, view, fields),
            None => {
                for (change, view, fields) in entries {
                    push(change, view, fields);
                }
            }
        }
    }
    Ok(items)
}

/// A removal and an addition of one grant in two states: the newer view and the fields that changed.
fn state_change(entries: &[Side]) -> Option<(GrantView, Vec<Field>)> {
    let [(first, a, _), (second, b, _)] = entries else { return None };
    let (old_view, new_view) = match (first, second) {
        (Change::Removed, Change::Added) => (a, b),
        (Change::Added, Change::Removed) => (b, a),
        _ => return None,
    };
    let mut fields = vec![Field {
        field: "state".to_owned(),
        old: Some(old_view.state.to_string()),
        new: Some(new_view.state.to_string()),
    }];
    if old_view.end_at != new_view.end_at {
        fields.push(Field { field: "endAt".to_owned(), old: old_view.end_at.clone(), new: new_view.end_at.clone() });
    }
    Some((new_view.clone(), fields))
}
