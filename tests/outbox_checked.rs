//! The sender's check at send time (attack findings 2, 4, 6): a mail queued while its
//! recipient could see the document is not sent once an organogram deploy moved them out
//! of the shield (dropped, with the reason), a mail goes to today's address, and a
//! webhook about a shielded file is a bare notice for the source that submitted it only.
//! Each runs the sender's own `round` against the committed state.

#[path = "support/served.rs"]
mod served;
mod support;

use paraaf_runtime::sender::{HookTarget, SenderConfig, round};
use paraaf_runtime::store::outbox::Outbox;
use served::{Sink, mail_config};
use std::collections::BTreeMap;
use std::time::Duration;
use support::City;

const NOW: &str = "2026-12-07T09:00:00Z";

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc()
}

fn submit_dossier(city: &City) -> String {
    let content = city.content.to_str().unwrap().to_string();
    let out = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            "bart-verhoeven",
            "--title",
            "Leefloon Geheim",
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=SZ-GEHEIM-42",
            "--content",
            &content,
        ],
        NOW,
    );
    out.lines().next().unwrap().trim().to_string()
}

/// The Aalst organogram with Dirk Claes moved out of Sociale Zaken (no position left)
/// and Dirk Lambert given a new address; deployed with `org deploy --force`.
fn move_people(city: &City) {
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    let moved = org
        .replace(
            "email = \"dirk.claes@aalst.be\"\nkey = \"P10101\"\n\n[[people.positions]]\nfunction = \"teamcoach\"\nunit = \"inkomen\"\n",
            "email = \"dirk.claes@aalst.be\"\nkey = \"P10101\"\n",
        )
        .replace("dirk.lambert@aalst.be", "dirk.lambert@nieuw.aalst.be");
    assert_ne!(moved, org);
    let path = city.dir.join("org2.toml");
    std::fs::write(&path, moved).unwrap();
    city.ok(&["org", "deploy", path.to_str().unwrap(), "--force"], NOW);
}

/// (state, last_error of its delivery) of each mail item, by recipient.
fn mail_states(city: &City) -> BTreeMap<String, (String, Option<String>)> {
    let db = rusqlite::Connection::open(&city.db).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT o.recipient, o.state, d.last_error FROM outbox o
             LEFT JOIN deliveries d ON d.id = o.delivery WHERE o.channel = 'mail'",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn config(city: &City, port: u16, hooks: BTreeMap<String, HookTarget>) -> SenderConfig {
    SenderConfig {
        db: city.db.clone().into(),
        mail: Some(toml::from_str(mail_config(port).strip_prefix("[mail]\n").unwrap()).unwrap()),
        hooks,
        backoff: Duration::ZERO,
    }
}

fn state(city: &City) -> paraaf_runtime::Runtime {
    paraaf_runtime::Runtime::open(&city.db, paraaf_runtime::workdays::Calendar::default()).unwrap()
}

#[test]
fn a_mail_queued_before_its_recipient_left_the_shield_is_dropped_and_others_go_to_todays_address() {
    let city = City::aalst("outbox-checked-mail");
    for p in ["dirk-claes", "dirk-lambert"] {
        city.ok(&["notify", p, "--mail", "immediate"], NOW);
    }
    // A task for Dirk Claes (inside Sociale Zaken) and one for Dirk Lambert, queued now.
    let dossier = submit_dossier(&city);
    city.submit(
        "attest",
        "jan-cools",
        &["soort=gezinssamenstelling", "aanvrager=Jan"],
        NOW,
    );
    assert_eq!(mail_states(&city)["dirk-claes"].0, "pending");
    // HR moves Dirk Claes out of the unit and gives Dirk Lambert another mailbox.
    move_people(&city);
    let sink = Sink::start(&city.dir.join("mail"), 0);
    let mut outbox = Outbox::open(&city.db).unwrap();
    let rt = state(&city);
    round(
        &mut outbox,
        &config(&city, sink.port, BTreeMap::new()),
        now(),
        rt.state(),
    )
    .unwrap();
    let mails = sink.wait("the mail to Dirk Lambert's new address", |m| {
        m.iter()
            .any(|x| x["to"][0] == "dirk.lambert@nieuw.aalst.be")
    });
    assert!(
        !mails
            .iter()
            .any(|x| x.to_string().contains("dirk.claes") || x.to_string().contains(&dossier)),
        "nothing about the file reaches Dirk Claes: {mails:#?}"
    );
    assert!(
        !mails.iter().any(|x| x["to"][0] == "dirk.lambert@aalst.be"),
        "never the address fixed at queue time"
    );
    let states = mail_states(&city);
    let (st, why) = &states["dirk-claes"];
    assert_eq!(st, "dropped");
    assert!(
        why.as_deref()
            .unwrap_or("")
            .contains("may not see the document"),
        "{why:?}"
    );
    assert_eq!(states["dirk-lambert"].0, "sent");
    assert_eq!(outbox.counts().unwrap().dropped, 1);
}

