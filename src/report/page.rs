//! The HTML evidence report: one self-contained page (inline CSS and SVG, a Content-Security-Policy that forbids
//! every fetch), one `<section>` per question, each starting a new page when printed.
//!
//! The figures an auditor checks carry `data-metric` attributes, so a test (or a script) can read them back.

use std::fmt::Write as _;

use super::chart::{self, Line};
use super::graph::Graph;
use super::html::escape;
use crate::analyze::report::{Evidence, GRAPHS, Holder, ROWS};
use crate::analyze::review::ReviewRow;
use crate::model::{GrantState, PartStatus, Relation};
use crate::store::SealCheck;

const STYLE: &str = include_str!("page.css");

/// A table: header cells, then rows of cells that are already HTML.
fn table(head: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

/// Text as HTML.
fn t(s: &str) -> String {
    escape(s).into_owned()
}

/// A number an auditor checks, tagged for tests and scripts.
fn metric(name: &str, value: impl std::fmt::Display) -> String {
    format!("<span data-metric=\"{name}\">{value}</span>")
}

fn badge(ok: bool, text: &str) -> String {
    format!("<span class=\"badge {}\">{}</span>", if ok { "ok" } else { "bad" }, escape(text))
}

/// "Showing the first N of M; `command` lists them all", for a capped table.
fn more(total: usize, command: &str) -> String {
    if total <= ROWS {
        return String::new();
    }
    format!(
        "<p class=\"note\">The first {ROWS} of {total} are shown; <code>{}</code> lists them all.</p>\n",
        t(command)
    )
}

/// What a grant gives, in words: `Global Administrator`, `Owner on rg-app`, `member of Tier 0 Admins`.
fn grant_text(r: &ReviewRow) -> String {
    let state = if r.state == GrantState::Eligible { " (eligible)" } else { "" };
    let what = match r.relation {
        Relation::Member => format!("member of {}", r.target),
        Relation::Owner => format!("owner of {}", r.target),
        Relation::DirectoryRole if r.scope != "/" && !r.scope.is_empty() => format!("{} at {}", r.role, r.scope),
        Relation::DirectoryRole => r.role.clone(),
        Relation::AppRole => format!("app role {} on {}", r.role, r.target),
        Relation::Delegated => format!("delegated {} on {}", r.scope, r.target),
        Relation::AzureRole => format!("{} on {}", r.role, r.target),
    };
    format!("{what}{state}")
}

/// The whole page. `generated_at` is when the report was written.
pub fn html(e: &Evidence, generated_at: &str) -> String {
    let tenant =
        e.meta.tenant_name.clone().or_else(|| e.meta.tenant_id.clone()).unwrap_or_else(|| "unknown tenant".to_owned());
    let collected = e.meta.finished_at.as_deref().or(e.meta.started_at.as_deref()).unwrap_or("unknown time");
    let mut out = String::with_capacity(256 << 10);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"azsnap {}\">\n\
         <title>Access evidence: {} ({})</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION"),
        t(&tenant),
        t(collected),
    );
    let _ = writeln!(
        out,
        "<header><h1>Access evidence: {}</h1><p>Snapshot <code>{}</code> collected {}. Report written {} by azsnap \
         {}.</p>{}</header>",
        t(&tenant),
        t(&e.file),
        t(collected),
        t(generated_at),
        env!("CARGO_PKG_VERSION"),
        if e.checks.ok() {
            String::new()
        } else {
            format!(
                "<p class=\"alert\">This snapshot does not verify: {}. Its content may have been changed since it was \
                 collected.</p>",
                t(&e.checks.problem().unwrap_or_default())
            )
        }
    );
    out.push_str(&summary(e));
    out.push_str(&snapshot_section(e));
    out.push_str(&completeness(e));
    out.push_str(&privileged_section(e));
    out.push_str(&drift(e));
    out.push_str(&non_human(e));
    out.push_str(&unused(e));
    out.push_str(&history(e));
    out.push_str("</body>\n</html>\n");
    out
}

/// The key figures at the top, and the contents.
fn summary(e: &Evidence) -> String {
    let c = &e.counts;
    let principals = c.users + c.groups + c.service_principals + c.managed_identities + c.other_principals;
    let complete = e.parts.iter().filter(|p| p.status == PartStatus::Complete).count();
    let cards = [
        ("principals", principals.to_string(), "principals"),
        ("grants", c.grants.to_string(), "grants"),
        ("privileged-holders", e.holders.len().to_string(), "privileged holders"),
        ("non-human-with-access", e.non_human.len().to_string(), "non-human identities with access"),
        (
            "parts-complete",
            format!("{complete}</span> of <span data-metric=\"parts\">{}", e.parts.len()),
            "parts complete",
        ),
    ];
    let mut out = String::from("<nav class=\"cards\">");
    for (name, value, label) in cards {
        let _ = write!(out, "<div class=\"card\"><b>{}</b><small>{}</small></div>", metric(name, value), t(label));
    }
    out.push_str(
        "</nav>\n<nav class=\"toc\"><a href=\"#snapshot\">Snapshot</a> · <a href=\"#completeness\">Completeness</a> · \
         <a href=\"#privileged\">Privileged holders</a> · <a href=\"#drift\">Drift</a> · <a href=\"#non-human\">Non-human \
         identities</a> · <a href=\"#unused\">Unused roles and stale holders</a> · <a href=\"#history\">Over time</a></nav>\n",
    );
    out
}

