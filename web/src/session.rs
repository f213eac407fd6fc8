//! Sessions: a random id in an HttpOnly, SameSite=Lax, Secure cookie; the server keeps
//! only its SHA-256 with the person, the form token (CSRF) and the times. A session ends
//! after `idle` without a request, after `max` in all, or at sign-out. On a SQLite file
//! sessions live in memory: a restart signs everyone out (nothing of the log depends on
//! them). On PostgreSQL they are the city's rows (`paraaf_runtime::pg_store::sessions`),
//! so every server of the city knows them and a restart keeps them.

use base64::Engine as _;
use paraaf_runtime::engine::RuntimeError;
use paraaf_runtime::pg_store::PgStore;
use paraaf_runtime::pg_store::sessions::WebSession;
use paraaf_runtime::reads::Reads;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name with `Secure` cookies: `__Host-` makes the browser keep it
/// only when it is Secure, for Path=/ and without a Domain (no subdomain can set or
/// overwrite it).
pub const COOKIE: &str = "__Host-paraaf_session";
/// The session cookie's name under `--insecure-cookies` (a test on a plain-http address
/// that is not localhost): browsers refuse a `__Host-` cookie that is not Secure.
pub const INSECURE_COOKIE: &str = "paraaf_session";

/// The session cookie's name: [`COOKIE`] when cookies are Secure, else
/// [`INSECURE_COOKIE`].
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { COOKIE } else { INSECURE_COOKIE }
}
/// The cookie binding a sign-in through the identity provider to this browser.
pub const OIDC_COOKIE: &str = "paraaf_oidc";
/// The cookie holding the form token of the sign-in page (before there is a session).
pub const LOGIN_COOKIE: &str = "paraaf_login";
/// The page asked for before signing in (a path of the app), gone to after it.
pub const NEXT_COOKIE: &str = "paraaf_next";
/// The language cookie (`nl`, `en`).
pub const LANG_COOKIE: &str = "paraaf_lang";

/// At most this many sessions at once (older ones are dropped first).
const MAX_SESSIONS: usize = 100_000;

