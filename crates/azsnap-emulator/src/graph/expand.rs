//! `$expand` on directory objects: a user's `manager`, a group's `members` and `owners`, a service principal's
//! `appRoleAssignedTo` and `owners`, rendered inline with Graph's limits (at most 20 related items, with no link
//! to the rest).

use serde_json::{Map, Value};

use crate::directory::DirectoryObject;
use crate::graph::common::{Answer, assignment_json, project};
use crate::http::ApiRequest;
use crate::model::Guid;
use crate::odata::{Collection, ListQuery, page};
use crate::odata::{EXPAND_MAX_ITEMS, Expand};
use crate::tenant::ObjectKind;
use crate::world::World;

/// The navigation properties `$expand` may name, per kind of object.
pub(crate) fn navigation(kind: ObjectKind) -> &'static [&'static str] {
    match kind {
        ObjectKind::User => &["manager"],
        ObjectKind::Group => &["members", "owners"],
        ObjectKind::ServicePrincipal => &["appRoleAssignedTo", "owners"],
        ObjectKind::Application => &["owners"],
    }
}

/// Adds the relationships `expand` names to `out`, the rendered object `id`. A user without a manager gets no
/// `manager` property, as in Graph.
pub(crate) fn expand_into(world: &World, id: &str, expand: &[Expand], out: &mut Map<String, Value>) {
    let Ok(id) = id.parse::<Guid>() else { return };
    let Some((kind, i)) = world.objects.get(&id).copied() else { return };
    let t = &world.tenant;
    for e in expand {
        let related = |ids: &[Guid]| -> Value {
            Value::Array(
                ids.iter()
                    .filter_map(|r| world.object(r))
                    .take(EXPAND_MAX_ITEMS)
                    .map(|o| Value::Object(o.render(e.select.as_deref(), true)))
                    .collect(),
            )
        };
        let value = match (kind, e.name.as_str()) {
            (ObjectKind::User, "manager") => match t.users[i].manager.as_ref().and_then(|m| world.object(m)) {
                Some(m) => Value::Object(m.render(e.select.as_deref(), true)),
                None => continue,
            },
            (ObjectKind::Group, "members") => related(&t.groups[i].members),
            (ObjectKind::Group, "owners") => related(&t.groups[i].owners),
            (ObjectKind::ServicePrincipal, "owners") => related(&t.service_principals[i].owners),
            (ObjectKind::Application, "owners") => related(&t.applications[i].owners),
            (ObjectKind::ServicePrincipal, "appRoleAssignedTo") => Value::Array(
                t.app_role_assignments
                    .iter()
                    .filter(|a| a.resource_id == id)
                    .take(EXPAND_MAX_ITEMS)
                    .map(|a| Value::Object(project(assignment_json(world, a), e.select.as_deref())))
                    .collect(),
            ),
            _ => continue,
        };
        out.insert(e.name.clone(), value);
    }
}

/// A page of directory objects of one collection (`users`, `groups`, …): `$filter`, `$select`, `$top`, `$count`
/// and paging as `c` allows them.
pub(crate) fn directory_page<'a, T: DirectoryObject + 'a>(
    world: &World,
    req: &ApiRequest,
    c: &Collection<'_>,
    items: impl Iterator<Item = &'a T>,
) -> Answer {
    let q = ListQuery::parse(req, c)?;
    Ok(page(req, &q, c.context, items, |o, p| o.get(p), |o, s| render_expanded(world, *o, s, &q.expand)))
}

/// An object's JSON for a list (`$select` applied) with the relationships `$expand` names.
pub(crate) fn render_expanded(
    world: &World,
    o: &dyn DirectoryObject,
    select: Option<&[String]>,
    expand: &[crate::odata::Expand],
) -> Map<String, Value> {
    let mut out = o.render(select, false);
    if !expand.is_empty() {
        expand_into(world, o.id(), expand, &mut out);
    }
    out
}
