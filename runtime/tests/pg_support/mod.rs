//! A throwaway PostgreSQL cluster for tests: Debian's `initdb` and `pg_ctl`, a data folder
//! in a temporary directory, a free port on 127.0.0.1 and a socket folder of its own, run
//! as the `postgres` user when the tests run as root. Stopped (immediately) and removed
//! when dropped. Without PostgreSQL's binaries a test fails, naming what to install,
//! unless `PARAAF_SKIP_PG=1` is set.
#![allow(dead_code)]

use paraaf_runtime::pg_store::postgres;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The superuser the cluster is created with (trust authentication, 127.0.0.1 only).
pub const SUPERUSER: &str = "paraaf_admin";
/// The role that owns the tables (creates the schema).
pub const OWNER: &str = "paraaf_owner";
/// The application's role: not the owner, no BYPASSRLS.
pub const APP: &str = "paraaf_app";
/// The database.
pub const DATABASE: &str = "paraaf";

/// A running cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    as_postgres: bool,
}

/// The folder of PostgreSQL's server binaries (`initdb`, `pg_ctl`), the newest version.
fn binaries() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PARAAF_PG_BIN") {
        let dir = PathBuf::from(dir);
        return dir.join("initdb").is_file().then_some(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    /// Starts a new cluster with the owner and application roles and the database, or
    /// `None` when PostgreSQL is missing and `PARAAF_SKIP_PG=1` allows skipping. It does
    /// not sync to disk (`fsync=off`): fast for tests, no durability figure.
    pub fn start(name: &str) -> Option<Cluster> {
        Cluster::start_with(name, "-c fsync=off -c full_page_writes=off")
    }

    /// [`Cluster::start`] with PostgreSQL's durable defaults (`fsync=on`), for figures.
    pub fn start_durable(name: &str) -> Option<Cluster> {
        Cluster::start_with(name, "")
    }

    fn start_with(name: &str, settings: &str) -> Option<Cluster> {
        let Some(bin) = binaries() else {
            if std::env::var("PARAAF_SKIP_PG").as_deref() == Ok("1") {
                eprintln!("PostgreSQL tests skipped (PARAAF_SKIP_PG=1)");
                return None;
            }
            panic!(
                "PostgreSQL's server binaries (initdb, pg_ctl) were not found in PARAAF_PG_BIN or under /usr/lib/postgresql/*/bin: install them (`apt-get install postgresql`), point PARAAF_PG_BIN at their folder, or set PARAAF_SKIP_PG=1 to skip these tests"
            );
        };
        let dir = std::env::temp_dir().join(format!(
            "paraaf-pg-{name}-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("socket")).unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let o = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .output()
                .unwrap();
            assert!(o.status.success(), "chown: {}", text(&o));
        }
        let mut cluster = Cluster {
            dir,
            bin,
            port: 0,
            as_postgres,
        };
        let data = cluster.dir.join("data");
        let o = cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        assert!(o.status.success(), "initdb failed: {}", text(&o));
        // A port can be taken between choosing and binding it: a few tries.
        for attempt in 0.. {
            cluster.port = free_port();
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {} {settings}",
                cluster.port,
                cluster.dir.join("socket").display()
            );
            let log = cluster.dir.join("server.log");
            let o = cluster.run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-o".as_ref(),
                    options.as_ref(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "start".as_ref(),
                ],
            );
            if o.status.success() {
                break;
            }
            assert!(
                attempt < 3,
                "pg_ctl start failed: {}\n{}",
                text(&o),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        for sql in [
            format!("CREATE ROLE {OWNER} LOGIN"),
            format!("CREATE ROLE {APP} LOGIN NOBYPASSRLS"),
            format!("CREATE DATABASE {DATABASE} OWNER {OWNER}"),
        ] {
            cluster.sql("postgres", &sql);
        }
        cluster.sql(
            DATABASE,
            &format!(
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT ALL ON SCHEMA public TO {OWNER};"
            ),
        );
        Some(cluster)
    }

    /// Runs one of PostgreSQL's programs, as `postgres` when root.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Output {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()))
    }

    /// The address of `role` on `database`.
    pub fn url(&self, role: &str, database: &str) -> String {
        format!("postgres://{role}@127.0.0.1:{}/{database}", self.port)
    }

    /// The application role's address.
    pub fn app_url(&self) -> String {
        self.url(APP, DATABASE)
    }

    /// The schema owner's address.
    pub fn owner_url(&self) -> String {
        self.url(OWNER, DATABASE)
    }

    /// A connection as the superuser.
    pub fn superuser(&self, database: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(SUPERUSER, database), postgres::NoTls).unwrap()
    }

    /// Runs SQL as the superuser.
    pub fn sql(&self, database: &str, sql: &str) {
        self.superuser(database).batch_execute(sql).unwrap();
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of PostgreSQL's programs this cluster runs with (`pg_dump`,
    /// `pg_restore`, `psql` are there too).
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Stops this cluster (immediately) and removes its folder once this process has
    /// ended, from a watcher in a session of its own: for a cluster kept for the whole
    /// test binary in a `static`, which is never dropped (a panic, an abort or a kill of
    /// the binary still stops it).
    pub fn stop_when_this_process_ends(&self) {
        let data = self.dir.join("data");
        let script = r#"while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
if [ "$2" = yes ]; then runuser -u postgres -- "$3" -D "$4" -m immediate -w stop
else "$3" -D "$4" -m immediate -w stop; fi
rm -rf "$5""#;
        let spawned = Command::new("setsid")
            .args(["sh", "-c", script, "sh"])
            .arg(std::process::id().to_string())
            .arg(if self.as_postgres { "yes" } else { "no" })
            .arg(self.bin.join("pg_ctl"))
            .arg(&data)
            .arg(&self.dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        assert!(
            spawned.is_ok(),
            "cannot start the watcher that stops the shared cluster: {spawned:?}"
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
