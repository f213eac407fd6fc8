//! The outbox (#26): mails and webhooks are written in the commit of the event that
//! causes them and sent by `paraaf serve` afterwards. A kill -9 at any moment loses
//! none and never sends one event to a person under two Message-IDs; a webhook tells
//! the source of a document that it completed or was refused, signed (Standard
//! Webhooks), and is retried until the source takes it.

#[path = "support/served.rs"]
mod served;
mod support;

use paraaf_compiler::compile::model::OrgPosition;
use served::{Served, Sink, mail_config};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};
use support::City;

const NOW: &str = "2026-07-01T10:00:00Z"; // Wednesday, 12:00 in Brussels

/// The people a certificate (`attest`) asks: the head of the population service and the
/// registrars.
fn attest_signers(city: &City) -> Vec<String> {
    city.org
        .people
        .iter()
        .filter(|p| {
            p.positions.iter().any(|pos| {
                matches!(pos, OrgPosition::Function { function, unit }
                    if function == "ambtenaar-burgerlijke-stand"
                        || (function == "diensthoofd" && unit == "bevolking"))
            })
        })
        .map(|p| p.id.clone())
        .collect()
}

fn submit_attest(city: &City, now: &str) -> String {
    let out = city.submit(
        "attest",
        "jan-cools",
        &["soort=gezinssamenstelling", "aanvrager=Jan"],
        now,
    );
    out.lines().next().unwrap().trim().to_string()
}

/// The mail items of the outbox: (event, person) → the delivery (Message-ID) and state.
fn mail_items(city: &City) -> BTreeMap<(u64, String), (Option<String>, String)> {
    let db = rusqlite::Connection::open(&city.db).unwrap();
    let mut stmt = db
        .prepare("SELECT seq, recipient, delivery, state FROM outbox WHERE channel = 'mail'")
        .unwrap();
    stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A small random number generator (xorshift), seeded from the clock and printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn a_kill_9_while_sending_loses_no_mail_and_never_sends_an_event_under_two_ids() {
    let cycles: u64 = std::env::var("PARAAF_OUTBOX_SOAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let city = City::aalst("outbox-soak");
    // Each message is answered 5 ms after the sink stored it: kills land in the window.
    let sink = Sink::start(&city.dir.join("mail"), 5);
    let signers = attest_signers(&city);
    assert!(signers.len() >= 5, "{signers:?}");
    for p in &signers {
        city.ok(&["notify", p, "--mail", "immediate"], NOW);
    }
    let config = format!("[tokens]\n{}", mail_config(sink.port));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let mut rng = Rng(seed);
    let mut kills = 0;
    for _ in 0..cycles {
        // While the server is down the CLI writes: its events bring their mails into
        // the outbox in the same commit.
        submit_attest(&city, NOW);
        let server = Served::start(&city.db, &city.dir, &config, NOW);
        std::thread::sleep(Duration::from_millis(rng.next(120)));
        server.kill();
        kills += 1;
    }
    // A last start sends what is left.
    let _server = Served::start(&city.db, &city.dir, &config, NOW);
    let start = Instant::now();
    loop {
        let items = mail_items(&city);
        if items.values().all(|(_, state)| state == "sent") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "mails still unsent after 60 s: {:?}",
            items
                .iter()
                .filter(|(_, (_, s))| s != "sent")
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let items = mail_items(&city);
    // Every document asked every signer: one mail item per (event, signer).
    assert_eq!(
        items.len() as u64,
        cycles * signers.len() as u64,
        "one item per event and person"
    );
    let planned: BTreeSet<String> = items.values().filter_map(|(d, _)| d.clone()).collect();
    // The sink's copies, per Message-ID.
    std::thread::sleep(Duration::from_millis(300));
    let mut received: BTreeMap<String, u32> = BTreeMap::new();
    for m in sink.mails() {
        *received
            .entry(m["message_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let got: BTreeSet<String> = received.keys().cloned().collect();
    // None lost: every delivery arrived. None under another id: nothing arrived that
    // the outbox did not plan (an event goes to a person in one delivery only).
    assert_eq!(got, planned, "received and planned Message-IDs differ");
    // The one window (the sink took it, the kill came before it was marked sent) sends
    // the same Message-ID again: at most once per kill.
    let again: u32 = received.values().map(|n| n - 1).sum();
    println!(
        "{cycles} kills, {} mail items in {} deliveries, {again} sent twice under the same Message-ID",
        items.len(),
        planned.len()
    );
    assert!(again <= kills, "{again} second copies after {kills} kills");
}

#[test]
fn a_mail_waits_while_the_smtp_server_is_down_and_goes_once_it_is_back() {
    let city = City::aalst("outbox-retry");
    let head = city.function("diensthoofd", Some("bevolking"));
    city.ok(&["notify", &head, "--mail", "immediate"], NOW);
    submit_attest(&city, NOW);
    // Nothing listens on this port yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Served::start(
        &city.db,
        &city.dir,
        &format!("[tokens]\n{}", mail_config(port)),
        NOW,
    );
    let start = Instant::now();
    let attempts = |city: &City| -> u32 {
        rusqlite::Connection::open(&city.db)
            .unwrap()
            .query_row(
                "SELECT coalesce(max(attempts), 0) FROM deliveries WHERE recipient = ?1",
                [&head],
                |r| r.get(0),
            )
            .unwrap_or(0)
    };
    while attempts(&city) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no retries recorded"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (id, state): (String, String) = rusqlite::Connection::open(&city.db)
        .unwrap()
        .query_row(
            "SELECT id, state FROM deliveries WHERE recipient = ?1",
            [&head],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(state, "sending", "still to be sent");
    // The SMTP server comes back: the mail goes, once, under the id it was planned with.
    let sink = Sink::start_on(&city.dir.join("mail"), 0, port);
    let email = city
        .org
        .people
        .iter()
        .find(|p| p.id == head)
        .unwrap()
        .email
        .clone();
    let mails = sink.wait("the retried mail", |m| {
        m.iter().any(|x| x["to"][0] == email.as_str())
    });
    let to_head: Vec<_> = mails
        .iter()
        .filter(|x| x["to"][0] == email.as_str())
        .collect();
    assert_eq!(to_head.len(), 1);
    assert_eq!(to_head[0]["message_id"], id.as_str());
}

/// A tiny HTTP receiver: answers `statuses` in turn (then 200) and keeps each request's
/// headers and body.
fn receiver(statuses: Vec<u16>) -> (String, std::sync::mpsc::Receiver<(String, String)>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut answers = statuses.into_iter();
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = answers.next().unwrap_or(200);
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = tx.send((head, String::from_utf8(body).unwrap()));
        }
    });
    (addr, rx)
}

fn header<'a>(head: &'a str, name: &str) -> &'a str {
    head.lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then_some(v)
        })
        .unwrap_or("")
        .trim()
}

