//! Runtime scenarios through the HTTP API, the authorization matrix, and the crash test.

#[path = "../runtime/tests/pg_support/mod.rs"]
mod pg_support;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use support::{City, Server};

/// Runs `body` on the Aalst example in a SQLite file, then in a city of a throwaway
/// PostgreSQL cluster (`PARAAF_STORES=sqlite` or `postgres` runs one): the same
/// assertions through `paraaf serve` on both stores.
fn on_each_store(name: &str, body: impl Fn(&City)) {
    let wants = std::env::var("PARAAF_STORES").unwrap_or_default();
    if wants.is_empty() || wants == "sqlite" {
        body(&City::aalst(name));
    }
    if wants.is_empty() || wants == "postgres" {
        let Some(pg) = pg_support::Cluster::start(name) else {
            return;
        };
        paraaf_runtime::pg_store::schema::migrate(&pg.owner_url(), pg_support::APP).unwrap();
        body(&City::aalst_on_postgres(
            &format!("{name}-pg"),
            &pg.app_url(),
            "aalst",
        ));
    }
}

fn token(person: &str) -> String {
    format!("token-{person}-0123456789")
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn besluit(bedrag: &str) -> String {
    format!(
        r#"{{"kind":"besluit","title":"Aankoop","content":"pdf","fields":{{"dienst":"bevolking","bron":"notula","titel":"Aankoop","bedrag":"{bedrag}"}}}}"#
    )
}

#[test]
fn submit_and_sign_over_http() {
    on_each_store("http", submit_and_sign);
}

fn submit_and_sign(city: &City) {
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let colleague = city.staff("bevolking", "diensthoofd")[1].clone();
    let head = city.function("diensthoofd", Some("bevolking"));
    let outsider = city.function("diensthoofd", Some("sociale-zaken"));
    let people = [&uploader, &colleague, &head, &outsider];
    let tokens: Vec<(String, String)> = people.iter().map(|p| (p.to_string(), token(p))).collect();
    let refs: Vec<(&str, &str)> = tokens
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let server = city.server(&refs);
    let t = |p: &str| token(p);

    // No or a wrong token: 401.
    assert_eq!(server.call("GET", "/inbox", None, None, None).0, 401);
    assert_eq!(
        server
            .call("GET", "/inbox", Some("nope-nope-nope-nope"), None, None)
            .0,
        401
    );

    // Submit with an idempotency key, twice: one document.
    let (status, body) = server.call(
        "POST",
        "/documents",
        Some(&t(&uploader)),
        Some("k-1"),
        Some(&besluit("9000")),
    );
    assert_eq!(status, 201, "{body}");
    let id = json(&body)["id"].as_str().unwrap().to_string();
    let (status2, body2) = server.call(
        "POST",
        "/documents",
        Some(&t(&uploader)),
        Some("k-1"),
        Some(&besluit("9000")),
    );
    assert_eq!((status2, &body2), (201, &body));
    let (status3, body3) = server.call(
        "POST",
        "/documents",
        Some(&t(&uploader)),
        Some("k-1"),
        Some(&besluit("10")),
    );
    assert_eq!(status3, 422, "{body3}");
    let (_, list) = server.call("GET", "/documents", Some(&t(&uploader)), None, None);
    assert_eq!(json(&list)["total"], 1);

    // Bad input: clear error, nothing changes.
    let (s, b) = server.call(
        "POST",
        "/documents",
        Some(&t(&uploader)),
        None,
        Some(r#"{"kind":"besluit","content":"x","fields":{"bron":"x"}}"#),
    );
    assert_eq!(s, 422);
    assert!(
        json(&b)["detail"]
            .as_str()
            .unwrap()
            .contains("required field"),
        "{b}"
    );
    let (s, _) = server.call(
        "POST",
        "/documents",
        Some(&t(&uploader)),
        None,
        Some("{not json"),
    );
    assert_eq!(s, 422);

    // 404 for a hidden document is the same as for a missing one.
    let hidden = server.call(
        "GET",
        &format!("/documents/{id}"),
        Some(&t(&outsider)),
        None,
        None,
    );
    let missing = server.call("GET", "/documents/d-999", Some(&t(&outsider)), None, None);
    assert_eq!(hidden, missing);
    assert_eq!(hidden.0, 404);
    assert_eq!(
        server.call(
            "POST",
            &format!("/documents/{id}/sign"),
            Some(&t(&outsider)),
            None,
            None
        ),
        missing
    );

    // The colleague sees nothing (review-style visibility is per flow: here the unit sees it).
    assert_eq!(
        server
            .call(
                "GET",
                &format!("/documents/{id}"),
                Some(&t(&colleague)),
                None,
                None
            )
            .0,
        200
    );
    // ...but may not sign: 403.
    assert_eq!(
        server
            .call(
                "POST",
                &format!("/documents/{id}/sign"),
                Some(&t(&colleague)),
                None,
                None
            )
            .0,
        403
    );

    // The head signs; twice with the same key is one signature.
    let (s, b) = server.call(
        "POST",
        &format!("/documents/{id}/sign"),
        Some(&t(&head)),
        Some("s-1"),
        None,
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        server.call(
            "POST",
            &format!("/documents/{id}/sign"),
            Some(&t(&head)),
            Some("s-1"),
            None
        ),
        (s, b)
    );
    assert_eq!(
        server
            .call(
                "POST",
                &format!("/documents/{id}/sign"),
                Some(&t(&head)),
                None,
                None
            )
            .0,
        403,
        "second sign"
    );
    let (_, inbox) = server.call("GET", "/inbox", Some(&t(&head)), None, None);
    assert_eq!(json(&inbox)["total"], 0);

    // Paging.
    for i in 0..5 {
        server.call(
            "POST",
            "/documents",
            Some(&t(&uploader)),
            Some(&format!("p-{i}")),
            Some(&besluit("1")),
        );
    }
    let (_, page) = server.call(
        "GET",
        "/documents?page=2&per_page=2",
        Some(&t(&uploader)),
        None,
        None,
    );
    let page = json(&page);
    assert_eq!(
        (
            page["total"].as_u64(),
            page["page"].as_u64(),
            page["next_page"].as_u64()
        ),
        (Some(6), Some(2), Some(3))
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 2);

    // Search goes through may_see too: the outsider finds nothing.
    let (_, found) = server.call(
        "GET",
        "/documents?q=aankoop",
        Some(&t(&uploader)),
        None,
        None,
    );
    assert_eq!(json(&found)["total"], 6);
    let (_, found) = server.call(
        "GET",
        "/documents?q=aankoop",
        Some(&t(&outsider)),
        None,
        None,
    );
    assert_eq!(json(&found)["total"], 0);
}

/// Content belongs to documents, never to a hash (#24): someone who was never in the
/// social service submits their own `besluit` with only the SHA-256 of a social-service
/// file's content (noted by a former member); the API refuses it exactly as it refuses a
/// hash nobody uploaded, and no content URL serves that file outside its document. Their
/// own content, referenced by its hash, still works.
#[test]
fn content_belongs_to_documents_not_to_hashes() {
    on_each_store("content-owner", content_belongs);
}

fn content_belongs(city: &City) {
    let member = "dirk-claes"; // team coach in the social service
    let outsider = city.staff("bevolking", "diensthoofd")[0].clone();
    let secret = city.dir.join("leefloon.pdf");
    std::fs::write(&secret, b"%PDF-1.4 leefloon SD-2026-0117").unwrap();
    let social = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            member,
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=SD-2026-0117",
            "--content",
            secret.to_str().unwrap(),
        ],
        "2026-11-23",
    );
    assert!(social.starts_with("d-"), "{social}");
    let secret_sha = paraaf_runtime::sha256_hex(b"%PDF-1.4 leefloon SD-2026-0117");
    let server = city.server(&[(member, &token(member)), (&outsider, &token(&outsider))]);
    let by_hash = |sha: &str| {
        format!(
            r#"{{"kind":"besluit","content_sha256":"{sha}","fields":{{"dienst":"bevolking","bron":"notula","titel":"Aankoop","bedrag":"10"}}}}"#
        )
    };
    // The member's content by its hash alone: refused, exactly like a hash nobody uploaded.
    let stolen = server.call(
        "POST",
        "/documents",
        Some(&token(&outsider)),
        None,
        Some(&by_hash(&secret_sha)),
    );
    let unknown = server.call(
        "POST",
        "/documents",
        Some(&token(&outsider)),
        None,
        Some(&by_hash(&"ab".repeat(32))),
    );
    assert_eq!(stolen.0, 422, "{}", stolen.1);
    assert_eq!(stolen, unknown);
    assert!(
        json(&stolen.1)["detail"]
            .as_str()
            .unwrap()
            .contains("uploaded by you"),
        "{}",
        stolen.1
    );
    let (_, list) = server.call("GET", "/documents", Some(&token(&outsider)), None, None);
    assert_eq!(json(&list)["total"], 0, "{list}");

    // Their own content: sent once with its bytes, then referenced by its hash.
    let own = "Aankoop laptops: het besluit";
    let (s, b) = server.call(
        "POST",
        "/documents",
        Some(&token(&outsider)),
        None,
        Some(&besluit("10").replace(r#""content":"pdf""#, &format!(r#""content":"{own}""#))),
    );
    assert_eq!(s, 201, "{b}");
    let first = json(&b)["id"].as_str().unwrap().to_string();
    let (s, b) = server.call(
        "POST",
        "/documents",
        Some(&token(&outsider)),
        None,
        Some(&by_hash(&paraaf_runtime::sha256_hex(own.as_bytes()))),
    );
    assert_eq!(s, 201, "{b}");
    let second = json(&b)["id"].as_str().unwrap().to_string();
    for doc in [&first, &second] {
        let (s, body) = server.call(
            "GET",
            &format!("/documents/{doc}/content"),
            Some(&token(&outsider)),
            None,
            None,
        );
        assert_eq!((s, body.as_str()), (200, own));
    }
    // The shielded document's content: to the member through their document, to the
    // outsider never (404 exactly like a missing document).
    let (s, body) = server.call(
        "GET",
        &format!("/documents/{social}/content"),
        Some(&token(member)),
        None,
        None,
    );
    assert_eq!((s, body.as_str()), (200, "%PDF-1.4 leefloon SD-2026-0117"));
    let hidden = server.call(
        "GET",
        &format!("/documents/{social}/content"),
        Some(&token(&outsider)),
        None,
        None,
    );
    let missing = server.call(
        "GET",
        "/documents/d-aaaaaaaaaaaaaaaa/content",
        Some(&token(&outsider)),
        None,
        None,
    );
    assert_eq!(hidden.0, 404);
    assert_eq!(hidden, missing);
    // The member sees nothing of the outsider's besluit through its content URL either.
    let (s, _) = server.call(
        "GET",
        &format!("/documents/{first}/content"),
        Some(&token(member)),
        None,
        None,
    );
    assert_eq!(s, 404);
    assert_eq!(
        server
            .call(
                "GET",
                &format!("/documents/{first}/content"),
                None,
                None,
                None
            )
            .0,
        401
    );
}

/// Public document ids are random: they tell neither how many documents there are nor
/// whether one exists between two others (#24); task ids count within their document.
#[test]
fn document_ids_reveal_nothing() {
    let city = City::aalst("random-ids");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let fields = [
        "dienst=bevolking",
        "bron=notula",
        "titel=Aankoop",
        "bedrag=10",
    ];
    let ids: Vec<String> = (0..3)
        .map(|_| city.submit("besluit", &uploader, &fields, "2026-11-23"))
        .collect();
    for id in &ids {
        let tail = id.strip_prefix("d-").unwrap_or_else(|| panic!("{id}"));
        assert_eq!(tail.len(), 16, "{id}");
        assert!(
            tail.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)),
            "{id}"
        );
        assert!(tail.bytes().any(|b| b.is_ascii_lowercase()), "{id}");
    }
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 3, "{ids:?}");
    assert!(!ids.contains(&"d-1".to_string()));
    // Each document's first task is t-1, whatever came before.
    let server = Server::start(&city.db, &[(&uploader, &token(&uploader))], &city.dir);
    for id in &ids {
        let (s, b) = server.call(
            "GET",
            &format!("/documents/{id}"),
            Some(&token(&uploader)),
            None,
            None,
        );
        assert_eq!(s, 200, "{b}");
        assert_eq!(json(&b)["tasks"][0]["id"], "t-1", "{b}");
    }
    // The projection, rebuilt from the log, keys them internally (random ids included).
    drop(server);
    city.ok(&["admin", "rebuild"], "2026-11-23");
    for id in &ids {
        assert!(city.status(id, &uploader).contains("in_progress"), "{id}");
    }
}

