//! What a list item must look like before the collector uses it: an object whose ids are ids and whose typed
//! fields have their types. A page with malformed items fails its list (and so its part) with a count and an
//! example, instead of the items being dropped, or stored as NULL, while the part reads "complete".

use serde_json::Value;

use crate::model::{Guid, Timestamp};

/// Fields that hold a GUID wherever they appear at the top of an item (or under ARM's `properties`).
const GUID_FIELDS: &[&str] = &[
    "principalId",
    "resourceId",
    "appRoleId",
    "clientId",
    "roleTemplateId",
    "appId",
    "appOwnerOrganizationId",
    "groupId",
];
/// Fields that hold a boolean wherever they appear.
const BOOL_FIELDS: &[&str] = &[
    "accountEnabled",
    "mailEnabled",
    "securityEnabled",
    "isAssignableToRole",
    "onPremisesSyncEnabled",
    "isEnabled",
    "appRoleAssignmentRequired",
    "isBuiltIn",
];

/// Whether `id` is an id azsnap can store and put into a URL: a GUID, a Graph key (letters, digits, `-`, `_`), or
/// an ARM path (`/`-separated segments of letters, digits and `-._()`, no `..`).
pub fn valid_id(id: &str) -> bool {
    if Guid::is_guid(id) {
        return true;
    }
    if let Some(path) = id.strip_prefix('/') {
        return !path.is_empty()
            && path.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._() ".contains(&b))
            });
    }
    is_graph_key(id)
}

/// Whether `id` is a Graph key (an app role or directory role assignment id): base64url text, so letters, digits,
/// `-` and `_` only — safe as one URL path segment.
pub fn is_graph_key(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_time_field(key: &str) -> bool {
    key.ends_with("DateTime") || key == "createdOn" || key == "updatedOn"
}

/// Why `v` (at nesting `depth`) is malformed, if it is.
fn check_fields(v: &Value, depth: usize, guids: bool) -> Result<(), String> {
    if depth > 6 {
        return Ok(());
    }
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if x.is_null() {
                    continue;
                }
                if BOOL_FIELDS.contains(&k.as_str()) && !x.is_boolean() {
                    return Err(format!("`{k}` is {x}, not true or false"));
                }
                if is_time_field(k) {
                    let ok = x.as_str().is_some_and(|s| s.starts_with("0001-01-01") || s.parse::<Timestamp>().is_ok());
                    if !ok {
                        return Err(format!("`{k}` {x} is not a date and time"));
                    }
                }
                if guids && GUID_FIELDS.contains(&k.as_str()) && !x.as_str().is_some_and(Guid::is_guid) {
                    return Err(format!("`{k}` {x} is not a GUID"));
                }
                // GUID fields are checked at the top and under ARM's `properties`; deeper objects are free-form.
                check_fields(x, depth + 1, k == "properties")?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|i| check_fields(i, depth + 1, false)),
        _ => Ok(()),
    }
}

/// Lists of directory objects, whose ids are GUIDs (by the last segment of the list's path).
const DIRECTORY_OBJECT_LISTS: &[&str] = &[
    "users",
    "groups",
    "servicePrincipals",
    "applications",
    "organization",
    "directoryRoles",
    "directoryObjects",
    "members",
    "owners",
    "transitiveMembers",
    "memberOf",
    "transitiveMemberOf",
    "delta",
];

/// Whether the items of the list at `url` are directory objects (GUID ids): `/v1.0/users?…`,
/// `/groups/{id}/members/microsoft.graph.user`, `/groups/delta`. ARM lists and other Graph lists (assignments,
/// grants, schedules) have other ids.
pub fn lists_directory_objects(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let arm = path.contains("/providers/") || path.contains("/subscriptions");
    let last = path.rsplit('/').find(|s| !s.is_empty() && !s.starts_with("microsoft.graph."));
    !arm && last.is_some_and(|s| DIRECTORY_OBJECT_LISTS.contains(&s))
}

