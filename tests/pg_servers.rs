//! Many `paraaf serve` processes on one city in PostgreSQL: one writes (it holds the
//! city's advisory lock), the others read what it commits and forward writes to it; when
//! the writer is killed (kill -9) another takes over within seconds. The soak kills
//! whichever server writes, cycle after cycle, while clients write through both servers
//! with Idempotency-Keys, retrying with the same key: every acknowledged write is in the
//! log exactly once, nothing is doubled, and `paraaf audit verify` passes.
//! `PARAAF_SOAK_CYCLES` sets the cycles (default 300, as CI runs it).

#[path = "../runtime/tests/pg_support/mod.rs"]
mod pg_support;
mod support;

use paraaf_runtime::pg_store::{PgStore, schema};
use pg_support::{APP, Cluster};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::root;

const TOKEN: &str = "soak-token-0123456789abcdef";

/// A city in a new cluster, with the project deployed and a token for a person who
/// submits.
struct City {
    pg: Cluster,
    url: String,
    dir: std::path::PathBuf,
}

impl City {
    fn new(name: &str) -> Option<City> {
        let pg = Cluster::start(name)?;
        schema::migrate(&pg.owner_url(), APP).unwrap();
        let url = pg.app_url();
        let dir = std::env::temp_dir().join(format!("paraaf-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(["deploy", "examples/aalst"])
            .env("PARAAF_DB", &url)
            .env("PARAAF_CITY", "aalst")
            .current_dir(root())
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let uploader = people()[20].clone();
        std::fs::write(
            dir.join("tokens.toml"),
            format!("[tokens]\n{uploader} = \"{TOKEN}\"\n"),
        )
        .unwrap();
        Some(City { pg, url, dir })
    }

    /// Starts a `paraaf serve` on the city (a read server until it takes the lock).
    fn serve(&self) -> Server {
        self.serve_with(&[])
    }

    /// [`City::serve`] with more arguments.
    fn serve_with(&self, more: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(["serve", "--addr", "127.0.0.1:0", "--tokens"])
            .arg(self.dir.join("tokens.toml"))
            .args(more)
            .env("PARAAF_DB", &self.url)
            .env("PARAAF_CITY", "aalst")
            .env("PARAAF_LOG", "error")
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        // The rest of what it prints (the web app's address) is read and dropped: a
        // closed pipe would end the server at its next line.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected: {line}"))
            .to_string();
        Server { child, addr }
    }

    /// Where the city's writer takes writes, as PostgreSQL records it.
    fn writer(&self) -> Option<String> {
        PgStore::reader(&self.url, "aalst")
            .ok()?
            .writer_address()
            .ok()
            .flatten()
    }

    /// Waits until `server` is the city's writer; how long it took.
    fn until_writer(&self, server: &Server, secs: u64) -> Duration {
        let start = Instant::now();
        let want = format!("http://{}", server.addr);
        while self.writer().as_deref() != Some(want.as_str()) {
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "{want} did not become the writer within {secs} s (writer: {:?})",
                self.writer()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        start.elapsed()
    }

    /// A submission whose title names `key`.
    fn submission(&self, key: &str) -> String {
        format!(
            r#"{{"kind":"besluit","title":"soak {key}","content":"pdf {key}","fields":{{"dienst":"sport","bron":"notula","titel":"Aankoop","bedrag":"100"}}}}"#
        )
    }

    /// The documents in the log by title: (id, how many submissions).
    fn submitted(&self) -> BTreeMap<String, (String, usize)> {
        let mut out: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for (_, _, body) in PgStore::reader(&self.url, "aalst")
            .unwrap()
            .events_after_all(0)
            .unwrap()
        {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            if v["type"] == "document_submitted" {
                let title = v["title"].as_str().unwrap().to_string();
                let doc = v["doc"].as_str().unwrap().to_string();
                out.entry(title).or_insert((doc, 0)).1 += 1;
            }
        }
        out
    }
}

impl Drop for City {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = &self.pg;
    }
}

/// A running `paraaf serve`.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    /// `METHOD PATH` with the token (and a key): status, head (lower case) and body;
    /// `None` when the connection failed or broke.
    fn http(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: &str,
    ) -> Option<(u16, String, String)> {
        http(&self.addr, method, path, key, body)
    }

    /// kill -9.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn http(
    addr: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> Option<(u16, String, String)> {
    let mut headers = vec![
        format!("Host: {addr}"),
        format!("Authorization: Bearer {TOKEN}"),
        "Content-Type: application/json".to_string(),
    ];
    if let Some(k) = key {
        headers.push(format!("Idempotency-Key: {k}"));
    }
    let (status, head, body) = raw(addr, method, path, &headers, body)?;
    Some((status, head.to_lowercase(), body))
}

/// `METHOD PATH` with `headers` (`Name: value`): status, head as sent, body.
fn raw(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[String],
    body: &str,
) -> Option<(u16, String, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let status: u16 = resp.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    Some((status, head.to_string(), body.to_string()))
}

/// The web app through the read server at `addr`, as a browser reaches it at the
/// public address `public` (the proxy's): the development login as `person`, then the
/// inbox page with the session cookie. Returns the page.
fn web_login_and_inbox(addr: &str, public: &str, person: &str) -> String {
    let host = format!("Host: {public}");
    let (status, head, page) =
        raw(addr, "GET", "/app/login", std::slice::from_ref(&host), "").unwrap();
    assert_eq!(status, 200, "{head}");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no form token: {page}"))
        .to_string();
    let (status, head, _) = raw(
        addr,
        "POST",
        "/app/login",
        &[
            host.clone(),
            "Content-Type: application/x-www-form-urlencoded".into(),
            format!("Cookie: paraaf_login={csrf}"),
            format!("Origin: http://{public}"),
        ],
        &format!("csrf={csrf}&person={person}"),
    )
    .unwrap();
    assert_eq!(status, 303, "{head}");
    let session = head
        .lines()
        .filter(|l| l.to_lowercase().starts_with("set-cookie: "))
        .map(|l| &l["set-cookie: ".len()..])
        .find(|c| c.contains("paraaf_session="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie: {head}"))
        .to_string();
    let (status, head, page) = raw(
        addr,
        "GET",
        "/app",
        &[host, format!("Cookie: {session}")],
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{head}");
    page
}

/// The ids of the example city's people.
fn people() -> Vec<String> {
    let loaded = paraaf_compiler::load::load(&root().join("examples/aalst")).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    project
        .organogram
        .people
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

/// The `id` of a JSON answer.
fn id_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body).unwrap()["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {body}"))
        .to_string()
}

#[test]
fn two_servers_read_and_forward_and_the_reader_takes_over_when_the_writer_is_killed() {
    let Some(city) = City::new("servers") else {
        return;
    };
    // Behind one proxy: the same public address for both.
    let public = "paraaf.proxy.test";
    let web = ["--dev-login", "--public-url", "http://paraaf.proxy.test"];
    let mut first = city.serve_with(&web);
    city.until_writer(&first, 10);
    let second = city.serve_with(&web);
    // The web app through the read server: signed in (the session is the writer's) and
    // shown the inbox, as on the writer.
    let person = people()[20].clone();
    for server in [&second, &first] {
        let page = web_login_and_inbox(&server.addr, public, &person);
        assert!(page.contains("logout"), "{page}");
    }
    // A write through each: the read server forwards its write to the writer, and whoever
    // wrote reads it back at once on the server they wrote through.
    for (server, key) in [(&first, "w1"), (&second, "w2")] {
        let (status, head, body) = server
            .http("POST", "/documents", Some(key), &city.submission(key))
            .unwrap();
        assert_eq!(status, 201, "{body}");
        assert!(head.contains("paraaf-committed-seq: "), "{head}");
        let id = id_of(&body);
        let (status, _, body) = server
            .http("GET", &format!("/documents/{id}"), None, "")
            .unwrap();
        assert_eq!(status, 200, "read back on {}: {body}", server.addr);
        // Read on the other too (the read server folds within a poll).
        for other in [&first, &second] {
            let start = Instant::now();
            loop {
                let (status, _, _) = other
                    .http("GET", &format!("/documents/{id}"), None, "")
                    .unwrap();
                if status == 200 {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(5),
                    "{id} on {}",
                    other.addr
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    // The same key again through the read server: the first answer, nothing new.
    let (status, _, body) = second
        .http("POST", "/documents", Some("w1"), &city.submission("w1"))
        .unwrap();
    assert_eq!(status, 201, "{body}");
    assert_eq!(city.submitted()["soak w1"].1, 1);
    // kill -9 of the writer: the read server takes over within seconds and takes writes.
    first.kill();
    let took = city.until_writer(&second, 10);
    eprintln!("fail-over in {took:?}");
    let (status, _, body) = second
        .http("POST", "/documents", Some("w3"), &city.submission("w3"))
        .unwrap();
    assert_eq!(status, 201, "{body}");
    // No writer reachable: a read server answers 503 storage and records nothing.
    let third = city.serve();
    let mut second = second;
    second.kill();
    let (status, _, body) = third
        .http("POST", "/documents", Some("w4"), &city.submission("w4"))
        .unwrap();
    if status == 503 {
        assert!(body.contains("\"code\":\"storage\""), "{body}");
    } else {
        // It took over already.
        assert_eq!(status, 201, "{body}");
    }
}

#[test]
fn a_writer_that_loses_its_database_connection_stops_and_the_reader_takes_over() {
    let Some(city) = City::new("servers-cut") else {
        return;
    };
    let mut first = city.serve();
    city.until_writer(&first, 10);
    let second = city.serve();
    let (status, _, body) = first
        .http("POST", "/documents", Some("a"), &city.submission("a"))
        .unwrap();
    assert_eq!(status, 201, "{body}");
    // The writer's connection ends under it (a network cut, pg_terminate_backend): the
    // city's lock goes with it and the read server takes over.
    let mut admin = city.pg.superuser(pg_support::DATABASE);
    let pid: i32 = admin
        .query_one("SELECT pid FROM writers WHERE city = 'aalst'", &[])
        .unwrap()
        .get(0);
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    city.until_writer(&second, 10);
    // The old writer acknowledges nothing more: its next write fails (here already the
    // lookup of its Idempotency-Key) and it stops with an error, so its supervisor
    // starts it again as a read server.
    let answer = first.http("POST", "/documents", Some("b"), &city.submission("b"));
    assert!(
        answer.as_ref().is_none_or(|(status, _, _)| *status != 201),
        "{answer:?}"
    );
    let start = Instant::now();
    let code = loop {
        if let Some(status) = first.child.try_wait().unwrap() {
            break status.code();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "it goes on");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(code.is_some_and(|c| c != 0), "exit {code:?}");
    first.kill();
    // The same key through the new writer: recorded once.
    let (status, _, body) = second
        .http("POST", "/documents", Some("b"), &city.submission("b"))
        .unwrap();
    assert_eq!(status, 201, "{body}");
    let submitted = city.submitted();
    assert_eq!(submitted.len(), 2, "{submitted:?}");
    assert!(submitted.values().all(|(_, n)| *n == 1), "{submitted:?}");
}

/// How many soak cycles to run.
fn cycles() -> usize {
    std::env::var("PARAAF_SOAK_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(300)
}

/// Sends a write with `key` to the servers in turn (starting with `first`) until one
/// acknowledges it; the acknowledged answer's id. Panics after `secs`.
fn write_until_acknowledged(
    addrs: &std::sync::Mutex<[String; 2]>,
    first: usize,
    key: &str,
    body: &str,
    secs: u64,
) -> (String, u32) {
    let start = Instant::now();
    let mut tries = 0;
    loop {
        let addr = addrs.lock().unwrap()[(first + tries as usize) % 2].clone();
        tries += 1;
        match http(&addr, "POST", "/documents", Some(key), body) {
            Some((201, _, body)) => return (id_of(&body), tries),
            Some((status, _, body)) if status != 503 => {
                panic!("{key} at {addr}: {status} {body}")
            }
            _ => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{key}: not acknowledged within {secs} s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn soak_kill_the_writer_again_and_again_no_acknowledged_write_lost_or_doubled() {
    let Some(city) = City::new("soak") else {
        return;
    };
    let cycles = cycles();
    let started = Instant::now();
    let mut servers = [city.serve(), city.serve()];
    let start = Instant::now();
    let mut writer = loop {
        if let Some(i) = servers
            .iter()
            .position(|s| city.writer().as_deref() == Some(&format!("http://{}", s.addr)))
        {
            break i;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no writer");
        std::thread::sleep(Duration::from_millis(10));
    };
    let addrs = std::sync::Arc::new(std::sync::Mutex::new([
        servers[0].addr.clone(),
        servers[1].addr.clone(),
    ]));
    let mut acknowledged: BTreeMap<String, String> = BTreeMap::new();
    let mut fail_overs = Vec::new();
    let mut retried = 0;
    for cycle in 0..cycles {
        // Two clients, one starting on each server, two writes each, while the writer
        // is killed.
        let clients: Vec<_> = (0..2)
            .map(|c| {
                let addrs = addrs.clone();
                let bodies: Vec<(String, String)> = (0..2)
                    .map(|i| {
                        let key = format!("c{cycle}-{c}-{i}");
                        let body = city.submission(&key);
                        (key, body)
                    })
                    .collect();
                std::thread::spawn(move || {
                    bodies
                        .into_iter()
                        .map(|(key, body)| {
                            let (id, tries) = write_until_acknowledged(&addrs, c, &key, &body, 30);
                            (key, id, tries)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(5 * (cycle % 8) as u64));
        servers[writer].kill();
        let other = 1 - writer;
        fail_overs.push(city.until_writer(&servers[other], 15));
        servers[writer] = city.serve();
        addrs.lock().unwrap()[writer] = servers[writer].addr.clone();
        writer = other;
        for client in clients {
            for (key, id, tries) in client.join().unwrap() {
                retried += usize::from(tries > 1);
                acknowledged.insert(format!("soak {key}"), id);
            }
        }
    }
    // Every acknowledged write is in the log once, as acknowledged; nothing is doubled.
    let submitted = city.submitted();
    for (title, id) in &acknowledged {
        let (doc, n) = submitted
            .get(title)
            .unwrap_or_else(|| panic!("{title} ({id}) was acknowledged but is not in the log"));
        assert_eq!((doc, *n), (id, 1), "{title}");
    }
    let doubled: Vec<_> = submitted.iter().filter(|(_, (_, n))| *n > 1).collect();
    assert!(doubled.is_empty(), "doubled: {doubled:?}");
    assert_eq!(
        submitted.len(),
        acknowledged.len(),
        "every document in the log is an acknowledged write"
    );
    drop(servers);
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["audit", "verify"])
        .env("PARAAF_DB", &city.url)
        .env("PARAAF_CITY", "aalst")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    fail_overs.sort();
    let ms = |d: Duration| d.as_millis();
    eprintln!(
        "soak: {cycles} cycles in {:.0} s, fail-over median {} ms, max {} ms; {} writes acknowledged ({} after a retry), {} documents in the log",
        started.elapsed().as_secs_f64(),
        ms(fail_overs[fail_overs.len() / 2]),
        ms(*fail_overs.last().unwrap()),
        acknowledged.len(),
        retried,
        submitted.len()
    );
}

/// Reads per second from one server and from three on the same city, in the same run:
/// client threads read a document (`GET /documents/{id}`, one connection per request)
/// for a fixed time, spread over the servers; the median of rounds that alternate
/// between one and three servers. A figure, not a check: `cargo test --release --test
/// pg_servers -- --ignored --nocapture reads_per_second`.
#[test]
#[ignore]
fn reads_per_second_with_three_servers_vs_one() {
    let Some(city) = City::new("reads") else {
        return;
    };
    let servers = [city.serve(), city.serve(), city.serve()];
    let start = Instant::now();
    while city.writer().is_none() {
        assert!(start.elapsed() < Duration::from_secs(10), "no writer");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut ids = Vec::new();
    for i in 0..20 {
        let key = format!("r{i}");
        let (status, _, body) = servers[i % 3]
            .http("POST", "/documents", Some(&key), &city.submission(&key))
            .unwrap();
        assert_eq!(status, 201, "{body}");
        ids.push(id_of(&body));
    }
    // Every server has folded every document.
    for s in &servers {
        let start = Instant::now();
        while s
            .http("GET", &format!("/documents/{}", ids[19]), None, "")
            .map(|r| r.0)
            != Some(200)
        {
            assert!(start.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let clients: usize = std::env::var("PARAAF_READ_CLIENTS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(12);
    let seconds = Duration::from_secs(3);
    let round = |addrs: &[String]| -> f64 {
        let stop = Instant::now() + seconds;
        let threads: Vec<_> = (0..clients)
            .map(|c| {
                let addr = addrs[c % addrs.len()].clone();
                let ids = ids.clone();
                std::thread::spawn(move || {
                    let mut n = 0u64;
                    while Instant::now() < stop {
                        let id = &ids[n as usize % ids.len()];
                        let (status, _, _) =
                            http(&addr, "GET", &format!("/documents/{id}"), None, "").unwrap();
                        assert_eq!(status, 200);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let n: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        n as f64 / seconds.as_secs_f64()
    };
    let one = [servers[0].addr.clone()];
    let three: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
    let (mut ones, mut threes) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        ones.push(round(&one));
        threes.push(round(&three));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (one, three) = (median(&mut ones), median(&mut threes));
    eprintln!(
        "reads/s, {clients} clients, median of 3 rounds of {} s, {} cores:\n  1 server:  {one:.0}\n  3 servers: {three:.0} ({:.2}x)",
        seconds.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        three / one
    );
}
