//! Graph reads of the directory: the organization, users and their mailbox settings, groups with members, owners
//! and memberships, single objects, and `directoryObjects/getByIds`.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::directory::{self, DirectoryObject};
use crate::graph::common::{Answer, bad_request, existing, not_found, object_id, perms, project, require, select_list};
use crate::graph::expand::{directory_page, navigation, render_expanded};
use crate::graph::role_state::roles_held;
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::model::Guid;
use crate::odata::{Collection, ListQuery, page, parse_expand};
use crate::tenant::{License, ObjectKind};
use crate::world::World;

/// Renders the object `id` of `kind` (`GET /users/{id}` and the like).
pub(crate) fn single(world: &World, caller: &Caller, req: &ApiRequest, raw: &str, kind: ObjectKind) -> Answer {
    require(caller, read_permission(kind))?;
    let id = existing(world, raw, kind)?;
    let obj = world.object(&id).ok_or_else(|| not_found(raw))?;
    let select = select_list(req, obj.shape(), navigation(kind))?;
    let expand = parse_expand(req, &obj.shape().odata_type[1..], navigation(kind))?;
    let mut body = render_expanded(world, obj, select.as_deref(), &expand);
    let context = match kind {
        ObjectKind::User => "users",
        ObjectKind::Group => "groups",
        ObjectKind::ServicePrincipal => "servicePrincipals",
        ObjectKind::Application => "applications",
    };
    body.insert("@odata.context".to_owned(), json!(format!("{}$metadata#{context}/$entity", req.metadata_base())));
    Ok(ApiResponse::ok(Value::Object(body)))
}

/// `GET /directoryObjects/{id}`: any directory object, with its `@odata.type`.
pub(crate) fn directory_object(world: &World, caller: &Caller, req: &ApiRequest, raw: &str) -> Answer {
    let id = object_id(raw)?;
    let kind = world.objects.get(&id).map(|(k, _)| *k).ok_or_else(|| not_found(raw))?;
    require(caller, read_permission(kind))?;
    let obj = world.object(&id).ok_or_else(|| not_found(raw))?;
    let select = select_list(req, obj.shape(), navigation(kind))?;
    let mut body = obj.render(select.as_deref(), true);
    body.insert(
        "@odata.context".to_owned(),
        json!(format!("{}$metadata#directoryObjects/$entity", req.metadata_base())),
    );
    Ok(ApiResponse::ok(Value::Object(body)))
}

/// `GET /users/{id}/manager` (404 when the user has none) and `GET /users/{id}/directReports`.
pub(crate) fn manager(world: &World, caller: &Caller, req: &ApiRequest, raw: &str, reports: bool) -> Answer {
    require(caller, perms::USERS)?;
    let id = existing(world, raw, ObjectKind::User)?;
    if reports {
        let ids: Vec<Guid> =
            world.tenant.users.iter().filter(|u| u.manager.as_ref() == Some(&id)).map(|u| u.id.clone()).collect();
        return list_objects(world, req, "directoryObjects", &ids, None);
    }
    let user = world.objects.get(&id).map(|(_, i)| &world.tenant.users[*i]).ok_or_else(|| not_found(raw))?;
    let manager = user.manager.as_ref().and_then(|m| world.object(m)).ok_or_else(|| not_found("manager"))?;
    let select = select_list(req, manager.shape(), navigation(ObjectKind::User))?;
    let mut body = manager.render(select.as_deref(), true);
    body.insert(
        "@odata.context".to_owned(),
        json!(format!("{}$metadata#directoryObjects/$entity", req.metadata_base())),
    );
    Ok(ApiResponse::ok(Value::Object(body)))
}

/// The application permissions that allow reading one kind of directory object.
fn read_permission(kind: ObjectKind) -> &'static [&'static str] {
    match kind {
        ObjectKind::User => perms::USERS,
        ObjectKind::Group => perms::GROUPS,
        ObjectKind::ServicePrincipal | ObjectKind::Application => perms::APPS,
    }
}

