//! The tenant being generated and what every entity family shares: ids by kind, random picks, adding a service
//! principal.

use serde_json::{Value, json};

use crate::json::as_object;
use crate::model::Guid;
use crate::rng::Rng;
use crate::tenant::{License, ServicePrincipal, TenantFile, TenantInfo};

use super::spec::Sizes;

/// The `n`-th id of a kind (the first block tells kinds apart).
pub(super) fn id(kind: u32, n: usize) -> Guid {
    format!("{kind:08x}-0000-4000-8000-{n:012x}").parse().unwrap_or_else(|_| Guid::nil())
}

/// A service principal to add: what differs between kinds.
pub(super) struct NewSp<'a> {
    pub(super) app_id: Guid,
    pub(super) name: &'a str,
    pub(super) owner_org: &'a str,
    pub(super) kind: &'a str,
    pub(super) roles: Value,
    pub(super) alternative_names: Value,
}

/// A tenant being generated, with what later families draw on (the apps' service principals, every Azure scope,
/// the managed identities).
pub(super) struct Builder<'s> {
    pub(super) rng: Rng,
    pub(super) sizes: &'s Sizes,
    pub(super) t: TenantFile,
    /// The tenant id as text.
    pub(super) tid: String,
    pub(super) reader_sp: Guid,
    pub(super) writer_sp: Guid,
    /// Service principals of the enterprise apps.
    pub(super) app_sps: Vec<Guid>,
    /// Every Azure scope made, with its depth: 1 subscription, 2 resource group, 3 account, 4 container.
    pub(super) scopes: Vec<(String, u8)>,
    /// Service principals of managed identities.
    pub(super) mi_ids: Vec<Guid>,
}

impl<'s> Builder<'s> {
    pub(super) fn new(sizes: &'s Sizes, seed: u64) -> Self {
        let tenant_id: Guid = format!("7e7e{:04x}-0000-4000-8000-{:012x}", seed & 0xffff, seed & 0xffff_ffff_ffff)
            .parse()
            .unwrap_or_else(|_| Guid::nil());
        let tid = tenant_id.to_string();
        let info = TenantInfo {
            id: tenant_id,
            display_name: format!("Fabrikam {seed}"),
            domain: format!("fabrikam{seed}.example"),
            license: License::P2,
            created_date_time: Some("2019-01-01T00:00:00Z".to_owned()),
            country_letter_code: Some("NL".to_owned()),
            business_phones: vec![],
        };
        Builder {
            rng: Rng::new(seed),
            sizes,
            t: TenantFile::empty(info),
            tid,
            reader_sp: Guid::nil(),
            writer_sp: Guid::nil(),
            app_sps: Vec::new(),
            scopes: Vec::new(),
            mi_ids: Vec::new(),
        }
    }

    /// A user drawn at random.
    pub(super) fn pick_user(&mut self) -> Guid {
        let users = &self.t.users;
        users[self.rng.below(users.len())].id.clone()
    }

    /// A group drawn at random.
    pub(super) fn pick_group(&mut self) -> Guid {
        let groups = &self.t.groups;
        groups[self.rng.below(groups.len().max(1))].id.clone()
    }

    /// Adds a service principal; its id is the next of its kind.
    pub(super) fn add_sp(&mut self, sp: NewSp<'_>) -> Guid {
        let sps = &mut self.t.service_principals;
        let n = sps.len();
        sps.push(ServicePrincipal {
            id: id(0x3000_0000, n),
            app_id: sp.app_id.clone(),
            owners: Vec::new(),
            props: as_object(
                json!({"displayName": sp.name, "appDisplayName": sp.name, "servicePrincipalType": sp.kind,
                "appOwnerOrganizationId": sp.owner_org, "accountEnabled": true, "appRoles": sp.roles,
                "alternativeNames": sp.alternative_names, "servicePrincipalNames": [sp.app_id.as_str()]}),
            ),
        });
        sps[n].id.clone()
    }
}
