//! Classifying principals: human member, guest, shared/room/equipment/linked/other mailbox, no mailbox,
//! application, managed identity (system- or user-assigned), Microsoft first-party, external application — each
//! with the evidence the class was decided from, and the access it holds directly and through groups.

use serde::Serialize;

use crate::analyze::privileged::Privileged;
use crate::analyze::sql::{Row, rows};
use crate::store::{Snapshot, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub class: String,
    pub human: bool,
    pub evidence: String,
    /// Grants held directly or through (nested) groups.
    pub access: u64,
    pub privileged_access: u64,
}

/// The class of a principal from its facts: (class, human, evidence).
#[expect(clippy::too_many_arguments, reason = "one fact per argument keeps the rule table readable")]
pub fn classify(
    kind: &str,
    user_type: &str,
    mailbox: Option<&str>,
    sp_type: &str,
    mi_type: &str,
    owner_tenant: &str,
    first_party: bool,
    tenant: &str,
) -> (&'static str, bool, String) {
    match kind {
        "user" if user_type.eq_ignore_ascii_case("Guest") => ("guest", true, "userType = Guest".to_owned()),
        "user" => match mailbox {
            Some("shared") => ("shared mailbox", false, "mailboxSettings.userPurpose = shared".to_owned()),
            Some("room") => ("room", false, "mailboxSettings.userPurpose = room".to_owned()),
            Some("equipment") => ("equipment", false, "mailboxSettings.userPurpose = equipment".to_owned()),
            Some("linked") => ("linked mailbox", true, "mailboxSettings.userPurpose = linked".to_owned()),
            Some("others") => ("other mailbox", false, "mailboxSettings.userPurpose = others".to_owned()),
            Some("none") => ("no mailbox", true, "mailboxSettings answered 404 MailboxNotEnabledForRESTAPI".to_owned()),
            Some("user") => ("human member", true, "userType = Member, mailboxSettings.userPurpose = user".to_owned()),
            _ => ("human member", true, "userType = Member (mailbox purpose not collected)".to_owned()),
        },
        "group" => ("group", false, "a group: access passes to its members".to_owned()),
        "managed_identity" => {
            let which = if mi_type == "user" { "user-assigned" } else { "system-assigned" };
            (
                if mi_type == "user" {
                    "managed identity (user-assigned)"
                } else {
                    "managed identity (system-assigned)"
                },
                false,
                format!("servicePrincipalType = ManagedIdentity, {which} (alternativeNames isExplicit)"),
            )
        }
        "service_principal" if first_party => {
            ("Microsoft first-party", false, format!("appOwnerOrganizationId = {owner_tenant} (Microsoft)"))
        }
        "service_principal" if !owner_tenant.is_empty() && owner_tenant != tenant => {
            ("external application", false, format!("appOwnerOrganizationId = {owner_tenant} (another tenant)"))
        }
        "service_principal" => (
            "application",
            false,
            format!("servicePrincipalType = {}", if sp_type.is_empty() { "Application" } else { sp_type }),
        ),
        _ => ("unknown", false, "not found in the directory (deleted or from another tenant)".to_owned()),
    }
}

/// The class of a principal from the query columns `kind`, `origin`, `user_type`, `mailbox_purpose`,
/// `service_principal_type`, `managed_identity_type`, `owner_tenant` and `first_party`.
pub fn classify_facts(r: &Row, tenant: &str) -> (&'static str, bool, String) {
    let (class, human, evidence) = classify(
        &r.text("kind"),
        &r.text("user_type"),
        r.opt("mailbox_purpose").as_deref(),
        &r.text("service_principal_type"),
        &r.text("managed_identity_type"),
        &r.text("owner_tenant"),
        r.flag("first_party"),
        tenant,
    );
    let evidence =
        if r.text("origin") == "external" { format!("{evidence}; from --external-identities") } else { evidence };
    (class, human, evidence)
}

pub fn identities(snap: &Snapshot, privileged: &Privileged) -> Result<Vec<Identity>, StoreError> {
    classified(snap, privileged, false)
}

/// [`identities`] that are not people (no human member, guest or group), without expanding the groups of people.
pub fn non_human_identities(snap: &Snapshot, privileged: &Privileged) -> Result<Vec<Identity>, StoreError> {
    let mut list = classified(snap, privileged, true)?;
    list.retain(|i| !i.human && i.kind != "group");
    Ok(list)
}

fn classified(snap: &Snapshot, privileged: &Privileged, non_human: bool) -> Result<Vec<Identity>, StoreError> {
    let ids = privileged.ids_json();
    Ok(rows(snap, include_str!("../../queries/analyze/identities.sql"), &[&ids, &i32::from(non_human)])?
        .iter()
        .map(|r| {
            let (class, human, evidence) = classify_facts(r, &r.text("tenant_id"));
            Identity {
                id: r.text("id"),
                name: r.text("name"),
                kind: r.text("kind"),
                class: class.to_owned(),
                human,
                evidence,
                access: r.count("access"),
                privileged_access: r.count("privileged_access"),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_evidence() {
        let t = "tenant";
        assert_eq!(classify("user", "Guest", Some("none"), "", "", "", false, t).0, "guest");
        assert_eq!(classify("user", "Member", Some("room"), "", "", "", false, t).0, "room");
        assert!(
            !classify("user", "Member", Some("shared"), "", "", "", false, t).1,
            "a shared mailbox is not a person"
        );
        assert_eq!(
            classify("managed_identity", "", None, "ManagedIdentity", "user", "", false, t).0,
            "managed identity (user-assigned)"
        );
        assert_eq!(
            classify("service_principal", "", None, "Application", "", "f8cdef31-a31e-4b4a-93e4-5f571e91255a", true, t)
                .0,
            "Microsoft first-party"
        );
        assert_eq!(
            classify("service_principal", "", None, "Application", "", "other", false, t).0,
            "external application"
        );
        assert_eq!(classify("service_principal", "", None, "Application", "", t, false, t).0, "application");
        assert_eq!(classify("unknown", "", None, "", "", "", false, t).0, "unknown");
    }
}