pub(crate) fn organization(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::ORGANIZATION)?;
    let t = &world.tenant.tenant;
    let plans: Vec<Value> = match world.license {
        License::Free => vec![],
        License::P1 => vec![plan("AADPremiumService", "41781fb2-bc02-4b7c-bd55-b576c07bb09d")],
        License::P2 => vec![
            plan("AADPremiumService", "41781fb2-bc02-4b7c-bd55-b576c07bb09d"),
            plan("AADPremiumService", "eec0eb4f-6444-4f95-aba0-50c24d67f998"),
        ],
    };
    let provisioned: Vec<Value> = plans
        .iter()
        .map(|p| json!({"capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": p["service"]}))
        .collect();
    let org = json!({
        "id": t.id.as_str(),
        "deletedDateTime": null,
        "businessPhones": t.business_phones,
        "city": null,
        "country": null,
        "countryLetterCode": t.country_letter_code,
        "createdDateTime": t.created_date_time,
        "defaultUsageLocation": t.country_letter_code,
        "isMultipleDataLocationsForServicesEnabled": null,
        "partnerTenantType": null,
        "directorySizeQuota": {"used": world.objects.len(), "total": 300_000},
        "displayName": t.display_name,
        "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": null,
        "onPremisesSyncEnabled": world.tenant.users.iter().any(|u| u.props.get("onPremisesSyncEnabled") == Some(&json!(true))).then_some(true),
        "postalCode": null,
        "preferredLanguage": "en",
        "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [],
        "state": null,
        "street": null,
        "technicalNotificationMails": [format!("admin@{}", t.domain)],
        "tenantType": "AAD",
        "assignedPlans": plans,
        "privacyProfile": {"contactEmail": "", "statementUrl": ""},
        "provisionedPlans": provisioned,
        "verifiedDomains": [
            {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false, "name": t.domain, "type": "Managed"},
            {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": t.initial_domain(), "type": "Managed"}
        ],
    });
    Ok(ApiResponse::ok(json!({
        "@odata.context": format!("{}$metadata#organization", req.metadata_base()),
        "value": [org],
    })))
}

fn plan(service: &str, id: &str) -> Value {
    json!({"assignedDateTime": "2024-01-01T00:00:00Z", "capabilityStatus": "Enabled", "service": service, "servicePlanId": id})
}

pub(crate) fn users(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::USERS)?;
    let c = Collection {
        context: "users",
        type_name: "microsoft.graph.user",
        selectable: directory::USER.selectable,
        filterable: &[
            "id",
            "userType",
            "accountEnabled",
            "onPremisesSyncEnabled",
            "userPrincipalName",
            "mail",
            "displayName",
            "creationType",
            "signInActivity/lastSignInDateTime",
            "signInActivity/lastNonInteractiveSignInDateTime",
            "signInActivity/lastSuccessfulSignInDateTime",
        ],
        advanced_filter: &["onPremisesSyncEnabled"],
        max_top: 999,
        count_needs_eventual: true,
        expandable: navigation(ObjectKind::User),
    };
    let q = ListQuery::parse(req, &c)?;
    let filters_sign_ins =
        q.filter.as_ref().is_some_and(|f| f.props().iter().any(|p| p.starts_with("signInActivity/")));
    if filters_sign_ins || q.select.as_ref().is_some_and(|s| s.iter().any(|f| f == "signInActivity")) {
        require(caller, perms::SIGN_INS)?;
        if world.license == License::Free {
            return Err(graph_error(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            ));
        }
    }
    Ok(page(
        req,
        &q,
        "users",
        world.tenant.users.iter(),
        // `signInActivity/lastSignInDateTime`: a property of a property.
        |u, p| match p.split_once('/') {
            Some((outer, inner)) => u.get(outer).get(inner).cloned().unwrap_or(Value::Null),
            None => u.get(p),
        },
        |u, s| render_expanded(world, *u, s, &q.expand),
    ))
}

pub(crate) fn groups(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::GROUPS)?;
    let c = Collection {
        context: "groups",
        type_name: "microsoft.graph.group",
        selectable: directory::GROUP.selectable,
        filterable: &[
            "id",
            "displayName",
            "groupTypes",
            "securityEnabled",
            "mailEnabled",
            "onPremisesSyncEnabled",
            "isAssignableToRole",
        ],
        advanced_filter: &["onPremisesSyncEnabled"],
        max_top: 999,
        count_needs_eventual: true,
        expandable: navigation(ObjectKind::Group),
    };
    directory_page(world, req, &c, world.tenant.groups.iter())
}

