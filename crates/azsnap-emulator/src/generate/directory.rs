//! Users (members, guests, disabled, synced; mailboxes of every purpose; sign-ins from recent to never) and groups
//! (heavy-tailed sizes, nesting into later groups only, user and some app owners).

use serde_json::{Value, json};

use super::builder::{Builder, id};
use crate::json::as_object;
use crate::model::Guid;
use crate::tenant::{Group, User};

const FIRST: &[&str] = &[
    "Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena", "Milo", "Nora", "Omar",
    "Pia",
];
const LAST: &[&str] =
    &["Smith", "Jansen", "Garcia", "Kowalski", "Nguyen", "Okafor", "Rossi", "Schmidt", "Tanaka", "Dubois"];

/// Mailbox purposes by cumulative share; what is left has no mailbox.
const MAILBOXES: &[(f64, &str)] =
    &[(0.03, "shared"), (0.04, "room"), (0.045, "equipment"), (0.047, "linked"), (0.05, "others"), (0.92, "user")];

impl Builder<'_> {
    pub(super) fn users(&mut self) {
        self.t.users.reserve(self.sizes.users);
        for n in 0..self.sizes.users {
            let user = self.user(n);
            self.t.users.push(user);
        }
    }

    fn user(&mut self, n: usize) -> User {
        let rng = &mut self.rng;
        let guest = rng.chance(0.05);
        let first = FIRST[rng.below(FIRST.len())];
        let last = LAST[rng.below(LAST.len())];
        let nick = format!("{}.{}{n}", first.to_lowercase(), last.to_lowercase());
        let mailbox_roll = rng.unit();
        let mailbox =
            if guest { None } else { MAILBOXES.iter().find(|(share, _)| mailbox_roll < *share).map(|(_, p)| *p) };
        let resource_mailbox = matches!(mailbox, Some("shared" | "room" | "equipment" | "others"));
        let enabled = !resource_mailbox && !rng.chance(0.04);
        let synced = !guest && rng.chance(0.3);
        let sign_in = if resource_mailbox || rng.chance(0.08) { None } else { Some(self.sign_in_activity()) };
        let rng = &mut self.rng;
        let domain = &self.t.tenant.domain;
        let mut p = as_object(json!({
            "displayName": format!("{first} {last}"),
            "givenName": first,
            "surname": last,
            "userPrincipalName": if guest { format!("{nick}_partner.example#EXT#@{domain}") } else { format!("{nick}@{domain}") },
            "mail": format!("{nick}@{}", if guest { "partner.example" } else { domain }),
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
        // A reporting tree: user n reports to user n / 8 (the first user to no one), guests to no one.
        let manager = (n > 0 && !guest).then(|| id(0x1000_0000, n / 8));
        User {
            id: id(0x1000_0000, n),
            mailbox: mailbox.map(str::to_owned),
            sign_in_activity: sign_in,
            manager,
            props: p,
        }
    }

    /// A last sign-in within 90 days, or (one in ten) one to three years ago.
    fn sign_in_activity(&mut self) -> Value {
        const NOW_YEAR: i32 = 2026;
        let rng = &mut self.rng;
        let days = if rng.chance(0.1) { 366 + rng.below(700) } else { rng.below(90) };
        let day = 330usize.saturating_sub(days % 330);
        let when = format!(
            "{}-{:02}-{:02}T{:02}:{:02}:00Z",
            NOW_YEAR - (days / 365) as i32,
            1 + day / 31 % 12,
            1 + day % 28,
            rng.below(24),
            rng.below(60)
        );
        json!({"lastSignInDateTime": when, "lastSignInRequestId": "", "lastNonInteractiveSignInDateTime": when,
               "lastNonInteractiveSignInRequestId": "", "lastSuccessfulSignInDateTime": when, "lastSuccessfulSignInRequestId": ""})
    }

    pub(super) fn groups(&mut self) {
        self.t.groups.reserve(self.sizes.groups);
        for g in 0..self.sizes.groups {
            let group = self.group(g);
            self.t.groups.push(group);
        }
        let groups = &mut self.t.groups;
        for g in 0..self.sizes.groups {
            if self.rng.chance(0.1) && g + 1 < self.sizes.groups {
                for _ in 0..1 + self.rng.below(3) {
                    let child = g + 1 + self.rng.below(self.sizes.groups - g - 1);
                    let child_id = groups[child].id.clone();
                    if !groups[g].members.contains(&child_id) {
                        groups[g].members.push(child_id);
                    }
                }
            }
        }
    }

    fn group(&mut self, g: usize) -> Group {
        let rng = &mut self.rng;
        let users = &self.t.users;
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
        let size = ((16.0 / (1.0 - rng.unit()).powf(0.9)) as usize).min(self.sizes.users.min(100_000));
        let start = rng.below(self.sizes.users.max(1));
        let step = 1 + rng.below(97);
        let mut members: Vec<Guid> = (0..size).map(|k| users[(start + k * step) % users.len()].id.clone()).collect();
        members.sort();
        members.dedup();
        if rng.chance(0.02) && !self.mi_ids.is_empty() {
            members.push(self.mi_ids[rng.below(self.mi_ids.len())].clone());
        }
        let mut owners = vec![users[rng.below(users.len())].id.clone()];
        if rng.chance(0.05) && !self.app_sps.is_empty() {
            owners.push(self.app_sps[rng.below(self.app_sps.len())].clone());
        }
        let mut p = as_object(
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
        Group { id: id(0x2000_0000, g), members, owners, props: p }
    }
}
