//! Throwaway MariaDB servers: `mariadb-install-db` once per process into a
//! template data directory, copied for each server, then `mariadbd` on a free
//! port of 127.0.0.1 with the binlog settings of [`MariaDbOptions`].
//!
//! [`shared_mariadb`] is one server per test process (tests isolate themselves
//! with [`MariaDb::fresh_database`]); [`MariaDb::start`] gives a test its own
//! server, killed and removed on drop. Setting `BINLOG_CDC_IT_MYSQL_URL`
//! (`mysql://user:password@host:port`) points the shared one at an external
//! server instead.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mysql_async::prelude::{FromRow, Queryable};
use mysql_async::{Conn, Opts};
use tempfile::TempDir;

use super::process::{self, at_exit, free_port, kill_and_remove, scratch_dir, tail, Daemon};
use super::wait::POLL;

const START_DEADLINE: Duration = Duration::from_secs(60);
const ROOT_PASSWORD: &str = "cdc-root-pw";

/// How to start a server. `Default` is what the connector needs: binlog on,
/// ROW format, FULL row image, FULL row metadata, server id 1.
#[derive(Clone, Debug)]
pub struct MariaDbOptions {
    /// `--log-bin=mysql-bin` when true; no binary log when false.
    pub log_bin: bool,
    /// `--binlog-format=…` (`ROW`, `STATEMENT`, `MIXED`); `None`: server default.
    pub binlog_format: Option<String>,
    /// `--binlog-row-image=…` (`FULL`, `MINIMAL`, `NOBLOB`); `None`: server default.
    pub binlog_row_image: Option<String>,
    /// `--binlog-row-metadata=…` (`FULL`, `MINIMAL`, `NO_LOG`); `None`: server default.
    pub binlog_row_metadata: Option<String>,
    pub server_id: u32,
    /// Appended last, so they override anything above (`--gtid-strict-mode=1`, …).
    pub extra_args: Vec<String>,
}

impl Default for MariaDbOptions {
    fn default() -> Self {
        MariaDbOptions {
            log_bin: true,
            binlog_format: Some("ROW".into()),
            binlog_row_image: Some("FULL".into()),
            binlog_row_metadata: Some("FULL".into()),
            server_id: 1,
            extra_args: Vec::new(),
        }
    }
}

/// A running server (or an external one). Connect as [`MariaDb::user`], which
/// has every privilege.
pub struct MariaDb {
    host: String,
    port: u16,
    user: String,
    password: String,
    // Field order matters: the daemon is killed before its directory goes.
    daemon: Option<Daemon>,
    dir: Option<TempDir>,
}

/// The server shared by every test of this process, started on first use.
pub fn shared_mariadb() -> &'static MariaDb {
    static SHARED: OnceLock<MariaDb> = OnceLock::new();
    SHARED.get_or_init(|| {
        if let Ok(url) = std::env::var("BINLOG_CDC_IT_MYSQL_URL") {
            return MariaDb::external(&url);
        }
        let db = MariaDb::start(MariaDbOptions::default());
        let (pid, dir) = (db.daemon.as_ref().and_then(Daemon::pid), db.data_dir());
        at_exit(move || kill_and_remove(pid, dir));
        db
    })
}

impl MariaDb {
    /// Starts a server of its own (panics with the server's log on failure).
    pub fn start(opts: MariaDbOptions) -> MariaDb {
        let template = template_datadir();
        let mut last_err = String::new();
        for _attempt in 0..3 {
            match try_start(&opts, template) {
                Ok(db) => return db,
                // A port taken between free_port() and bind: try another one.
                Err(e) if e.contains("already in use") => last_err = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("{last_err}")
    }

    fn external(url: &str) -> MariaDb {
        let opts = Opts::from_url(url).unwrap_or_else(|e| panic!("BINLOG_CDC_IT_MYSQL_URL: {e}"));
        MariaDb {
            host: opts.ip_or_hostname().to_string(),
            port: opts.tcp_port(),
            user: opts.user().unwrap_or("root").to_string(),
            password: opts.pass().unwrap_or("").to_string(),
            daemon: None,
            dir: None,
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn password(&self) -> &str {
        &self.password
    }
    /// `mysql://user:password@host:port` (user has all privileges).
    pub fn root_url(&self) -> String {
        format!("mysql://{}:{}@{}:{}", self.user, self.password, self.host, self.port)
    }
    /// [`MariaDb::root_url`] with a default database.
    pub fn url(&self, db: &str) -> String {
        format!("{}/{db}", self.root_url())
    }
    /// The server's process id (`None` if external).
    pub fn pid(&self) -> Option<u32> {
        self.daemon.as_ref().and_then(Daemon::pid)
    }
    /// Scratch directory holding `data/`, `error.log` (`None` if external).
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().to_path_buf())
    }
    /// Last lines of the server's error log, for failure messages.
    pub fn error_log_tail(&self, lines: usize) -> String {
        self.data_dir().map(|d| tail(&d.join("error.log"), lines)).unwrap_or_default()
    }

    /// A new connection (panics if the server refuses).
    pub async fn conn(&self) -> Conn {
        connect(&self.root_url()).await.unwrap_or_else(|e| panic!("connect {}: {e}", self.root_url()))
    }
    /// A new connection with `db` as default database.
    pub async fn conn_db(&self, db: &str) -> Conn {
        connect(&self.url(db)).await.unwrap_or_else(|e| panic!("connect {}: {e}", self.url(db)))
    }
    /// Runs one or more `;`-separated statements; panics naming the SQL on error.
    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        if let Err(e) = c.query_drop(sql).await {
            panic!("SQL failed: {e}\n{sql}");
        }
        let _ = c.disconnect().await;
    }
    /// Rows of one query; panics naming the SQL on error.
    pub async fn query<T: FromRow + Send + 'static>(&self, sql: &str) -> Vec<T> {
        let mut c = self.conn().await;
        let rows = c.query(sql).await.unwrap_or_else(|e| panic!("SQL failed: {e}\n{sql}"));
        let _ = c.disconnect().await;
        rows
    }
    /// Creates a database no other test uses and returns its name.
    pub async fn fresh_database(&self, prefix: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let clean: String = prefix
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .take(40)
            .collect();
        let n = N.fetch_add(1, Ordering::Relaxed);
        let name = format!("{clean}_{n}_{:06x}", rand::random::<u32>() & 0xff_ffff);
        self.exec(&format!("CREATE DATABASE `{name}`")).await;
        name
    }
}