fn snapshot_section(e: &Evidence) -> String {
    let m = &e.meta;
    let na = || "not recorded".to_owned();
    let seal = match &e.checks.seal {
        SealCheck::Intact { sha256 } => format!("{} <code>{}</code>", badge(true, "intact"), t(sha256)),
        SealCheck::NotSealed => badge(false, "not sealed (format before 1.2)"),
        SealCheck::Broken { differences } => badge(false, &format!("broken: {}", differences.join("; "))),
    };
    let signature = match (&e.checks.signature, e.checks.signature.signed_by()) {
        (_, Some(by)) => format!("{} by <code>{}</code>", badge(true, "valid"), t(&by)),
        (crate::store::SignatureCheck::Unsigned, _) => "unsigned".to_owned(),
        (crate::store::SignatureCheck::Invalid { reason }, _) => badge(false, &format!("invalid: {reason}")),
        (crate::store::SignatureCheck::Valid { .. }, None) => badge(true, "valid"),
    };
    let fingerprint_ok = m.fingerprint.as_deref() == Some(e.checks.computed_fingerprint.as_str());
    let rows = [
        ("Tenant", t(m.tenant_name.as_deref().unwrap_or("not recorded"))),
        ("Tenant id", format!("<code>{}</code>", t(&m.tenant_id.clone().unwrap_or_else(na)))),
        ("Cloud", t(&m.cloud.clone().unwrap_or_else(na))),
        ("Collection started", t(&m.started_at.clone().unwrap_or_else(na))),
        ("Collection finished", t(&m.finished_at.clone().unwrap_or_else(na))),
        ("Collected by", t(&m.tool_version.clone().map(|v| format!("azsnap {v}")).unwrap_or_else(na))),
        ("Snapshot format", t(&m.format_version)),
        (
            "Fingerprint",
            format!(
                "<code data-metric=\"fingerprint\">{}</code> {}",
                t(&m.fingerprint.clone().unwrap_or_else(na)),
                badge(fingerprint_ok, if fingerprint_ok { "matches the data" } else { "does not match the data" })
            ),
        ),
        ("Seal", seal),
        ("Signature", signature),
        (
            "SQLite integrity",
            if e.checks.integrity_problems.is_empty() {
                badge(true, "ok")
            } else {
                badge(false, &e.checks.integrity_problems.join("; "))
            },
        ),
    ];
    let mut out = String::from("<section id=\"snapshot\"><h2>Snapshot</h2>\n<dl class=\"facts\">\n");
    for (k, v) in rows {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str(
        "</dl>\n<p class=\"note\">Check it yourself: <code>azsnap verify SNAP.db</code> recomputes the fingerprint and \
         checks the seal and signature.</p>\n",
    );
    let c = &e.counts;
    let kinds = [
        ("users", c.users),
        ("groups", c.groups),
        ("service-principals", c.service_principals),
        ("managed-identities", c.managed_identities),
        ("other-principals", c.other_principals),
        ("management-groups", c.management_groups),
        ("subscriptions", c.subscriptions),
        ("resource-groups", c.resource_groups),
        ("storage-accounts", c.storage_accounts),
        ("containers", c.containers),
        ("role-definitions", c.role_definitions),
        ("grants", c.grants),
    ];
    out.push_str(&table(
        &["objects", "count"],
        kinds.iter().map(|(k, n)| vec![t(&k.replace('-', " ")), metric(&format!("count-{k}"), n)]),
    ));
    out.push_str("</section>\n");
    out
}

fn completeness(e: &Evidence) -> String {
    let complete = e.parts.iter().filter(|p| p.status == PartStatus::Complete).count();
    let mut out = format!(
        "<section id=\"completeness\"><h2>Completeness</h2>\n<p>{complete} of {} parts were collected completely. A part \
         that is not complete was not read (no licence, no permission, throttled); what it would hold is not in this \
         report and must not be taken as absent.</p>\n",
        e.parts.len()
    );
    out.push_str(&table(
        &["part", "status", "objects", "detail"],
        e.parts.iter().map(|p| {
            let ok = p.status == PartStatus::Complete;
            vec![
                t(&p.name),
                badge(ok, &p.status.to_string()),
                p.objects.to_string(),
                t(p.detail.as_deref().unwrap_or_default()),
            ]
        }),
    ));
    out.push_str("</section>\n");
    out
}

fn privileged_section(e: &Evidence) -> String {
    let grants: usize = e.holders.iter().map(|h| h.grants.len()).sum();
    let people = e.holders.iter().filter(|h| h.human).count();
    let mut out = format!(
        "<section id=\"privileged\"><h2>Privileged holders</h2>\n<p>{} principals ({people} people, {} non-human) hold \
         {} privileged grants, directly or through groups (groups show in the paths). Privileged means a role in \
         <code>queries/privileged_roles.json</code> (or <code>--privileged-roles</code>), or membership of a group \
         that holds one.</p>\n",
        e.holders.len(),
        e.holders.len() - people,
        metric("privileged-grants", grants),
    );
    let rows = e.holders.iter().flat_map(|h| h.grants.iter().map(move |g| (h, g))).take(ROWS).map(|(h, g)| {
        vec![
            t(&h.principal),
            t(&h.class),
            t(&grant_text(g)),
            if g.via.is_empty() { "direct".to_owned() } else { format!("through {}", t(&g.via)) },
            t(&g.until),
        ]
    });
    out.push_str(&table(&["holder", "class", "access", "how", "until"], rows));
    out.push_str(&more(grants, "azsnap review SNAP.db --effective --format csv"));
    out.push_str(&paths(&e.holders));
    out.push_str("</section>\n");
    out
}

/// The access paths of the first holders, as graphs.
fn paths(holders: &[Holder]) -> String {
    let mut out = String::from("<h3>Paths</h3>\n");
    for h in holders.iter().take(GRAPHS).filter(|h| !h.paths.is_empty()) {
        let g = Graph::of(&h.paths);
        let _ = writeln!(
            out,
            "<figure class=\"paths\"><figcaption>{} ({})</figcaption>{}</figure>",
            t(&h.principal),
            t(&h.class),
            g.svg(60)
        );
    }
    if holders.len() > GRAPHS {
        let _ = writeln!(
            out,
            "<p class=\"note\">Paths of the first {GRAPHS} holders are drawn; <code>azsnap access SNAP.db --principal \
             ID --format dot</code> draws any other.</p>"
        );
    }
    out
}

fn drift(e: &Evidence) -> String {
    let mut out = String::from("<section id=\"drift\"><h2>Drift since the baseline</h2>\n");
    let Some(d) = &e.baseline else {
        out.push_str(
            "<p>No baseline was given (<code>azsnap report SNAP.db --baseline OLD.db</code>).</p>\n</section>\n",
        );
        return out;
    };
    let s = &d.summary;
    let _ = writeln!(
        out,
        "<p>Compared with <code>{}</code> (collected {}): {} added, {} removed, {} changed; {} of them privileged.</p>",
        t(&d.old.path),
        t(d.old.finished_at.as_deref().unwrap_or("at an unknown time")),
        metric("drift-added", s.added),
        metric("drift-removed", s.removed),
        metric("drift-changed", s.changed),
        metric("drift-privileged", s.privileged),
    );
    if !d.not_compared.is_empty() {
        let parts: Vec<String> = d.not_compared.iter().map(|n| format!("{} ({})", n.part, n.reason)).collect();
        let _ = writeln!(
            out,
            "<p class=\"note\">Not compared, as one side did not collect it: {}.</p>",
            t(&parts.join("; "))
        );
    }
    out.push_str(&table(
        &["change", "kind", "what", "fields"],
        d.items.iter().take(ROWS).map(|i| {
            let change = if i.privileged { format!("<b>{}</b> (privileged)", i.change) } else { i.change.to_string() };
            vec![
                change,
                t(&i.kind.as_str().replace('_', " ")),
                t(&super::drift::describe(i)),
                t(&super::drift::details(i)),
            ]
        }),
    ));
    out.push_str(&more(d.items.len(), "azsnap diff OLD.db SNAP.db --format csv"));
    out.push_str("</section>\n");
    out
}

fn non_human(e: &Evidence) -> String {
    let mut out = format!(
        "<section id=\"non-human\"><h2>Non-human identities with access</h2>\n<p>{} shared, room and equipment \
         mailboxes, applications and managed identities hold access; the evidence column says why each is classed \
         so.</p>\n",
        e.non_human.len()
    );
    out.push_str(&table(
        &["name", "class", "grants", "privileged", "evidence"],
        e.non_human.iter().take(ROWS).map(|i| {
            vec![t(&i.name), t(&i.class), i.access.to_string(), i.privileged_access.to_string(), t(&i.evidence)]
        }),
    ));
    out.push_str(&more(e.non_human.len(), "azsnap identities SNAP.db --non-human"));
    out.push_str("</section>\n");
    out
}

fn unused(e: &Evidence) -> String {
    let u = &e.unused;
    let custom: Vec<_> = u.unused_roles.iter().filter(|r| !r.builtin).collect();
    let builtin = u.unused_roles.len() - custom.len();
    let mut out = format!(
        "<section id=\"unused\"><h2>Unused roles and stale holders</h2>\n<h3>Custom roles nobody holds ({})</h3>\n",
        metric("unused-custom-roles", custom.len())
    );
    out.push_str(&table(
        &["kind", "role", "application", "id"],
        custom.iter().take(ROWS).map(|r| {
            vec![
                t(&r.kind),
                t(&r.name),
                t(r.application.as_deref().unwrap_or_default()),
                format!("<code>{}</code>", t(&r.id)),
            ]
        }),
    ));
    let _ = writeln!(
        out,
        "<p class=\"note\">{builtin} built-in roles are unassigned too (<code>azsnap unused-roles SNAP.db --builtin</code>).</p>"
    );
    let _ = writeln!(
        out,
        "<h3>Grants held by disabled, deleted or inactive principals ({})</h3>\n<p>Inactive: no sign-in for {} days \
         before {}.</p>",
        metric("stale-assignments", u.stale_assignments.len()),
        u.inactive_days,
        t(&e.as_of.to_string())
    );
    out.push_str(&table(
        &["holder", "kind", "role", "on", "state", "why"],
        u.stale_assignments.iter().take(ROWS).map(|s| {
            vec![
                t(&s.principal_name),
                t(&s.principal_kind),
                t(&s.role_name),
                t(&s.target_name),
                s.state.to_string(),
                t(&s.reason),
            ]
        }),
    ));
    out.push_str(&more(u.stale_assignments.len(), "azsnap unused-roles SNAP.db --format csv"));
    for l in &u.limits {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", t(l));
    }
    out.push_str("</section>\n");
    out
}

fn history(e: &Evidence) -> String {
    let mut out = String::from("<section id=\"history\"><h2>Over time</h2>\n");
    if e.series.is_empty() {
        out.push_str("<p>No series was given (<code>azsnap report SNAP.db --history DIR</code>).</p>\n</section>\n");
        return out;
    }
    // Days, or (when two snapshots share a day) minutes.
    let label = |len: usize| -> Vec<String> {
        let at = |p: &crate::analyze::report::Point| p.info.started_at.clone().unwrap_or_else(|| "?".to_owned());
        e.series.iter().map(|p| at(p).get(..len).map(|s| s.replace('T', " ")).unwrap_or_else(|| at(p))).collect()
    };
    let mut labels = label(10);
    if labels.windows(2).any(|w| w[0] == w[1]) {
        labels = label(16);
    }
    let holders: Vec<u64> = e.series.iter().map(|p| p.privileged_holders as u64).collect();
    let privileged: Vec<u64> = e.series.iter().map(|p| p.privileged_grants as u64).collect();
    let grants: Vec<u64> = e.series.iter().map(|p| p.grants).collect();
    let _ = writeln!(
        out,
        "<p>{} snapshots of this tenant, from {} to {}.</p>",
        metric("history-snapshots", e.series.len()),
        t(labels.first().map(String::as_str).unwrap_or_default()),
        t(labels.last().map(String::as_str).unwrap_or_default()),
    );
    out.push_str("<h3>Privileged holders and grants</h3>\n");
    out.push_str(&chart::lines(
        "Privileged holders and privileged grants per snapshot",
        &labels,
        &[
            Line { name: "privileged holders", class: "a", values: &holders },
            Line { name: "privileged grants", class: "b", values: &privileged },
        ],
    ));
    out.push_str("<h3>All grants</h3>\n");
    out.push_str(&chart::lines(
        "Grants per snapshot",
        &labels,
        &[Line { name: "grants", class: "c", values: &grants }],
    ));
    out.push_str(&table(
        &["collected", "snapshot", "privileged holders", "privileged grants", "grants", "not known"],
        e.series.iter().map(|p| {
            vec![
                t(p.info.started_at.as_deref().unwrap_or_default()),
                t(&p.info.path),
                format!("<span data-series=\"holders\">{}</span>", p.privileged_holders),
                format!("<span data-series=\"privileged\">{}</span>", p.privileged_grants),
                format!("<span data-series=\"grants\">{}</span>", p.grants),
                t(&p.info.not_known.join(", ")),
            ]
        }),
    ));
    out.push_str(
        "<p class=\"note\">Privileged holders: principals other than groups with a privileged grant of their own or \
         membership of a privileged group. Parts not known in a snapshot (not collected completely) count nothing there.</p>\n",
    );
    out.push_str("</section>\n");
    out
}
