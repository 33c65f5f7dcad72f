//! Synthetic tenants of any size with realistic shapes: heavy-tailed group sizes, nested groups, guests, disabled
//! and synced accounts, non-human mailboxes, apps with app roles, managed identities, and subscriptions with many
//! scopes. Deterministic: the same sizes and seed give the same tenant.

use serde_json::{Map, Value, json};

use crate::builtin;
use crate::model::Guid;
use crate::rng::Rng;
use crate::tenant::*;

/// How much of everything to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    pub users: usize,
    pub groups: usize,
    pub apps: usize,
    pub subscriptions: usize,
    pub resource_groups_per_subscription: usize,
    pub storage_accounts_per_resource_group: usize,
}

impl Sizes {
    /// A size preset: `s` (1k users), `m` (20k), `l` (200k), `xl` (1M).
    pub fn preset(name: &str) -> Option<Self> {
        let (users, groups, apps, subscriptions) = match name {
            "s" => (1_000, 150, 40, 3),
            "m" => (20_000, 2_000, 300, 10),
            "l" => (200_000, 15_000, 1_500, 40),
            "xl" => (1_000_000, 60_000, 5_000, 100),
            _ => return None,
        };
        Some(Sizes {
            users,
            groups,
            apps,
            subscriptions,
            resource_groups_per_subscription: 8,
            storage_accounts_per_resource_group: 2,
        })
    }
}