#[test]
fn openapi_document() {
    insta::assert_snapshot!(paraaf_runtime::api::openapi_json());
}

/// Every person × document × action against an oracle written out here, independently
/// of `may_see`: who may see and sign what.
#[test]
fn authorization_matrix() {
    let city = City::aalst("matrix");
    let c = |f: &str, u: Option<&str>| city.function(f, u);
    let inkomen_worker = city.staff("inkomen", "teamcoach")[0].clone();
    let schuld_worker = city.staff("schuldbemiddeling", "teamcoach")[0].clone();
    let bevolking_staff = city.staff("bevolking", "diensthoofd");
    let (reviewed, bevolking_colleague) = (bevolking_staff[0].clone(), bevolking_staff[1].clone());
    let people = BTreeMap::from([
        ("inkomen-worker", inkomen_worker.clone()),
        ("schuld-worker", schuld_worker.clone()),
        ("inkomen-coach", c("teamcoach", Some("inkomen"))),
        ("sz-head", c("diensthoofd", Some("sociale-zaken"))),
        ("ad", c("algemeen-directeur", None)),
        ("burgemeester", city.mandate("burgemeester")),
        ("bevolking-head", c("diensthoofd", Some("bevolking"))),
        ("reviewed", reviewed.clone()),
        ("bevolking-colleague", bevolking_colleague.clone()),
        ("hr-head", c("diensthoofd", Some("personeel"))),
        ("org-head", c("departementshoofd", Some("organisatie"))),
        ("aad", c("adjunct-algemeen-directeur", None)),
    ]);
    let content = city.content.to_str().unwrap();
    let now = "2026-11-23";
    let social = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            &inkomen_worker,
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=1",
            "--content",
            content,
        ],
        now,
    );
    let review = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "evaluatie",
            "--as",
            &people["bevolking-head"],
            "--field",
            "dienst=bevolking",
            "--field",
            &format!("medewerker={reviewed}"),
            "--content",
            content,
        ],
        now,
    );
    let discipline = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "tuchtdossier",
            "--as",
            &people["hr-head"],
            "--field",
            &format!("medewerker={bevolking_colleague}"),
            "--content",
            content,
        ],
        now,
    );
    // Oracle: (document, role) → (may see, may sign now).
    let oracle: BTreeMap<(&str, &str), (bool, bool)> = BTreeMap::from([
        // Social file: the whole of Sociale Zaken sees it; the team coach signs first.
        ((social.as_str(), "inkomen-worker"), (true, false)),
        ((social.as_str(), "schuld-worker"), (true, false)),
        ((social.as_str(), "inkomen-coach"), (true, true)),
        ((social.as_str(), "sz-head"), (true, false)),
        ((social.as_str(), "ad"), (false, false)),
        ((social.as_str(), "burgemeester"), (false, false)),
        ((social.as_str(), "bevolking-head"), (false, false)),
        ((social.as_str(), "reviewed"), (false, false)),
        ((social.as_str(), "bevolking-colleague"), (false, false)),
        ((social.as_str(), "hr-head"), (false, false)),
        ((social.as_str(), "org-head"), (false, false)),
        ((social.as_str(), "aad"), (false, false)),
        // Review: the uploader (the head, who signs first). The reviewed employee signs
        // second and sees the review once asked to sign, not before.
        ((review.as_str(), "bevolking-head"), (true, true)),
        ((review.as_str(), "reviewed"), (false, false)),
        ((review.as_str(), "bevolking-colleague"), (false, false)),
        ((review.as_str(), "ad"), (false, false)),
        ((review.as_str(), "burgemeester"), (false, false)),
        ((review.as_str(), "inkomen-worker"), (false, false)),
        ((review.as_str(), "schuld-worker"), (false, false)),
        ((review.as_str(), "inkomen-coach"), (false, false)),
        ((review.as_str(), "sz-head"), (false, false)),
        ((review.as_str(), "hr-head"), (false, false)),
        ((review.as_str(), "org-head"), (false, false)),
        ((review.as_str(), "aad"), (false, false)),
        // Discipline: the shielded group tucht only.
        ((discipline.as_str(), "hr-head"), (true, true)),
        ((discipline.as_str(), "org-head"), (true, false)),
        ((discipline.as_str(), "ad"), (true, false)),
        ((discipline.as_str(), "aad"), (true, false)),
        ((discipline.as_str(), "bevolking-colleague"), (false, false)),
        ((discipline.as_str(), "burgemeester"), (false, false)),
        ((discipline.as_str(), "reviewed"), (false, false)),
        ((discipline.as_str(), "bevolking-head"), (false, false)),
        ((discipline.as_str(), "inkomen-worker"), (false, false)),
        ((discipline.as_str(), "schuld-worker"), (false, false)),
        ((discipline.as_str(), "inkomen-coach"), (false, false)),
        ((discipline.as_str(), "sz-head"), (false, false)),
    ]);
    let runtime = paraaf_runtime::Runtime::open(&city.db, Default::default()).unwrap();
    let inboxes: BTreeMap<&str, Vec<String>> = people
        .iter()
        .map(|(role, p)| {
            (
                *role,
                runtime
                    .state()
                    .documents
                    .values()
                    .filter(|d| {
                        d.tasks.iter().any(|t| {
                            t.status == paraaf_runtime::engine::TaskStatus::Open
                                && t.spec.assignees.contains(p)
                        })
                    })
                    .map(|d| d.id.clone())
                    .collect(),
            )
        })
        .collect();
    let mut checked = 0;
    for ((doc, role), (see, sign)) in &oracle {
        let person = &people[role];
        assert_eq!(
            paraaf_runtime::visibility::may_see(runtime.state(), person, doc),
            *see,
            "{role} may see {doc}"
        );
        assert_eq!(
            inboxes[role].contains(&doc.to_string()),
            *sign,
            "{role} may sign {doc}"
        );
        // Guessing ids: a document that does not exist is invisible to everyone.
        assert!(!paraaf_runtime::visibility::may_see(
            runtime.state(),
            person,
            "d-404"
        ));
        checked += 1;
    }
    assert_eq!(checked, people.len() * 3);
    // The CLI read paths agree: show and log.
    for ((doc, role), (see, _)) in &oracle {
        let o = city.run(&["doc", "show", doc, "--as", &people[role]], now);
        assert_eq!(o.status.success(), *see, "show {doc} as {role}");
        let log = city.ok(&["log", "--as", &people[role]], now);
        assert_eq!(
            log.contains(&format!("\"doc\":\"{doc}\"")),
            *see,
            "log of {role} for {doc}"
        );
    }
}

