//! Answers that must not move with what a reader may not see (the outside tester's
//! findings 3 and 9): a person's own content whatever hidden documents hold, and
//! `/health`'s counts, which only a monitoring token reads.

mod support;

use support::{City, Server};

fn token(person: &str) -> String {
    format!("token-{person}-0123456789")
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn besluit_with(content: &str) -> String {
    format!(
        r#"{{"kind":"besluit","title":"Aankoop","content":"{content}","fields":{{"dienst":"bevolking","bron":"notula","titel":"probe","bedrag":"10"}}}}"#
    )
}

/// Finding 3: someone outside the social service uploads guessed bytes as the content of
/// their own `besluit`. Their own document's content answers 200 with their bytes,
/// whether or not a hidden social-service file holds exactly those bytes; the hidden
/// file's content stays 404 to them, exactly like a missing document.
#[test]
fn own_content_is_served_whatever_hidden_documents_hold() {
    let city = City::aalst("oracle-content");
    let member = "dirk-claes"; // team coach in the social service
    let outsider = city.staff("bevolking", "diensthoofd")[0].clone();
    let secret = "Beslissing leefloon voor Jan Peeters, Kerkstraat 1";
    let file = city.dir.join("leefloon.txt");
    std::fs::write(&file, secret).unwrap();
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
            "dossiernummer=SZ-1",
            "--content",
            file.to_str().unwrap(),
        ],
        "2026-11-23",
    );
    let server = Server::start(
        &city.db,
        &[(member, &token(member)), (&outsider, &token(&outsider))],
        &city.dir,
    );
    let mut answers = Vec::new();
    for guess in [secret, "Beslissing leefloon voor Els Maes, Kerkstraat 2"] {
        let (s, b) = server.call(
            "POST",
            "/documents",
            Some(&token(&outsider)),
            None,
            Some(&besluit_with(guess)),
        );
        assert_eq!(s, 201, "{b}");
        let id = json(&b)["id"].as_str().unwrap().to_string();
        let (s, body) = server.call(
            "GET",
            &format!("/documents/{id}/content"),
            Some(&token(&outsider)),
            None,
            None,
        );
        assert_eq!((s, body.as_str()), (200, guess), "own content of {id}");
        answers.push(s);
    }
    // The same answer with and without a hidden twin: nothing to learn.
    assert_eq!(answers[0], answers[1]);
    // The hidden file itself: never to the outsider, exactly like a missing document.
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
    // Its member still reads it through their document.
    let (s, body) = server.call(
        "GET",
        &format!("/documents/{social}/content"),
        Some(&token(member)),
        None,
        None,
    );
    assert_eq!((s, body.as_str()), (200, secret));
}

/// Finding 9: a person's token (inside or outside the social service) never reads
/// `/health`'s counts, so a shielded submission moves nothing they see there; a
/// monitoring token from `paraaf admin token add NAME --monitoring` reads them (and
/// nothing else: it is nobody, so `/inbox` answers it 401).
#[test]
fn health_counts_only_for_a_monitoring_token() {
    let city = City::aalst("oracle-health");
    let member = "dirk-claes";
    let outsider = city.staff("bevolking", "diensthoofd")[0].clone();
    // The monitoring token, as an administrator makes it: no person check, `[monitoring]`.
    let made = city.dir.join("made.toml");
    let o = city.run(
        &[
            "admin",
            "token",
            "add",
            "zabbix",
            "--monitoring",
            "--tokens",
            made.to_str().unwrap(),
        ],
        "2026-11-23",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let monitor = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(&made).unwrap()).unwrap();
    assert!(table.get("tokens").is_none(), "{table}");
    let kept = table["monitoring"]["zabbix"].as_str().unwrap().to_string();
    assert_eq!(
        kept,
        format!("sha256:{}", paraaf_runtime::sha256_hex(monitor.as_bytes()))
    );
    let server = Server::start_with(
        &city.db,
        &[(member, &token(member)), (&outsider, &token(&outsider))],
        &format!("[monitoring]\nzabbix = \"{kept}\"\n"),
        &city.dir,
    );
    let health = |t: &str| {
        let (s, b) = server.call("GET", "/health", Some(t), None, None);
        assert_eq!(s, 200, "{b}");
        json(&b)
    };
    let before = [health(&token(&outsider)), health(&token(member))];
    let counted = health(&monitor);
    assert_eq!(before[0], serde_json::json!({"status": "ok"}));
    assert_eq!(before[1], serde_json::json!({"status": "ok"}));
    let events = counted["events"].as_u64().unwrap();
    assert_eq!(counted["versions"], 1, "{counted}");

    let (s, b) = server.call(
        "POST",
        "/documents",
        Some(&token(member)),
        None,
        Some(
            r#"{"kind":"sociaal-dossier","title":"Leefloon","content":"S","fields":{"team":"inkomen","dossiernummer":"SZ-1"}}"#,
        ),
    );
    assert_eq!(s, 201, "{b}");
    assert_eq!(health(&token(&outsider)), before[0]);
    assert_eq!(health(&token(member)), before[1]);
    assert!(health(&monitor)["events"].as_u64().unwrap() > events);
    // The monitoring token acts as nobody.
    assert_eq!(
        server.call("GET", "/inbox", Some(&monitor), None, None).0,
        401
    );
}