#[test]
fn a_mail_planned_while_smtp_was_down_is_checked_again_before_it_is_sent() {
    let city = City::aalst("outbox-checked-retry");
    city.ok(&["notify", "dirk-claes", "--mail", "immediate"], NOW);
    submit_dossier(&city);
    // Planned and tried while nothing listens: the delivery waits to be sent again.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut outbox = Outbox::open(&city.db).unwrap();
    round(
        &mut outbox,
        &config(&city, port, BTreeMap::new()),
        now(),
        state(&city).state(),
    )
    .unwrap();
    assert_eq!(outbox.counts().unwrap().sending, 1);
    move_people(&city);
    let sink = Sink::start_on(&city.dir.join("mail"), 0, port);
    round(
        &mut outbox,
        &config(&city, port, BTreeMap::new()),
        now(),
        state(&city).state(),
    )
    .unwrap();
    let counts = outbox.counts().unwrap();
    assert_eq!(
        (counts.sending, counts.sent, counts.dropped),
        (0, 0, 1),
        "{counts:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(sink.mails().is_empty(), "{:#?}", sink.mails());
}

/// Signs the dossier through (the teamcoach, then the head of Sociale Zaken).
fn complete_dossier(city: &City, dossier: &str) {
    for who in ["dirk-claes", "mohamed-wouters"] {
        city.ok(&["doc", "sign", dossier, "--as", who], NOW);
    }
}

fn hook_bodies(city: &City) -> BTreeMap<String, (String, Option<String>)> {
    let db = rusqlite::Connection::open(&city.db).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT o.payload, o.state, d.last_error FROM outbox o
             LEFT JOIN deliveries d ON d.id = o.delivery WHERE o.channel = 'webhook'",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_shielded_file_goes_out_as_a_bare_notice_to_the_source_that_submitted_it_only() {
    let city = City::aalst("outbox-checked-hook");
    let (addr, requests) = receiver();
    let target = |source: &str| HookTarget {
        source: source.into(),
        url: format!("http://{addr}/paraaf"),
        secret: b"secret".to_vec(),
    };
    let hooks: BTreeMap<String, HookTarget> = [
        ("bart-verhoeven".to_string(), target("notula")),
        ("jan-cools".to_string(), target("loket")),
    ]
    .into();
    // Submitted by hand by Bart Verhoeven, whose person the source `notula` acts as.
    let by_hand = submit_dossier(&city);
    complete_dossier(&city, &by_hand);
    // Submitted by `notula` (its idempotency record names the document, as the webhook
    // route writes it).
    let by_source = submit_dossier(&city);
    rusqlite::Connection::open(&city.db)
        .unwrap()
        .execute(
            "INSERT INTO idempotency (person, key, request_sha256, status, response) VALUES ('webhook:notula', 'msg_1', 'x', 202, ?1)",
            [format!("{{\"documents\":[\"{by_source}\"],\"queue\":[]}}")],
        )
        .unwrap();
    complete_dossier(&city, &by_source);
    // A certificate (not shielded) of jan-cools, source `loket`.
    let attest = city.submit(
        "attest",
        "jan-cools",
        &["soort=gezinssamenstelling", "aanvrager=Jan"],
        NOW,
    );
    let attest = attest.lines().next().unwrap().trim().to_string();
    city.ok(
        &[
            "doc",
            "sign",
            &attest,
            "--as",
            &city.function("diensthoofd", Some("bevolking")),
        ],
        NOW,
    );
    // What the commit queued for the shielded files is bare already.
    let queued = hook_bodies(&city);
    assert_eq!(queued.len(), 3, "{queued:#?}");
    for payload in queued.keys().filter(|p| !p.contains(&attest)) {
        let data = &serde_json::from_str::<serde_json::Value>(payload).unwrap()["data"];
        assert!(
            data.get("kind").is_none() && data.get("fields").is_none(),
            "{payload}"
        );
    }
    // One queued with kind and fields (as a version before this check queued it): the
    // sender strips it all the same.
    let db = rusqlite::Connection::open(&city.db).unwrap();
    let (seq, payload): (u64, String) = db
        .query_row(
            "SELECT seq, payload FROM outbox WHERE channel = 'webhook' AND instr(payload, ?1) > 0",
            [&by_source],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut old: serde_json::Value = serde_json::from_str(&payload).unwrap();
    old["data"]["kind"] = "sociaal-dossier".into();
    old["data"]["fields"] = serde_json::json!({"dossiernummer": "SZ-GEHEIM-42"});
    db.execute(
        "UPDATE outbox SET payload = ?1 WHERE seq = ?2 AND channel = 'webhook'",
        rusqlite::params![old.to_string(), seq],
    )
    .unwrap();
    let mut outbox = Outbox::open(&city.db).unwrap();
    let mut cfg = config(&city, 1, hooks);
    cfg.mail = None;
    round(&mut outbox, &cfg, now(), state(&city).state()).unwrap();
    let mut got: Vec<serde_json::Value> = Vec::new();
    while let Ok(body) = requests.recv_timeout(Duration::from_millis(1500)) {
        got.push(serde_json::from_str(&body).unwrap());
    }
    let text = serde_json::to_string(&got).unwrap();
    assert!(
        !text.contains(&by_hand),
        "the hand-submitted file stays in: {text}"
    );
    assert!(
        !text.contains("SZ-GEHEIM") && !text.contains("Leefloon") && !text.contains("sociaal"),
        "{text}"
    );
    let notice = got
        .iter()
        .find(|b| b["data"]["document"] == by_source.as_str())
        .expect("the source hears of its own file");
    let mut keys: Vec<&str> = notice["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["document", "event", "outcome"], "{notice}");
    let full = got
        .iter()
        .find(|b| b["data"]["document"] == attest.as_str())
        .expect("the certificate's webhook");
    assert_eq!(full["data"]["kind"], "attest");
    // Numbers within the document: submitted, step opened, signed, completed.
    for b in &got {
        let n = b["data"]["event"].as_u64().unwrap();
        assert!(
            (1..=8).contains(&n),
            "a per-document number, not the log's: {b}"
        );
    }
    let dropped: Vec<_> = hook_bodies(&city)
        .into_iter()
        .filter(|(p, _)| p.contains(&by_hand))
        .collect();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].1.0, "dropped");
    assert!(
        dropped[0]
            .1
            .1
            .as_deref()
            .unwrap_or("")
            .contains("source that submitted")
    );
}

/// The webhook source `notula`, acting as `person`, sending to the receiver at `addr`.
fn notula_as(person: &str, addr: &str) -> BTreeMap<String, HookTarget> {
    [(
        person.to_string(),
        HookTarget {
            source: "notula".into(),
            url: format!("http://{addr}/paraaf"),
            secret: b"secret".to_vec(),
        },
    )]
    .into()
}

/// An HTTP receiver answering 200 and passing on each body.
fn receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = tx.send(String::from_utf8(body).unwrap());
        }
    });
    (addr, rx)
}