/// kill -9 the server while it accepts a stream of submissions and signatures; after a
/// restart every acknowledged request is there exactly once and the audit chain holds.
#[test]
fn crash_loses_no_acknowledged_request() {
    let city = City::aalst("crash");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let head = city.function("diensthoofd", Some("bevolking"));
    let tokens = [
        (uploader.as_str(), token(&uploader)),
        (head.as_str(), token(&head)),
    ];
    let refs: Vec<(&str, &str)> = tokens.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let mut seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut acked: BTreeMap<String, String> = BTreeMap::new(); // idempotency key -> doc id
    let mut signed_acked: BTreeSet<String> = BTreeSet::new();
    let mut sent: BTreeSet<String> = BTreeSet::new();
    let mut next = 0;
    // `scripts/soak.sh N` runs this with many cycles; CI runs 6.
    let cycles: usize = std::env::var("PARAAF_KILL_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    for round in 0..cycles {
        let server = Server::start(&city.db, &refs, &city.dir);
        let kill_after = 3 + (rand() % 12) as usize;
        let addr = server.addr.clone();
        let mut child = server;
        // Writers in parallel threads, so the kill lands mid-stream.
        let keys: Vec<String> = (0..40).map(|i| format!("c-{round}-{}", next + i)).collect();
        next += 40;
        let (tx, rx) = std::sync::mpsc::channel::<(String, Option<String>)>();
        let mut handles = Vec::new();
        for chunk in keys.chunks(10) {
            let chunk = chunk.to_vec();
            let tx = tx.clone();
            let up = token(&uploader);
            let hd = token(&head);
            let addr = addr.clone();
            handles.push(std::thread::spawn(move || {
                let s = Server {
                    child: std::process::Command::new("true").spawn().unwrap(),
                    addr,
                };
                for key in chunk {
                    let r = s.request(
                        "POST",
                        "/documents",
                        Some(&up),
                        Some(&key),
                        Some(&besluit("100")),
                    );
                    match r {
                        Some((201, body)) => {
                            let id = json(&body)["id"].as_str().unwrap().to_string();
                            let _ = tx.send((key.clone(), Some(id.clone())));
                            if let Some((200, _)) = s.request(
                                "POST",
                                &format!("/documents/{id}/sign"),
                                Some(&hd),
                                Some(&format!("sign-{key}")),
                                None,
                            ) {
                                let _ = tx.send((format!("sign-{key}"), Some(id)));
                            }
                        }
                        _ => {
                            let _ = tx.send((key, None));
                            return;
                        }
                    }
                }
            }));
        }
        drop(tx);
        let mut acks_this_round = 0;
        for (key, result) in rx.iter() {
            sent.insert(key.trim_start_matches("sign-").to_string());
            if let Some(id) = result {
                if let Some(k) = key.strip_prefix("sign-") {
                    signed_acked.insert(k.to_string());
                } else {
                    acked.insert(key, id);
                }
                acks_this_round += 1;
                if acks_this_round == kill_after {
                    // Only after the server confirmed at least one write.
                    child.child.kill().unwrap(); // SIGKILL
                    let _ = child.child.wait();
                }
            }
        }
        for h in handles {
            let _ = h.join();
        }
        assert!(
            acks_this_round >= 1,
            "round {round}: the server acknowledged nothing"
        );
        drop(child);
    }
    // Restart; every acknowledged submission is there once: re-sending its key returns the
    // same document, and no key made two documents.
    let server = Server::start(&city.db, &refs, &city.dir);
    let mut lost = Vec::new();
    for (key, id) in &acked {
        let (s, body) = server.call(
            "POST",
            "/documents",
            Some(&token(&uploader)),
            Some(key),
            Some(&besluit("100")),
        );
        if (s, json(&body)["id"].as_str().unwrap_or("")) != (201, id.as_str()) {
            lost.push(format!("submission {key} ({id})"));
        }
    }
    for key in &signed_acked {
        let id = &acked[key];
        let (_, body) = server.call(
            "GET",
            &format!("/documents/{id}"),
            Some(&token(&uploader)),
            None,
            None,
        );
        let doc = json(&body);
        if !doc["tasks"]
            .as_array()
            .is_some_and(|ts| ts.iter().any(|t| t["status"] == "signed"))
        {
            lost.push(format!("signature on {id}"));
        }
    }
    // Resend everything that was ever sent: documents = distinct keys (nothing twice).
    for key in &sent {
        server.call(
            "POST",
            "/documents",
            Some(&token(&uploader)),
            Some(key),
            Some(&besluit("100")),
        );
    }
    let (_, list) = server.call(
        "GET",
        "/documents?per_page=1",
        Some(&token(&uploader)),
        None,
        None,
    );
    let total = json(&list)["total"].as_u64().unwrap() as usize;
    let duplicated = total.saturating_sub(sent.len());
    println!(
        "kill -9 soak: {cycles} cycles, {} acknowledged submissions, {} acknowledged signatures, lost {}, duplicated {duplicated}",
        acked.len(),
        signed_acked.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert_eq!(total, sent.len(), "documents = distinct keys sent");
    drop(server);
    assert!(
        city.ok(&["audit", "verify"], "2026-11-23")
            .starts_with("ok:")
    );
    let store = paraaf_runtime::store::Store::open(&city.db).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let stored = store.projection_rows().unwrap();
    drop(store);
    city.ok(&["admin", "rebuild"], "2026-11-23");
    let store = paraaf_runtime::store::Store::open(&city.db).unwrap();
    assert_eq!(store.projection_rows().unwrap(), stored);
    eprintln!(
        "crash test: {} acknowledged submissions, {} acknowledged signatures, {} keys sent",
        acked.len(),
        signed_acked.len(),
        sent.len()
    );
}

#[test]
fn webhooks_start_flows_and_are_verified() {
    let city = City::aalst("webhooks");
    let clerk = city.staff("secretariaat", "diensthoofd")[0].clone();
    let tokens = [(clerk.as_str(), token(&clerk))];
    let refs: Vec<(&str, &str)> = tokens.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let secret = "notula-shared-secret-0123456789";
    // The secret in its own file (a systemd or docker secret), not in the tokens file.
    let secret_file = city.dir.join("notula.secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let extra = format!(
        "\n[webhooks.notula]\nsecret_file = '{}'\nas = \"{clerk}\"\n",
        secret_file.display()
    );
    let server = Server::start_with(&city.db, &refs, &extra, &city.dir);
    let body = r#"{"event":"decision.received","data":{"title":"Aankoop zoutstrooiers","body":"college","dienst":"openbaar-domein","amount":"12000.00","reference":"CBS-2026-0412"}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let send = |id: &str, ts: i64, sig: String| {
        server
            .request_with(
                "POST",
                "/webhooks/notula",
                None,
                None,
                Some(body),
                &[
                    ("webhook-id", id.to_string()),
                    ("webhook-timestamp", ts.to_string()),
                    ("webhook-signature", sig),
                ],
            )
            .unwrap()
    };
    let good = paraaf_runtime::api::sign_webhook(secret.as_bytes(), "msg-1", now, body.as_bytes());
    let (s, b) = send("msg-1", now, good.clone());
    assert_eq!(s, 202, "{b}");
    let id = json(&b)["documents"][0].as_str().unwrap().to_string();
    // Delivered twice: one document; also when the retry has a new webhook-id (the
    // decision's `reference` is its key).
    assert_eq!(send("msg-1", now, good), (202, b.clone()));
    let again =
        paraaf_runtime::api::sign_webhook(secret.as_bytes(), "msg-1b", now, body.as_bytes());
    assert_eq!(send("msg-1b", now, again), (202, b.clone()));
    // A webhook-id of any length is no key: refused before anything is stored.
    let long = "m".repeat(300);
    let sig = paraaf_runtime::api::sign_webhook(secret.as_bytes(), &long, now, body.as_bytes());
    let (s, b2) = send(&long, now, sig);
    assert_eq!(s, 401, "{b2}");
    assert!(b2.contains("webhook-id"), "{b2}");
    // A wrong signature or an old timestamp is refused.
    assert_eq!(send("msg-2", now, "v1,AAAA".into()).0, 401);
    let old =
        paraaf_runtime::api::sign_webhook(secret.as_bytes(), "msg-3", now - 600, body.as_bytes());
    assert_eq!(send("msg-3", now - 600, old).0, 401);
    assert_eq!(
        server
            .call("POST", "/webhooks/unknown", None, None, Some(body))
            .0,
        404
    );
    // The source reads the status back; the decision needs the visum (12 000 EUR).
    let (s, doc) = server.call(
        "GET",
        &format!("/documents/{id}"),
        Some(&token(&clerk)),
        None,
        None,
    );
    assert_eq!(s, 200);
    let doc = json(&doc);
    assert_eq!(
        (doc["flow"].as_str(), doc["status"].as_str()),
        (Some("collegebesluit"), Some("in_progress"))
    );
    assert_eq!(doc["fields"]["bron"], "notula");
    let (_, list) = server.call("GET", "/documents", Some(&token(&clerk)), None, None);
    assert_eq!(json(&list)["total"], 1);
}

