//! What Microsoft's own clients (MSAL, the Azure SDKs) rely on beyond what azsnap's collector asks for: the login
//! host's discovery documents, the scopes and audiences they request, and the Graph and ARM forms they send.

use azsnap_emulator::EmulatorOptions;
use azsnap_emulator::generate::{Sizes, generate};
use base64::Engine;
use serde_json::Value;

use crate::common::emulator::{
    ARM_SCOPE, Emu, GRAPH_SCOPE, READER, READER_SECRET, TENANT, contoso_json, contoso_path, tenant_file,
};

/// The claims of a JWT-shaped token.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[test]
fn openid_configuration_is_public_and_points_back_at_the_emulator() {
    let emu = Emu::contoso();
    for tenant in [TENANT, "contoso.onmicrosoft.com", "organizations"] {
        let r = emu.get_public(&format!("/{tenant}/v2.0/.well-known/openid-configuration"));
        assert_eq!(r.status, 200, "{tenant}: {:?}", r.body);
        let token_endpoint = r.body["token_endpoint"].as_str().unwrap();
        assert_eq!(token_endpoint, format!("{}/{tenant}/oauth2/v2.0/token", emu.base));
        assert!(r.body["authorization_endpoint"].as_str().unwrap().starts_with(&emu.base));
        let issuer = r.body["issuer"].as_str().unwrap();
        let expected_tid = if tenant == "organizations" { "{tenantid}" } else { TENANT };
        assert_eq!(issuer, format!("{}/{expected_tid}/v2.0", emu.base));
    }
    // The v1 document names the v1 endpoints and the sts.windows.net issuer.
    let r = emu.get_public(&format!("/{TENANT}/.well-known/openid-configuration"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_endpoint"], format!("{}/{TENANT}/oauth2/token", emu.base));
    assert_eq!(r.body["issuer"], format!("https://sts.windows.net/{TENANT}/"));
    // The discovered token endpoint issues tokens.
    let r = emu.get_public(&format!("/{TENANT}/v2.0/.well-known/openid-configuration"));
    let token_path = r.body["token_endpoint"].as_str().unwrap().trim_start_matches(&emu.base).to_owned();
    assert_eq!(token_path, format!("/{TENANT}/oauth2/v2.0/token"));
    // An unknown tenant is AADSTS90002, as the service answers.
    let r = emu.get_public("/00000000-0000-4000-8000-00000000dead/v2.0/.well-known/openid-configuration");
    assert_eq!((r.status, r.body["error"].as_str()), (400, Some("invalid_tenant")));
    assert_eq!(r.body["error_codes"][0], 90002);
    // The key list is public too (and empty: the emulator's keys are symmetric and its own).
    let r = emu.get_public(&format!("/{TENANT}/discovery/v2.0/keys"));
    assert_eq!((r.status, r.body["keys"].as_array().map(Vec::len)), (200, Some(0)));
}

#[test]
fn instance_discovery_knows_the_emulator_and_refuses_other_hosts() {
    let emu = Emu::contoso();
    let authorize = format!("{}/{TENANT}/oauth2/v2.0/authorize", emu.base);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("api-version", "1.1")
        .append_pair("authorization_endpoint", &authorize)
        .finish();
    let r = emu.get_public(&format!("/common/discovery/instance?{query}"));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["tenant_discovery_endpoint"],
        format!("{}/{TENANT}/v2.0/.well-known/openid-configuration", emu.base)
    );
    let host = emu.base.trim_start_matches("http://");
    assert_eq!(r.body["metadata"][0]["preferred_network"], host);
    assert_eq!(r.body["metadata"][0]["aliases"][0], host);
    let elsewhere = form_urlencoded::Serializer::new(String::new())
        .append_pair("authorization_endpoint", &format!("https://login.example.org/{TENANT}/oauth2/v2.0/authorize"))
        .finish();
    let r = emu.get_public(&format!("/common/discovery/instance?{elsewhere}"));
    assert_eq!((r.status, r.body["error"].as_str()), (400, Some("invalid_instance")));
    assert_eq!(r.body["error_codes"][0], 50049);
}

#[test]
fn msal_reserved_scopes_beside_a_default_scope_are_accepted() {
    let emu = Emu::contoso();
    for scope in
        [format!("{GRAPH_SCOPE} openid profile offline_access"), format!("openid {ARM_SCOPE} offline_access profile")]
    {
        let r = emu.token(READER, READER_SECRET, &scope);
        assert_eq!(r.status, 200, "{scope}: {:?}", r.body);
    }
    // The reserved scopes alone ask for no resource; two resources are still one too many.
    for scope in ["openid profile offline_access", &format!("{GRAPH_SCOPE} {ARM_SCOPE} openid")] {
        let r = emu.token(READER, READER_SECRET, scope);
        assert_eq!((r.status, r.body["error_codes"][0].as_u64()), (400, Some(70011)), "{scope}");
    }
}

#[test]
fn arm_tokens_carry_the_audience_asked_for_and_arm_accepts_both() {
    let emu = Emu::contoso();
    for (scope, aud) in [
        ("https://management.azure.com/.default", "https://management.azure.com"),
        ("https://management.azure.com//.default", "https://management.azure.com"),
        ("https://management.core.windows.net//.default", "https://management.core.windows.net/"),
        ("https://management.core.windows.net/.default", "https://management.core.windows.net/"),
    ] {
        let token = emu.reader(scope);
        assert_eq!(claims(&token)["aud"], aud, "{scope}");
        let r = emu.get("/subscriptions?api-version=2022-12-01", &token);
        assert_eq!(r.status, 200, "{scope}: {:?}", r.body);
        // An ARM token is still not a Graph token.
        assert_eq!(emu.get("/v1.0/users", &token).status, 401);
    }
}

#[test]
fn doubled_slashes_in_paths_are_collapsed() {
    let emu = Emu::contoso();
    let graph = emu.reader(GRAPH_SCOPE);
    let plain = emu.get("/v1.0/users?$select=id", &graph);
    let doubled = emu.get("/v1.0//users?$select=id", &graph);
    assert_eq!(doubled.status, 200, "{:?}", doubled.body);
    assert_eq!(doubled.body["value"], plain.body["value"]);
    let batch = serde_json::json!({"requests": [{"id": "1", "method": "GET", "url": "//users?$select=id"}]});
    let r = emu.post_json("/v1.0/$batch", &graph, &batch);
    assert_eq!(r.body["responses"][0]["status"], 200, "{:?}", r.body);
    assert_eq!(r.body["responses"][0]["body"]["value"], plain.body["value"]);
    let arm = emu.reader(ARM_SCOPE);
    let r = emu.get("//subscriptions?api-version=2022-12-01", &arm);
    assert_eq!(r.status, 200, "{:?}", r.body);
}

const ALICE: &str = "10000000-0000-4000-8000-000000000001";
const BOB: &str = "10000000-0000-4000-8000-000000000002";
const GRAPH_SP: &str = "30000000-0000-4000-8000-000000000005";

/// The tenant file's users and their managers.
fn managers() -> Vec<(String, Option<String>)> {
    contoso_json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_str().unwrap().to_owned(), u["manager"].as_str().map(str::to_owned)))
        .collect()
}