/// Finding 4: the uploader of a discipline file moved out of Personeel (outside `tucht`)
/// by an organogram deploy is not mailed when the file is refused afterwards.
#[test]
fn the_uploader_who_left_the_shield_is_not_mailed_about_the_file() {
    let city = City::aalst("outbox-checked-uploader");
    city.ok(&["notify", "tom-nowak", "--mail", "immediate"], NOW);
    let content = city.content.to_str().unwrap().to_string();
    let file = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "tuchtdossier",
            "--as",
            "tom-nowak",
            "--title",
            "Tucht Geheim",
            "--field",
            "medewerker=bart-de-smet",
            "--content",
            &content,
        ],
        NOW,
    );
    let file = file.lines().next().unwrap().trim().to_string();
    city.ok(&["doc", "sign", &file, "--as", "tom-nowak"], NOW);
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    let moved = org.replace(
        "key = \"P10267\"\n\n[[people.positions]]\nfunction = \"diensthoofd\"\nunit = \"personeel\"\n",
        "key = \"P10267\"\n",
    );
    assert_ne!(moved, org);
    let path = city.dir.join("org2.toml");
    std::fs::write(&path, moved).unwrap();
    city.ok(&["org", "deploy", path.to_str().unwrap(), "--force"], NOW);
    city.ok(
        &[
            "doc",
            "refuse",
            &file,
            "--as",
            "hans-de-backer",
            "--reason",
            "Geen grond",
        ],
        NOW,
    );
    let sink = Sink::start(&city.dir.join("mail"), 0);
    let mut outbox = Outbox::open(&city.db).unwrap();
    round(
        &mut outbox,
        &config(&city, sink.port, BTreeMap::new()),
        now(),
        state(&city).state(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mails = sink.mails();
    assert!(
        !mails.iter().any(|x| x.to_string().contains("tom.nowak")),
        "{mails:#?}"
    );
    // Both: the task of his own step (queued before the move) and the refusal (after).
    let db = rusqlite::Connection::open(&city.db).unwrap();
    let rows: Vec<(String, String)> = db
        .prepare(
            "SELECT o.state, d.last_error FROM outbox o JOIN deliveries d ON d.id = o.delivery
             WHERE o.channel = 'mail' AND o.recipient = 'tom-nowak'",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (st, why) in &rows {
        assert_eq!(st, "dropped");
        assert!(why.contains("may not see the document"), "{why}");
    }
}

/// A mail queued for someone who then got a new id (a marriage: the same HR key) goes to
/// them under that id, at today's address, instead of being dropped as if they had left.
#[test]
fn a_mail_queued_before_its_recipient_got_a_new_id_reaches_them() {
    let city = City::aalst("outbox-checked-rename");
    city.ok(&["notify", "dirk-lambert", "--mail", "immediate"], NOW);
    city.submit(
        "attest",
        "jan-cools",
        &["soort=gezinssamenstelling", "aanvrager=Jan"],
        NOW,
    );
    assert_eq!(mail_states(&city)["dirk-lambert"].0, "pending");
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    let married = org.replace(
        "id = \"dirk-lambert\"\nname = \"Dirk Lambert\"\nemail = \"dirk.lambert@aalst.be\"\n",
        "id = \"dirk-lambert-peeters\"\nname = \"Dirk Lambert-Peeters\"\nemail = \"dirk.lambert-peeters@aalst.be\"\n",
    );
    assert_ne!(married, org);
    let path = city.dir.join("married.toml");
    std::fs::write(&path, married).unwrap();
    city.ok(&["org", "deploy", path.to_str().unwrap(), "--force"], NOW);
    let sink = Sink::start(&city.dir.join("mail"), 0);
    let mut outbox = Outbox::open(&city.db).unwrap();
    let rt = state(&city);
    round(
        &mut outbox,
        &config(&city, sink.port, BTreeMap::new()),
        now(),
        rt.state(),
    )
    .unwrap();
    sink.wait("the mail at Dirk's new address", |m| {
        m.iter()
            .any(|x| x["to"][0] == "dirk.lambert-peeters@aalst.be")
    });
    let states = mail_states(&city);
    assert_eq!(states["dirk-lambert"].0, "sent", "{states:?}");
    assert_eq!(outbox.counts().unwrap().dropped, 0);
}

/// A webhook queued for a source's person before they got a new id (the same HR key)
/// goes to that source, configured (as `serve` resolves `as`) under the id they have now.
#[test]
fn a_webhook_queued_before_its_person_got_a_new_id_reaches_the_source() {
    let city = City::aalst("outbox-checked-hook-rename");
    let (addr, requests) = receiver();
    let attest = city.submit(
        "attest",
        "jan-cools",
        &["soort=gezinssamenstelling", "aanvrager=Jan"],
        NOW,
    );
    let attest = attest.lines().next().unwrap().trim().to_string();
    city.ok(
        &[
            "doc",
            "sign",
            &attest,
            "--as",
            &city.function("diensthoofd", Some("bevolking")),
        ],
        NOW,
    );
    assert_eq!(hook_bodies(&city).len(), 1);
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    let married = org.replace(
        "id = \"jan-cools\"\nname = \"Jan Cools\"",
        "id = \"jan-cools-peeters\"\nname = \"Jan Cools-Peeters\"",
    );
    assert_ne!(married, org);
    let path = city.dir.join("married.toml");
    std::fs::write(&path, married).unwrap();
    city.ok(&["org", "deploy", path.to_str().unwrap(), "--force"], NOW);
    let hooks: BTreeMap<String, HookTarget> = [(
        "jan-cools-peeters".to_string(),
        HookTarget {
            source: "loket".into(),
            url: format!("http://{addr}/paraaf"),
            secret: b"secret".to_vec(),
        },
    )]
    .into();
    let mut outbox = Outbox::open(&city.db).unwrap();
    let mut cfg = config(&city, 1, hooks);
    cfg.mail = None;
    round(&mut outbox, &cfg, now(), state(&city).state()).unwrap();
    let body = requests
        .recv_timeout(Duration::from_secs(10))
        .expect("the source hears of the document");
    assert!(body.contains(&attest), "{body}");
    let states = hook_bodies(&city);
    assert!(states.values().all(|(s, _)| s == "sent"), "{states:#?}");
}

/// The Aalst organogram with `block` (a person's id line onwards) replaced, deployed with
/// `org deploy --force`.
fn deploy_org(city: &City, name: &str, from: &str, to: &str) {
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    let changed = org.replace(from, to);
    assert_ne!(changed, org);
    let path = city.dir.join(name);
    std::fs::write(&path, changed).unwrap();
    city.ok(&["org", "deploy", path.to_str().unwrap(), "--force"], NOW);
}

/// Bart Verhoeven's position in Inkomen (Sociale Zaken), which puts him inside the
/// shield of `sociaal-dossier`.
const BART_INSIDE: &str = "key = \"P10102\"\n\n[[people.positions]]\nfunction = \"maatschappelijk-werker\"\nunit = \"inkomen\"\n";

/// A dossier submitted through the source `notula` (acting as Bart Verhoeven): its
/// idempotency record names the document, as the webhook route writes it.
fn dossier_of_source(city: &City, n: u32) -> String {
    let doc = submit_dossier(city);
    rusqlite::Connection::open(&city.db)
        .unwrap()
        .execute(
            "INSERT INTO idempotency (person, key, request_sha256, status, response) VALUES ('webhook:notula', ?1, 'x', 202, ?2)",
            [format!("msg_{n}"), format!("{{\"documents\":[\"{doc}\"],\"queue\":null}}")],
        )
        .unwrap();
    doc
}

/// (type, state, last_error) of each webhook row about `doc`.
fn hooks_about(city: &City, doc: &str) -> Vec<(String, String, Option<String>)> {
    hook_bodies(city)
        .into_iter()
        .filter(|(p, _)| p.contains(doc))
        .map(|(p, (st, why))| {
            let v: serde_json::Value = serde_json::from_str(&p).unwrap();
            (v["type"].as_str().unwrap().to_string(), st, why)
        })
        .collect()
}

/// Finding 06 of attack 4: a source acts as its person, so once an HR change moved that
/// person out of a shield, the source hears nothing more of the shielded files it
/// submitted: a completion recorded after the move is dropped when it is queued, one queued before the move is dropped when the sender takes it up, and a seal
/// after the move likewise; each with its reason. While the person was inside, the bare
/// notice went out.
#[test]
fn a_source_whose_person_moved_out_of_the_shield_hears_nothing_more_of_its_files() {
    let city = City::aalst("outbox-checked-hook-moved");
    let (addr, requests) = receiver();
    let hooks = notula_as("bart-verhoeven", &addr);
    let mut cfg = config(&city, 1, hooks);
    cfg.mail = None;
    let mut outbox = Outbox::open(&city.db).unwrap();
    // Inside: the completion of `inside` goes out, as a bare notice.
    let inside = dossier_of_source(&city, 1);
    complete_dossier(&city, &inside);
    round(&mut outbox, &cfg, now(), state(&city).state()).unwrap();
    let body = requests
        .recv_timeout(Duration::from_secs(10))
        .expect("the notice while its person is inside");
    assert!(
        body.contains(&inside) && body.contains("document.completed"),
        "{body}"
    );
    // Queued while inside, not yet sent when the move comes.
    let queued = dossier_of_source(&city, 2);
    complete_dossier(&city, &queued);
    let completed = dossier_of_source(&city, 3);
    assert_eq!(hooks_about(&city, &queued)[0].1, "pending");
    // HR moves Bart Verhoeven out of Sociale Zaken.
    deploy_org(&city, "moved.toml", BART_INSIDE, "key = \"P10102\"\n");
    // After the move: one completed.
    complete_dossier(&city, &completed);
    let rt = state(&city);
    // A seal after the move is checked the same way when it is queued.
    let sealed = paraaf_runtime::outbox::derive(
        rt.state(),
        &[(
            rt.state().last_seq + 1,
            now(),
            paraaf_runtime::engine::Event::DocumentSealed {
                doc: inside.clone(),
                sha256: "0".repeat(64),
                code: "K7QF-3M9X-T2PA".into(),
                timestamped: true,
            },
        )],
    );
    let seal_hook: Vec<_> = sealed.iter().filter(|i| i.channel == "webhook").collect();
    assert_eq!(seal_hook.len(), 1, "{sealed:#?}");
    assert!(
        seal_hook[0]
            .dropped
            .as_deref()
            .is_some_and(|w| w.contains("bart-verhoeven may not see the document")),
        "{seal_hook:#?}"
    );
    // One queued (by a version without the check at queue time) before the move: the
    // sender's check drops it.
    let db = rusqlite::Connection::open(&city.db).unwrap();
    let (seq, payload): (u64, String) = db
        .query_row(
            "SELECT seq, payload FROM outbox WHERE channel = 'webhook' AND instr(payload, ?1) > 0",
            [&inside],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut seal: serde_json::Value = serde_json::from_str(&payload).unwrap();
    seal["type"] = "document.sealed".into();
    seal["data"]["outcome"] = "sealed".into();
    db.execute(
        "INSERT INTO outbox (seq, channel, recipient, urgent, at, payload) VALUES (?1, 'webhook', 'bart-verhoeven', 1, ?2, ?3)",
        rusqlite::params![seq + 100_000, NOW, seal.to_string()],
    )
    .unwrap();
    round(&mut outbox, &cfg, now(), rt.state()).unwrap();
    let mut got = Vec::new();
    while let Ok(body) = requests.recv_timeout(Duration::from_millis(1500)) {
        got.push(body);
    }
    assert!(got.is_empty(), "nothing more reaches the source: {got:#?}");
    for (doc, kind, when) in [
        (&queued, "document.completed", "queued before the move"),
        (&completed, "document.completed", "after the move"),
    ] {
        let rows = hooks_about(&city, doc);
        assert_eq!(rows.len(), 1, "{when}: {rows:#?}");
        let (t, st, why) = &rows[0];
        assert_eq!((t.as_str(), st.as_str()), (kind, "dropped"), "{when}");
        assert!(
            why.as_deref()
                .is_some_and(|w| w.contains("bart-verhoeven may not see the document")),
            "{when}: {why:?}"
        );
    }
    let rows = hooks_about(&city, &inside);
    assert!(
        rows.iter()
            .any(|(t, st, why)| t == "document.completed" && st == "sent" && why.is_none()),
        "{rows:#?}"
    );
    let (_, st, why) = rows
        .iter()
        .find(|(t, _, _)| t == "document.sealed")
        .unwrap();
    assert_eq!(st, "dropped");
    assert!(
        why.as_deref()
            .is_some_and(|w| w.contains("may not see the document")),
        "{why:?}"
    );
}

/// A rename (a marriage: the same HR key, a new id) keeps the person inside the shield:
/// the source, now configured under the new id, still hears of its shielded file.
#[test]
fn a_source_whose_person_got_a_new_id_inside_the_shield_still_hears_of_its_file() {
    let city = City::aalst("outbox-checked-hook-shield-rename");
    let (addr, requests) = receiver();
    let queued = dossier_of_source(&city, 1);
    complete_dossier(&city, &queued);
    let later = dossier_of_source(&city, 2);
    deploy_org(
        &city,
        "married.toml",
        "id = \"bart-verhoeven\"\nname = \"Bart Verhoeven\"",
        "id = \"bart-verhoeven-peeters\"\nname = \"Bart Verhoeven-Peeters\"",
    );
    complete_dossier(&city, &later);
    let hooks = notula_as("bart-verhoeven-peeters", &addr);
    let mut cfg = config(&city, 1, hooks);
    cfg.mail = None;
    let mut outbox = Outbox::open(&city.db).unwrap();
    round(&mut outbox, &cfg, now(), state(&city).state()).unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        got.push(
            requests
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("both notices: {got:#?}")),
        );
    }
    for doc in [&queued, &later] {
        assert!(got.iter().any(|b| b.contains(doc.as_str())), "{got:#?}");
        let rows = hooks_about(&city, doc);
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert_eq!(rows[0].1, "sent", "{rows:#?}");
    }
    assert_eq!(outbox.counts().unwrap().dropped, 0);
}

