//! Drift in the formats CI systems read: SARIF 2.1.0 (GitHub code scanning and annotations) and JUnit XML (what
//! Jenkins, GitLab and Azure DevOps show as tests).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::analyze::diff::{DiffReport, Item};
use crate::model::{GrantState, Relation};

/// A grant in one line: `Alice (user, alice@contoso.com) Owner on Contoso Production`. The principal's UPN (or app
/// id) and an Azure target's path (`rg-app/stdata/c1`) tell apart objects that share a name.
pub fn describe(item: &Item) -> String {
    let Some(g) = &item.grant else { return format!("{} ({})", item.name, item.object_kind) };
    let who = match g.principal_detail.as_str() {
        "" => format!("{} ({})", g.principal_name, g.principal_kind),
        d if d.eq_ignore_ascii_case(&g.principal_name) => format!("{} ({})", g.principal_name, g.principal_kind),
        d => format!("{} ({}, {d})", g.principal_name, g.principal_kind),
    };
    let g = &crate::analyze::diff::GrantView {
        target_name: if g.target_path.is_empty() { g.target_name.clone() } else { g.target_path.clone() },
        ..g.clone()
    };
    let state = if g.state == GrantState::Eligible { " [eligible]" } else { "" };
    let until = g.end_at.as_ref().map(|e| format!(" until {e}")).unwrap_or_default();
    let what = match g.relation {
        Relation::Member => format!("member of {}", g.target_name),
        Relation::Owner => format!("owner of {}", g.target_name),
        Relation::Delegated => format!("delegated {} on {} ({})", g.role_id, g.target_name, g.scope),
        Relation::AppRole => format!("app role {} on {}", g.role_name, g.target_name),
        Relation::DirectoryRole if g.scope != "/" => format!("{} at {}", g.role_name, g.scope),
        Relation::DirectoryRole => g.role_name.clone(),
        Relation::AzureRole => format!("{} on {}", g.role_name, g.target_name),
    };
    format!("{who} {what}{state}{until}")
}

/// The fields that changed, `field old → new`, joined with `; `.
pub fn details(item: &Item) -> String {
    item.fields
        .iter()
        .map(|f| format!("{} {} → {}", f.field, f.old.as_deref().unwrap_or("∅"), f.new.as_deref().unwrap_or("∅")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The rule a drift item reports under: `azsnap/grant-added`, `azsnap/principal-changed`, …
fn rule_id(item: &Item) -> String {
    format!("azsnap/{}-{}", item.kind.as_str().replace('_', "-"), item.change)
}

/// What the rules mean, for SARIF's rule list.
fn rule_text(id: &str) -> String {
    let (kind, change) = id.trim_start_matches("azsnap/").rsplit_once('-').unwrap_or(("item", "changed"));
    let kind = kind.replace('-', " ");
    format!("A {kind} was {change} since the baseline snapshot")
}

/// A stable fingerprint of one drift item (the same item in tomorrow's run is the same alert).
fn fingerprint(item: &Item) -> String {
    let digest = Sha256::digest(format!("{}\0{}\0{}", item.kind, item.change, item.key).as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// SARIF 2.1.0: one result per drift item, privileged ones as `error`, others as `warning`. Code scanning needs a
/// file location: results point at the newer snapshot (`artifact`, as given on the command line), and name the
/// object in a logical location.
pub fn sarif(report: &DiffReport, artifact: &str, describe: impl Fn(&Item) -> String) -> Value {
    let mut rules: Vec<String> = report.items.iter().map(rule_id).collect();
    rules.sort();
    rules.dedup();
    let results: Vec<Value> = report
        .items
        .iter()
        .map(|item| {
            let id = rule_id(item);
            json!({
                "ruleId": id,
                "ruleIndex": rules.iter().position(|r| *r == id).unwrap_or(0),
                "level": if item.privileged { "error" } else { "warning" },
                "message": {"text": format!("{} {}: {}", item.change, item.kind.as_str().replace('_', " "), describe(item))},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": artifact}, "region": {"startLine": 1}},
                    "logicalLocations": [{"fullyQualifiedName": item.key, "kind": "resource"}],
                }],
                "partialFingerprints": {"azsnapDrift/v1": fingerprint(item)},
                "properties": {"privileged": item.privileged, "part": item.part, "object_kind": item.object_kind},
            })
        })
        .collect();
    let rules: Vec<Value> = rules
        .iter()
        .map(|id| {
            json!({
                "id": id,
                "shortDescription": {"text": rule_text(id)},
            })
        })
        .collect();
    let not_compared: Vec<Value> = report
        .not_compared
        .iter()
        .map(|n| {
            json!({
                "level": "warning",
                "message": {"text": format!("{} not compared: {}", n.part, n.reason)},
                "descriptor": {"id": "azsnap/not-compared"},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "azsnap",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": not_compared}],
            "results": results,
        }],
    })
}

/// JUnit XML: one test case per compared part, failed with its drift items; parts not compared are skipped with
/// the reason.
pub fn junit(report: &DiffReport, parts: &[String], describe: impl Fn(&Item) -> String) -> std::io::Result<Vec<u8>> {
    use quick_xml::Writer;
    use quick_xml::events::{BytesDecl, BytesText, Event};

    let failures = parts.iter().filter(|p| report.items.iter().any(|i| i.part == **p)).count();
    let skipped = report.not_compared.len();
    let tests = parts.len() + skipped;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let (tests, failures, skipped) = (tests.to_string(), failures.to_string(), skipped.to_string());
    let suite_name = format!("azsnap diff {} → {}", report.old.path, report.new.path);
    w.create_element("testsuites")
        .with_attributes([("name", "azsnap diff"), ("tests", tests.as_str()), ("failures", failures.as_str())])
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attributes([
                    ("name", suite_name.as_str()),
                    ("tests", tests.as_str()),
                    ("failures", failures.as_str()),
                    ("skipped", skipped.as_str()),
                    ("errors", "0"),
                ])
                .write_inner_content(|w| {
                    for part in parts {
                        let items: Vec<&Item> = report.items.iter().filter(|i| i.part == *part).collect();
                        let case = w
                            .create_element("testcase")
                            .with_attributes([("classname", "azsnap.diff"), ("name", part.as_str())]);
                        if items.is_empty() {
                            case.write_empty()?;
                            continue;
                        }
                        let privileged = items.iter().filter(|i| i.privileged).count();
                        let n = items.len();
                        let message =
                            format!("{n} difference{} ({privileged} privileged)", if n == 1 { "" } else { "s" });
                        let body: Vec<String> = items
                            .iter()
                            .map(|i| {
                                format!(
                                    "{}{} {}: {}",
                                    if i.privileged { "[privileged] " } else { "" },
                                    i.change,
                                    i.kind,
                                    describe(i)
                                )
                            })
                            .collect();
                        case.write_inner_content(|w| {
                            w.create_element("failure")
                                .with_attributes([("message", message.as_str()), ("type", "drift")])
                                .write_text_content(BytesText::new(&body.join("\n")))?;
                            Ok(())
                        })?;
                    }
                    for n in &report.not_compared {
                        let reason = format!("not compared: {}", n.reason);
                        w.create_element("testcase")
                            .with_attributes([("classname", "azsnap.diff"), ("name", n.part.as_str())])
                            .write_inner_content(|w| {
                                w.create_element("skipped")
                                    .with_attribute(("message", reason.as_str()))
                                    .write_empty()?;
                                Ok(())
                            })?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}