#[test]
fn directory_objects_are_served_by_id_with_their_type() {
    let emu = Emu::contoso();
    let graph = emu.reader(GRAPH_SCOPE);
    for (id, kind) in [
        (ALICE, "#microsoft.graph.user"),
        ("20000000-0000-4000-8000-000000000001", "#microsoft.graph.group"),
        (GRAPH_SP, "#microsoft.graph.servicePrincipal"),
    ] {
        let r = emu.get(&format!("/v1.0/directoryObjects/{id}"), &graph);
        assert_eq!(r.status, 200, "{id}: {:?}", r.body);
        assert_eq!((r.body["id"].as_str(), r.body["@odata.type"].as_str()), (Some(id), Some(kind)));
        assert!(r.body["@odata.context"].as_str().unwrap().ends_with("$metadata#directoryObjects/$entity"));
    }
    let r = emu.get(&format!("/v1.0/directoryObjects/{ALICE}?$select=displayName"), &graph);
    assert_eq!(r.body["displayName"], "Alice Admin");
    assert!(r.body.get("userPrincipalName").is_none(), "$select applies");
    let r = emu.get("/v1.0/directoryObjects/00000000-0000-4000-8000-00000000dead", &graph);
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));
    assert_eq!(emu.get("/v1.0/directoryObjects/not-a-guid", &graph).status, 400);
}