pub(crate) fn mailbox(world: &World, caller: &Caller, req: &ApiRequest, raw: &str, purpose_only: bool) -> Answer {
    require(caller, perms::MAILBOX)?;
    let user = match object_id(raw).ok().and_then(|id| world.objects.get(&id).copied()) {
        Some((ObjectKind::User, i)) => &world.tenant.users[i],
        _ => {
            // By UPN as well as by id.
            world
                .tenant
                .users
                .iter()
                .find(|u| {
                    u.props
                        .get("userPrincipalName")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(raw))
                })
                .ok_or_else(|| {
                    graph_error(404, "ErrorInvalidUser", &format!("The requested user '{raw}' is invalid."))
                })?
        }
    };
    let Some(purpose) = &user.mailbox else {
        return Err(graph_error(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        ));
    };
    if purpose_only {
        return Ok(ApiResponse::ok(json!({
            "@odata.context": format!("{}$metadata#users('{}')/mailboxSettings/userPurpose", req.metadata_base(), user.id),
            "value": purpose,
        })));
    }
    let all = json!({
        "archiveFolder": "AAMkAGI2TGuLAAA=",
        "timeZone": "UTC",
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "scheduledStartDateTime": {"dateTime": "2026-01-01T00:00:00.0000000", "timeZone": "UTC"},
            "scheduledEndDateTime": {"dateTime": "2026-01-02T00:00:00.0000000", "timeZone": "UTC"},
            "internalReplyMessage": "",
            "externalReplyMessage": ""
        },
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": "UTC"}
        },
        "dateFormat": "M/d/yyyy",
        "timeFormat": "h:mm tt",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "userPurpose": purpose,
    });
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(format!("{}$metadata#users('{}')/mailboxSettings", req.metadata_base(), user.id)),
    );
    let Value::Object(all) = all else { return Ok(ApiResponse::ok(Value::Object(body))) };
    match req.param("$select") {
        Some(sel) => {
            for f in sel.split(',').map(str::trim) {
                match all.get(f) {
                    Some(v) => {
                        body.insert(f.to_owned(), v.clone());
                    }
                    None => {
                        return Err(bad_request(&format!(
                            "Could not find a property named '{f}' on type 'microsoft.graph.mailboxSettings'."
                        )));
                    }
                }
            }
        }
        None => body.extend(all),
    }
    Ok(ApiResponse::ok(Value::Object(body)))
}

/// The union of member types' selectable properties.
fn member_selectable() -> Vec<&'static str> {
    let mut all: Vec<&str> = directory::USER
        .selectable
        .iter()
        .chain(directory::GROUP.selectable)
        .chain(directory::SERVICE_PRINCIPAL.selectable)
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

pub(crate) fn group_links(world: &World, req: &ApiRequest, raw: &str, rel: &str, cast: Option<&str>) -> Answer {
    let id = existing(world, raw, ObjectKind::Group)?;
    let group = world.objects.get(&id).map(|(_, i)| &world.tenant.groups[*i]).ok_or_else(|| not_found(raw))?;
    let ids: Vec<Guid> = match rel {
        "members" => group.members.clone(),
        "owners" => group.owners.clone(),
        _ => world.transitive_members(&id),
    };
    let cast = match cast {
        None => None,
        Some("microsoft.graph.user") => Some(ObjectKind::User),
        Some("microsoft.graph.group") => Some(ObjectKind::Group),
        Some("microsoft.graph.servicePrincipal") => Some(ObjectKind::ServicePrincipal),
        Some(other) => return Err(bad_request(&format!("Invalid cast segment '{other}'."))),
    };
    list_objects(world, req, "directoryObjects", &ids, cast)
}

