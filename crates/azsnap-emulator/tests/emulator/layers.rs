//! The emulator's one-way internal order (see `src/lib.rs`), enforced: a module names only modules of a lower rank.
//! A module may always reach its own children (`mod` items, `self::`), which are below it.

use std::collections::BTreeMap;
use std::path::Path;

/// (module path, rank). Lower ranks are lower layers; a module may import only strictly lower ranks.
const RANKS: &[(&str, u32)] = &[
    ("rng", 0),
    ("json", 0),
    ("model", 0),
    ("clock", 0),
    ("builtin", 1),
    ("tenant", 2),
    ("generate::spec", 3),
    ("generate::builder", 4),
    ("generate::directory", 5),
    ("generate::apps", 5),
    ("generate::azure", 5),
    ("generate::roles", 5),
    ("generate", 6),
    ("http", 10),
    ("odata", 11),
    ("kql", 11),
    ("auth", 11),
    ("login", 12),
    ("limits", 11),
    ("faults", 11),
    ("directory", 11),
    ("options", 12),
    ("world", 20),
    ("graph::common", 30),
    ("graph::role_state", 31),
    ("arm::rbac", 30),
    ("arm::render", 31),
    ("graph::expand", 35),
    ("graph::directory", 40),
    ("graph::apps", 40),
    ("graph::roles", 40),
    ("graph::pim", 40),
    ("graph::policies", 40),
    ("graph::writes", 40),
    ("graph::objects", 40),
    ("graph::delta", 40),
    ("graph::audit", 40),
    ("arm::resources", 40),
    ("arm::authorization", 40),
    ("arm::resource_graph", 40),
    ("arm::writes", 40),
    ("graph", 50),
    ("arm", 50),
    ("batch", 60),
    ("emulator", 70),
    ("tls", 75),
    ("server", 80),
];

fn rank_of(module: &str) -> Option<(&'static str, u32)> {
    RANKS
        .iter()
        .filter(|(m, _)| module == *m || module.starts_with(&format!("{m}::")))
        .max_by_key(|(m, _)| m.len())
        .copied()
}

/// `src/graph/common.rs` → `graph::common`; `src/graph/mod.rs` → `graph`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).filter(|p| *p != "mod").collect();
    parts.join("::")
}

/// Every module path a file names: `crate::a::b`, `crate::{a, b::c}`, `super::x` (resolved), outside its tests.
fn named_modules(module: &str, text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = Vec::new();
    let path_chars = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    for (prefix, base) in [("crate::", String::new()), ("super::", parent(module))] {
        for (at, _) in code.match_indices(prefix) {
            if at > 0 && code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            let join = |p: &str| if base.is_empty() { p.to_owned() } else { format!("{base}::{p}") };
            if let Some(list) = rest.strip_prefix('{') {
                let inner = &list[..list.find('}').unwrap_or(list.len())];
                out.extend(inner.split(',').map(str::trim).filter(|p| !p.is_empty() && *p != "self").map(join));
            } else {
                let end = rest.find(|c: char| !path_chars(c)).unwrap_or(rest.len());
                out.push(join(rest[..end].trim_end_matches(':')));
            }
        }
    }
    out
}

fn parent(module: &str) -> String {
    module.rsplit_once("::").map(|(p, _)| p.to_owned()).unwrap_or_default()
}

#[test]
fn emulator_modules_import_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = azsnap_emulator_harness::rust_files(&src);
    let mut violations = BTreeMap::new();
    let mut unranked = Vec::new();
    for file in files {
        let module = module_of(&src, &file);
        if module == "lib" {
            continue;
        }
        let Some((own, rank)) = rank_of(&module) else {
            unranked.push(module);
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for named in named_modules(&module, &text) {
            let Some((target, target_rank)) = rank_of(&named) else { continue };
            // Its own children are below it; anything else must rank strictly lower.
            if target == own || target.starts_with(&format!("{own}::")) {
                continue;
            }
            if target_rank >= rank {
                violations.insert(format!("{module} (rank {rank}) names {named} (rank {target_rank})"), ());
            }
        }
    }
    assert!(unranked.is_empty(), "modules without a rank in RANKS: {unranked:?}");
    let violations: Vec<String> = violations.into_keys().collect();
    assert!(violations.is_empty(), "layering violations:\n{}", violations.join("\n"));
}

#[test]
fn the_layer_check_sees_imports() {
    let named = named_modules(
        "graph::roles",
        "use crate::graph::common::{Answer, perms};\nuse crate::{arm, batch};\nuse super::pim::x;\nlet a = b::crate::no;",
    );
    assert_eq!(named, ["graph::common::", "arm", "batch", "graph::pim::x"].map(|s| s.trim_end_matches(':').to_owned()));
    assert_eq!(rank_of("graph::common::Answer"), Some(("graph::common", 30)));
    assert_eq!(rank_of("graph::unknown"), Some(("graph", 50)));
}