#[test]
fn manager_expands_inline_and_by_its_own_path() {
    let emu = Emu::contoso();
    let graph = emu.reader(GRAPH_SCOPE);
    let users = emu.walk("/v1.0/users?$select=id,displayName&$expand=manager", &graph, &[]);
    let expected = managers();
    assert_eq!(users.len(), expected.len());
    for (id, manager) in &expected {
        let u = users.iter().find(|u| u["id"] == id.as_str()).unwrap();
        match manager {
            Some(m) => {
                assert_eq!(u["manager"]["id"], m.as_str(), "{id}");
                assert_eq!(u["manager"]["@odata.type"], "#microsoft.graph.user");
            }
            // Graph leaves the property out for a user without a manager.
            None => assert!(u.get("manager").is_none(), "{id}: {u}"),
        }
    }
    let r = emu.get(&format!("/v1.0/users/{BOB}?$expand=manager($select=id,displayName)"), &graph);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["manager"]["displayName"], "Alice Admin");
    assert!(r.body["manager"].get("userPrincipalName").is_none(), "the nested $select applies");
    let r = emu.get(&format!("/v1.0/users/{BOB}/manager"), &graph);
    assert_eq!((r.status, r.body["id"].as_str()), (200, Some(ALICE)));
    assert_eq!(emu.get(&format!("/v1.0/users/{ALICE}/manager"), &graph).status, 404);
    let reports = emu.walk(&format!("/v1.0/users/{ALICE}/directReports"), &graph, &[]);
    let mut got: Vec<&str> = reports.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut want: Vec<&str> =
        expected.iter().filter(|(_, m)| m.as_deref() == Some(ALICE)).map(|(id, _)| id.as_str()).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    let r = emu.get("/v1.0/users?$expand=mailboxSettings", &graph);
    assert_eq!(r.status, 400, "only the documented navigation properties expand");
}

#[test]
fn expand_pages_hold_at_most_100_objects_whatever_top_says() {
    let sizes = Sizes { users: 250, ..Sizes::preset("s").unwrap() };
    let emu = Emu::serve(generate(&sizes, 3), EmulatorOptions::default());
    let graph = emu.reader(GRAPH_SCOPE);
    let r = emu.get("/v1.0/users?$top=999&$expand=manager", &graph);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["value"].as_array().unwrap().len(), 100);
    assert!(r.body["@odata.nextLink"].is_string());
    let all = emu.walk("/v1.0/users?$top=999&$expand=manager&$select=id", &graph, &[]);
    assert_eq!(all.len(), 250);
    let without = emu.get("/v1.0/users?$top=999&$select=id", &graph);
    assert_eq!(without.body["value"].as_array().unwrap().len(), 250);
}

