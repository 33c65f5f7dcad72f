//! Service principals (the tool's two apps, Microsoft Graph, enterprise apps with app roles), their app role
//! assignments and delegated grants, and the app registrations that can get tokens.

use serde_json::{Value, json};

use super::builder::{Builder, NewSp, id};
use super::spec::{READ_PERMISSIONS, READER_CLIENT, WRITE_PERMISSIONS, WRITER_CLIENT};
use crate::model::Guid;
use crate::tenant::{AppRegistration, AppRoleAssignment, OAuth2PermissionGrant};

/// Microsoft Graph's app id, and the tenant that owns it.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
/// The tenant that owns the foreign enterprise apps.
const PARTNER_TENANT: &str = "11111111-2222-4333-8444-555555555555";

fn guid(text: &str) -> Guid {
    text.parse().unwrap_or_else(|_| Guid::nil())
}

impl Builder<'_> {
    /// A service principal of an application owned by this tenant, with no app roles.
    fn own_app(&mut self, app_id: &str, name: &str) -> Guid {
        let tid = self.tid.clone();
        self.add_sp(NewSp {
            app_id: guid(app_id),
            name,
            owner_org: &tid,
            kind: "Application",
            roles: json!([]),
            alternative_names: json!([]),
        })
    }

    pub(super) fn service_principals(&mut self) {
        self.reader_sp = self.own_app(READER_CLIENT, "azsnap reader");
        self.writer_sp = self.own_app(WRITER_CLIENT, "azsnap writer");
        self.add_sp(NewSp {
            app_id: guid(GRAPH_APP_ID),
            name: "Microsoft Graph",
            owner_org: MICROSOFT_TENANT,
            kind: "Application",
            roles: json!([]),
            alternative_names: json!([]),
        });
        for a in 0..self.sizes.apps {
            let roles: Vec<Value> = (0..self.rng.below(4))
                .map(|r| json!({"id": id(0x9000_0000, a * 4 + r).as_str(), "value": format!("App{a}.Role{r}"), "displayName": format!("Role {r}"),
                                "description": "", "allowedMemberTypes": ["User", "Application"], "isEnabled": true, "origin": "Application"}))
                .collect();
            let owner_org = if self.rng.chance(0.2) { PARTNER_TENANT.to_owned() } else { self.tid.clone() };
            let s = self.add_sp(NewSp {
                app_id: id(0x4000_0000, a),
                name: &format!("App {a}"),
                owner_org: &owner_org,
                kind: "Application",
                roles: Value::Array(roles),
                alternative_names: json!([]),
            });
            self.app_sps.push(s);
        }
    }

    /// Up to 12 assignments of each app's roles, to users and (one in five) groups.
    pub(super) fn app_role_assignments(&mut self) {
        let mut assignments: Vec<AppRoleAssignment> = Vec::new();
        for (a, resource) in self.app_sps.clone().iter().enumerate() {
            let roles: Vec<Guid> = self
                .t
                .service_principals
                .iter()
                .find(|s| &s.id == resource)
                .and_then(|s| s.props["appRoles"].as_array())
                .map(|r| r.iter().filter_map(|x| x["id"].as_str()?.parse().ok()).collect())
                .unwrap_or_default();
            for k in 0..self.rng.below(12) {
                let principal = if self.rng.chance(0.2) { self.pick_group() } else { self.pick_user() };
                let role = if roles.is_empty() { Guid::nil() } else { roles[self.rng.below(roles.len())].clone() };
                if assignments
                    .iter()
                    .any(|x| x.principal_id == principal && x.resource_id == *resource && x.app_role_id == role)
                {
                    continue;
                }
                assignments.push(AppRoleAssignment {
                    id: format!("ara-{a}-{k}"),
                    app_role_id: role,
                    principal_id: principal,
                    resource_id: resource.clone(),
                    created_date_time: Some("2024-01-01T00:00:00Z".to_owned()),
                });
            }
        }
        self.t.app_role_assignments = assignments;
    }

    /// Admin consent to Microsoft Graph for about a third of the apps.
    pub(super) fn delegated_grants(&mut self) {
        let graph_sp = self.t.service_principals[2].id.clone();
        let rng = &mut self.rng;
        self.t.oauth2_permission_grants = self
            .app_sps
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
    }

    /// The reader (read permissions, may run as a managed identity) and the writer (read and write permissions).
    pub(super) fn app_registrations(&mut self) {
        let read: Vec<String> = READ_PERMISSIONS.iter().map(|s| (*s).to_owned()).collect();
        let write = read.iter().cloned().chain(WRITE_PERMISSIONS.iter().map(|s| (*s).to_owned())).collect();
        self.t.apps = vec![
            AppRegistration {
                client_id: guid(READER_CLIENT),
                display_name: "azsnap reader".to_owned(),
                secret: Some("contoso-reader-secret".to_owned()),
                federated_assertions: vec![],
                service_principal_id: self.reader_sp.clone(),
                graph_permissions: read,
                managed_identity: true,
            },
            AppRegistration {
                client_id: guid(WRITER_CLIENT),
                display_name: "azsnap writer".to_owned(),
                secret: Some("contoso-writer-secret".to_owned()),
                federated_assertions: vec![],
                service_principal_id: self.writer_sp.clone(),
                graph_permissions: write,
                managed_identity: false,
            },
        ];
    }
}