/// 32 random bytes, URL-safe base64: session ids, form tokens, OIDC state.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system gives random bytes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether two secrets are equal, comparing their hashes (so the time taken tells
/// nothing about how much of a guess was right).
pub fn same_secret(a: &str, b: &str) -> bool {
    !a.is_empty() && Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// Milliseconds since the epoch on this machine's clock (how long a stored session has
/// been idle; the server's test clock does not move it).
fn millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A duration in milliseconds.
fn millis_of(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn key(id: &str) -> String {
    hex(&Sha256::digest(id.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One signed-in person.
#[derive(Clone, Debug)]
pub struct Session {
    /// The person (organogram id).
    pub person: String,
    /// The token every form of this session carries.
    pub csrf: String,
    /// What the last action did, shown once on the next page.
    flash: Option<String>,
    created: Instant,
    last_seen: Instant,
}

/// A sign-in started at the identity provider, waiting for its callback.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The OIDC nonce.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
    created: Instant,
}

/// Why there is no session.
#[derive(Debug, PartialEq, Eq)]
pub enum NoSession {
    /// No cookie, or one the server never issued.
    Missing,
    /// The session existed and timed out.
    Expired,
}

/// All sessions of the server.
pub struct Sessions {
    /// The city's store, when it keeps the sessions (PostgreSQL); else they are here.
    store: Option<Reads>,
    live: Mutex<HashMap<String, Session>>,
    pending: Mutex<HashMap<String, Pending>>,
    /// Form tokens of sign-in pages handed out (the sign-in form must bring one back).
    login_tokens: Mutex<HashMap<String, Instant>>,
    idle: Duration,
    max: Duration,
}

impl Sessions {
    /// Sessions that end after `idle` without a request or `max` in all.
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            store: None,
            live: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            login_tokens: Mutex::new(HashMap::new()),
            idle,
            max,
        }
    }

    /// [`Sessions::new`], kept in the city's store `store` when it is on PostgreSQL (in
    /// memory on a SQLite file).
    pub fn shared(idle: Duration, max: Duration, store: Reads) -> Sessions {
        Sessions {
            store: store.file().is_none().then_some(store),
            ..Sessions::new(idle, max)
        }
    }

    /// Runs `f` on a connection of the city's store on a thread of its own (the
    /// synchronous client may not run inside an async task); `None` when the sessions
    /// live in memory. A failure is logged and answered as `None` inside.
    fn stored<T: Send>(
        &self,
        f: impl FnOnce(&mut PgStore) -> Result<T, RuntimeError> + Send,
    ) -> Option<Option<T>> {
        let store = self.store.as_ref()?;
        let done = std::thread::scope(|s| s.spawn(|| store.on_postgres(f)).join());
        Some(match done {
            Ok(Some(Ok(v))) => Some(v),
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "the sessions' store failed");
                None
            }
            _ => None,
        })
    }

    /// When rows not seen since are of no use any more: ended sessions, sign-in forms
    /// and pending sign-ins past their 30 and 10 minutes.
    fn stale_before(&self, now: i64) -> i64 {
        now - millis_of(self.idle.max(Duration::from_secs(1800)))
    }

    /// Starts a session for `person`; returns the cookie value.
    pub fn create(&self, person: &str) -> String {
        let id = random_token();
        let (k, csrf, now) = (key(&id), random_token(), millis());
        let stale = self.stale_before(now);
        if self
            .stored(|pg| pg.web_put(&k, "session", person, &csrf, "", "", now, stale))
            .is_some()
        {
            return id;
        }
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, s| !self.ended(s, now));
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
        {
            live.remove(&oldest);
        }
        live.insert(
            key(&id),
            Session {
                person: person.to_string(),
                csrf: random_token(),
                flash: None,
                created: now,
                last_seen: now,
            },
        );
        id
    }

    fn ended(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) > self.idle || now.duration_since(s.created) > self.max
    }

    /// The session of cookie value `id`, touched (its idle time starts again).
    pub fn get(&self, id: &str) -> Result<Session, NoSession> {
        let (k, idle, max, now) = (key(id), millis_of(self.idle), millis_of(self.max), millis());
        if let Some(found) = self.stored(|pg| pg.web_session(&k, idle, max, now)) {
            return match found {
                Some(WebSession::Live { person, csrf }) => Ok(Session {
                    person,
                    csrf,
                    flash: None,
                    created: Instant::now(),
                    last_seen: Instant::now(),
                }),
                Some(WebSession::Expired) => Err(NoSession::Expired),
                Some(WebSession::Missing) | None => Err(NoSession::Missing),
            };
        }
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let k = key(id);
        let Some(s) = live.get_mut(&k) else {
            return Err(NoSession::Missing);
        };
        if self.ended(s, now) {
            live.remove(&k);
            return Err(NoSession::Expired);
        }
        s.last_seen = now;
        Ok(s.clone())
    }

    /// Remembers what an action did, for the next page of session `id`.
    pub fn set_flash(&self, id: &str, message: String) {
        let k = key(id);
        if self.stored(|pg| pg.web_flash(&k, Some(&message))).is_some() {
            return;
        }
        if let Some(s) = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&key(id))
        {
            s.flash = Some(message);
        }
    }

    /// Takes the message of session `id` (shown once).
    pub fn take_flash(&self, id: &str) -> Option<String> {
        let k = key(id);
        if let Some(taken) = self.stored(|pg| pg.web_flash(&k, None)) {
            return taken.flatten();
        }
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&key(id))
            .and_then(|s| s.flash.take())
    }

    /// A form token for a sign-in page, valid for 30 minutes and for one sign-in.
    pub fn issue_login_token(&self) -> String {
        let token = random_token();
        let (k, now) = (key(&token), millis());
        let stale = self.stale_before(now);
        if self
            .stored(|pg| pg.web_put(&k, "login", "", "", "", "", now, stale))
            .is_some()
        {
            return token;
        }
        let now = Instant::now();
        let mut tokens = self.login_tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.retain(|_, t| now.duration_since(*t) < Duration::from_secs(1800));
        if tokens.len() < MAX_SESSIONS {
            tokens.insert(key(&token), now);
        }
        token
    }

    /// Whether `token` was handed out by a sign-in page (and is used up now).
    pub fn take_login_token(&self, token: &str) -> bool {
        let k = key(token);
        if let Some(taken) = self.stored(|pg| pg.web_take(&k, "login")) {
            return taken
                .flatten()
                .is_some_and(|(_, _, at)| millis() - at < 1_800_000);
        }
        self.login_tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key(token))
            .is_some_and(|t| Instant::now().duration_since(t) < Duration::from_secs(1800))
    }

    /// Ends the session of cookie value `id`.
    pub fn remove(&self, id: &str) {
        let k = key(id);
        if self.stored(|pg| pg.web_remove(&k)).is_some() {
            return;
        }
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key(id));
    }

    /// Remembers a sign-in started at the identity provider under its `state`.
    pub fn start_pending(&self, state: &str, nonce: String, verifier: String) {
        let (k, now) = (key(state), millis());
        let stale = self.stale_before(now);
        if self
            .stored(|pg| pg.web_put(&k, "pending", "", "", &nonce, &verifier, now, stale))
            .is_some()
        {
            return;
        }
        let now = Instant::now();
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        // A sign-in must come back within 10 minutes.
        pending.retain(|_, p| now.duration_since(p.created) < Duration::from_secs(600));
        if pending.len() < MAX_SESSIONS {
            pending.insert(
                key(state),
                Pending {
                    nonce,
                    verifier,
                    created: now,
                },
            );
        }
    }

    /// Takes the pending sign-in of `state` (each can be finished once).
    pub fn take_pending(&self, state: &str) -> Option<Pending> {
        let k = key(state);
        if let Some(taken) = self.stored(|pg| pg.web_take(&k, "pending")) {
            return taken
                .flatten()
                .filter(|(_, _, at)| millis() - at < 600_000)
                .map(|(nonce, verifier, _)| Pending {
                    nonce,
                    verifier,
                    created: Instant::now(),
                });
        }
        let p = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key(state))?;
        (Instant::now().duration_since(p.created) < Duration::from_secs(600)).then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_end() {
        let s = Sessions::new(Duration::from_millis(50), Duration::from_secs(60));
        let id = s.create("ruben-van-damme");
        assert_eq!(s.get(&id).unwrap().person, "ruben-van-damme");
        assert_eq!(s.get("forged").unwrap_err(), NoSession::Missing);
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(s.get(&id).unwrap_err(), NoSession::Expired);
        let id = s.create("hans-de-backer");
        s.remove(&id);
        assert_eq!(s.get(&id).unwrap_err(), NoSession::Missing);
    }

    #[test]
    fn a_pending_sign_in_is_finished_once() {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(60));
        s.start_pending("st", "n".into(), "v".into());
        assert_eq!(s.take_pending("st").unwrap().nonce, "n");
        assert!(s.take_pending("st").is_none());
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("", ""));
    }
}