/// Why one list item is malformed, if it is. `guid_id`: the item is a directory object, whose id is a GUID.
pub fn check_item(v: &Value, guid_id: bool) -> Result<(), String> {
    if !v.is_object() {
        return Err(format!("{} is not an object", short(v)));
    }
    if let Some(id) = v.get("id")
        && !id.as_str().is_some_and(|s| if guid_id { Guid::is_guid(s) } else { valid_id(s) })
    {
        return Err(format!("id {} is not {}", short(id), if guid_id { "a GUID" } else { "a valid id" }));
    }
    check_fields(v, 0, true)
}

/// The malformed items of a page of the list at `url`: how many, and the first one's position and reason.
pub fn check_page(items: &[Value], url: &str) -> Result<(), String> {
    let guid_ids = lists_directory_objects(url);
    let mut bad = items.iter().enumerate().filter_map(|(i, v)| check_item(v, guid_ids).err().map(|why| (i, why)));
    let Some((first, why)) = bad.next() else { return Ok(()) };
    let count = 1 + bad.count();
    Err(format!(
        "{count} malformed item{} rejected (item {} of the page: {why})",
        if count == 1 { "" } else { "s" },
        first + 1
    ))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 { format!("{}…", s.chars().take(60).collect::<String>()) } else { s }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn real_shapes_pass_and_malformed_items_are_named() {
        let user = json!({"id": "10000000-0000-4000-8000-000000000001", "accountEnabled": true,
                          "createdDateTime": "2021-05-03T21:38:07.0885484Z",
                          "signInActivity": {"lastSignInDateTime": "0001-01-01T00:00:00Z"}});
        let ra = json!({"id": "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/x",
                        "properties": {"principalId": "10000000-0000-4000-8000-000000000001",
                                       "roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/r",
                                       "createdOn": "2021-03-10T02:58:54.2525064Z"}});
        let key = json!({"id": "lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1", "principalId": "10000000-0000-4000-8000-000000000001"});
        assert_eq!(check_page(std::slice::from_ref(&user), "https://graph.microsoft.com/v1.0/users?$top=999"), Ok(()));
        assert_eq!(
            check_page(&[ra, key], "https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments"),
            Ok(())
        );
        let not_guid = json!({"id": "abc"});
        for list in [
            "/v1.0/users?$select=id",
            "/v1.0/groups/delta?$select=id",
            "/groups/x/members/microsoft.graph.user",
            "/servicePrincipals/x/owners?$top=1",
        ] {
            assert!(lists_directory_objects(list), "{list}");
            assert!(check_page(std::slice::from_ref(&not_guid), list).unwrap_err().contains("is not a GUID"), "{list}");
        }
        for list in [
            "/v1.0/oauth2PermissionGrants",
            "/servicePrincipals/x/appRoleAssignedTo",
            "/subscriptions/s/resourceGroups?api-version=1",
            "/providers/Microsoft.Management/managementGroups/x/descendants",
        ] {
            assert!(!lists_directory_objects(list), "{list}");
        }
        for (bad, says) in [
            (json!(5), "not an object"),
            (json!({"id": "../../etc/passwd"}), "not a valid id"),
            (json!({"id": "/subscriptions/../x"}), "not a valid id"),
            (json!({"id": 7}), "not a valid id"),
            (json!({"id": "10000000-0000-4000-8000-000000000001", "accountEnabled": "yes"}), "accountEnabled"),
            (json!({"id": "10000000-0000-4000-8000-000000000001", "createdDateTime": "yesterday"}), "createdDateTime"),
            (json!({"id": "k", "principalId": "me"}), "principalId"),
            (json!({"id": "/a/b", "properties": {"principalId": "../x"}}), "principalId"),
        ] {
            let err = check_item(&bad, false).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let err = check_page(&[json!(1), json!({"id": "ok"}), json!([])], "/v1.0/oauth2PermissionGrants").unwrap_err();
        assert!(err.starts_with("2 malformed items rejected (item 1"), "{err}");
    }
}
