//! The fingerprint is a function of the data alone: insertion order and batching do not change it; any field does.

use azsnap::store::Batch;
use proptest::prelude::*;

use crate::common::{TestEnv, sample};

fn reordered(b: &Batch, seed: u64, chunks: usize) -> Vec<Batch> {
    // A deterministic shuffle of every row, then a split into `chunks` batches.
    fn shuffle<T: Clone>(v: &[T], seed: u64) -> Vec<T> {
        let mut keyed: Vec<(u64, T)> = v
            .iter()
            .enumerate()
            .map(|(i, x)| ((i as u64 + 1).wrapping_mul(seed | 1).rotate_left(17) ^ seed, x.clone()))
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        keyed.into_iter().map(|(_, x)| x).collect()
    }
    let all = Batch {
        principals: shuffle(&b.principals, seed),
        resources: shuffle(&b.resources, seed.rotate_left(7)),
        role_definitions: shuffle(&b.role_definitions, seed.rotate_left(13)),
        grants: shuffle(&b.grants, seed.rotate_left(29)),
        ..Batch::default()
    };
    let n = chunks.max(1);
    let mut out = vec![Batch::default(); n];
    for (i, p) in all.principals.into_iter().enumerate() {
        out[i % n].principals.push(p);
    }
    for (i, r) in all.resources.into_iter().enumerate() {
        out[(i + 1) % n].resources.push(r);
    }
    for (i, d) in all.role_definitions.into_iter().enumerate() {
        out[(i + 2) % n].role_definitions.push(d);
    }
    for (i, g) in all.grants.into_iter().enumerate() {
        out[(i + 3) % n].grants.push(g);
    }
    out
}

fn fingerprint_of(batches: &[Batch]) -> String {
    let env = TestEnv::new();
    let mut w = azsnap::store::SnapshotWriter::create(&env.path("f.db"), &sample::new_snapshot(), false).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish("2026-11-26T07:05:00Z".parse().unwrap(), true).unwrap().fingerprint
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn insertion_order_and_batching_do_not_matter(seed in any::<u64>(), chunks in 1usize..5) {
        let base = fingerprint_of(&[sample::batch()]);
        prop_assert_eq!(base, fingerprint_of(&reordered(&sample::batch(), seed, chunks)));
    }
}

#[test]
fn any_changed_field_changes_the_fingerprint() {
    let base = fingerprint_of(&[sample::batch()]);
    let mut a = sample::batch();
    a.principals[0].account_enabled = Some(false);
    let mut b = sample::batch();
    b.grants[3].end_at = None;
    let mut c = sample::batch();
    c.resources[5].attrs = Some(r#"{"public_access":"Container"}"#.to_owned());
    let mut d = sample::batch();
    d.role_definitions.pop();
    let mut e = sample::batch();
    e.principals[1].display_name = None;
    let prints: Vec<String> = [a, b, c, d, e].iter().map(|x| fingerprint_of(std::slice::from_ref(x))).collect();
    for (i, fp) in prints.iter().enumerate() {
        assert_ne!(*fp, base, "change {i} kept the fingerprint");
        assert_eq!(fp.len(), 64);
    }
    let mut unique = prints.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), prints.len(), "different data, different fingerprints");
}

#[test]
fn times_and_statistics_are_not_part_of_the_fingerprint() {
    let env = TestEnv::new();
    let first = sample::write_sample(&env.path("a.db")).fingerprint;
    let mut new = sample::new_snapshot();
    new.started_at = "2027-01-01T00:00:00Z".parse().unwrap();
    new.options = serde_json::json!({"skip_containers": true});
    let mut w = azsnap::store::SnapshotWriter::create(&env.path("b.db"), &new, false).unwrap();
    w.write(&sample::batch()).unwrap();
    let second = w.finish("2027-01-01T00:10:00Z".parse().unwrap(), true).unwrap().fingerprint;
    assert_eq!(first, second, "an unchanged tenant collected twice has one fingerprint");
}
