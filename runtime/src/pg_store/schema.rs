//! The PostgreSQL schema of the store of many cities: every table keyed by `city`, row-level
//! security forced on each (a connection sees and writes only the rows of the city it set in
//! `paraaf.city`), created by the owner role and granted to the application role.

use super::{pg_error, quote_role};
use crate::engine::RuntimeError;

/// The name of the per-connection setting that names the city a connection works for.
pub const CITY_SETTING: &str = "paraaf.city";

/// The log's tables, each keyed by `city` and under row-level security: append-only for
/// the application (granted `SELECT` and `INSERT` only).
pub const TABLES: [&str; 3] = ["events", "idempotency", "contents"];

/// The tables the runtime keeps beside the log, keyed by `city` and under row-level
/// security like the log's, with what the application may do on each: who sent which
/// content (append-only), and what can be rebuilt from the log or is delivery
/// bookkeeping: the `documents` projection, snapshots, the outbox and its deliveries, the
/// writer's address, and the web app's sessions.
pub const WORK_TABLES: [(&str, &str); 7] = [
    ("content_owners", "SELECT, INSERT"),
    ("documents", "SELECT, INSERT, UPDATE, DELETE"),
    ("snapshots", "SELECT, INSERT, UPDATE, DELETE"),
    ("outbox", "SELECT, INSERT, UPDATE"),
    ("deliveries", "SELECT, INSERT, UPDATE"),
    ("writers", "SELECT, INSERT, UPDATE"),
    ("web_sessions", "SELECT, INSERT, UPDATE, DELETE"),
];

/// The schema versions, in order: each step runs once, in the owner's transaction.
const STEPS: [&str; 4] = [
    // The log of each city (append-only for the application: it is granted SELECT and
    // INSERT only), the idempotency records written in the events' transaction, and
    // content by SHA-256. `at` and the hashes are text, exactly as hashed.
    "CREATE TABLE events (
        city TEXT NOT NULL,
        seq BIGINT NOT NULL CHECK (seq > 0),
        at TEXT NOT NULL,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (city, seq)
    );
    CREATE TABLE idempotency (
        city TEXT NOT NULL,
        person TEXT NOT NULL,
        key TEXT NOT NULL,
        request_sha256 TEXT NOT NULL,
        status INTEGER NOT NULL,
        response TEXT NOT NULL,
        recorded BIGSERIAL NOT NULL,
        PRIMARY KEY (city, person, key)
    );
    CREATE TABLE contents (
        city TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        media_type TEXT NOT NULL,
        body BYTEA NOT NULL,
        PRIMARY KEY (city, sha256)
    );",
    // What the runtime keeps beside the log (as SQLite's store has it, keyed by city):
    // the uploader of each content, the documents projection (tasks and audiences in
    // the row), snapshots recorded by their event, the outbox written with the events
    // that cause it, and its delivery records.
    "CREATE TABLE content_owners (
        city TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        person TEXT NOT NULL,
        PRIMARY KEY (city, sha256, person)
    );
    CREATE TABLE documents (
        city TEXT NOT NULL,
        n BIGINT NOT NULL,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        flow TEXT NOT NULL,
        version BIGINT NOT NULL,
        uploader TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        step BIGINT NOT NULL,
        last_seq BIGINT NOT NULL,
        audiences TEXT NOT NULL,
        tasks TEXT NOT NULL,
        PRIMARY KEY (city, n),
        UNIQUE (city, id)
    );
    CREATE TABLE snapshots (
        city TEXT NOT NULL,
        seq BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        body BYTEA NOT NULL,
        event_seq BIGINT NOT NULL,
        PRIMARY KEY (city, seq)
    );
    CREATE TABLE outbox (
        city TEXT NOT NULL,
        seq BIGINT NOT NULL,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        urgent BOOLEAN NOT NULL,
        at TEXT NOT NULL,
        payload TEXT NOT NULL,
        delivery TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        PRIMARY KEY (city, seq, channel, recipient)
    );
    CREATE TABLE deliveries (
        city TEXT NOT NULL,
        id TEXT NOT NULL,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        last_error TEXT,
        created TEXT NOT NULL,
        sent_at TEXT,
        PRIMARY KEY (city, id)
    );",
    // Where the city's writer takes writes, recorded by the writer after it took the
    // city's advisory lock, with the PostgreSQL backend that holds the lock: a row
    // counts only while that backend holds it (see `follow::writer_address`), so a dead
    // writer's address is never used.
    "CREATE TABLE writers (
        city TEXT NOT NULL PRIMARY KEY,
        address TEXT NOT NULL,
        pid INTEGER NOT NULL,
        since TEXT NOT NULL
    );",
    // The web app's sessions, shared by every server of the city (the server that takes
    // over from a writer that died, or restarted, knows them): by the SHA-256 of
    // the cookie value (`kind` 'session'), of a sign-in page's form token ('login') or of
    // an OpenID Connect state ('pending'); times in milliseconds since the epoch.
    "CREATE TABLE web_sessions (
        city TEXT NOT NULL,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        person TEXT NOT NULL DEFAULT '',
        csrf TEXT NOT NULL DEFAULT '',
        flash TEXT,
        nonce TEXT NOT NULL DEFAULT '',
        verifier TEXT NOT NULL DEFAULT '',
        created BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        PRIMARY KEY (city, key)
    );",
];

