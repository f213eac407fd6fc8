//! Helpers for the end-to-end tests: run `paraaf`, find people of the Aalst example by
//! role, and talk HTTP to `paraaf serve`.
#![allow(dead_code)]

use paraaf_compiler::compile::model::{OrgPosition, Organogram};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary folder.
pub fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paraaf-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the `paraaf` binary in `dir` with `env` added: its exit code, and its standard
/// output followed by its standard error.
pub fn paraaf_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// A runtime database with the Aalst example deployed.
pub struct City {
    /// Temp folder.
    pub dir: PathBuf,
    /// Database file.
    pub db: PathBuf,
    /// The organogram.
    pub org: Organogram,
    /// A content file to submit.
    pub content: PathBuf,
    /// The city's name when `db` is a PostgreSQL database of many cities (`PARAAF_CITY`).
    pub city: Option<String>,
}

impl City {
    /// Deploys examples/aalst into a new database.
    pub fn aalst(name: &str) -> City {
        let dir = tempdir(name);
        let db = dir.join("city.db");
        City::deployed(dir, db, None)
    }

    /// Deploys examples/aalst into city `city` of the PostgreSQL database at `url` (the
    /// schema created), with a folder of its own named after `name`.
    pub fn aalst_on_postgres(name: &str, url: &str, city: &str) -> City {
        City::deployed(tempdir(name), PathBuf::from(url), Some(city.to_string()))
    }

    fn deployed(dir: PathBuf, db: PathBuf, name: Option<String>) -> City {
        let content = dir.join("besluit.pdf");
        std::fs::write(&content, b"%PDF-1.4 a decision").unwrap();
        let loaded = paraaf_compiler::load::load(&root().join("examples/aalst")).unwrap();
        let org = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
            .as_ref()
            .unwrap()
            .organogram
            .clone();
        let city = City {
            dir,
            db,
            org,
            content,
            city: name,
        };
        let o = city.run(&["deploy", "examples/aalst"], "2026-11-23");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        city
    }

    /// Runs `paraaf ARGS` on this database at `now`.
    pub fn run(&self, args: &[&str], now: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(args)
            .env("PARAAF_DB", &self.db)
            .envs(self.city.iter().map(|c| ("PARAAF_CITY", c)))
            .env("PARAAF_NOW", now)
            .current_dir(root())
            .output()
            .expect("runs")
    }

    /// `paraaf serve` on this city with the given tokens (person → token).
    pub fn server(&self, tokens: &[(&str, &str)]) -> Server {
        let env: Vec<(&str, &std::ffi::OsStr)> = self
            .city
            .iter()
            .map(|c| ("PARAAF_CITY", c.as_ref()))
            .collect();
        Server::start_env(&self.db, tokens, "", &env, &self.dir)
    }

    /// Submits a document of `kind` as `who` with `fields` (`name=value`) and the test
    /// content; returns its id.
    pub fn submit(&self, kind: &str, who: &str, fields: &[&str], now: &str) -> String {
        let content = self.content.to_str().unwrap().to_string();
        let mut args = vec!["doc", "submit", "--kind", kind, "--as", who];
        for f in fields {
            args.extend(["--field", f]);
        }
        args.extend(["--content", &content]);
        self.ok(&args, now)
    }

