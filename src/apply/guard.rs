//! The lockout guard: an apply never removes the last Global Administrator, the applying identity's own access
//! to the APIs it writes with, or what it needs to undo its own changes, unless told to.

use super::*;

/// Live active Global Administrator assignments at the tenant scope.
pub(super) async fn global_admins(client: &AzureClient) -> Result<usize, ApiError> {
    let url = client.url(
        Service::Graph,
        &format!(
            "/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId%20eq%20'{GLOBAL_ADMINISTRATOR}'"
        ),
    );
    let mut n = 0;
    client
        .pages(Service::Graph, &url, &[], |items| {
            n += items.iter().filter(|i| i["directoryScopeId"].as_str().unwrap_or("/") == "/").count();
            Ok(())
        })
        .await?;
    Ok(n)
}

/// The groups the applying identity is in, through nesting (lower-case ids). A failed read (the identity is not a
/// service principal, or may not read groups) gives none: the guard then sees only its direct access.
pub async fn groups_of(client: &AzureClient, me: &str) -> std::collections::HashSet<String> {
    if !Guid::is_guid(me) {
        return std::collections::HashSet::new();
    }
    let url =
        client.url(Service::Graph, &format!("/v1.0/servicePrincipals/{me}/transitiveMemberOf?$select=id&$top=999"));
    let mut out = std::collections::HashSet::new();
    let read = client
        .pages(Service::Graph, &url, &[], |items| {
            out.extend(
                items.iter().filter_map(|i| i["id"].as_str()).filter(|i| Guid::is_guid(i)).map(str::to_ascii_lowercase),
            );
            Ok(())
        })
        .await;
    if read.is_err() { std::collections::HashSet::new() } else { out }
}

/// What the lockout guard protects, decided from the action and the applier alone (no live read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Protected {
    /// The applying identity's own access.
    OwnAccess,
    /// Access the applying identity holds through this group.
    GroupAccess(String),
    /// An active, tenant-wide Global Administrator assignment: refused while it is the last one.
    GlobalAdministrator,
}

/// Whether removing `a` touches something the lockout guard protects. Ids compare case-insensitively (plans are
/// normalised when read; this holds even for a plan built in memory).
pub(super) fn protected(a: &Action, me: &Applier) -> Option<Protected> {
    if !a.operation.removes() {
        return None;
    }
    if a.principal.id.eq_ignore_ascii_case(&me.id) {
        return Some(Protected::OwnAccess);
    }
    if me.groups.contains(&a.principal.id.to_ascii_lowercase()) {
        return Some(Protected::GroupAccess(a.principal.name.clone()));
    }
    if a.operation == Operation::DirectoryRoleRemove
        && a.role.as_ref().is_some_and(|r| r.id.eq_ignore_ascii_case(GLOBAL_ADMINISTRATOR))
        && a.scope.as_deref() == Some("/")
    {
        return Some(Protected::GlobalAdministrator);
    }
    None
}