#[test]
fn app_role_assigned_to_expands_truncated_at_20_without_a_link() {
    let mut tenant = tenant_file(&contoso_path());
    let template = tenant.app_role_assignments.iter().find(|a| a.resource_id.as_str() == GRAPH_SP).unwrap().clone();
    for n in 0..30 {
        let mut a = template.clone();
        a.id = format!("extra-assignment-{n:02}");
        tenant.app_role_assignments.push(a);
    }
    let total = tenant.app_role_assignments.iter().filter(|a| a.resource_id.as_str() == GRAPH_SP).count();
    assert!(total > 20);
    let emu = Emu::serve(tenant, EmulatorOptions::default());
    let graph = emu.reader(GRAPH_SCOPE);
    let r = emu.get(&format!("/v1.0/servicePrincipals/{GRAPH_SP}?$expand=appRoleAssignedTo"), &graph);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let expanded = r.body["appRoleAssignedTo"].as_array().unwrap();
    assert_eq!(expanded.len(), 20);
    assert!(expanded.iter().all(|a| a["resourceId"] == GRAPH_SP));
    assert!(r.body.get("appRoleAssignedTo@odata.nextLink").is_none());
    // The relationship's own path pages through all of them.
    let all = emu.walk(&format!("/v1.0/servicePrincipals/{GRAPH_SP}/appRoleAssignedTo"), &graph, &[]);
    assert_eq!(all.len(), total);
    let listed = emu.walk("/v1.0/servicePrincipals?$expand=appRoleAssignedTo($select=id,principalId)", &graph, &[]);
    let sp = listed.iter().find(|s| s["id"] == GRAPH_SP).unwrap();
    assert_eq!(sp["appRoleAssignedTo"].as_array().unwrap().len(), 20);
    assert!(sp["appRoleAssignedTo"][0].get("resourceDisplayName").is_none(), "the nested $select applies");
}

#[test]
fn documented_user_properties_can_be_selected() {
    let emu = Emu::contoso();
    let graph = emu.reader(GRAPH_SCOPE);
    let select = "id,employeeHireDate,identities,securityIdentifier,onPremisesExtensionAttributes,city,manager,\
                  lastPasswordChangeDateTime,passwordPolicies,showInAddressList";
    let r = emu.get(&format!("/v1.0/users/{ALICE}?$select={select}"), &graph);
    assert_eq!(r.status, 200, "{:?}", r.body);
    for p in ["employeeHireDate", "city", "lastPasswordChangeDateTime", "passwordPolicies", "showInAddressList"] {
        assert!(r.body.get(p).is_some(), "{p} is in the answer");
    }
    assert_eq!(r.body["identities"][0]["issuerAssignedId"], "alice@contoso.com");
    assert_eq!(r.body["onPremisesExtensionAttributes"]["extensionAttribute15"], Value::Null);
    // A cloud SID is S-1-12-1- and the object id's four 32-bit words.
    let sid = r.body["securityIdentifier"].as_str().unwrap();
    assert_eq!(sid, "S-1-12-1-268435456-1073741824-128-16777216");
    // `manager` is a relationship: selecting it is allowed, and only `$expand` brings it.
    assert!(r.body.get("manager").is_none());
    let r = emu.get("/v1.0/users?$select=id,employeeHireDate", &graph);
    assert_eq!(r.status, 200);
    let r = emu.get("/v1.0/users?$select=id,notAProperty", &graph);
    assert_eq!(r.status, 400);
}

