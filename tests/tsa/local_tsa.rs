//! A local time-stamp authority for tests (`tests/tsa/tsa_server.py`: `openssl ts` behind
//! Python's http.server with a test PKI in a temporary folder). Killed when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running local TSA.
pub struct LocalTsa {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The folder with `ca.pem` (the root to trust) and `other-ca.pem` (an unrelated root).
    pub dir: PathBuf,
}

impl LocalTsa {
    /// Starts a TSA whose key is `key` (`rsa`, `ec256`, `ec384`) and whose ESS
    /// signing-certificate attribute hashes with `ess` (`sha1`, `sha256`).
    pub fn start(key: &str, ess: &str) -> LocalTsa {
        Self::start_on(key, ess, 0)
    }

    /// As [`LocalTsa::start`], on a given port (0: any free one).
    pub fn start_on(key: &str, ess: &str, port: u16) -> LocalTsa {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "paraaf-tsa-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
            if env!("CARGO_MANIFEST_DIR").ends_with("runtime") {
                "../tests/tsa/tsa_server.py"
            } else {
                "tests/tsa/tsa_server.py"
            },
        );
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(&dir)
            .args(["--key", key, "--ess", ess, "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the local TSA (tests/tsa/tsa_server.py)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!("the local TSA did not start (needs python3 and openssl): {line:?}")
        });
        LocalTsa { child, port, dir }
    }

    /// The URL of a path on it, e.g. `url("/")`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The PEM of the root to trust.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// GET a control path (`/down`, `/up`, `/count`); returns the body.
    pub fn get(&self, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
    }

    /// How many stamps it issued.
    pub fn count(&self) -> u64 {
        self.get("/count").trim().parse().unwrap()
    }
}

impl Drop for LocalTsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