/// The reader and writer app registrations every generated tenant has (as contoso does).
pub const READER_CLIENT: &str = "a1b2c3d4-0000-4000-8000-000000000001";
pub const WRITER_CLIENT: &str = "a1b2c3d4-0000-4000-8000-000000000002";
pub const READ_PERMISSIONS: &[&str] = &[
    "Organization.Read.All",
    "User.Read.All",
    "AuditLog.Read.All",
    "GroupMember.Read.All",
    "Application.Read.All",
    "DelegatedPermissionGrant.Read.All",
    "RoleManagement.Read.Directory",
    "RoleEligibilitySchedule.Read.Directory",
    "RoleAssignmentSchedule.Read.Directory",
    "PrivilegedEligibilitySchedule.Read.AzureADGroup",
    "PrivilegedAssignmentSchedule.Read.AzureADGroup",
    "MailboxSettings.Read",
];
pub const WRITE_PERMISSIONS: &[&str] =
    &["GroupMember.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "RoleManagement.ReadWrite.Directory"];

fn id(kind: u32, n: usize) -> Guid {
    format!("{kind:08x}-0000-4000-8000-{n:012x}").parse().unwrap_or_else(|_| Guid::nil())
}

fn props(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

const FIRST: &[&str] = &[
    "Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena", "Milo", "Nora", "Omar",
    "Pia",
];
const LAST: &[&str] =
    &["Smith", "Jansen", "Garcia", "Kowalski", "Nguyen", "Okafor", "Rossi", "Schmidt", "Tanaka", "Dubois"];

/// Makes a tenant of `sizes` from `seed`.
pub fn generate(sizes: &Sizes, seed: u64) -> TenantFile {
    let mut rng = Rng::new(seed);
    let tenant_id: Guid = format!("7e7e{:04x}-0000-4000-8000-{:012x}", seed & 0xffff, seed & 0xffff_ffff_ffff)
        .parse()
        .unwrap_or_else(|_| Guid::nil());
    let domain = format!("fabrikam{seed}.example");
    let now_year = 2026;

    // Users: members, guests, disabled, synced; mailboxes of every purpose; sign-ins from recent to never.
    let mut users = Vec::with_capacity(sizes.users);
    for n in 0..sizes.users {
        let guest = rng.chance(0.05);
        let first = FIRST[rng.below(FIRST.len())];
        let last = LAST[rng.below(LAST.len())];
        let nick = format!("{}.{}{n}", first.to_lowercase(), last.to_lowercase());
        let mailbox_roll = rng.unit();
        let mailbox = if guest {
            None
        } else if mailbox_roll < 0.03 {
            Some("shared")
        } else if mailbox_roll < 0.04 {
            Some("room")
        } else if mailbox_roll < 0.045 {
            Some("equipment")
        } else if mailbox_roll < 0.047 {
            Some("linked")
        } else if mailbox_roll < 0.05 {
            Some("others")
        } else if mailbox_roll < 0.92 {
            Some("user")
        } else {
            None
        };
        let resource_mailbox = matches!(mailbox, Some("shared" | "room" | "equipment" | "others"));
        let enabled = !resource_mailbox && !rng.chance(0.04);
        let synced = !guest && rng.chance(0.3);
        let sign_in = if resource_mailbox || rng.chance(0.08) {
            None
        } else {
            let days = if rng.chance(0.1) { 366 + rng.below(700) } else { rng.below(90) };
            let day = 330usize.saturating_sub(days % 330);
            let when = format!(
                "{}-{:02}-{:02}T{:02}:{:02}:00Z",
                now_year - (days / 365) as i32,
                1 + day / 31 % 12,
                1 + day % 28,
                rng.below(24),
                rng.below(60)
            );
            Some(
                json!({"lastSignInDateTime": when, "lastSignInRequestId": "", "lastNonInteractiveSignInDateTime": when,
                        "lastNonInteractiveSignInRequestId": "", "lastSuccessfulSignInDateTime": when, "lastSuccessfulSignInRequestId": ""}),
            )
        };
        let mut p = props(json!({
            "displayName": format!("{first} {last}"),
            "givenName": first,
            "surname": last,
            "userPrincipalName": if guest { format!("{nick}_partner.example#EXT#@{domain}") } else { format!("{nick}@{domain}") },
            "mail": format!("{nick}@{}", if guest { "partner.example" } else { &domain }),
            "userType": if guest { "Guest" } else { "Member" },
            "accountEnabled": enabled,
            "createdDateTime": format!("{}-{:02}-{:02}T08:00:00Z", 2019 + rng.below(7), 1 + rng.below(12), 1 + rng.below(28)),
        }));
        if synced {
            p.insert("onPremisesSyncEnabled".to_owned(), json!(true));
        }
        if guest {
            p.insert("creationType".to_owned(), json!("Invitation"));
            p.insert(
                "externalUserState".to_owned(),
                json!(if rng.chance(0.8) { "Accepted" } else { "PendingAcceptance" }),
            );
        }
        users.push(User {
            id: id(0x1000_0000, n),
            mailbox: mailbox.map(str::to_owned),
            sign_in_activity: sign_in,
            props: p,
        });
    }

    // Service principals: the tool's two apps, Microsoft Graph, enterprise apps, then managed identities.
    let mut sps = Vec::new();
    let sp = |sps: &mut Vec<ServicePrincipal>,
              app_id: Guid,
              name: &str,
              owner_org: &str,
              typ: &str,
              roles: Value,
              alt: Value| {
        let n = sps.len();
        sps.push(ServicePrincipal {
            id: id(0x3000_0000, n),
            app_id: app_id.clone(),
            owners: Vec::new(),
            props: props(json!({"displayName": name, "appDisplayName": name, "servicePrincipalType": typ,
                "appOwnerOrganizationId": owner_org, "accountEnabled": true, "appRoles": roles,
                "alternativeNames": alt, "servicePrincipalNames": [app_id.as_str()]})),
        });
        sps[n].id.clone()
    };
    let tid = tenant_id.to_string();
    let reader_sp = sp(
        &mut sps,
        READER_CLIENT.parse().unwrap_or_else(|_| Guid::nil()),
        "azsnap reader",
        &tid,
        "Application",
        json!([]),
        json!([]),
    );
    let writer_sp = sp(
        &mut sps,
        WRITER_CLIENT.parse().unwrap_or_else(|_| Guid::nil()),
        "azsnap writer",
        &tid,
        "Application",
        json!([]),
        json!([]),
    );
    sp(
        &mut sps,
        "00000003-0000-0000-c000-000000000000".parse().unwrap_or_else(|_| Guid::nil()),
        "Microsoft Graph",
        "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "Application",
        json!([]),
        json!([]),
    );
    let mut app_sps = Vec::new();
    for a in 0..sizes.apps {
        let roles: Vec<Value> = (0..rng.below(4))
            .map(|r| json!({"id": id(0x9000_0000, a * 4 + r).as_str(), "value": format!("App{a}.Role{r}"), "displayName": format!("Role {r}"),
                            "description": "", "allowedMemberTypes": ["User", "Application"], "isEnabled": true, "origin": "Application"}))
            .collect();
        let foreign = rng.chance(0.2);
        let owner_org = if foreign { "11111111-2222-4333-8444-555555555555".to_owned() } else { tid.clone() };
        let app_id = id(0x4000_0000, a);
        let s = sp(&mut sps, app_id, &format!("App {a}"), &owner_org, "Application", Value::Array(roles), json!([]));
        app_sps.push(s);
    }

    // Management groups, subscriptions, resource groups, storage, identities.
    let mut management_groups =
        vec![ManagementGroup { name: tid.clone(), display_name: "Tenant Root Group".to_owned(), parent: None }];
    for (name, parent) in [
        ("mg-corp", tid.as_str()),
        ("mg-online", tid.as_str()),
        ("mg-corp-prod", "mg-corp"),
        ("mg-corp-dev", "mg-corp"),
    ] {
        management_groups.push(ManagementGroup {
            name: name.to_owned(),
            display_name: name.to_owned(),
            parent: Some(parent.to_owned()),
        });
    }
    let mg_names: Vec<String> = management_groups.iter().map(|m| m.name.clone()).collect();
    let mut subscriptions = Vec::new();
    let mut resource_groups = Vec::new();
    let mut storage_accounts = Vec::new();
    let mut identities = Vec::new();
    let mut scopes: Vec<(String, u8)> = Vec::new(); // (scope, depth: 1 sub, 2 rg, 3 account, 4 container)
    for s in 0..sizes.subscriptions {
        let sub_id = id(0x5000_0000, s);
        subscriptions.push(Subscription {
            subscription_id: sub_id.clone(),
            display_name: format!("Subscription {s}"),
            state: if s % 10 == 9 { "Disabled".to_owned() } else { "Enabled".to_owned() },
            management_group: Some(mg_names[1 + s % (mg_names.len() - 1)].clone()),
            managed_by_tenants: Vec::new(),
            tags: Map::new(),
        });
        scopes.push((format!("/subscriptions/{sub_id}"), 1));
        for r in 0..sizes.resource_groups_per_subscription {
            let rg = format!("rg-{s}-{r}");
            resource_groups.push(ResourceGroup {
                subscription_id: sub_id.clone(),
                name: rg.clone(),
                location: "westeurope".to_owned(),
                tags: Map::new(),
            });
            scopes.push((format!("/subscriptions/{sub_id}/resourceGroups/{rg}"), 2));
            for a in 0..sizes.storage_accounts_per_resource_group {
                let name = format!("st{s}x{r}x{a}");
                let file = rng.chance(0.1);
                let containers: Vec<Container> = if file {
                    Vec::new()
                } else {
                    (0..rng.below(7))
                        .map(|c| Container {
                            name: format!("c{c}"),
                            public_access: if rng.chance(0.05) { "Blob".to_owned() } else { "None".to_owned() },
                            has_immutability_policy: rng.chance(0.05),
                            has_legal_hold: rng.chance(0.02),
                        })
                        .collect()
                };
                let account_scope = format!(
                    "/subscriptions/{sub_id}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}"
                );
                let system_identity = if rng.chance(0.3) {
                    let mi = sp(
                        &mut sps,
                        id(0x3100_0000, storage_accounts.len()),
                        &name,
                        &tid,
                        "ManagedIdentity",
                        json!([]),
                        json!(["isExplicit=False", account_scope]),
                    );
                    Some(mi)
                } else {
                    None
                };
                scopes.push((account_scope.clone(), 3));
                for c in &containers {
                    scopes.push((format!("{account_scope}/blobServices/default/containers/{}", c.name), 4));
                }
                storage_accounts.push(StorageAccount {
                    subscription_id: sub_id.clone(),
                    resource_group: rg.clone(),
                    name,
                    location: "westeurope".to_owned(),
                    kind: if file { "FileStorage".to_owned() } else { "StorageV2".to_owned() },
                    sku: if file { "Premium_LRS".to_owned() } else { "Standard_LRS".to_owned() },
                    allow_blob_public_access: rng.chance(0.1),
                    system_assigned_principal_id: system_identity,
                    containers,
                    tags: Map::new(),
                });
            }
        }
        for u in 0..2 {
            let name = format!("uami-{s}-{u}");
            let rg = format!("rg-{s}-0");
            let scope = format!(
                "/subscriptions/{sub_id}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
            );
            let client = id(0x3200_0000, s * 2 + u);
            let principal = sp(
                &mut sps,
                client.clone(),
                &name,
                &tid,
                "ManagedIdentity",
                json!([]),
                json!(["isExplicit=True", scope]),
            );
            identities.push(UserAssignedIdentity {
                subscription_id: sub_id.clone(),
                resource_group: rg,
                name,
                location: "westeurope".to_owned(),
                principal_id: principal,
                client_id: client,
                tags: Map::new(),
            });
        }
    }
    let mi_ids: Vec<Guid> = sps
        .iter()
        .filter(|s| s.props.get("servicePrincipalType") == Some(&json!("ManagedIdentity")))
        .map(|s| s.id.clone())
        .collect();

    // Groups: heavy-tailed sizes, nesting into later groups only (no cycles), user and some SP owners.
    let mut groups = Vec::with_capacity(sizes.groups);
    for g in 0..sizes.groups {
        let roll = rng.unit();
        let (types, security, mail_enabled, synced) = if roll < 0.2 {
            (json!(["Unified"]), false, true, false)
        } else if roll < 0.25 {
            (json!(["DynamicMembership"]), true, false, false)
        } else if roll < 0.35 {
            (json!([]), true, false, true)
        } else {
            (json!([]), true, false, false)
        };
        let size = ((16.0 / (1.0 - rng.unit()).powf(0.9)) as usize).min(sizes.users.min(100_000));
        let mut members: Vec<Guid> = Vec::with_capacity(size);
        let start = rng.below(sizes.users.max(1));
        let step = 1 + rng.below(97);
        for k in 0..size {
            members.push(users[(start + k * step) % users.len()].id.clone());
        }
        members.sort();
        members.dedup();
        if rng.chance(0.02) && !mi_ids.is_empty() {
            members.push(mi_ids[rng.below(mi_ids.len())].clone());
        }
        let mut owners = vec![users[rng.below(users.len())].id.clone()];
        if rng.chance(0.05) && !app_sps.is_empty() {
            owners.push(app_sps[rng.below(app_sps.len())].clone());
        }
        let mut p = props(
            json!({"displayName": format!("Group {g}"), "mailNickname": format!("group{g}"), "groupTypes": types,
            "securityEnabled": security, "mailEnabled": mail_enabled, "createdDateTime": "2022-01-01T00:00:00Z"}),
        );
        if synced {
            p.insert("onPremisesSyncEnabled".to_owned(), json!(true));
        }
        if (0.2..0.25).contains(&roll) {
            p.insert("membershipRule".to_owned(), json!("user.department -eq \"Sales\""));
            p.insert("membershipRuleProcessingState".to_owned(), json!("On"));
        }
        if !synced && security && rng.chance(0.01) {
            p.insert("isAssignableToRole".to_owned(), json!(true));
        }
        groups.push(Group { id: id(0x2000_0000, g), members, owners, props: p });
    }
    for g in 0..sizes.groups {
        if rng.chance(0.1) && g + 1 < sizes.groups {
            for _ in 0..1 + rng.below(3) {
                let child = g + 1 + rng.below(sizes.groups - g - 1);
                let child_id = groups[child].id.clone();
                if !groups[g].members.contains(&child_id) {
                    groups[g].members.push(child_id);
                }
            }
        }
    }

    // App role assignments and delegated grants.
    let mut app_role_assignments = Vec::new();
    for (a, resource) in app_sps.iter().enumerate() {
        let roles: Vec<Guid> = sps
            .iter()
            .find(|s| &s.id == resource)
            .and_then(|s| s.props["appRoles"].as_array())
            .map(|r| r.iter().filter_map(|x| x["id"].as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        for k in 0..rng.below(12) {
            let principal = if rng.chance(0.2) {
                groups[rng.below(groups.len().max(1))].id.clone()
            } else {
                users[rng.below(users.len())].id.clone()
            };
            let role = if roles.is_empty() { Guid::nil() } else { roles[rng.below(roles.len())].clone() };
            if app_role_assignments.iter().any(|x: &AppRoleAssignment| {
                x.principal_id == principal && x.resource_id == *resource && x.app_role_id == role
            }) {
                continue;
            }
            app_role_assignments.push(AppRoleAssignment {
                id: format!("ara-{a}-{k}"),
                app_role_id: role,
                principal_id: principal,
                resource_id: resource.clone(),
                created_date_time: Some("2024-01-01T00:00:00Z".to_owned()),
            });
        }
    }
    let graph_sp = sps[2].id.clone();
    let oauth2_permission_grants: Vec<OAuth2PermissionGrant> = app_sps
        .iter()
        .enumerate()
        .filter(|_| rng.chance(0.3))
        .map(|(a, client)| OAuth2PermissionGrant {
            id: format!("grant-{a}"),
            client_id: client.clone(),
            consent_type: "AllPrincipals".to_owned(),
            principal_id: None,
            resource_id: graph_sp.clone(),
            scope: "User.Read openid profile".to_owned(),
        })
        .collect();

    // Directory roles: a few Global Administrators, other active roles, PIM eligibilities.
    let pick_user = |rng: &mut Rng| users[rng.below(users.len())].id.clone();
    let mut directory_role_assignments = Vec::new();
    for k in 0..(5 + sizes.users / 20_000) {
        let (role, ..) = builtin::DIRECTORY_ROLES[if k < 3 { 0 } else { rng.below(builtin::DIRECTORY_ROLES.len()) }];
        let principal = pick_user(&mut rng);
        if directory_role_assignments
            .iter()
            .any(|d: &DirectoryRoleAssignment| d.principal_id == principal && d.role_definition_id.as_str() == role)
        {
            continue;
        }
        directory_role_assignments.push(DirectoryRoleAssignment {
            id: format!("dra-{k}"),
            principal_id: principal,
            role_definition_id: role.parse().unwrap_or_else(|_| Guid::nil()),
            directory_scope_id: "/".to_owned(),
        });
    }
    let directory_role_eligibilities: Vec<DirectoryRoleSchedule> = (0..(10 + sizes.users / 10_000))
        .map(|k| DirectoryRoleSchedule {
            id: format!("dre-{k}"),
            principal_id: pick_user(&mut rng),
            role_definition_id: builtin::DIRECTORY_ROLES[rng.below(builtin::DIRECTORY_ROLES.len())]
                .0
                .parse()
                .unwrap_or_else(|_| Guid::nil()),
            directory_scope_id: "/".to_owned(),
            start_date_time: Some("2026-01-01T00:00:00Z".to_owned()),
            end_date_time: if k % 2 == 0 { Some("2028-12-31T00:00:00Z".to_owned()) } else { None },
            member_type: "Direct".to_owned(),
            assignment_type: None,
        })
        .collect();
    let directory_role_eligibilities =
        dedup_by(directory_role_eligibilities, |e| (e.principal_id.clone(), e.role_definition_id.clone()));

    // Azure RBAC: the tool's apps at the root, then assignments at every level to users, groups and identities.
    let root = format!("/providers/Microsoft.Management/managementGroups/{tid}");
    let owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    let azure_roles: Vec<&str> = builtin::AZURE_ROLES.iter().map(|r| r.0).collect();
    let mut role_assignments = vec![
        AzureRoleAssignment {
            name: id(0x7000_0000, 0),
            scope: root.clone(),
            role_definition_id: "acdd72a7-3385-48ef-bd42-f606fba81ae7".parse().unwrap_or_else(|_| Guid::nil()),
            principal_id: reader_sp.clone(),
            principal_type: "ServicePrincipal".to_owned(),
            condition: None,
            description: None,
            created_on: Some("2026-01-01T00:00:00Z".to_owned()),
        },
        AzureRoleAssignment {
            name: id(0x7000_0000, 1),
            scope: root.clone(),
            role_definition_id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9".parse().unwrap_or_else(|_| Guid::nil()),
            principal_id: writer_sp.clone(),
            principal_type: "ServicePrincipal".to_owned(),
            condition: None,
            description: None,
            created_on: Some("2026-01-01T00:00:00Z".to_owned()),
        },
    ];
    let mut seen = std::collections::HashSet::new();
    for (scope, depth) in &scopes {
        let count = match depth {
            1 => 5 + rng.below(10),
            2 => 1 + rng.below(5),
            3 => rng.below(3),
            _ => rng.below(2),
        };
        for _ in 0..count {
            let roll = rng.unit();
            let (principal, principal_type) = if roll < 0.55 {
                (pick_user(&mut rng), "User")
            } else if roll < 0.85 {
                (groups[rng.below(groups.len().max(1))].id.clone(), "Group")
            } else {
                (mi_ids[rng.below(mi_ids.len().max(1)).min(mi_ids.len().saturating_sub(1))].clone(), "ServicePrincipal")
            };
            let role = if *depth == 1 && rng.chance(0.2) { owner } else { azure_roles[rng.below(azure_roles.len())] };
            if !seen.insert((scope.to_ascii_lowercase(), principal.clone(), role)) {
                continue;
            }
            let n = role_assignments.len();
            role_assignments.push(AzureRoleAssignment {
                name: id(0x7000_0000, n),
                scope: scope.clone(),
                role_definition_id: role.parse().unwrap_or_else(|_| Guid::nil()),
                principal_id: principal,
                principal_type: principal_type.to_owned(),
                condition: None,
                description: None,
                created_on: Some("2025-01-01T00:00:00Z".to_owned()),
            });
        }
    }
    let role_eligibilities: Vec<AzureRoleEligibility> = subscriptions
        .iter()
        .enumerate()
        .map(|(k, s)| AzureRoleEligibility {
            name: id(0x8000_0000, k),
            scope: format!("/subscriptions/{}", s.subscription_id),
            role_definition_id: owner.parse().unwrap_or_else(|_| Guid::nil()),
            principal_id: pick_user(&mut rng),
            principal_type: "User".to_owned(),
            start_date_time: Some("2026-01-01T00:00:00Z".to_owned()),
            end_date_time: Some("2028-06-30T00:00:00Z".to_owned()),
            member_type: "Direct".to_owned(),
        })
        .collect();
    let first_sub = subscriptions
        .first()
        .map(|s| format!("/subscriptions/{}", s.subscription_id))
        .unwrap_or_else(|| "/".to_owned());
    let role_definitions = vec![
        AzureRoleDefinition {
            name: id(0x6000_0000, 0),
            role_name: "Storage Auditor".to_owned(),
            description: "Reads storage.".to_owned(),
            assignable_scopes: vec![first_sub.clone()],
            actions: vec!["Microsoft.Storage/storageAccounts/read".to_owned()],
            not_actions: vec![],
            data_actions: vec![],
            not_data_actions: vec![],
        },
        AzureRoleDefinition {
            name: id(0x6000_0000, 1),
            role_name: "Unused Operator".to_owned(),
            description: "Never assigned.".to_owned(),
            assignable_scopes: vec![first_sub],
            actions: vec!["Microsoft.Compute/virtualMachines/start/action".to_owned()],
            not_actions: vec![],
            data_actions: vec![],
            not_data_actions: vec![],
        },
    ];

    let mut read = READ_PERMISSIONS.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let apps = vec![
        AppRegistration {
            client_id: READER_CLIENT.parse().unwrap_or_else(|_| Guid::nil()),
            display_name: "azsnap reader".to_owned(),
            secret: Some("contoso-reader-secret".to_owned()),
            federated_assertions: vec![],
            service_principal_id: reader_sp,
            graph_permissions: read.clone(),
            managed_identity: true,
        },
        AppRegistration {
            client_id: WRITER_CLIENT.parse().unwrap_or_else(|_| Guid::nil()),
            display_name: "azsnap writer".to_owned(),
            secret: Some("contoso-writer-secret".to_owned()),
            federated_assertions: vec![],
            service_principal_id: writer_sp,
            graph_permissions: {
                read.extend(WRITE_PERMISSIONS.iter().map(|s| (*s).to_owned()));
                read
            },
            managed_identity: false,
        },
    ];
    TenantFile {
        tenant: TenantInfo {
            id: tenant_id,
            display_name: format!("Fabrikam {seed}"),
            domain,
            license: License::P2,
            created_date_time: Some("2019-01-01T00:00:00Z".to_owned()),
            country_letter_code: Some("NL".to_owned()),
            business_phones: vec![],
        },
        apps,
        users,
        groups,
        service_principals: sps,
        applications: Vec::new(),
        app_role_assignments,
        oauth2_permission_grants,
        directory_role_definitions: Vec::new(),
        directory_role_assignments,
        directory_role_eligibilities,
        directory_role_activations: Vec::new(),
        group_eligibilities: Vec::new(),
        group_assignments: Vec::new(),
        management_groups,
        subscriptions,
        resource_groups,
        storage_accounts,
        user_assigned_identities: identities,
        role_definitions,
        role_assignments,
        role_eligibilities,
    }
}

fn dedup_by<T, K: Eq + std::hash::Hash>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    items.into_iter().filter(|i| seen.insert(key(i))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_tenant_is_valid_deterministic_and_varied() {
        let sizes = Sizes {
            users: 300,
            groups: 40,
            apps: 10,
            subscriptions: 2,
            resource_groups_per_subscription: 2,
            storage_accounts_per_resource_group: 2,
        };
        let a = generate(&sizes, 7);
        a.validate().unwrap();
        let b = generate(&sizes, 7);
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        assert_ne!(serde_json::to_string(&generate(&sizes, 8)).unwrap(), serde_json::to_string(&a).unwrap());
        assert_eq!(a.users.len(), 300);
        assert!(a.users.iter().any(|u| u.props["userType"] == "Guest"));
        assert!(a.users.iter().any(|u| u.mailbox.as_deref() == Some("room")));
        assert!(a.users.iter().any(|u| u.mailbox.is_none()));
        assert!(a.groups.iter().any(|g| g.members.iter().any(|m| a.groups.iter().any(|x| &x.id == m))), "some nesting");
        assert!(a.service_principals.iter().any(|s| s.props["servicePrincipalType"] == "ManagedIdentity"));
        let levels: std::collections::HashSet<usize> =
            a.role_assignments.iter().map(|r| r.scope.matches('/').count()).collect();
        assert!(levels.len() >= 4, "assignments at several scope depths: {levels:?}");
    }
}
