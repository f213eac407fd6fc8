//! The PostgreSQL schema of the store of many cities: every table keyed by `city`, row-level
//! security forced on each (a connection sees and writes only the rows of the city it set in
//! `paraaf.city`), created by the owner role and granted to the application role.

use super::{pg_error, quote_role};
use crate::engine::RuntimeError;

/// The name of the per-connection setting that names the city a connection works for.
pub const CITY_SETTING: &str = "paraaf.city";

/// The tables of the store, each keyed by `city` and under row-level security.
pub const TABLES: [&str; 3] = ["events", "idempotency", "contents"];

/// The schema versions, in order: each step runs once, in the owner's transaction.
const STEPS: [&str; 1] = [
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
];

/// Creates or updates the schema, connected as the role that will own the tables (not the
/// application's role), and grants the application role `app_role` what the store needs:
/// reading and appending, never changing or deleting a row, and only through row-level
/// security (enabled and forced on every table, with a policy per table on `city`).
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
    for table in TABLES {
        tx.batch_execute(&format!(
            "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
            ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
            DROP POLICY IF EXISTS {table}_of_city ON {table};
            CREATE POLICY {table}_of_city ON {table}
                USING (city = current_setting('{CITY_SETTING}', true))
                WITH CHECK (city = current_setting('{CITY_SETTING}', true));
            REVOKE ALL ON {table} FROM PUBLIC;
            REVOKE ALL ON {table} FROM {role};
            GRANT SELECT, INSERT ON {table} TO {role};"
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