#[test]
fn policy_singletons_and_domains_are_served_with_their_permissions() {
    let mut tenant = tenant_file(&contoso_path());
    tenant.policies.security_defaults_enabled = true;
    tenant.policies.authorization_policy.insert("allowInvitesFrom".to_owned(), Value::from("adminsAndGuestInviters"));
    let plain = Emu::serve(tenant.clone(), EmulatorOptions::default());
    let graph = plain.reader(GRAPH_SCOPE);
    // Policies and domains need their own permissions, which the reader does not hold.
    for path in ["/v1.0/policies/authorizationPolicy", "/v1.0/domains"] {
        let r = plain.get(path, &graph);
        assert_eq!((r.status, r.code()), (403, "Authorization_RequestDenied"), "{path}");
    }
    tenant.apps[0].graph_permissions.extend(["Policy.Read.All".to_owned(), "Domain.Read.All".to_owned()]);
    let emu = Emu::serve(tenant, EmulatorOptions::default());
    let graph = emu.reader(GRAPH_SCOPE);
    let r = emu.get("/v1.0/policies/authorizationPolicy", &graph);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["id"], "authorizationPolicy");
    assert_eq!(r.body["allowInvitesFrom"], "adminsAndGuestInviters", "the tenant file's setting");
    assert_eq!(r.body["defaultUserRolePermissions"]["allowedToReadOtherUsers"], true, "a new tenant's default");
    let r = emu.get("/v1.0/policies/identitySecurityDefaultsEnforcementPolicy", &graph);
    assert_eq!((r.status, r.body["isEnabled"].as_bool()), (200, Some(true)));
    let r = emu.get("/v1.0/domains", &graph);
    let domains: Vec<(&str, bool, bool)> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d["isDefault"].as_bool().unwrap(), d["isInitial"].as_bool().unwrap()))
        .collect();
    let domain = contoso_json()["tenant"]["domain"].as_str().unwrap().to_owned();
    assert_eq!(domains, [(domain.as_str(), true, false), ("contoso.onmicrosoft.com", false, true)]);
    let r = emu.get("/v1.0/domains/contoso.onmicrosoft.com", &graph);
    assert_eq!((r.status, r.body["isInitial"].as_bool()), (200, Some(true)));
    assert_eq!(emu.get("/v1.0/domains/fabrikam.com", &graph).status, 404);
    assert_eq!(emu.get("/v1.0/policies/noSuchPolicy", &graph).status, 400);
}

const SUB1: &str = "50000000-0000-4000-8000-000000000001";
const SUB2: &str = "50000000-0000-4000-8000-000000000002";

#[test]
fn subscription_locations_are_listed() {
    let emu = Emu::contoso();
    let arm = emu.reader(ARM_SCOPE);
    let r = emu.get(&format!("/subscriptions/{SUB1}/locations?api-version=2022-12-01"), &arm);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let items = r.body["value"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|l| l["name"].as_str().unwrap()).collect();
    // Every region the tenant's resources are in is among them.
    for used in contoso_json()["resourceGroups"].as_array().unwrap() {
        assert!(names.contains(&used["location"].as_str().unwrap()), "{used}");
    }
    let west = items.iter().find(|l| l["name"] == "westeurope").unwrap();
    assert_eq!(west["id"], format!("/subscriptions/{SUB1}/locations/westeurope"));
    assert_eq!((west["type"].as_str(), west["displayName"].as_str()), (Some("Region"), Some("West Europe")));
    assert_eq!(west["metadata"]["pairedRegion"][0]["name"], "northeurope");
    let r = emu.get("/subscriptions/00000000-0000-4000-8000-00000000dead/locations?api-version=2022-12-01", &arm);
    assert_eq!(r.status, 404);
}

#[test]
fn built_in_role_definitions_at_the_root_are_listed_to_any_caller() {
    let emu = Emu::contoso();
    let arm = emu.reader(ARM_SCOPE);
    let roles = emu.walk("/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01", &arm, &[]);
    assert!(roles.len() >= 5, "{}", roles.len());
    assert!(roles.iter().all(|r| r["properties"]["type"] == "BuiltInRole"), "custom roles need access at /");
    assert!(roles.iter().any(|r| r["properties"]["roleName"] == "Reader"));
    assert!(roles[0]["id"].as_str().unwrap().starts_with("/providers/Microsoft.Authorization/roleDefinitions/"));
    let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    let r =
        emu.get(&format!("/providers/Microsoft.Authorization/roleDefinitions/{reader}?api-version=2022-04-01"), &arm);
    assert_eq!((r.status, r.body["properties"]["roleName"].as_str()), (200, Some("Reader")));
}