/// A raw request (headers as given, the body possibly short): the status, or `None`
/// when the server answered nothing within `wait`.
fn raw(server: &Server, request: &str, wait: std::time::Duration) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(&server.addr).ok()?;
    s.set_read_timeout(Some(wait)).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).ok()?;
    String::from_utf8_lossy(&buf[..n])
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The edges of the API an integrator runs into: a stranger's body is never waited for
/// (401 at once, also with `Expect: 100-continue`), a body of another type is 415,
/// paging out of range is 422 (not silently clamped), text that shows in another order
/// than it reads is refused; every answer is a problem document.
#[test]
fn the_api_refuses_at_its_edges() {
    let city = City::aalst("api-edges");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let t = token(&uploader);
    let server = Server::start(&city.db, &[(uploader.as_str(), t.as_str())], &city.dir);
    let quick = std::time::Duration::from_secs(3);
    let host = &server.addr;
    // A stranger announces a large body and sends none: 401 now, not after the body
    // timeout.
    let started = std::time::Instant::now();
    let status = raw(
        &server,
        &format!(
            "POST /documents HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n"
        ),
        quick,
    );
    assert_eq!(status, Some(401));
    assert!(started.elapsed() < quick);
    for path in ["/documents/d-1/sign", "/documents/d-1/comment"] {
        let status = raw(
            &server,
            &format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5000\r\n\r\n{{"),
            quick,
        );
        assert_eq!(status, Some(401), "{path}");
    }
    // A body that is not JSON by its declared type.
    let form = "kind=besluit";
    let status = raw(
        &server,
        &format!(
            "POST /documents HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
        quick,
    );
    assert_eq!(status, Some(415));
    // Paging out of range.
    for q in ["per_page=500", "per_page=0", "page=0"] {
        for path in ["/documents", "/inbox"] {
            let (s, b) = server.call("GET", &format!("{path}?{q}"), Some(&t), None, None);
            assert_eq!(s, 422, "{path}?{q}: {b}");
            assert_eq!(json(&b)["code"], "invalid", "{b}");
        }
    }
    let (s, _) = server.call("GET", "/documents?per_page=200", Some(&t), None, None);
    assert_eq!(s, 200);
    // A direction mark in a Latin title reorders what it shows; in Arabic it is needed.
    let submit = |title: &str| {
        let body = serde_json::json!({
            "kind": "besluit",
            "title": title,
            "fields": {"dienst": "bevolking", "bron": "notula", "titel": "x", "bedrag": "10"},
            "content": "inhoud",
        });
        server.call(
            "POST",
            "/documents",
            Some(&t),
            None,
            Some(&body.to_string()),
        )
    };
    for bad in ["Aankoop 100\u{200f}-5", "Akkoord\u{200e}", "a\u{61c}b"] {
        let (s, b) = submit(bad);
        assert_eq!(s, 422, "{bad:?}: {b}");
    }
    let (s, b) = submit("طلب \u{200f}2026");
    assert_eq!(s, 201, "{b}");
}

/// One writer per database: while `paraaf serve` runs, a CLI write is refused with the
/// server's address (never a silent second writer); reads still work; after the server
/// stops, the CLI writes again.
#[test]
fn a_second_writer_is_refused_with_the_servers_address() {
    let city = City::aalst("one-writer");
    let people = [city.mandate("burgemeester")];
    let toks: Vec<(String, String)> = people.iter().map(|p| (p.clone(), token(p))).collect();
    let refs: Vec<(&str, &str)> = toks.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let server = Server::start(&city.db, &refs, &city.dir);
    let who = city.staff("bevolking", "diensthoofd")[0].clone();
    let o = city.run(
        &[
            "absence",
            "add",
            &who,
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-02",
        ],
        "2026-11-23",
    );
    // Exit 4, whichever command: a script can tell "another writer" from a refusal.
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains(&format!("`paraaf serve` at http://{}", server.addr)),
        "{err}"
    );
    // Every other command that changes the database is refused the same way.
    let backup = city.dir.join("one-writer-backup.db");
    let content = city.content.to_str().unwrap().to_string();
    for args in [
        vec!["admin", "rebuild"],
        vec!["admin", "restore", "/nonexistent-backup.db"],
        vec!["deploy", "examples/aalst"],
        vec!["doc", "comment", "d-1", "--as", &who, "--text", "x"],
        vec![
            "doc",
            "submit",
            "--kind",
            "besluit",
            "--as",
            &who,
            "--field",
            "dienst=bevolking",
            "--field",
            "bron=notula",
            "--field",
            "titel=x",
            "--field",
            "bedrag=1",
            "--content",
            &content,
        ],
    ] {
        let o = city.run(&args, "2026-11-23");
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("`paraaf serve` at http://"), "{args:?}: {err}");
    }
    // `tick` is the exception: the server does its work itself (#26), so it says so and
    // succeeds (a cron job left in place does no harm).
    let o = city.run(&["tick"], "2026-11-23");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.contains("nothing to do") && out.contains("`paraaf serve` at http://"),
        "{out}"
    );
    // The lock file deleted while the server runs: the server takes it again at its
    // next write, and a CLI write is still refused (it once got a lock of its own).
    let mut lock = city.db.clone().into_os_string();
    lock.push(".lock");
    std::fs::remove_file(&lock).unwrap();
    let (status, body) = server.call(
        "POST",
        "/documents",
        Some(&toks[0].1),
        Some("after-lock-removed"),
        Some(&besluit("100")),
    );
    assert_eq!(status, 201, "{body}");
    assert!(std::path::Path::new(&lock).exists());
    let o = city.run(&["admin", "rebuild"], "2026-11-23");
    assert_eq!(o.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("`paraaf serve` at http://"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Reading is fine, and so is a backup (SQLite's online backup).
    assert!(city.run(&["inbox", &who], "2026-11-23").status.success());
    assert!(
        city.run(&["admin", "backup", backup.to_str().unwrap()], "2026-11-23")
            .status
            .success()
    );
    // A huge page number is an empty page, not page 1; no token is 401 before the body.
    let t = token(&people[0]);
    let (status, body) = server.call(
        "GET",
        "/documents?page=9223372036854775809",
        Some(&t),
        None,
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        json(&body)["items"].as_array().unwrap().is_empty(),
        "{body}"
    );
    assert_eq!(
        server
            .call(
                "POST",
                "/documents/d-1/comment",
                None,
                None,
                Some("not json")
            )
            .0,
        401
    );
    drop(server);
    city.ok(
        &[
            "absence",
            "add",
            &who,
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-02",
        ],
        "2026-11-23",
    );
}

/// Tokens are kept as hashes: `admin token add` prints a token once and stores only its
/// SHA-256; the server accepts the token by its hash; two people with one token are refused.
#[test]
fn tokens_are_kept_as_hashes() {
    let city = City::aalst("token-hashes");
    let mayor = city.mandate("burgemeester");
    let file = city.dir.join("issued.toml");
    let o = city.run(
        &[
            "admin",
            "token",
            "add",
            &mayor,
            "--tokens",
            file.to_str().unwrap(),
        ],
        "2026-11-23",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let token = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(
        !stored.contains(&token) && stored.contains("sha256:"),
        "{stored}"
    );
    let hash = stored.split("sha256:").nth(1).unwrap()[..64].to_string();
    let server = Server::start(
        &city.db,
        &[(mayor.as_str(), &format!("sha256:{hash}"))],
        &city.dir,
    );
    assert_eq!(
        server.call("GET", "/inbox", Some(&token), None, None).0,
        200
    );
    assert_eq!(
        server
            .call("GET", "/inbox", Some(&format!("sha256:{hash}")), None, None)
            .0,
        401
    );
    drop(server);
    // The same token for two people: the server does not start.
    let twice = city.dir.join("twice.toml");
    std::fs::write(
        &twice,
        "[tokens]\na = \"0123456789abcdef0\"\nb = \"0123456789abcdef0\"\n",
    )
    .unwrap();
    let o = city.run(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tokens",
            twice.to_str().unwrap(),
        ],
        "2026-11-23",
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("have the same token"));
}

/// Every error, from a handler or from the framework (query string, path, body limit,
/// route, method), is an RFC 9457 problem document listed in the OpenAPI document.
#[test]
fn every_error_is_a_problem_document() {
    let city = City::aalst("http-problems");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let dir = city.dir.clone();
    let server = Server::start(&city.db, &[(&uploader, &token(&uploader))], &dir);
    let t = token(&uploader);
    let big = format!(
        r#"{{"kind":"besluit","content":"{}"}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    // (method, path, token, body, status, problem code)
    type Case<'a> = (
        &'a str,
        String,
        Option<&'a str>,
        Option<String>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        ("GET", "/inbox".into(), None, None, 401, "unauthorized"),
        (
            "GET",
            "/documents/d-999".into(),
            Some(&t),
            None,
            404,
            "not_found",
        ),
        (
            "GET",
            "/inbox?page=abc".into(),
            Some(&t),
            None,
            400,
            "bad_request",
        ),
        (
            "GET",
            "/documents?per_page=-1".into(),
            Some(&t),
            None,
            400,
            "bad_request",
        ),
        ("GET", "/nowhere".into(), Some(&t), None, 404, "not_found"),
        (
            "DELETE",
            "/documents".into(),
            Some(&t),
            None,
            405,
            "method_not_allowed",
        ),
        (
            "POST",
            "/documents".into(),
            Some(&t),
            Some("{not json".into()),
            422,
            "invalid",
        ),
        (
            "POST",
            "/documents".into(),
            Some(&t),
            Some(big),
            413,
            "too_large",
        ),
        (
            "POST",
            "/documents/d-1/sign".into(),
            Some(&t),
            Some(String::new()),
            404,
            "not_found",
        ),
    ];
    let long_key = "k".repeat(60_000);
    let extra: Vec<(Case, Option<&str>)> = vec![
        // Who asks comes first: no token and a bad body or query is still a 401.
        (
            (
                "POST",
                "/documents/d-1/refuse".into(),
                None,
                Some("{bad".into()),
                401,
                "unauthorized",
            ),
            None,
        ),
        (
            (
                "POST",
                "/documents/d-1/comment".into(),
                None,
                Some("{bad".into()),
                401,
                "unauthorized",
            ),
            None,
        ),
        (
            (
                "GET",
                "/inbox?page=abc".into(),
                None,
                None,
                401,
                "unauthorized",
            ),
            None,
        ),
        (
            (
                "GET",
                "/documents?per_page=x".into(),
                None,
                None,
                401,
                "unauthorized",
            ),
            None,
        ),
        // Idempotency keys are bounded and visible ASCII.
        (
            (
                "POST",
                "/documents".into(),
                Some(&t),
                Some(r#"{"kind":"besluit","content":"x"}"#.into()),
                422,
                "invalid",
            ),
            Some(long_key.as_str()),
        ),
        (
            (
                "POST",
                "/documents/d-1/sign".into(),
                Some(&t),
                Some(String::new()),
                422,
                "invalid",
            ),
            Some("key with spaces"),
        ),
        // A kind of 50 kB is not echoed back whole.
        (
            (
                "POST",
                "/documents".into(),
                Some(&t),
                Some(format!(
                    r#"{{"kind":"{}","content":"x"}}"#,
                    "k".repeat(50_000)
                )),
                422,
                "invalid",
            ),
            None,
        ),
    ];
    let all: Vec<(Case, Option<&str>)> =
        cases.into_iter().map(|c| (c, None)).chain(extra).collect();
    let mut seen_statuses = BTreeSet::new();
    for ((method, path, token, body, status, code), idem) in all {
        seen_statuses.insert(status.to_string());
        let (s, head, b) = server
            .exchange(method, &path, token, idem, body.as_deref(), &[])
            .expect("answers");
        assert!(
            b.len() < 2_000,
            "{method} {path}: an answer of {} bytes echoes the request",
            b.len()
        );
        assert_eq!(s, status, "{method} {path}: {b}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{method} {path}: {head}"
        );
        let p = json(&b);
        assert_eq!(p["status"], status, "{b}");
        assert_eq!(p["code"], code, "{method} {path}: {b}");
        assert_eq!(p["type"], format!("/problems/{code}"));
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(p["detail"].as_str().is_some_and(|t| !t.is_empty()), "{b}");
        // The type is described where it points.
        let (s, _) = server.call("GET", &format!("/problems/{code}"), None, None, None);
        assert_eq!(s, 200);
    }
    let (_, head, _) = server
        .exchange("GET", "/inbox", None, None, None, &[])
        .unwrap();
    assert!(head.contains("www-authenticate: bearer"), "{head}");
    // The OpenAPI document lists the problem schema for every error response.
    let (_, doc) = server.call("GET", "/openapi.json", None, None, None);
    let doc = json(&doc);
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["paths"]["/health"].is_object() && doc["paths"]["/problems/{code}"].is_object());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // Every status this test provoked is documented on every operation.
            for status in &seen_statuses {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path} lacks {status}"
                );
            }
            // Paging and search live in the query string, and are optional.
            for param in op["parameters"].as_array().into_iter().flatten() {
                if ["page", "per_page", "q"].contains(&param["name"].as_str().unwrap_or("")) {
                    assert_eq!(param["in"], "query", "{method} {path}: {param}");
                    assert_ne!(param["required"], true, "{method} {path}: {param}");
                }
            }
            for (status, resp) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        resp["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

/// `GET /health` answers without a token; the server logs one JSON line per request when
/// stderr is not a terminal, without the bearer token.
#[test]
fn health_and_structured_logs() {
    use std::io::{BufRead, BufReader};
    let city = City::aalst("http-health");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let tokens = city.dir.join("tokens.toml");
    std::fs::write(
        &tokens,
        format!("[tokens]\n{uploader} = \"{}\"\n", token(&uploader)),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tokens",
            tokens.to_str().unwrap(),
        ])
        .env("PARAAF_DB", &city.db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_string();
    let server = Server { child, addr };
    // Without a token: that it runs, and no count of anything (the number of events
    // grows with every action, also on documents the caller may not see).
    let (s, b) = server.call("GET", "/health", None, None, None);
    assert_eq!(s, 200, "{b}");
    assert_eq!(json(&b), serde_json::json!({"status": "ok"}));
    let (s, b) = server.call("GET", "/health", Some("nope-nope-nope-nope"), None, None);
    assert_eq!((s, json(&b)), (200, serde_json::json!({"status": "ok"})));
    // A person's token gets no count either (only a monitoring token does: tests/oracles.rs).
    let (s, b) = server.call("GET", "/health", Some(&token(&uploader)), None, None);
    assert_eq!((s, json(&b)), (200, serde_json::json!({"status": "ok"})));
    let (s, _) = server.call("GET", "/inbox", Some(&token(&uploader)), None, None);
    assert_eq!(s, 200);
    let mut server = server;
    let _ = server.child.kill();
    let mut err = String::new();
    std::io::Read::read_to_string(server.child.stderr.as_mut().unwrap(), &mut err).unwrap();
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().any(|l| l["message"] == "listening"), "{err}");
    assert!(
        lines.iter().any(|l| l["span"]["uri"] == "/inbox"
            || l["uri"] == "/inbox"
            || l.to_string().contains("/inbox")),
        "{err}"
    );
    assert!(
        !err.contains(&token(&uploader)),
        "the token is logged: {err}"
    );
}

/// Slow or silent clients (slowloris) cannot hold the server: at most
/// `--max-connections` at once, the rest closed on accept; a connection that does not
/// finish its request headers within 10 s, does not send its body, or sends nothing for
/// 15 s, is closed; the server answers again after.
#[test]
fn slow_clients_cannot_hold_the_server() {
    use std::io::{BufRead, BufReader, Read, Write};
    let city = City::aalst("http-slowloris");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--max-connections",
            "8",
            "--max-connections-per-address",
            "8",
        ])
        .env("PARAAF_DB", &city.db)
        .env("PARAAF_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_string();
    let server = Server {
        child,
        addr: addr.clone(),
    };
    let mut held = Vec::new();
    for i in 0..20 {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        match i % 3 {
            // Headers that never end.
            0 => {
                let _ = s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n");
            }
            // A body announced and never sent (slow POST), without signing in.
            1 => {
                let _ = s.write_all(
                    b"POST /documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{",
                );
            }
            // Nothing at all.
            _ => {}
        }
        held.push(s);
    }
    std::thread::sleep(std::time::Duration::from_secs(17));
    // Every held connection was closed by the server (EOF, a 408, or a reset).
    for s in &mut held {
        s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let mut buf = Vec::new();
        match s.read_to_end(&mut buf) {
            Ok(_) => {}
            Err(e) => assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "still open: {e}"
            ),
        }
    }
    let (status, body) = server.call("GET", "/health", None, None, None);
    assert_eq!(status, 200, "{body}");
}