async fn connect(url: &str) -> mysql_async::Result<Conn> {
    Conn::new(Opts::from_url(url).map_err(mysql_async::Error::Url)?).await
}

fn try_start(opts: &MariaDbOptions, template: &Path) -> Result<MariaDb, String> {
    let dir = scratch_dir("mariadb");
    let data = dir.path().join("data");
    copy_dir(template, &data).map_err(|e| format!("copy template datadir: {e}"))?;
    let init = dir.path().join("init.sql");
    fs::write(&init, init_sql()).map_err(|e| e.to_string())?;
    let port = free_port();
    let d = dir.path();
    let mut cmd = Command::new("mariadbd");
    cmd.arg("--no-defaults")
        .arg("--user=root")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", d.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", d.join("mysqld.pid").display()))
        .arg(format!("--tmpdir={}", d.display()))
        .arg(format!("--log-error={}", d.join("error.log").display()))
        .arg(format!("--init-file={}", init.display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg("--skip-name-resolve")
        .arg(format!("--server-id={}", opts.server_id))
        .args(["--innodb-log-file-size=16M", "--innodb-buffer-pool-size=64M"])
        .args(["--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0"])
        .args(["--max-connections=500", "--character-set-server=utf8mb4"])
        .arg("--collation-server=utf8mb4_general_ci");
    if opts.log_bin {
        cmd.arg("--log-bin=mysql-bin");
    }
    for (name, v) in [
        ("binlog-format", &opts.binlog_format),
        ("binlog-row-image", &opts.binlog_row_image),
        ("binlog-row-metadata", &opts.binlog_row_metadata),
    ] {
        if let Some(v) = v {
            cmd.arg(format!("--{name}={v}"));
        }
    }
    cmd.args(&opts.extra_args);
    let daemon = Daemon::spawn(cmd, &d.join("mariadbd.out")).map_err(|e| format!("spawn mariadbd: {e}"))?;
    let db = MariaDb {
        host: "127.0.0.1".into(),
        port,
        user: "root".into(),
        password: ROOT_PASSWORD.into(),
        daemon: Some(daemon),
        dir: Some(dir),
    };
    db.wait_ready()?;
    Ok(db)
}

impl MariaDb {
    /// Waits until the root user can log in (the init file has run), on a
    /// thread of its own so that callers may be inside a runtime.
    fn wait_ready(&self) -> Result<(), String> {
        let url = self.root_url();
        let daemon = self.daemon.as_ref().expect("own server");
        std::thread::scope(|s| {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    let end = Instant::now() + START_DEADLINE;
                    loop {
                        if let Some(status) = daemon.exited() {
                            return Err(format!("mariadbd exited ({status}):\n{}", self.error_log_tail(30)));
                        }
                        let last = match connect(&url).await {
                            Ok(c) => return Ok(drop(c.disconnect().await)),
                            Err(e) => e.to_string(),
                        };
                        if Instant::now() > end {
                            return Err(format!(
                                "mariadbd not ready after {START_DEADLINE:?} ({last}):\n{}",
                                self.error_log_tail(30)
                            ));
                        }
                        tokio::time::sleep(POLL).await;
                    }
                })
            })
            .join()
            .expect("readiness thread")
        })
    }
}

/// Sets the root password on every root account, kept out of the binlog.
fn init_sql() -> String {
    let mut sql = String::from("SET sql_log_bin=0;\n");
    for host in ["localhost", "127.0.0.1", "::1"] {
        sql += &format!("ALTER USER IF EXISTS 'root'@'{host}' IDENTIFIED BY '{ROOT_PASSWORD}';\n");
    }
    sql
}

/// A data directory initialised by `mariadb-install-db`, once per process.
fn template_datadir() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = scratch_dir("mariadb-template").keep();
        at_exit({
            let dir = dir.clone();
            move || drop(fs::remove_dir_all(dir))
        });
        let data = dir.join("data");
        // A private tmpdir: temporary tables named after the pid in a shared
        // /tmp have been seen to vanish under concurrent test processes.
        let tmp = dir.join("tmp");
        fs::create_dir_all(&tmp).unwrap_or_else(|e| panic!("create {}: {e}", tmp.display()));
        let mut cmd = Command::new("mariadb-install-db");
        cmd.arg("--no-defaults")
            .arg("--auth-root-authentication-method=normal")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .args(["--user=root", "--skip-test-db", "--skip-name-resolve"])
            .arg("--innodb-log-file-size=16M");
        let log = dir.join("install-db.log");
        process::run(cmd, &log, START_DEADLINE).unwrap_or_else(|e| panic!("mariadb-install-db: {e}"));
        data
    })
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}