/// Creates or updates the schema, connected as the role that will own the tables (not the
/// application's role), and grants the application role `app_role` what the store needs:
/// reading and appending the log (never changing or deleting a row of it), what
/// [`WORK_TABLES`] names on the rest, and only through row-level security (enabled and
/// forced on every table, with a policy per table on `city`).
/// Safe to run again and from several processes at once (a transaction-level advisory lock
/// serialises them). Returns the schema version now in force.
pub fn migrate(owner_url: &str, app_role: &str) -> Result<u32, RuntimeError> {
    let role = quote_role(app_role)?;
    let mut client = postgres::Client::connect(owner_url, postgres::NoTls).map_err(|e| {
        RuntimeError::Storage(format!(
            "cannot connect to PostgreSQL as the schema owner: {e}; check the address and that the role may log in"
        ))
    })?;
    let mut tx = client.transaction().map_err(pg_error)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('paraaf:schema', 0))",
        &[],
    )
    .map_err(pg_error)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS paraaf_schema (version INTEGER NOT NULL)")
        .map_err(pg_error)?;
    let version: i32 = tx
        .query_opt("SELECT version FROM paraaf_schema", &[])
        .map_err(pg_error)?
        .map(|r| r.get(0))
        .unwrap_or(0);
    let done = usize::try_from(version).unwrap_or(0);
    for step in STEPS.iter().skip(done) {
        tx.batch_execute(step).map_err(pg_error)?;
    }
    // Row-level security and grants, every time (idempotent): a table added by a step
    // is covered as soon as it exists.
    tx.batch_execute(&format!(
        "REVOKE ALL ON paraaf_schema FROM PUBLIC; GRANT SELECT ON paraaf_schema TO {role};"
    ))
    .map_err(pg_error)?;
    let tables = TABLES
        .iter()
        .map(|t| (*t, "SELECT, INSERT"))
        .chain(WORK_TABLES);
    for (table, grants) in tables {
        tx.batch_execute(&format!(
            "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
            ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
            DROP POLICY IF EXISTS {table}_of_city ON {table};
            CREATE POLICY {table}_of_city ON {table}
                USING (city = current_setting('{CITY_SETTING}', true))
                WITH CHECK (city = current_setting('{CITY_SETTING}', true));
            REVOKE ALL ON {table} FROM PUBLIC;
            REVOKE ALL ON {table} FROM {role};
            GRANT {grants} ON {table} TO {role};"
        ))
        .map_err(pg_error)?;
    }
    tx.batch_execute(&format!(
        "GRANT USAGE ON SEQUENCE idempotency_recorded_seq TO {role};"
    ))
    .map_err(pg_error)?;
    let latest = i32::try_from(STEPS.len()).unwrap_or(i32::MAX);
    tx.execute("DELETE FROM paraaf_schema", &[])
        .map_err(pg_error)?;
    tx.execute(
        "INSERT INTO paraaf_schema (version) VALUES ($1)",
        &[&latest],
    )
    .map_err(pg_error)?;
    tx.commit().map_err(pg_error)?;
    Ok(STEPS.len() as u32)
}
