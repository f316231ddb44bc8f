//! Decode-only peers: python-mysql-replication (PyPI `mysql-replication`)
//! and ZongJi (npm `@vlasky/zongji`). Each is installed on first use into
//! `.cache/` from its registry, reads the same binlog from the same
//! position, serializes every row of the measured table to JSON written to
//! /dev/null, and exits after the expected number of rows.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::report::Row;
use crate::stats::wait_rusage;
use crate::support::mariadb::MariaDb;
use crate::support::process::{self, tail};

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache")
}

/// Runs an installer into `tmp`, then renames it to `dir` (so a failed or
/// interrupted install is retried next time, never half-used).
fn install(dir: &Path, what: &str, run: impl FnOnce(&Path) -> Command) -> Result<(), String> {
    if dir.join(".done").exists() {
        return Ok(());
    }
    let tmp = dir.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    eprintln!("[bench] installing {what} into {}", dir.display());
    let out = run(&tmp).output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("installing {what} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    std::fs::rename(&tmp, dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(".done"), "").map_err(|e| e.to_string())?;
    Ok(())
}

pub struct Peer {
    pub name: String,
    program: String,
    script: PathBuf,
}

const PYTHON_SCRIPT: &str = r#"
import json, os, sys
sys.path.insert(0, sys.argv[1])
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent

_, _, host, port, user, password, log_file, log_pos, table, n, server_id = sys.argv
n = int(n)
stream = BinLogStreamReader(
    connection_settings={"host": host, "port": int(port), "user": user, "passwd": password},
    server_id=int(server_id), log_file=log_file, log_pos=int(log_pos), resume_stream=True,
    blocking=True, only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent])
out = open(os.devnull, "w", buffering=1 << 20)
count = 0
for ev in stream:
    if ev.table != table:
        continue
    op = "c" if isinstance(ev, WriteRowsEvent) else "u" if isinstance(ev, UpdateRowsEvent) else "d"
    for row in ev.rows:
        out.write(json.dumps({"db": ev.schema, "table": ev.table, "op": op, "file": stream.log_file,
                              "pos": stream.log_pos, "row": row}, default=str))
        out.write("\n")
        count += 1
    if count >= n:
        break
stream.close()
out.close()
sys.exit(0 if count >= n else 3)
"#;

const ZONGJI_SCRIPT: &str = r#"
import fs from 'fs';
import ZongJi from '@vlasky/zongji';

const [host, port, user, password, filename, position, table, n, serverId] = process.argv.slice(2);
const want = Number(n);
const fd = fs.openSync('/dev/null', 'w');
let parts = [];
let size = 0;
let count = 0;
const replacer = (_k, v) => (typeof v === 'bigint' ? v.toString() : v);
function flush() {
  if (parts.length) fs.writeSync(fd, parts.join(''));
  parts = [];
  size = 0;
}
const zongji = new ZongJi({ host, port: Number(port), user, password });
zongji.on('binlog', (evt) => {
  if (!evt.rows) return;
  const map = evt.tableMap[evt.tableId];
  if (!map || map.tableName !== table) return;
  const op = evt.getEventName();
  for (const row of evt.rows) {
    const s = JSON.stringify({ db: map.parentSchema, table: map.tableName, op, pos: evt.nextPosition, row }, replacer) + '\n';
    parts.push(s);
    size += s.length;
    count++;
  }
  if (size > (1 << 20)) flush();
  if (count >= want) {
    flush();
    zongji.stop();
    process.exit(0);
  }
});
zongji.on('error', (err) => {
  console.error('zongji error:', err);
  process.exit(2);
});
zongji.start({
  serverId: Number(serverId),
  filename,
  position: Number(position),
  includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
});
"#;

