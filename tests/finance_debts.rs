//! The debts check fails closed: a debts file states one date and names every supplier it
//! is used for; a service's answer names whom and which day it is about; redirects are
//! refused; a dead service is not asked again (a circuit breaker) and every payment after
//! it is blocked with the reason; every check is logged with the URL and the answer.

mod support;

use paraaf_runtime::finance::debts::{BREAKER_AFTER, Debts, FileDebts, HttpDebts};
use paraaf_runtime::finance::{self, orders, ubl};
use rust_decimal::Decimal;
use std::io::{Read, Write};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const KBO: &str = "0123456749";
const OTHER: &str = "0400003155";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn hasselt() -> paraaf_compiler::compile::CompiledProject {
    let loaded = paraaf_compiler::load::load(&support::root().join("examples/hasselt")).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

/// `n` invoices of 1000.00 + 21% for works, from `kbo`: proposals on 2026-11-23.
fn pay(kbo: &str, n: usize, debts: &dyn Debts) -> Vec<finance::Payment> {
    let project = hasselt();
    let mut rows = String::from("reference,supplier,amount,date,dienst,category\n");
    let mut invoices = Vec::new();
    for i in 0..n {
        rows.push_str(&format!("BB-{i},{kbo},1000.00,2026-09-01,gebouwen,works\n"));
        let xml = ubl::write(
            &format!("F{i}"),
            false,
            kbo,
            "Bouw NV",
            "2026-10-01",
            Some(&format!("BB-{i}")),
            d("1000.00"),
            d("21"),
        );
        invoices.push(ubl::parse("t.xml", xml.as_bytes()).unwrap());
    }
    let pos = orders::read_csv("o.csv", &rows).unwrap();
    let m = finance::match_invoices(&project, &invoices, &pos, d("2"));
    finance::propose_payments(&project, &invoices, &m, &pos, debts, "2026-11-23")
}

fn file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = support::tempdir(name);
    let p = dir.join("debts.json");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_debts_file_has_a_date_and_names_every_supplier() {
    // Without a date (the old form) or empty: refused when opened, with the form to use.
    for text in [
        format!(r#"{{"{KBO}":{{"social_debt":"0","tax_debt":"0","self_employed_debt":"0"}}}}"#),
        "{}".to_string(),
        r#"{"date":"2026-11-23"}"#.to_string(),
        r#"{"date":"23/11/2026","suppliers":{}}"#.to_string(),
    ] {
        let err = FileDebts::open(&file("debts-undated", &text))
            .err()
            .unwrap_or_else(|| panic!("{text} was accepted"));
        assert!(
            err.contains("date") || err.contains("suppliers"),
            "{text}: {err}"
        );
    }
    let f = file(
        "debts-dated",
        &format!(
            r#"{{"date":"2026-11-23","suppliers":{{"{KBO}":{{"social_debt":"0","tax_debt":"0","self_employed_debt":"0"}}}}}}"#
        ),
    );
    let debts = FileDebts::open(&f).unwrap();
    // A supplier it names: no debts, paid in full.
    let p = pay(KBO, 1, &debts);
    assert!(
        p[0].blocked.is_none() && p[0].to_supplier == d("1210.00"),
        "{p:#?}"
    );
    // A supplier it does not name: blocked with the reason (before: "no debts", paid).
    let p = pay(OTHER, 1, &debts);
    let why = p[0].blocked.as_deref().unwrap_or("not blocked");
    assert!(
        why.contains("does not name the supplier 0400003155"),
        "{why}"
    );
    assert_eq!(p[0].to_supplier, d("0"));
    // Another payment date than the statement's: blocked.
    let why = debts.check(KBO, "2026-11-24").unwrap_err();
    assert!(
        why.contains("of 2026-11-23, not of the payment date 2026-11-24"),
        "{why}"
    );
    // The log says which file of which date was asked.
    assert!(
        debts
            .describe(KBO, "2026-11-23")
            .contains("of 2026-11-23 kbo=0123456749")
    );
}

/// A fake debts service: answers every request with `answer(path)` and counts requests.
fn service(answer: fn(&str) -> String) -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            seen.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split(' ').nth(1).unwrap_or("").to_string();
                let response = answer(&path);
                if response == "hang" {
                    std::thread::sleep(Duration::from_secs(5));
                    return;
                }
                let _ = s.write_all(response.as_bytes());
            });
        }
    });
    (format!("http://{addr}"), count)
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn a_redirect_is_refused_and_the_log_names_the_url_and_answer() {
    // The service redirects to another host that would answer "no debts".
    let (elsewhere, asked) = service(|_| {
        ok(
            r#"{"kbo":"0123456749","date":"2026-11-23","social_debt":"0","tax_debt":"0","self_employed_debt":"0"}"#,
        )
    });
    static TARGET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TARGET.set(elsewhere).unwrap();
    let (url, _) = service(|path| {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            TARGET.get().unwrap()
        )
    });
    let debts = HttpDebts::new(url.clone(), Duration::from_secs(2), 0);
    let p = pay(KBO, 1, &debts);
    let why = p[0].blocked.as_deref().unwrap_or("not blocked");
    assert!(
        why.contains("HTTP 302") && why.contains("redirects are refused"),
        "{why}"
    );
    assert!(why.contains(TARGET.get().unwrap().as_str()), "{why}");
    assert_eq!(asked.load(Ordering::SeqCst), 0, "the redirect was followed");
    assert_eq!(p[0].to_supplier, d("0"));
    // The audit log's entry: the URL asked, and what came back.
    let (request, _, decision) = &p[0].checks[0];
    assert_eq!(
        request,
        &format!("GET {url}/debts/{KBO}?date=2026-11-23"),
        "{request}"
    );
    assert!(decision.contains("redirects are refused"), "{decision}");

    // An answer that does not say whom or which day it is about is no answer.
    let (url, _) =
        service(|_| ok(r#"{"social_debt":"0","tax_debt":"0","self_employed_debt":"0"}"#));
    let p = pay(KBO, 1, &HttpDebts::new(url, Duration::from_secs(2), 0));
    let why = p[0].blocked.as_deref().unwrap_or("not blocked");
    assert!(
        why.contains("does not name 0123456749 on 2026-11-23"),
        "{why}"
    );
    // Named: its answer is in the log.
    let (url, _) = service(|_| {
        ok(
            r#"{"kbo":"0123456749","date":"2026-11-23","social_debt":"10","tax_debt":"0","self_employed_debt":"0"}"#,
        )
    });
    let p = pay(KBO, 1, &HttpDebts::new(url, Duration::from_secs(2), 0));
    assert_eq!(p[0].withheld.get("rsz"), Some(&d("350.00")), "{p:#?}");
    assert!(
        p[0].checks[0].2.contains(r#"answer: {"kbo":"0123456749""#),
        "{:?}",
        p[0].checks
    );
}

#[test]
fn a_dead_service_trips_the_breaker_and_blocks_the_rest() {
    let (url, asked) = service(|_| "hang".to_string());
    let debts = HttpDebts::new(url, Duration::from_millis(300), 0);
    let started = Instant::now();
    // 10 invoices for works, each checked by two rules: without the breaker 20 timeouts.
    let p = pay(KBO, 10, &debts);
    let took = started.elapsed();
    assert_eq!(asked.load(Ordering::SeqCst), BREAKER_AFTER as usize);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(
        p.iter()
            .all(|x| x.blocked.is_some() && x.to_supplier.is_zero())
    );
    let last = p[9].blocked.as_deref().unwrap();
    assert!(
        last.contains("did not answer 3 checks in a row") && last.contains("not asked again"),
        "{last}"
    );
    // Every invoice's check is logged, with the URL.
    assert!(
        p.iter()
            .all(|x| !x.checks.is_empty() && x.checks[0].0.starts_with("GET http://"))
    );
}
