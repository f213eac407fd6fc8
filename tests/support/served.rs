//! A running `paraaf serve` with a test clock, and the local SMTP sink (Python's
//! aiosmtpd, `smtp_sink.py`) it mails to: for the tests of the scheduler and the outbox.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The SMTP sink: one JSON file per accepted message.
pub struct Sink {
    child: Child,
    /// Its port.
    pub port: u16,
    /// Where it writes.
    pub dir: PathBuf,
}

/// A Python with aiosmtpd (`.ci/run` installs Debian's python3-aiosmtpd).
fn python() -> String {
    for p in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return p.to_string();
        }
    }
    panic!(
        "no Python with aiosmtpd: install it (apt-get install python3-aiosmtpd, or pip install aiosmtpd); .ci/run does"
    );
}

impl Sink {
    /// Starts the sink writing into `dir`; each message is answered after `delay_ms`.
    pub fn start(dir: &Path, delay_ms: u64) -> Sink {
        Sink::start_on(dir, delay_ms, 0)
    }

    /// Starts the sink on `port` (0: a free one).
    pub fn start_on(dir: &Path, delay_ms: u64, port: u16) -> Sink {
        let mut cmd = Command::new(python());
        cmd.arg(root().join("tests/support/smtp_sink.py"))
            .arg(dir)
            .arg(delay_ms.to_string());
        if port != 0 {
            cmd.arg(port.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the sink said {line:?}"))
            .parse()
            .unwrap();
        Sink {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// Every message received so far.
    pub fn mails(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names
            .iter()
            .filter_map(|p| serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok())
            .collect()
    }

    /// Waits (at most 20 s) until `pred` holds for the messages; returns them.
    pub fn wait(&self, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.wait_for(what, Duration::from_secs(20), pred)
    }

    /// Waits at most `limit` until `pred` holds for the messages; returns them.
    pub fn wait_for(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let m = self.mails();
            if pred(&m) {
                return m;
            }
            assert!(
                start.elapsed() < limit,
                "waited {limit:?} for {what}; the sink has {} messages",
                m.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Messages to `addr` whose subject contains `word`.
pub fn to_about<'a>(mails: &'a [Value], addr: &str, word: &str) -> Vec<&'a Value> {
    mails
        .iter()
        .filter(|m| {
            m["to"].as_array().unwrap().iter().any(|t| t == addr)
                && m["subject"].as_str().unwrap().contains(word)
        })
        .collect()
}

/// A `paraaf serve` with a test clock and `[mail]` pointing at the sink.
pub struct Served {
    child: Child,
    /// `host:port`.
    pub addr: String,
    clock_token: String,
}

impl Served {
    /// Starts it on `db` at `now`, with `config` as its configuration file (tokens, mail,
    /// webhooks).
    pub fn start(db: &Path, dir: &Path, config: &str, now: &str) -> Served {
        let config_file = dir.join("serve.toml");
        std::fs::write(&config_file, config).unwrap();
        let clock_token = "test-clock-token-0123456789".to_string();
        let token_file = dir.join("clock.token");
        std::fs::write(&token_file, &clock_token).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--outbox-backoff-ms",
                "200",
            ])
            .arg("--tokens")
            .arg(&config_file)
            .arg("--test-clock-token-file")
            .arg(&token_file)
            .env("PARAAF_DB", db)
            .env("PARAAF_NOW", now)
            .env("PARAAF_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected: {line}"))
            .to_string();
        Served {
            child,
            addr,
            clock_token,
        }
    }

    /// One HTTP request; (status, body).
    pub fn http(&self, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let status = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
        let body = resp.split_once("\r\n\r\n").map_or("", |x| x.1).to_string();
        (status, body)
    }

    /// Moves the server's clock; returns once its scheduler caught up.
    pub fn set_clock(&self, now: &str) {
        let (status, body) = self.http(
            "POST",
            "/test/clock",
            &self.clock_token,
            &format!(r#"{{"now":"{now}"}}"#),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// The document ids in `person`'s inbox (API, with their token).
    pub fn inbox(&self, token: &str) -> Vec<String> {
        let (status, body) = self.http("GET", "/inbox", token, "");
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["items"]
            .as_array()
            .or_else(|| v.as_array())
            .unwrap_or_else(|| panic!("an inbox: {body}"))
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// kill -9.
    pub fn kill(self) {
        drop(self);
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `[mail]` section for the sink.
pub fn mail_config(port: u16) -> String {
    format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"Paraaf Aalst <paraaf@aalst.be>\"\nbase_url = \"https://paraaf.aalst.test\"\n"
    )
}