#[test]
fn assignments_made_higher_up_carry_the_listing_subscription_in_their_role_definition_id() {
    let emu = Emu::contoso();
    let arm = emu.reader(ARM_SCOPE);
    let listed = emu.walk(
        &format!("/subscriptions/{SUB2}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"),
        &arm,
        &[],
    );
    let inherited: Vec<&Value> = listed
        .iter()
        .filter(|a| a["properties"]["scope"].as_str().unwrap().starts_with("/providers/Microsoft.Management"))
        .collect();
    assert!(!inherited.is_empty(), "management-group assignments are listed at the subscription below");
    for a in inherited {
        let role = a["properties"]["roleDefinitionId"].as_str().unwrap();
        assert!(
            role.starts_with(&format!("/subscriptions/{SUB2}/providers/Microsoft.Authorization/roleDefinitions/")),
            "{role}"
        );
    }
    // Listed at the management group itself, the id stays unqualified.
    let at_mg = emu.walk(
        "/providers/Microsoft.Management/managementGroups/mg-platform/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()",
        &arm,
        &[],
    );
    assert!(at_mg.iter().all(|a| a["properties"]["roleDefinitionId"].as_str().unwrap().starts_with("/providers/")));
}

#[test]
fn storage_accounts_carry_the_documented_properties() {
    let emu = Emu::contoso();
    let arm = emu.reader(ARM_SCOPE);
    let r = emu.get(
        &format!("/subscriptions/{SUB1}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01"),
        &arm,
    );
    let first = &r.body["value"][0]["properties"];
    assert_eq!(first["privateEndpointConnections"], serde_json::json!([]));
    for p in ["keyCreationTime", "dnsEndpointType", "allowCrossTenantReplication", "minimumTlsVersion", "networkAcls"] {
        assert!(first.get(p).is_some(), "{p}");
    }
}

/// A Resource Graph query by the reader.
fn graph_query(emu: &Emu, token: &str, body: Value) -> crate::common::emulator::Reply {
    emu.post_json("/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01", token, &body)
}