/// Why the lockout guard refuses `a`, if it does.
pub(super) async fn lockout(client: &AzureClient, a: &Action, me: &Applier) -> Result<Option<String>, ApiError> {
    Ok(match protected(a, me) {
        None => None,
        Some(Protected::OwnAccess) => {
            Some("it would remove the applying identity's own access, which apply may need to continue".into())
        }
        Some(Protected::GroupAccess(group)) => Some(format!(
            "it would remove access the applying identity holds through group {group}, which apply may need to continue"
        )),
        Some(Protected::GlobalAdministrator) => (global_admins(client).await? <= 1)
            .then(|| "it would remove the last active Global Administrator".to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    const TENANT: &str = "7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f";
    const ME: &str = "30000000-0000-4000-8000-00000000000a";

    /// `s` with the letters at the positions `mask` picks in upper case.
    fn recase(s: &str, mask: &[bool]) -> String {
        s.chars().zip(mask.iter().cycle()).map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c }).collect()
    }

    fn plan_of(tenant: &str, action: Value) -> Plan {
        let plan = json!({
            "kind": "azsnap-plan", "plan_version": 1, "tool_version": "t", "created_at": "2026-11-26T08:00:00Z",
            "tenant_id": tenant, "source": {"command": "test", "snapshots": [], "options": {}}, "actions": [action],
        });
        Plan::parse(&plan.to_string()).expect("valid plan")
    }

    fn removal(op: &str, principal: &str, target: &str, role: &str, scope: &str) -> Value {
        json!({"id": "a-1", "operation": op,
               "principal": {"id": principal, "name": "p", "kind": "user"},
               "target": {"id": target, "name": "t", "kind": "tenant"},
               "role": {"id": role, "name": "r", "kind": "directory_role"},
               "scope": scope, "reason": "test", "expects": "present", "privileged": true})
    }

    proptest! {
        #[test]
        fn any_case_variant_of_a_protected_removal_is_protected(mask in proptest::collection::vec(any::<bool>(), 1..40)) {
            let me = Applier { id: ME.to_owned(), groups: Default::default() };
            let ga = plan_of(
                &recase(TENANT, &mask),
                removal("directory_role_remove", &recase("10000000-0000-4000-8000-0000000000ab", &mask),
                        &recase(TENANT, &mask), &recase(GLOBAL_ADMINISTRATOR, &mask), "/"),
            );
            prop_assert_eq!(ga.tenant_id.as_str(), TENANT);
            prop_assert_eq!(protected(&ga.actions[0], &me), Some(Protected::GlobalAdministrator));

            let root = format!("/providers/microsoft.management/managementgroups/{TENANT}");
            let own = plan_of(
                TENANT,
                removal("azure_role_delete", &recase(ME, &mask), &recase(&root, &mask),
                        &recase("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", &mask), &recase(&root, &mask)),
            );
            prop_assert_eq!(own.actions[0].scope.as_deref(), Some(root.as_str()));
            prop_assert_eq!(protected(&own.actions[0], &me), Some(Protected::OwnAccess));

            let group = Applier { id: ME.to_owned(), groups: [String::from("20000000-0000-4000-8000-0000000000cd")].into() };
            let via = plan_of(
                TENANT,
                removal("azure_role_delete", &recase("20000000-0000-4000-8000-0000000000CD", &mask), &root,
                        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", &root),
            );
            prop_assert!(matches!(protected(&via.actions[0], &group), Some(Protected::GroupAccess(_))));
        }
    }

    #[test]
    fn ids_from_live_answers_are_checked_before_they_reach_a_url() {
        assert!(is_graph_key("lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1"));
        for bad in ["", "../../users/x", "a/b", "a?b", "a%2Fb", "a b", "a.b"] {
            assert!(!is_graph_key(bad), "{bad}");
        }
        let scope = "/subscriptions/50000000-0000-4000-8000-000000000001";
        let name = "c0000000-0000-4000-8000-000000000001";
        let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{}", name.to_uppercase());
        assert_eq!(assignment_guid(&id, scope).as_deref(), Some(name));
        for bad in [
            format!("@127.0.0.1:9/{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
            format!("{scope}/resourceGroups/x/providers/Microsoft.Authorization/roleAssignments/{name}"),
            format!("{scope}/providers/Microsoft.Authorization/roleAssignments/../../{name}"),
            format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?x=1"),
        ] {
            assert_eq!(assignment_guid(&bad, scope), None, "{bad}");
        }
    }

    #[test]
    fn a_create_answered_for_another_object_is_not_done() {
        let plan = plan_of(
            TENANT,
            json!({"id": "a-1", "operation": "app_role_assign",
                   "principal": {"id": "10000000-0000-4000-8000-000000000001", "name": "p", "kind": "user"},
                   "target": {"id": "30000000-0000-4000-8000-000000000001", "name": "t", "kind": "service_principal"},
                   "role": {"id": "40000000-0000-4000-8000-000000000001", "name": "r", "kind": "app_role"},
                   "reason": "test", "expects": "absent", "privileged": false}),
        );
        let a = &plan.actions[0];
        let good = json!({"principalId": "10000000-0000-4000-8000-000000000001",
                          "appRoleId": "40000000-0000-4000-8000-000000000001",
                          "resourceId": "30000000-0000-4000-8000-000000000001"});
        assert_eq!(written_elsewhere(a, &good), None);
        let mut other = good.clone();
        other["principalId"] = json!("10000000-0000-4000-8000-000000000009");
        assert!(written_elsewhere(a, &other).unwrap().contains("principalId"));
    }
}