/// The edges issue #26 found (item 5): invisible format characters in titles, fields
/// and comments, a blank title, `Authorization` or `Idempotency-Key` given twice, a
/// request hyper cannot parse, a garbage body on `/sign`, `?q=` on a part of an id, and
/// webhooks answered as webhooks. Every refusal is a problem document naming what is
/// wrong.
#[test]
fn the_edges_of_issue_26_are_refused_with_problem_documents() {
    let city = City::aalst("api-edges-26");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let t = token(&uploader);
    let secret = "permits-shared-secret-0123456789";
    let extra = format!("\n[webhooks.vergunningen]\nsecret = '{secret}'\nas = \"{uploader}\"\n");
    let server = Server::start_with(
        &city.db,
        &[(uploader.as_str(), t.as_str())],
        &extra,
        &city.dir,
    );
    let submit = |title: &str, titel: &str| {
        let body = serde_json::json!({
            "kind": "besluit",
            "title": title,
            "fields": {"dienst": "bevolking", "bron": "notula", "titel": titel, "bedrag": "10"},
            "content": "inhoud",
        });
        server.call(
            "POST",
            "/documents",
            Some(&t),
            None,
            Some(&body.to_string()),
        )
    };
    // Invisible format characters (Unicode category Cf) in a title or a field.
    for c in [
        '\u{200b}', '\u{2060}', '\u{ad}', '\u{feff}', '\u{2061}', '\u{180e}',
    ] {
        let (s, b) = submit(&format!("Aankoop{c}laptops"), "x");
        assert_eq!(s, 422, "{c:?} in the title: {b}");
        let p = json(&b);
        assert_eq!(p["code"], "invalid", "{b}");
        assert!(p["detail"].as_str().unwrap().contains("the title"), "{b}");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("U+{:04X}", c as u32)),
            "{b}"
        );
        let (s, b) = submit("Aankoop", &format!("x{c}y"));
        assert_eq!(s, 422, "{c:?} in a field: {b}");
        assert!(
            json(&b)["detail"]
                .as_str()
                .unwrap()
                .contains("field `titel`"),
            "{b}"
        );
    }
    // A blank title; an emoji with joiners is text.
    for blank in ["   ", "\u{3000}", " \t "] {
        let (s, b) = submit(blank, "x");
        assert_eq!(s, 422, "{blank:?}: {b}");
    }
    let (s, b) = submit("Feest 👨\u{200d}👩\u{200d}👧", "x");
    assert_eq!(s, 201, "{b}");
    let id = json(&b)["id"].as_str().unwrap().to_string();
    // Text content says it is UTF-8.
    let (s, head, body) = server
        .exchange(
            "GET",
            &format!("/documents/{id}/content"),
            Some(&t),
            None,
            None,
            &[],
        )
        .unwrap();
    assert_eq!((s, body.as_str()), (200, "inhoud"));
    assert!(
        head.contains("content-type: text/plain; charset=utf-8"),
        "{head}"
    );
    // A comment with a zero-width space.
    let comment = serde_json::json!({"text": "Akkoord\u{200b}"}).to_string();
    let (s, b) = server.call(
        "POST",
        &format!("/documents/{id}/comment"),
        Some(&t),
        None,
        Some(&comment),
    );
    assert_eq!(s, 422, "{b}");
    assert!(
        json(&b)["detail"].as_str().unwrap().contains("the comment"),
        "{b}"
    );
    // Authorization or Idempotency-Key twice: refused, not "the first wins".
    for (name, value) in [
        ("Authorization", format!("Bearer {t}")),
        ("Idempotency-Key", "k-1".to_string()),
    ] {
        let (s, head, b) = server
            .exchange(
                "POST",
                &format!("/documents/{id}/comment"),
                Some(&t),
                Some("k-0"),
                Some(r#"{"text":"Gezien"}"#),
                &[(name, value)],
            )
            .unwrap();
        assert_eq!(s, 400, "{name}: {b}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert!(
            json(&b)["detail"]
                .as_str()
                .unwrap()
                .contains(&name.to_lowercase()),
            "{b}"
        );
    }
    // HTTP that hyper cannot parse: a problem document, not an empty 400.
    for request in [
        "GET /documents HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n".to_string(),
        "GET /docu ments HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
        "POST /documents HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_string(),
        "\u{16}\u{3}\u{1}garbage\r\n\r\n".to_string(),
    ] {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with("HTTP/1.1 400"), "{request:?}: {answer}");
        assert!(
            head.to_lowercase()
                .contains("content-type: application/problem+json"),
            "{answer}"
        );
        assert_eq!(json(body)["code"], "bad_request", "{answer}");
    }
    // `/sign` takes nothing or `{}`: garbage is refused, and nothing was signed.
    let (_, doc) = server.call("GET", &format!("/documents/{id}"), Some(&t), None, None);
    for garbage in ["garbage", "{\"as\":\"someone-else\"}", "[1,2]", "{"] {
        let (s, b) = server.call(
            "POST",
            &format!("/documents/{id}/sign"),
            Some(&t),
            None,
            Some(garbage),
        );
        assert_eq!(s, 422, "{garbage}: {b}");
        assert_eq!(json(&b)["code"], "invalid", "{b}");
    }
    let (_, after) = server.call("GET", &format!("/documents/{id}"), Some(&t), None, None);
    assert_eq!(json(&doc)["tasks"], json(&after)["tasks"]);
    // `?q=` matches a part of an id, as the OpenAPI document says ("contains").
    let part = &id[2..9];
    let (s, b) = server.call("GET", &format!("/documents?q={part}"), Some(&t), None, None);
    assert_eq!(s, 200, "{b}");
    assert_eq!(json(&b)["items"][0]["id"], id.as_str(), "{b}");
    // Webhooks: a bad signature is said as such; an unknown source is "unknown source".
    let body = r#"{"event":"permit.requested","data":{}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let headers = [
        ("webhook-id", "msg-1".to_string()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", "v1,AAAA".to_string()),
    ];
    let (s, b) = server
        .request_with(
            "POST",
            "/webhooks/vergunningen",
            None,
            None,
            Some(body),
            &headers,
        )
        .unwrap();
    assert_eq!(s, 401, "{b}");
    let p = json(&b);
    assert_eq!(p["code"], "webhook_signature", "{b}");
    assert!(!p["title"].as_str().unwrap().contains("bearer"), "{b}");
    let (s, b) = server
        .request_with("POST", "/webhooks/nobody", None, None, Some(body), &headers)
        .unwrap();
    assert_eq!(s, 404, "{b}");
    assert!(
        json(&b)["detail"]
            .as_str()
            .unwrap()
            .contains("unknown source"),
        "{b}"
    );
}