#[test]
fn resource_graph_runs_the_kql_subset_over_what_the_caller_can_read() {
    let emu = Emu::contoso();
    let arm = emu.reader(ARM_SCOPE);
    let tenant = contoso_json();
    let r = graph_query(
        &emu,
        &arm,
        serde_json::json!({"query": "Resources | where type =~ 'Microsoft.Storage/storageAccounts' | project name, location, subscriptionId"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut names: Vec<&str> = r.body["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    let mut want: Vec<&str> =
        tenant["storageAccounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    want.sort_unstable();
    assert_eq!(names, want);
    assert_eq!(r.body["totalRecords"], want.len());
    assert_eq!(r.body["resultTruncated"], "false");
    // Limited to one subscription.
    let r = graph_query(
        &emu,
        &arm,
        serde_json::json!({"subscriptions": [SUB2], "query": "resources | where type == 'microsoft.storage/storageaccounts' | summarize count()"}),
    );
    let in_sub2 = tenant["storageAccounts"].as_array().unwrap().iter().filter(|a| a["subscriptionId"] == SUB2).count();
    assert_eq!(r.body["data"][0]["count_"], in_sub2);
    // Role assignments, as authorizationresources.
    let r = graph_query(
        &emu,
        &arm,
        serde_json::json!({"query": "authorizationresources | where type == 'microsoft.authorization/roleassignments' | count"}),
    );
    assert_eq!(r.body["data"][0]["Count"], tenant["roleAssignments"].as_array().unwrap().len());
    // Subscriptions and resource groups, as resourcecontainers.
    let r = graph_query(&emu, &arm, serde_json::json!({"query": "resourcecontainers | summarize count() by type"}));
    let groups = r.body["data"].as_array().unwrap();
    let count_of = |t: &str| groups.iter().find(|g| g["type"] == t).map(|g| g["count_"].clone());
    assert_eq!(
        count_of("microsoft.resources/subscriptions/resourcegroups"),
        Some(tenant["resourceGroups"].as_array().unwrap().len().into())
    );
}

#[test]
fn resource_graph_pages_with_skip_tokens_and_refuses_what_it_cannot_run() {
    let emu = Emu::contoso();
    let arm = emu.reader(ARM_SCOPE);
    let query = "authorizationresources | project id | order by id asc";
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut options = serde_json::json!({"$top": 2});
        if let Some(t) = &token {
            options["$skipToken"] = Value::from(t.clone());
        }
        let r = graph_query(&emu, &arm, serde_json::json!({"query": query, "options": options}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(r.body["count"].as_u64().unwrap() <= 2);
        seen.extend(r.body["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()));
        match r.body["$skipToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    let all = graph_query(&emu, &arm, serde_json::json!({"query": query, "options": {"$top": 1000}}));
    let all: Vec<String> =
        all.body["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, all);
    assert!(seen.len() > 2);
    for bad in ["resources | join (resources) on id", "resources | where name == 'a' or name == 'b'", "nosuchtable"] {
        let r = graph_query(&emu, &arm, serde_json::json!({"query": bad}));
        assert_eq!((r.status, r.code()), (400, "BadRequest"), "{bad}");
        assert_eq!(r.body["error"]["details"][0]["code"], "InvalidQuery", "{bad}");
    }
    // A query is a read: it is not in the write log.
    let stats = emu.get_public("/_emulator/stats");
    assert_eq!(stats.body["writes"], 0);
    assert!(stats.body["write_log"].as_array().unwrap().is_empty());
}

#[test]
fn behind_a_tls_terminating_proxy_links_name_the_address_the_client_used() {
    let emu = Emu::contoso();
    let graph = emu.reader(GRAPH_SCOPE);
    let proxied = [("x-forwarded-proto", "https"), ("x-forwarded-host", "graph.microsoft.com")];
    let r = emu.get_with("/v1.0/users?$top=2", &graph, &proxied);
    let next = r.body["@odata.nextLink"].as_str().unwrap();
    assert!(next.starts_with("https://graph.microsoft.com/v1.0/users?"), "{next}");
    let r = emu.get_with(&format!("/{TENANT}/v2.0/.well-known/openid-configuration"), "", &proxied);
    assert_eq!(r.body["token_endpoint"], format!("https://graph.microsoft.com/{TENANT}/oauth2/v2.0/token"));
    // Without the headers, the links name the emulator itself.
    let r = emu.get("/v1.0/users?$top=2", &graph);
    assert!(r.body["@odata.nextLink"].as_str().unwrap().starts_with(&emu.base));
}

#[test]
fn tls_serves_with_a_generated_authority_that_clients_can_trust() {
    use std::sync::Arc;

    use azsnap_emulator::{Emulator, TlsIdentity};

    let identity = TlsIdentity::generate().unwrap();
    let ca = identity.ca_pem().unwrap().to_owned();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!format!("{identity:?}").contains("PRIVATE"), "the key stays out of debug output");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let emu = Arc::new(Emulator::new(tenant_file(&contoso_path()), EmulatorOptions::default()));
    let running = rt.block_on(azsnap_emulator::start_tls(emu, 0, &identity)).unwrap();
    let base = running.base_url();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let trusting = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    let (discovered, untrusted, http) = rt.block_on(async {
        let url = format!("{base}/{TENANT}/v2.0/.well-known/openid-configuration");
        let discovered: Value = trusting.get(&url).send().await.unwrap().json().await.unwrap();
        let untrusted = plain.get(&url).send().await;
        let http = plain.get(url.replacen("https://", "http://", 1)).send().await;
        (discovered, untrusted, http)
    });
    // Every link the emulator writes is https, on its own address.
    assert_eq!(discovered["token_endpoint"], format!("{base}/{TENANT}/oauth2/v2.0/token"));
    assert!(untrusted.is_err(), "a client that does not trust the authority is refused");
    assert!(http.is_err() || http.is_ok_and(|r| !r.status().is_success()), "plain http is not served on the TLS port");
    rt.block_on(running.stop());
    // A certificate from files: the PEM must parse, and the key must match.
    assert!(TlsIdentity::from_pem(b"not pem", b"not pem").is_err());
    assert!(TlsIdentity::from_pem(ca.as_bytes(), b"").is_err());
}