#[test]
fn the_source_is_told_by_a_signed_webhook_when_its_document_completes_or_is_refused() {
    let city = City::aalst("webhooks-out");
    // The source answers 500 first: the webhook is sent again, under the same id.
    let (addr, requests) = receiver(vec![500]);
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let attest = submit_attest(&city, NOW);
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
    let besluit = city.submit(
        "besluit",
        "jan-cools",
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Aankoop laptops",
            "bedrag=1000",
        ],
        NOW,
    );
    let besluit = besluit.lines().next().unwrap().trim().to_string();
    city.ok(
        &[
            "doc",
            "refuse",
            &besluit,
            "--as",
            &city.function("diensthoofd", Some("bevolking")),
            "--reason",
            "Offerte ontbreekt",
        ],
        NOW,
    );
    let config = format!(
        "[tokens]\n[webhooks.notula]\nsecret = \"{secret}\"\nas = \"jan-cools\"\nnotify_url = \"http://{addr}/paraaf\"\n"
    );
    let _server = Served::start(&city.db, &city.dir, &config, NOW);
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(
            requests
                .recv_timeout(Duration::from_secs(20))
                .expect("the webhooks arrive"),
        );
    }
    let key = paraaf_runtime::api::WebhookSource::new(secret, "jan-cools").secret;
    let mut by_id: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for (head, body) in &got {
        let id = header(head, "webhook-id");
        let ts: i64 = header(head, "webhook-timestamp").parse().unwrap();
        let sig = header(head, "webhook-signature");
        let expected = paraaf_runtime::api::sign_webhook(&key, id, ts, body.as_bytes());
        assert_eq!(sig, expected, "signed with the source's secret");
        by_id
            .entry(id.to_string())
            .or_default()
            .push(serde_json::from_str(body).unwrap());
    }
    // Two webhooks; the first one refused with 500 came again under its id.
    assert_eq!(by_id.len(), 2, "{by_id:#?}");
    assert!(by_id.values().any(|v| v.len() == 2));
    let bodies: Vec<&serde_json::Value> = by_id.values().map(|v| &v[0]).collect();
    let completed = bodies
        .iter()
        .find(|b| b["type"] == "document.completed")
        .expect("a completion");
    assert_eq!(completed["data"]["document"], attest.as_str());
    let refused = bodies
        .iter()
        .find(|b| b["type"] == "document.refused")
        .expect("a refusal");
    assert_eq!(refused["data"]["document"], besluit.as_str());
    assert_eq!(refused["data"]["outcome"], "returned");
    // Nothing more comes.
    assert!(requests.recv_timeout(Duration::from_millis(700)).is_err());
}