/// python-mysql-replication, installed with pip into `.cache/py`.
pub fn python() -> Result<Peer, String> {
    let dir = cache().join("py");
    install(&dir, "mysql-replication (PyPI)", |tmp| {
        let mut c = Command::new("python3");
        c.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-script-location", "--target"])
            .arg(tmp)
            .arg("mysql-replication");
        c
    })?;
    let version = std::fs::read_dir(&dir)
        .ok()
        .and_then(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| n.starts_with("mysql_replication-") && n.ends_with(".dist-info"))
        })
        .map(|n| n.trim_start_matches("mysql_replication-").trim_end_matches(".dist-info").to_string())
        .unwrap_or_default();
    let script = cache().join("bench-python-peer.py");
    std::fs::write(&script, PYTHON_SCRIPT).map_err(|e| e.to_string())?;
    Ok(Peer { name: format!("python-mysql-replication {version}"), program: "python3".into(), script })
}

/// ZongJi, installed with npm into `.cache/node`.
pub fn zongji() -> Result<Peer, String> {
    let dir = cache().join("node");
    install(&dir, "@vlasky/zongji (npm)", |tmp| {
        let mut c = Command::new("npm");
        c.args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"]).arg(tmp).arg("@vlasky/zongji");
        c
    })?;
    let pkg = std::fs::read_to_string(dir.join("node_modules/@vlasky/zongji/package.json")).unwrap_or_default();
    let version = serde_json::from_str::<serde_json::Value>(&pkg)
        .ok()
        .and_then(|v| v["version"].as_str().map(str::to_string))
        .unwrap_or_default();
    // Next to its node_modules, so that the import resolves.
    let script = dir.join("bench-zongji-peer.mjs");
    std::fs::write(&script, ZONGJI_SCRIPT).map_err(|e| e.to_string())?;
    Ok(Peer { name: format!("ZongJi {version}"), program: "node".into(), script })
}

impl Peer {
    /// Reads the binlog from `file:pos` until `rows` rows of `table` are
    /// serialized; wall time from spawn to exit, CPU and peak RSS of the process.
    pub async fn run(&self, case: &str, db: &MariaDb, file: &str, pos: u64, table: &str, rows: u64, server_id: u32) -> Row {
        let log_dir = process::scratch_dir("bench-peer");
        let log = log_dir.path().join("peer.log");
        let mut cmd = Command::new(&self.program);
        cmd.arg(&self.script);
        if self.program == "python3" {
            cmd.arg(cache().join("py"));
        }
        cmd.args([db.host(), &db.port().to_string(), db.user(), db.password(), file, &pos.to_string(), table])
            .arg(rows.to_string())
            .arg(server_id.to_string());
        let Ok(out) = std::fs::File::create(&log) else { return Row::failed(case, &self.name, "cannot create log") };
        cmd.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out);
        let started = Instant::now();
        let child = match process::spawn(cmd) {
            Ok(c) => c,
            Err(e) => return Row::failed(case, &self.name, format!("spawn: {e}")),
        };
        let pid = child.id();
        // A deadline: kill a peer that hangs (e.g. fewer rows than expected).
        let deadline = Duration::from_secs(1800);
        let killer = std::thread::spawn(move || {
            let end = Instant::now() + deadline;
            while Instant::now() < end {
                std::thread::sleep(Duration::from_millis(200));
                if crate::stats::sample(pid).is_none() {
                    return;
                }
            }
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        });
        let (code, cpu, rss) = tokio::task::spawn_blocking(move || wait_rusage(pid)).await.expect("wait peer");
        let seconds = started.elapsed().as_secs_f64();
        std::mem::forget(child); // reaped by wait4
        let _ = killer.join();
        if code != 0 {
            return Row::failed(case, &self.name, format!("exit {code}: {}", tail(&log, 5)));
        }
        Row {
            rows,
            seconds,
            cpu_s: Some(cpu),
            peak_rss_kib: Some(rss),
            notes: vec!["process start to exit; rows as JSON to /dev/null".into()],
            ..Row::new(case, &self.name)
        }
    }
}
