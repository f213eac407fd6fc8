//! One writer per city: the writer holds a session-level PostgreSQL advisory lock on a key
//! derived from the city's name. PostgreSQL releases it when the holder's connection ends,
//! however it ends (closed, process killed, backend terminated), so the next writer can
//! take over as soon as the server notices.

use super::pg_error;
use crate::engine::RuntimeError;

/// The lock key of a city, as SQL over `$1` (the city): a 64-bit hash of a prefixed name,
/// so that it does not collide with other applications' advisory locks by accident.
pub(crate) const KEY: &str = "hashtextextended('paraaf:writer:' || $1, 0)";

/// Takes the writer lock of `city` on this connection, or says who holds it.
pub(crate) fn take(client: &mut postgres::Client, city: &str) -> Result<(), RuntimeError> {
    let got: bool = client
        .query_one(&format!("SELECT pg_try_advisory_lock({KEY})"), &[&city])
        .map_err(pg_error)?
        .get(0);
    if got {
        return Ok(());
    }
    Err(RuntimeError::Locked(format!(
        "another writer holds city {city} ({}): only one process writes a city's log; let it finish or stop it, then try again (its lock goes when its connection ends)",
        holder(client, city).unwrap_or_else(|| "holder not visible to this role".into())
    )))
}

/// Whether this connection holds the writer lock of `city`.
pub fn held(client: &mut postgres::Client, city: &str) -> Result<bool, RuntimeError> {
    Ok(client
        .query_one(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
                    AND pid = pg_backend_pid() AND granted
                    AND classid = (({KEY} >> 32) & 4294967295)::bigint::text::oid
                    AND objid = ({KEY} & 4294967295)::bigint::text::oid AND objsubid = 1)"
            ),
            &[&city],
        )
        .map_err(pg_error)?
        .get(0))
}

/// Who holds the writer lock of `city`: the backend's process id and, where this role may
/// see them, the holder's application name (Paraaf's process and machine) and address.
fn holder(client: &mut postgres::Client, city: &str) -> Option<String> {
    let row = client
        .query_opt(
            &format!(
                "SELECT l.pid, a.application_name, host(a.client_addr)
                FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted
                    AND l.classid = (({KEY} >> 32) & 4294967295)::bigint::text::oid
                    AND l.objid = ({KEY} & 4294967295)::bigint::text::oid AND l.objsubid = 1"
            ),
            &[&city],
        )
        .ok()??;
    let pid: i32 = row.get(0);
    let app: Option<String> = row.get(1);
    let addr: Option<String> = row.get(2);
    let mut out = format!("PostgreSQL backend {pid}");
    if let Some(app) = app.filter(|a| !a.is_empty()) {
        out.push_str(&format!(", {app}"));
    }
    if let Some(addr) = addr {
        out.push_str(&format!(", from {addr}"));
    }
    Some(out)
}
