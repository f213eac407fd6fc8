//! The test matrix over the runtime's two stores: [`each_store`] runs one test body on a
//! SQLite file and on a city in a throw-away PostgreSQL cluster (see `pg_support`), so
//! the same assertions hold on both. One cluster serves the whole test binary (started by
//! the first body that needs it, stopped by a watcher when the binary ends); each run of
//! a body has cities of its own in it (their names prefixed with the run's), so bodies
//! run side by side as on SQLite files. `PARAAF_STORES=sqlite` or `=postgres` runs one;
//! `PARAAF_SKIP_PG=1` skips PostgreSQL when its binaries are missing.
#![allow(dead_code)]

#[path = "../pg_support/mod.rs"]
mod pg_support;

use paraaf_runtime::Runtime;
use paraaf_runtime::backend::{Backend, StoreAddress};
use paraaf_runtime::pg_store::{postgres, schema};
use pg_support::{APP, Cluster, OWNER};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The stores of one run of a test body: a folder of SQLite files, or cities of this
/// run's own in the binary's PostgreSQL cluster (with the schema).
pub struct Stores {
    dir: PathBuf,
    cluster: Option<&'static Cluster>,
    /// What this run's city names start with on PostgreSQL.
    prefix: String,
}

/// Runs `body` on each store the environment asks for (both by default), naming the
/// store in a failure.
pub fn each_store(test: &str, body: impl Fn(&Stores)) {
    if runs_on_postgres() {
        // The cluster starts (seconds) while the SQLite run goes.
        std::thread::spawn(shared_cluster);
    }
    if runs_on_sqlite() {
        let stores = Stores::new(test, None);
        eprintln!("{test}: on SQLite");
        body(&stores);
    }
    if runs_on_postgres() {
        let Some(cluster) = shared_cluster() else {
            return;
        };
        let stores = Stores::new(test, Some(cluster));
        eprintln!("{test}: on PostgreSQL (cities {}-*)", stores.prefix);
        body(&stores);
    }
}

/// Whether the environment asks for the SQLite runs (`PARAAF_STORES` unset or `sqlite`).
pub fn runs_on_sqlite() -> bool {
    matches!(
        std::env::var("PARAAF_STORES").as_deref(),
        Err(_) | Ok("" | "sqlite")
    )
}

/// Whether the environment asks for the PostgreSQL runs (`PARAAF_STORES` unset or
/// `postgres`).
pub fn runs_on_postgres() -> bool {
    matches!(
        std::env::var("PARAAF_STORES").as_deref(),
        Err(_) | Ok("" | "postgres")
    )
}

/// The test binary's one cluster with the schema, started on first use; `None` when
/// PostgreSQL is missing and may be skipped.
fn shared_cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            let cluster = Cluster::start("matrix")?;
            cluster.stop_when_this_process_ends();
            schema::migrate(&cluster.owner_url(), APP).unwrap();
            Some(cluster)
        })
        .as_ref()
}

impl Stores {
    fn new(test: &str, cluster: Option<&'static Cluster>) -> Stores {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "paraaf-matrix-{test}-{}-{run}-{}",
            std::process::id(),
            if cluster.is_some() { "pg" } else { "sqlite" }
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let name: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        Stores {
            dir,
            cluster,
            prefix: format!("t{run}-{name}"),
        }
    }

    /// The name `city` has in the store (its `city` column on PostgreSQL): this run's
    /// own in the shared cluster; `city` itself on SQLite.
    pub fn city(&self, city: &str) -> String {
        match self.cluster {
            None => city.to_string(),
            Some(_) => format!("{}-{city}", self.prefix),
        }
    }

    /// Whether these are PostgreSQL's.
    pub fn is_postgres(&self) -> bool {
        self.cluster.is_some()
    }

    /// Where the store of `city` lies (a file, or the city in the cluster).
    pub fn address(&self, city: &str) -> StoreAddress {
        match &self.cluster {
            None => StoreAddress::File(self.dir.join(format!("{city}.db"))),
            Some(c) => StoreAddress::Postgres {
                url: c.app_url(),
                city: self.city(city),
            },
        }
    }

    /// A folder of `city`'s own for files beside its store (checkpoints, keys).
    pub fn files(&self, city: &str) -> PathBuf {
        let dir = self.dir.join(format!("{city}.files"));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The runtime of `city`.
    pub fn runtime(&self, city: &str) -> Runtime {
        Runtime::open_store(&self.address(city), Default::default()).unwrap()
    }

    /// The store of `city`, read-only on PostgreSQL until a writer lock is taken.
    pub fn store(&self, city: &str) -> Backend {
        Backend::open(&self.address(city)).unwrap()
    }

    /// Runs `sql` on `city`'s store behind the runtime's back (an insider with the
    /// database's rights): on SQLite on its file, on PostgreSQL as the tables' owner
    /// with the city set, so row-level security keeps the statement to that city.
    pub fn sql(&self, city: &str, sql: &str) {
        match &self.cluster {
            None => {
                let path = self.dir.join(format!("{city}.db"));
                let conn = paraaf_runtime::store::Store::open(&path).unwrap();
                conn.connection().execute_batch(sql).unwrap();
            }
            Some(c) => {
                let mut owner =
                    postgres::Client::connect(&c.url(OWNER, pg_support::DATABASE), postgres::NoTls)
                        .unwrap();
                owner
                    .execute(
                        "SELECT set_config('paraaf.city', $1, false)",
                        &[&self.city(city)],
                    )
                    .unwrap();
                owner.batch_execute(sql).unwrap();
            }
        }
    }

    /// The value of a one-value query on `city`'s store (as [`Stores::sql`] runs it), as
    /// text.
    pub fn text(&self, city: &str, sql: &str) -> String {
        match &self.cluster {
            None => {
                let path = self.dir.join(format!("{city}.db"));
                let conn = paraaf_runtime::store::Store::open(&path).unwrap();
                conn.connection()
                    .query_row(&format!("SELECT CAST(({sql}) AS TEXT)"), [], |r| r.get(0))
                    .unwrap()
            }
            Some(c) => {
                let mut owner =
                    postgres::Client::connect(&c.url(OWNER, pg_support::DATABASE), postgres::NoTls)
                        .unwrap();
                owner
                    .execute(
                        "SELECT set_config('paraaf.city', $1, false)",
                        &[&self.city(city)],
                    )
                    .unwrap();
                owner
                    .query_one(&format!("SELECT CAST(({sql}) AS TEXT)"), &[])
                    .unwrap()
                    .get(0)
            }
        }
    }
}

impl Stores {
    /// `bytes` as a SQL literal of the store's binary type.
    pub fn blob(&self, bytes: &[u8]) -> String {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if self.is_postgres() {
            format!("'\\x{hex}'::bytea")
        } else {
            format!("X'{hex}'")
        }
    }

    /// The bytes a one-value query gives on `city`'s store.
    pub fn bytes(&self, city: &str, sql: &str) -> Vec<u8> {
        let hex = if self.is_postgres() {
            self.text(city, &format!("encode(({sql}), 'hex')"))
        } else {
            self.text(city, &format!("hex(({sql}))"))
        };
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }
}

impl Drop for Stores {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `text` as a SQL string literal (both stores read `''` as one quote).
pub fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
