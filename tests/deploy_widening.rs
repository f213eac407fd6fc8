//! A plain `paraaf deploy` that widens a shielded group (the outside tester's finding 5):
//! `unit sociale-zaken` becomes `unit samenleving` in the social service's group. Refused
//! (and `--dry-run` too) without a reason of `[widen]` quality, naming the group and whom
//! it would admit; with one, deployed and the reason recorded in the log; narrowing back
//! is reported, not refused.

mod support;

use std::path::Path;

fn paraaf(dir: &Path, args: &[&str]) -> (i32, String) {
    let db = dir.join("city.db");
    support::paraaf_env(dir, args, &[("PARAAF_DB", db.to_str().unwrap())])
}

const NARROW: &str = "group sociale-zaken = unit sociale-zaken shielded";
const WIDE: &str = "group sociale-zaken = unit samenleving shielded";

#[test]
fn a_wider_shielded_group_needs_a_reason_and_is_logged() {
    let dir = support::tempdir("deploy-widening").join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    let (code, out) = paraaf(&dir, &["deploy", "."]);
    assert_eq!(code, 0, "{out}");
    let social = dir.join("flows/social.paraaf");
    let text = std::fs::read_to_string(&social).unwrap();
    assert!(text.contains(NARROW), "the example changed: {text}");
    std::fs::write(&social, text.replace(NARROW, WIDE)).unwrap();

    // No reason, a reason that says nothing, the dry run: refused, naming the group and
    // someone it would admit (the head of Samenleving); nothing deployed.
    for args in [
        &["deploy", "."][..],
        &["deploy", ".", "--dry-run"][..],
        &["deploy", ".", "--widen-reason", "ok"][..],
    ] {
        let (code, out) = paraaf(&dir, args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(
            out.contains("widens the shielded group `sociale-zaken`")
                && out.contains("fatima-van-damme")
                && out.contains("--widen-reason"),
            "{args:?}: {out}"
        );
    }
    let (_, log) = paraaf(&dir, &["log", "--as", "fatima-van-damme"]);
    assert!(!log.contains("project version 2"), "{log}");

    // With a reason: deployed, said, and recorded in the log's event.
    let reason = "College van 1 december 2026: het departementshoofd leest sociale dossiers";
    let (code, out) = paraaf(&dir, &["deploy", ".", "--widen-reason", reason]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("shielded group `sociale-zaken` widened") && out.contains(reason),
        "{out}"
    );
    let db = rusqlite::Connection::open(dir.join("city.db")).unwrap();
    let body: String = db
        .query_row(
            "SELECT body FROM events WHERE body LIKE '%\"project_deployed\"%' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    let widened = &event["shields_widened"][0];
    assert_eq!(widened["group"], "sociale-zaken", "{widened}");
    assert_eq!(widened["reason"], reason);
    assert!(
        widened["admits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "fatima-van-damme"),
        "{widened}"
    );
    drop(db);

    // Back to the narrower group: reported, not refused.
    std::fs::write(&social, text).unwrap();
    let (code, out) = paraaf(&dir, &["deploy", "."]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("shielded group `sociale-zaken` narrowed") && out.contains("fatima-van-damme"),
        "{out}"
    );
}