/// The project of examples/aalst with a rule that lets the portal start a social file
/// (`sociaal-dossier`, shielded by Sociale Zaken) as well as its certificate.
fn deploy_with_portal_rule(city: &City) {
    let proj = city.dir.join("proj");
    support::copy_dir(&support::root().join("examples/aalst"), &proj);
    let _ = std::fs::remove_file(proj.join("migration.toml"));
    let rules = proj.join("flows/integrations.paraaf");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text.push_str(
        "\n// Living-wage requests from the portal start a social file.\nrule leefloon-uit-portaal on certificate.requested when request.certificate == \"leefloon\" {\n  start sociaal-dossier-beslissing with\n    team = inkomen,\n    dossiernummer = request.reference\n}\n",
    );
    std::fs::write(&rules, text).unwrap();
    city.ok(&["deploy", proj.to_str().unwrap()], NOW);
}

/// Posts a signed webhook to `source`; (status, body).
fn post_hook(
    server: &support::Server,
    source: &str,
    secret: &str,
    id: &str,
    body: &str,
) -> (u16, String) {
    let ts = chrono::Utc::now().timestamp();
    let sig = paraaf_runtime::api::sign_webhook(secret.as_bytes(), id, ts, body.as_bytes());
    server
        .request_with(
            "POST",
            &format!("/webhooks/{source}"),
            None,
            None,
            Some(body),
            &[
                ("webhook-id", id.to_string()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", sig),
            ],
        )
        .expect("the server answers")
}

/// Attack 4, A62 and finding 06: a source whose person is outside the shield starting a
/// social file is refused (403, saying why; nothing is started, not even the other
/// document of the same event), never a 503; and the portal's own first delivery,
/// replayed under its reference after its person moved out of the shield, no longer
/// names the social file (hidden looks like missing) but still the certificate.
#[test]
fn a_webhook_answer_names_only_what_the_sources_person_may_see() {
    let city = City::aalst("outbox-checked-hook-answer");
    deploy_with_portal_rule(&city);
    let (portaal, loket) = ("portaal-secret-0123456789", "loket-secret-0123456789");
    let extra = format!(
        "\n[webhooks.portaal]\nsecret = \"{portaal}\"\nas = \"koen-dubois\"\n\n[webhooks.loket]\nsecret = \"{loket}\"\nas = \"jan-cools\"\n"
    );
    let token = "koen-dubois-token-0123456789";
    let at = city.dir.join("s");
    std::fs::create_dir_all(&at).unwrap();
    let server = support::Server::start_with(&city.db, &[("koen-dubois", token)], &extra, &at);
    let leefloon = |reference: &str| {
        format!(
            r#"{{"event":"certificate.requested","data":{{"reference":"{reference}","certificate":"leefloon","citizen":"Jansens"}}}}"#
        )
    };
    // A62: jan-cools is outside Sociale Zaken.
    let events = city.events();
    for id in ["msg-a", "msg-b"] {
        let (status, answer) = post_hook(&server, "loket", loket, id, &leefloon("LEEFLOON-78"));
        assert_eq!(status, 403, "{answer}");
        let problem: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(problem["code"], "forbidden", "{answer}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("only its members may submit a sociaal-dossier"),
            "{answer}"
        );
    }
    assert_eq!(city.events(), events, "nothing was started");
    // The portal, acting as koen-dubois (inside): the certificate and the social file.
    let body = leefloon("LEEFLOON-77");
    let (status, first) = post_hook(&server, "portaal", portaal, "msg-1", &body);
    assert_eq!(status, 202, "{first}");
    let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&first).unwrap()["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{first}");
    let kind = |id: &str| {
        let (status, doc) =
            server.call("GET", &format!("/documents/{id}"), Some(token), None, None);
        assert_eq!(status, 200, "{doc}");
        serde_json::from_str::<serde_json::Value>(&doc).unwrap()["kind"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let social = ids
        .iter()
        .find(|d| kind(d) == "sociaal-dossier")
        .unwrap()
        .clone();
    let certificate = ids.iter().find(|d| **d != social).unwrap().clone();
    // Replayed while inside: the first answer.
    let (status, again) = post_hook(&server, "portaal", portaal, "msg-2", &body);
    assert_eq!((status, again.as_str()), (202, first.as_str()));
    drop(server);
    // HR moves koen-dubois to Sport.
    deploy_org(
        &city,
        "moved.toml",
        "key = \"P10095\"\n\n[[people.positions]]\nfunction = \"maatschappelijk-werker\"\nunit = \"sociale-zaken\"\n",
        "key = \"P10095\"\n",
    );
    let server = support::Server::start_with(&city.db, &[("koen-dubois", token)], &extra, &at);
    let (status, replay) = post_hook(&server, "portaal", portaal, "msg-3", &body);
    assert_eq!(status, 202, "{replay}");
    assert!(
        !replay.contains(&social),
        "the social file stays hidden: {replay}"
    );
    assert!(replay.contains(&certificate), "{replay}");
    let (status, _) = server.call(
        "GET",
        &format!("/documents/{social}"),
        Some(token),
        None,
        None,
    );
    assert_eq!(status, 404);
}

/// Finding 06 for a refusal: a discipline file (shielded by `tucht`) submitted through
/// the source `personeel`, acting as Tom Nowak, is refused after HR moved him out of
/// Personeel; the source is not told (dropped when queued, with the reason).
#[test]
fn a_refusal_after_the_sources_person_moved_out_is_not_told_to_the_source() {
    let city = City::aalst("outbox-checked-hook-refused");
    let (addr, requests) = receiver();
    let content = city.content.to_str().unwrap().to_string();
    let file = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "tuchtdossier",
            "--as",
            "tom-nowak",
            "--title",
            "Tucht Geheim",
            "--field",
            "medewerker=bart-de-smet",
            "--content",
            &content,
        ],
        NOW,
    );
    let file = file.lines().next().unwrap().trim().to_string();
    rusqlite::Connection::open(&city.db)
        .unwrap()
        .execute(
            "INSERT INTO idempotency (person, key, request_sha256, status, response) VALUES ('webhook:personeel', 'msg_1', 'x', 202, ?1)",
            [format!("{{\"documents\":[\"{file}\"],\"queue\":null}}")],
        )
        .unwrap();
    city.ok(&["doc", "sign", &file, "--as", "tom-nowak"], NOW);
    deploy_org(
        &city,
        "moved.toml",
        "key = \"P10267\"\n\n[[people.positions]]\nfunction = \"diensthoofd\"\nunit = \"personeel\"\n",
        "key = \"P10267\"\n",
    );
    city.ok(
        &[
            "doc",
            "refuse",
            &file,
            "--as",
            "hans-de-backer",
            "--reason",
            "Geen grond",
        ],
        NOW,
    );
    let hooks: BTreeMap<String, HookTarget> = [(
        "tom-nowak".to_string(),
        HookTarget {
            source: "personeel".into(),
            url: format!("http://{addr}/paraaf"),
            secret: b"secret".to_vec(),
        },
    )]
    .into();
    let mut cfg = config(&city, 1, hooks);
    cfg.mail = None;
    let mut outbox = Outbox::open(&city.db).unwrap();
    round(&mut outbox, &cfg, now(), state(&city).state()).unwrap();
    assert!(
        requests.recv_timeout(Duration::from_millis(1500)).is_err(),
        "nothing reaches the source"
    );
    let rows = hooks_about(&city, &file);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let (t, st, why) = &rows[0];
    assert_eq!((t.as_str(), st.as_str()), ("document.refused", "dropped"));
    assert!(
        why.as_deref()
            .is_some_and(|w| w.contains("tom-nowak may not see the document")),
        "{why:?}"
    );
}