/// `GET /users/{id}/memberOf`: the groups a user is directly in, and the directory roles it holds tenant-wide;
/// `transitiveMemberOf` (users, service principals): every group above it through nested groups, each once.
pub(crate) fn member_of(world: &World, req: &ApiRequest, raw: &str, kind: ObjectKind, transitive: bool) -> Answer {
    let id = existing(world, raw, kind)?;
    let mut groups: Vec<Guid> = world.member_of.get(&id).cloned().unwrap_or_default();
    if transitive {
        let mut seen: std::collections::HashSet<Guid> = groups.iter().cloned().collect();
        let mut next = 0;
        while next < groups.len() {
            for up in world.member_of.get(&groups[next]).into_iter().flatten() {
                if seen.insert(up.clone()) {
                    groups.push(up.clone());
                }
            }
            next += 1;
        }
    }
    let mut items: Vec<Map<String, Value>> =
        groups.iter().filter_map(|g| world.object(g)).map(|g| g.render(None, true)).collect();
    items.extend(roles_held(world, &id));
    let c = Collection {
        context: "directoryObjects",
        type_name: "microsoft.graph.directoryObject",
        selectable: &[
            "id",
            "displayName",
            "description",
            "roleTemplateId",
            "deletedDateTime",
            "securityEnabled",
            "groupTypes",
        ],
        filterable: &[],
        advanced_filter: &[],
        max_top: 999,
        count_needs_eventual: true,
        expandable: &[],
    };
    let q = ListQuery::parse(req, &c)?;
    Ok(page(
        req,
        &q,
        "directoryObjects",
        items.into_iter(),
        |m, p| m.get(p).cloned().unwrap_or(Value::Null),
        |m, sel| {
            let keep_type = m.get("@odata.type").cloned();
            let mut out = project(m.clone(), sel);
            if let Some(t) = keep_type {
                out.insert("@odata.type".to_owned(), t);
            }
            out
        },
    ))
}

/// A page of directory objects named by id, of any kind (or one kind, for an OData cast).
pub(crate) fn list_objects(
    world: &World,
    req: &ApiRequest,
    context: &str,
    ids: &[Guid],
    cast: Option<ObjectKind>,
) -> Answer {
    let selectable = member_selectable();
    let c = Collection {
        context,
        type_name: "microsoft.graph.directoryObject",
        selectable: &selectable,
        filterable: &[
            "id",
            "displayName",
            "servicePrincipalType",
            "accountEnabled",
            "userType",
            "onPremisesSyncEnabled",
        ],
        advanced_filter: &["onPremisesSyncEnabled"],
        max_top: 999,
        count_needs_eventual: true,
        expandable: &[],
    };
    let q = ListQuery::parse(req, &c)?;
    let context = match cast {
        Some(ObjectKind::User) => "users",
        Some(ObjectKind::Group) => "groups",
        Some(ObjectKind::ServicePrincipal) => "servicePrincipals",
        _ => context,
    };
    let items = ids.iter().filter_map(|id| {
        let (kind, _) = world.objects.get(id)?;
        if cast.is_some_and(|c| c != *kind) {
            return None;
        }
        world.object(id)
    });
    let typed = cast.is_none();
    Ok(page(
        req,
        &q,
        context,
        items,
        |o, p| o.get(p),
        |o, sel| {
            match sel {
                // In a mixed collection, a selected property the object's type lacks is left out.
                Some(fields) => {
                    let own: Vec<String> =
                        fields.iter().filter(|f| o.shape().selectable.contains(&f.as_str())).cloned().collect();
                    o.render(Some(&own), typed)
                }
                None => o.render(None, typed),
            }
        },
    ))
}

pub(crate) fn get_by_ids(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::DIRECTORY)?;
    let body = req.json_body().ok_or_else(|| bad_request("The request body is not valid JSON."))?;
    let Some(ids) = body.get("ids").and_then(Value::as_array) else {
        return Err(bad_request("The 'ids' parameter is required."));
    };
    if ids.len() > 1000 {
        return Err(bad_request("Too many ids: at most 1000 are allowed."));
    }
    let mut value = Vec::new();
    for raw in ids {
        let Some(raw) = raw.as_str() else { return Err(bad_request("Every id must be a string.")) };
        let id = object_id(raw)?;
        if let Some(o) = world.object(&id) {
            value.push(Value::Object(o.render(None, true)));
        }
    }
    Ok(ApiResponse::ok(json!({
        "@odata.context": format!("{}$metadata#directoryObjects", req.metadata_base()),
        "value": value,
    })))
}
