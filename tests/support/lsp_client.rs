//! A minimal LSP client over stdio for tests and benchmarks: frames JSON-RPC messages,
//! answers the server's own requests, collects notifications.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A running `paraaf lsp`.
pub struct LspClient {
    /// The server process.
    pub child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications received so far (not yet taken).
    pub notifications: Vec<Value>,
    /// Requests the server sent (`client/registerCapability`, …), answered with `null`.
    pub server_requests: Vec<Value>,
}

/// `file://` URI of a path, percent-encoded as editors send it (spaces, `é`, emoji).
pub fn uri(path: &std::path::Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl LspClient {
    /// Starts the server binary.
    pub fn start(bin: &str) -> LspClient {
        let mut child = Command::new(bin)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut buf = vec![0; len];
                if r.read_exact(&mut buf).is_err() {
                    return;
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        });
        LspClient {
            child,
            stdin,
            rx,
            next_id: 1,
            notifications: Vec::new(),
            server_requests: Vec::new(),
        }
    }

    /// Sends raw bytes as one framed message (to test malformed input).
    pub fn send_raw(&mut self, body: &[u8]) {
        let _ = write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len());
        let _ = self.stdin.write_all(body);
        let _ = self.stdin.flush();
    }

    /// Writes bytes as they are, without framing (to break the framing on purpose).
    pub fn write_unframed(&mut self, bytes: &[u8]) {
        let _ = self.stdin.write_all(bytes);
        let _ = self.stdin.flush();
    }

    /// Waits for a message matching `pred` (responses and notifications).
    pub fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        if let Some(i) = self.notifications.iter().position(&pred) {
            return Some(self.notifications.remove(i));
        }
        while Instant::now() < deadline {
            let v = self.pump(Duration::from_millis(500));
            match v {
                Some(v) if pred(&v) => return Some(v),
                Some(v) => self.notifications.push(v),
                None => {}
            }
        }
        None
    }

    /// The diagnostics published until `uris` all have some (or 20 s), latest per URI;
    /// later ones keep arriving in `notifications`.
    pub fn published_until(
        &mut self,
        uris: &[String],
    ) -> std::collections::BTreeMap<String, Vec<Value>> {
        let mut out = std::collections::BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for n in self.notifications.drain(..) {
                if n["method"] == "textDocument/publishDiagnostics" {
                    out.insert(
                        n["params"]["uri"].as_str().unwrap_or("").to_string(),
                        n["params"]["diagnostics"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    );
                }
            }
            if uris.iter().all(|u| out.contains_key(u)) || Instant::now() > deadline {
                return out;
            }
            if let Some(v) = self.pump(Duration::from_millis(200)) {
                self.notifications.push(v);
            }
        }
    }

    /// Closes the server's stdin (the editor went away); later sends go nowhere.
    pub fn take_stdin(&mut self) -> ChildStdin {
        let null = Command::new("true")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap()
            .stdin
            .take()
            .unwrap();
        std::mem::replace(&mut self.stdin, null)
    }

    /// The next request id this client will use.
    pub fn next_id(&self) -> i64 {
        self.next_id
    }

    fn send(&mut self, v: &Value) {
        self.send_raw(v.to_string().as_bytes());
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn pump(&mut self, timeout: Duration) -> Option<Value> {
        match self.rx.recv_timeout(timeout) {
            Ok(v) => {
                if v.get("method").is_some() && v.get("id").is_some() {
                    // A request from the server (e.g. registerCapability): accept it.
                    let id = v["id"].clone();
                    self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
                    self.server_requests.push(v);
                    return self.pump(timeout);
                }
                Some(v)
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Sends a request and waits for its response (the whole message: result or error).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let Some(v) = self.pump(Duration::from_secs(20)) else {
                break;
            };
            if v.get("id") == Some(&json!(id)) {
                return v;
            }
            self.notifications.push(v);
        }
        panic!("no response to {method}");
    }

    /// Waits for diagnostics of `uri` matching `pred`; returns them.
    pub fn diagnostics_where(&mut self, uri: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self
                .notifications
                .iter()
                .rev()
                .find(|n| {
                    n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
                })
                .map(|n| {
                    n["params"]["diagnostics"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                });
            if let Some(d) = &found
                && pred(d)
            {
                self.notifications.clear();
                return d.clone();
            }
            if Instant::now() > deadline {
                let seen: Vec<String> = self
                    .notifications
                    .iter()
                    .map(|n| format!("{} {}", n["method"], n["params"]["uri"]))
                    .collect();
                panic!("no matching diagnostics for {uri}; last: {found:?}; seen: {seen:?}");
            }
            if let Some(v) = self.pump(Duration::from_millis(200)) {
                self.notifications.push(v);
            }
        }
    }

    /// initialize + initialized, as a client that registers file watchers (VS Code).
    pub fn initialize(&mut self, root: &std::path::Path) -> Value {
        self.initialize_with(
            root,
            json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
        )
    }

    /// initialize (with these client capabilities) + initialized.
    pub fn initialize_with(&mut self, root: &std::path::Path, capabilities: Value) -> Value {
        let r = self.request(
            "initialize",
            json!({"processId": null, "rootUri": uri(root), "capabilities": capabilities,
                   "workspaceFolders": [{"uri": uri(root), "name": "root"}]}),
        );
        self.notify("initialized", json!({}));
        r
    }
}
