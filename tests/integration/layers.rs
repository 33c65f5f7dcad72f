//! The layering of `docs/architecture.md`, enforced: a module imports only modules of lower layers. What is its own
//! crate (`azsnap-model`, `azsnap-emulator`) needs no entry here: it cannot name the tool's modules at all.

use std::path::Path;

/// (module, modules it must not import).
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("signing", &["store", "report", "cli", "azure", "collect", "analyze", "mock", "plan", "apply"]),
    ("store", &["report", "cli", "azure", "collect", "analyze", "mock", "plan", "apply"]),
    ("report", &["cli", "azure", "collect", "mock", "apply"]),
    ("azure", &["store", "report", "cli", "collect", "analyze", "mock", "plan", "apply"]),
    ("collect", &["report", "cli", "analyze", "mock", "plan", "apply"]),
    ("analyze", &["report", "cli", "azure", "collect", "mock", "plan", "apply"]),
    ("plan", &["report", "cli", "azure", "collect", "mock", "apply"]),
];

#[test]
fn lower_layers_do_not_import_higher_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (module, forbidden) in FORBIDDEN {
        let dir = src.join(module);
        let mut files = if dir.is_dir() { azsnap_emulator_harness::rust_files(&dir) } else { Vec::new() };
        let file = src.join(format!("{module}.rs"));
        if file.is_file() {
            files.push(file);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for f in *forbidden {
                for pattern in [format!("crate::{f}::"), format!("crate::{f};"), format!("crate::{{{f}")] {
                    if text.contains(&pattern) {
                        violations.push(format!("{} uses {pattern}", file.display()));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "layering violations:\n{}", violations.join("\n"));
}
