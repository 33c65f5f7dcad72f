//! The writer's file protocol: `NAME.partial` while writing, `NAME` only when finished, nothing on abandon.

use azsnap::store::{Batch, SnapshotWriter, StoreError};

use crate::common::{TestEnv, sample};

#[test]
fn final_name_appears_only_when_finished() {
    let env = TestEnv::new();
    let target = env.path("s.db");
    let mut w = SnapshotWriter::create(&target, &sample::new_snapshot(), false).unwrap();
    w.write(&sample::batch()).unwrap();
    assert!(w.partial_path().exists(), "rows go to the partial file");
    assert!(w.partial_path().ends_with("s.db.partial"));
    assert!(!target.exists(), "no file at the final name before finish");
    let partial = w.partial_path().to_owned();
    let done = w.finish("2026-11-26T07:05:00Z".parse().unwrap(), true).unwrap();
    assert_eq!(done.path, target);
    assert!(target.exists() && !partial.exists());
}

#[test]
fn abandoned_writer_leaves_nothing_behind() {
    let env = TestEnv::new();
    let target = env.path("s.db");
    {
        let mut w = SnapshotWriter::create(&target, &sample::new_snapshot(), false).unwrap();
        w.write(&sample::batch()).unwrap();
    }
    let left: Vec<_> = std::fs::read_dir(env.root()).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn existing_file_is_not_overwritten_unless_asked() {
    let env = TestEnv::new();
    let target = env.path("s.db");
    let first = sample::write_sample(&target);
    let err = SnapshotWriter::create(&target, &sample::new_snapshot(), false).err().expect("refused");
    assert!(matches!(err, StoreError::Exists { .. }), "{err}");
    assert!(!err.is_bad_input(), "an output problem is a usage error, not bad input");

    let mut w = SnapshotWriter::create(&target, &sample::new_snapshot(), true).unwrap();
    assert!(target.exists(), "the old snapshot stays in place while the new one is written");
    w.write(&Batch::default()).unwrap();
    let second = w.finish("2026-11-26T07:05:00Z".parse().unwrap(), true).unwrap();
    assert_ne!(first.fingerprint, second.fingerprint);
}

#[test]
fn duplicate_grants_keep_the_smallest_source_id_whatever_the_order() {
    let env = TestEnv::new();
    let mut a = sample::batch().grants.remove(2);
    a.source_id = Some("b-second".to_owned());
    let mut b = a.clone();
    b.source_id = Some("a-first".to_owned());
    let mut prints = Vec::new();
    for (i, order) in [[a.clone(), b.clone()], [b, a]].into_iter().enumerate() {
        let path = env.path(&format!("d{i}.db"));
        let mut w = SnapshotWriter::create(&path, &sample::new_snapshot(), false).unwrap();
        for g in order {
            w.write(&Batch { grants: vec![g], ..Batch::default() }).unwrap();
        }
        prints.push(w.finish("2026-11-26T07:05:00Z".parse().unwrap(), true).unwrap().fingerprint);
        let snap = azsnap::store::Snapshot::open(&path).unwrap();
        let kept: String = snap.connection().query_row("SELECT source_id FROM grants", [], |r| r.get(0)).unwrap();
        assert_eq!(kept, "a-first");
    }
    assert_eq!(prints[0], prints[1]);
}

#[test]
fn missing_output_directory_is_a_write_error() {
    let env = TestEnv::new();
    let err =
        SnapshotWriter::create(&env.path("no/such/dir/s.db"), &sample::new_snapshot(), false).err().expect("refused");
    assert!(matches!(err, StoreError::Write { .. }), "{err}");
    assert!(err.to_string().contains("s.db.partial"), "{err}");
}