/// Found by an outside attacker (stop 38): one row written into the `outbox` table by
/// hand (no event, no key) made the server sign and send "completed" for a document in
/// progress, and a mail about a shielded file with a title in it. The sender now sends
/// only what the logged event the row names causes, about that event's document, and
/// says of the document only what the state says (nothing of a shielded file).
#[test]
fn an_outbox_row_no_logged_event_causes_is_not_sent() {
    let city = City::aalst("outbox-forged");
    let (addr, requests) = receiver();
    let hooks = notula_as("bart-verhoeven", &addr);
    let mut cfg = config(&city, 1, hooks);
    cfg.mail = None;
    let mut outbox = Outbox::open(&city.db).unwrap();
    // Two files of the source, neither completed.
    let first = dossier_of_source(&city, 1);
    let second = dossier_of_source(&city, 2);
    round(&mut outbox, &cfg, now(), state(&city).state()).unwrap();
    while requests.recv_timeout(Duration::from_millis(500)).is_ok() {}
    let db = rusqlite::Connection::open(&city.db).unwrap();
    let last: u64 = db
        .query_row("SELECT max(seq) FROM events", [], |r| r.get(0))
        .unwrap();
    let hook = |doc: &str, kind: &str, outcome: &str| {
        serde_json::json!({
            "type": kind,
            "timestamp": "2026-11-23T09:00:00Z",
            "data": {"document": doc, "outcome": outcome, "event": 3},
        })
        .to_string()
    };
    // The class: a seq no event has; a real event of the document that causes no
    // webhook (its submission); a real event of another document; an event that causes
    // another notice than the row says.
    let submitted_first: u64 = db
        .query_row(
            "SELECT min(seq) FROM events WHERE json_extract(body, '$.doc') = ?1 OR json_extract(body, '$.id') = ?1",
            [&first],
            |r| r.get(0),
        )
        .unwrap();
    let forged = [
        (last + 50, hook(&first, "document.completed", "completed")),
        (
            submitted_first,
            hook(&first, "document.completed", "completed"),
        ),
        (last, hook(&first, "document.refused", "stopped")),
    ];
    for (seq, payload) in &forged {
        db.execute(
            "INSERT OR REPLACE INTO outbox (seq, channel, recipient, urgent, at, payload) VALUES (?1, 'webhook', 'bart-verhoeven', 1, ?2, ?3)",
            rusqlite::params![seq, NOW, payload],
        )
        .unwrap();
    }
    round(&mut outbox, &cfg, now(), state(&city).state()).unwrap();
    let mut got = Vec::new();
    while let Ok(body) = requests.recv_timeout(Duration::from_millis(1500)) {
        got.push(body);
    }
    assert!(got.is_empty(), "a forged row went out: {got:#?}");
    let rows = hooks_about(&city, &first);
    assert!(
        rows.iter()
            .all(|(_, st, why)| st == "dropped"
                && why.as_deref().is_some_and(|w| w.contains("the log"))),
        "{rows:#?}"
    );
    // What the log does cause still goes: the second file completes.
    complete_dossier(&city, &second);
    round(&mut outbox, &cfg, now(), state(&city).state()).unwrap();
    let body = requests
        .recv_timeout(Duration::from_secs(10))
        .expect("the real notice");
    assert!(
        body.contains(&second) && body.contains("document.completed"),
        "{body}"
    );
}
