//! The hashes a writer keeps to sign are kept only while it can sign: a writer without a
//! signing key keeps none, however long it runs; one with a key keeps only those after its
//! last checkpoint. Runs on both stores (the store hands the writer the hashes it
//! committed, `Backend::take_written`).

mod stores;

use chrono::Utc;
use paraaf_runtime::checkpoint::{self, Key};
use stores::each_store;

#[test]
fn the_writer_keeps_its_hashes_only_to_sign_them() {
    each_store("hashes-to-sign", |db| {
        let mut r = db.runtime("unsigned");
        r.lock_writer("test").unwrap();
        for _ in 0..5 {
            r.snapshot_now(Utc::now()).unwrap();
        }
        assert!(r.state().last_seq >= 5);
        assert!(r.hashes_to_sign().is_empty(), "{:?}", r.hashes_to_sign());
        drop(r);

        let key = db.files("signed").join("k");
        checkpoint::generate(&key).unwrap();
        let file = db.files("signed").join("signed.cp");
        let mut r = db.runtime("signed");
        r.use_checkpoints(Key::read(&key).unwrap(), file.clone(), 3)
            .unwrap();
        r.lock_writer("test").unwrap();
        for _ in 0..7 {
            r.snapshot_now(Utc::now()).unwrap();
        }
        let last = checkpoint::read_file(&file, &Key::read(&key).unwrap())
            .unwrap()
            .last()
            .map_or(0, |cp| cp.seq);
        assert!(last >= 6, "{last}");
        let kept = r.hashes_to_sign();
        assert!(kept.iter().all(|(seq, _)| *seq > last), "{kept:?}");
        assert!(kept.len() < 3, "{kept:?}");
        assert!(!kept.is_empty() || r.state().last_seq == last, "{kept:?}");
    });
}