    /// Runs and expects success; returns stdout trimmed.
    pub fn ok(&self, args: &[&str], now: &str) -> String {
        let o = self.run(args, now);
        assert!(
            o.status.success(),
            "paraaf {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// Runs and expects exit 1; returns stderr.
    pub fn refused(&self, args: &[&str], now: &str) -> String {
        let o = self.run(args, now);
        assert_eq!(
            o.status.code(),
            Some(1),
            "paraaf {args:?} should be refused: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        String::from_utf8_lossy(&o.stderr).trim().to_string()
    }

    /// The holder of a function in a unit.
    pub fn function(&self, function: &str, unit: Option<&str>) -> String {
        self.holders(|p| matches!(p, OrgPosition::Function { function: f, unit: u } if f == function && unit.is_none_or(|x| x == u)))[0].clone()
    }

    /// The holder of a mandate.
    pub fn mandate(&self, mandate: &str) -> String {
        self.holders(|p| matches!(p, OrgPosition::Mandate { mandate: m } if m == mandate))[0]
            .clone()
    }

    /// People with a position in `unit` that is not `function`.
    pub fn staff(&self, unit: &str, not_function: &str) -> Vec<String> {
        self.holders(|p| matches!(p, OrgPosition::Function { function: f, unit: u } if u == unit && f != not_function))
    }

    fn holders(&self, pred: impl Fn(&OrgPosition) -> bool) -> Vec<String> {
        self.org
            .people
            .iter()
            .filter(|p| p.positions.iter().any(&pred))
            .map(|p| p.id.clone())
            .collect()
    }

    /// Number of events in the log.
    pub fn events(&self) -> u64 {
        let out = self.ok(&["audit", "verify"], "2026-11-23");
        out.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Status line of a document as `person` sees it.
    pub fn status(&self, doc: &str, person: &str) -> String {
        let out = self.ok(
            &["doc", "show", doc, "--as", person, "--json"],
            "2026-11-23",
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["status"].as_str().unwrap().to_string()
    }
}

/// Copies a folder tree (an example project into a test's own folder).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A running `paraaf serve`.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `host:port`.
    pub addr: String,
}

impl Server {
    /// Starts the server on a free port with the given tokens (person → token).
    pub fn start(db: &Path, tokens: &[(&str, &str)], dir: &Path) -> Server {
        Server::start_with(db, tokens, "", dir)
    }

    /// Starts the server with extra TOML in the tokens file (webhook sources).
    pub fn start_with(db: &Path, tokens: &[(&str, &str)], extra: &str, dir: &Path) -> Server {
        Server::start_env(db, tokens, extra, &[], dir)
    }

    /// Starts the server with extra TOML in the tokens file and extra environment
    /// variables (a signing key).
    pub fn start_env(
        db: &Path,
        tokens: &[(&str, &str)],
        extra: &str,
        env: &[(&str, &std::ffi::OsStr)],
        dir: &Path,
    ) -> Server {
        let tokens_file = dir.join("tokens.toml");
        let mut text = String::from("[tokens]\n");
        for (p, t) in tokens {
            text.push_str(&format!("{p} = \"{t}\"\n"));
        }
        text.push_str(extra);
        std::fs::write(&tokens_file, text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--tokens",
                tokens_file.to_str().unwrap(),
            ])
            .env("PARAAF_DB", db)
            .env("PARAAF_NOW", "2026-11-23")
            .env("PARAAF_LOG", "warn")
            .envs(env.iter().copied())
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
        Server { child, addr }
    }

    /// Sends a request; returns (status, body). `None` when the connection failed.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        idem: Option<&str>,
        body: Option<&str>,
    ) -> Option<(u16, String)> {
        self.request_with(method, path, token, idem, body, &[])
    }

    /// Like `request`, with extra headers.
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        idem: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, String)],
    ) -> Option<(u16, String)> {
        self.exchange(method, path, token, idem, body, headers)
            .map(|(status, _, body)| (status, body))
    }

    /// Sends a request; returns (status, response head in lower case, body).
    pub fn exchange(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        idem: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, String)],
    ) -> Option<(u16, String, String)> {
        let mut s = TcpStream::connect(&self.addr).ok()?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .ok()?;
        let body = body.unwrap_or("");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(k) = idem {
            req.push_str(&format!("Idempotency-Key: {k}\r\n"));
        }
        for (h, v) in headers {
            req.push_str(&format!("{h}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).ok()?;
        let mut resp = String::new();
        s.read_to_string(&mut resp).ok()?;
        let status: u16 = resp.split_whitespace().nth(1)?.parse().ok()?;
        let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
        Some((status, head.to_lowercase(), body.to_string()))
    }

    /// Like `request`, but panics when the connection fails.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        idem: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String) {
        self.request(method, path, token, idem, body)
            .expect("server answers")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signs every open task of `doc`, step by step, as whoever it is assigned to (read from
/// `doc show` as `viewer`); returns the last signer. `run` runs `paraaf ARGS` on the
/// database under test.
pub fn approve(run: impl Fn(&[&str]) -> Output, doc: &str, viewer: &str) -> String {
    let mut signer = String::new();
    for _ in 0..8 {
        let show =
            String::from_utf8_lossy(&run(&["doc", "show", doc, "--as", viewer]).stdout).to_string();
        let Some(line) = show.lines().find(|l| l.contains(" open ")) else {
            break;
        };
        signer = line.split_whitespace().last().unwrap().to_string();
        let o = run(&["doc", "sign", doc, "--as", &signer]);
        assert!(
            o.status.success(),
            "{show}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    signer
}