#[test]
#[ignore = "a measurement: cargo test --release --test outbox -- --ignored --nocapture"]
fn mails_per_second_through_the_outbox_next_to_raw_smtp_sends() {
    use paraaf_runtime::sender::{SenderConfig, round, send_mail};
    use paraaf_runtime::store::outbox::{Delivery, Outbox};
    let city = City::aalst("outbox-rate");
    let sink = Sink::start(&city.dir.join("mail"), 0);
    let signers = attest_signers(&city);
    for p in &signers {
        city.ok(&["notify", p, "--mail", "immediate"], NOW);
    }
    let mail: paraaf_runtime::sender::MailConfig =
        toml::from_str(mail_config(sink.port).strip_prefix("[mail]\n").unwrap()).unwrap();
    let cfg = SenderConfig {
        db: city.db.clone().into(),
        mail: Some(mail.clone()),
        hooks: BTreeMap::new(),
        backoff: Duration::from_secs(30),
    };
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    let mut rt =
        paraaf_runtime::Runtime::open(&city.db, paraaf_runtime::workdays::Calendar::default())
            .unwrap();
    let mut outbox = Outbox::open(&city.db).unwrap();
    // Through the outbox: each certificate's commit brings a mail for each signer; the
    // sender's round records each delivery, sends it and marks it sent.
    let docs = 40;
    let mut through = Duration::ZERO;
    for _ in 0..docs {
        rt.execute(now, |e| {
            e.submit(paraaf_runtime::engine::Submission {
                kind: "attest".into(),
                uploader: "jan-cools".into(),
                fields: [
                    (
                        "soort".to_string(),
                        serde_json::json!("gezinssamenstelling"),
                    ),
                    ("aanvrager".to_string(), serde_json::json!("Jan")),
                ]
                .into(),
                content_sha256: "0".repeat(64),
                title: "Attest".into(),
                flow: None,
            })
        })
        .unwrap();
        let start = Instant::now();
        round(&mut outbox, &cfg, now, rt.state()).unwrap();
        through += start.elapsed();
    }
    let sent = mail_items(&city)
        .values()
        .filter(|(_, s)| s == "sent")
        .count();
    assert_eq!(sent, docs * signers.len());
    // Raw: the same mails rendered and sent with lettre directly, nothing recorded.
    let db = rusqlite::Connection::open(&city.db).unwrap();
    let payloads: Vec<String> = db
        .prepare("SELECT payload FROM outbox WHERE channel = 'mail'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let start = Instant::now();
    for (i, p) in payloads.iter().enumerate() {
        let d = Delivery {
            id: format!("<raw-{i}@aalst.be>"),
            channel: "mail".into(),
            recipient: String::new(),
            attempts: 0,
            payloads: vec![p.clone()],
            seqs: vec![i as u64],
        };
        send_mail(&mail, &d).unwrap();
    }
    let raw = start.elapsed();
    sink.wait_for("every mail", Duration::from_secs(60), |m| {
        m.len() >= 2 * payloads.len()
    });
    let n = payloads.len() as f64;
    println!(
        "{} mails to a local aiosmtpd sink: through the outbox {:.0} mails/s ({through:.2?}); raw lettre sends {:.0} mails/s ({raw:.2?}); the outbox costs {:.2}x",
        payloads.len(),
        n / through.as_secs_f64(),
        n / raw.as_secs_f64(),
        through.as_secs_f64() / raw.as_secs_f64()
    );
}
