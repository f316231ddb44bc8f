//! Running each implementation over a backlog and turning what the watcher
//! saw into report rows.
//!
//! A drain run reads one or more backlogs that follow each other in the
//! binlog (e.g. case 1, then case 2's inserts, then its updates), each
//! going to its own topic or raising its topic's count: a case's window
//! runs from the previous case's last acknowledged record (for the first:
//! from process start) to its own last one.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::report::Row;
use crate::stats::{self, Threshold, Watch, Watched};
use crate::support::cdc::{binary, CdcConfig};
use crate::support::process::{self, tail};

/// One case of a drain run.
#[derive(Clone, Debug)]
pub struct Segment {
    pub case: String,
    pub rows: u64,
    pub binlog_bytes: u64,
    pub threshold: Threshold,
}

pub const DRAIN_DEADLINE: Duration = Duration::from_secs(3600);

/// Starts the watcher on a thread of its own.
pub fn watch_thread(watch: &Watch, segments: &[Segment], started: Instant) -> std::thread::JoinHandle<Watched> {
    let w = watch.clone();
    let thresholds: Vec<Threshold> = segments.iter().map(|s| s.threshold.clone()).collect();
    std::thread::spawn(move || w.run(&thresholds, started, DRAIN_DEADLINE))
}

pub async fn join_watch(h: std::thread::JoinHandle<Watched>) -> Watched {
    tokio::task::spawn_blocking(move || h.join().expect("watcher panicked")).await.expect("join watcher")
}

/// Report rows of a drain run, one per segment.
pub fn drain_rows(implementation: &str, w: &Watched, segments: &[Segment], first_notes: Vec<String>) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut prev = w.start;
    for (i, seg) in segments.iter().enumerate() {
        let Some(m) = w.marks.get(i) else {
            rows.push(Row::failed(&seg.case, implementation, w.failed.clone().unwrap_or_else(|| "not reached".into())));
            continue;
        };
        let mut row = Row {
            rows: seg.rows,
            seconds: (m.at - prev.at).as_secs_f64(),
            binlog_bytes: Some(seg.binlog_bytes),
            cpu_s: Some(m.cpu_s - prev.cpu_s),
            peak_rss_kib: Some(m.peak_rss_kib),
            kafka_cpu_s: Some(m.kafka_cpu_s - prev.kafka_cpu_s),
            mariadb_cpu_s: Some(m.mariadb_cpu_s - prev.mariadb_cpu_s),
            ..Row::new(&seg.case, implementation)
        };
        if i == 0 {
            if let Some(first) = w.first_record {
                let rest = (m.at - first).as_secs_f64();
                row.notes.push(format!(
                    "incl. start-up (first record after {:.1} s; {:.0} rows/s from there)",
                    first.as_secs_f64(),
                    seg.rows as f64 / rest.max(1e-9)
                ));
            }
            row.notes.extend(first_notes.iter().cloned());
        } else {
            row.notes.push("from the previous case's last ack".into());
        }
        row.notes.push(format!(
            "servers' CPU: Kafka {:.1} s, MariaDB {:.1} s",
            m.kafka_cpu_s - prev.kafka_cpu_s,
            m.mariadb_cpu_s - prev.mariadb_cpu_s
        ));
        rows.push(row);
        prev = *m;
    }
    rows
}

/// binlog-cdc with the stdout sink (JSON lines), read from the oldest
/// binlog: time from process start until `lines` lines came out of its
/// stdout (a pipe read and discarded by this process).
pub async fn ours_stdout(case: &str, cfg: &CdcConfig, lines: u64, binlog_bytes: u64) -> Row {
    let dir = process::scratch_dir("bench-stdout");
    let path = cfg.write(dir.path());
    let log = dir.path().join("cdc.log");
    let Ok(err_out) = std::fs::File::create(&log) else { return Row::failed(case, crate::report::OURS, "log") };
    let mut cmd = Command::new(binary());
    cmd.arg("--config").arg(&path).env("BINLOG_CDC_LOG", "info");
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(err_out);
    let started = Instant::now();
    let mut child = match process::spawn(cmd) {
        Ok(c) => c,
        Err(e) => return Row::failed(case, crate::report::OURS, format!("spawn: {e}")),
    };
    let pid = child.id();
    let profiler = Profiler::attach(Some(pid), "stdout");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        let mut seen = 0u64;
        let mut sent = false;
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    seen += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
                    if !sent && seen >= lines {
                        let _ = tx.send(started.elapsed());
                        sent = true;
                    }
                }
            }
        }
        seen
    });
    let done = tokio::task::spawn_blocking(move || rx.recv_timeout(DRAIN_DEADLINE).ok()).await.expect("wait lines");
    let rss_now = stats::sample(pid).map(|s| s.rss_kib);
    profiler.stop();
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    let (code, cpu, maxrss) = tokio::task::spawn_blocking(move || stats::wait_rusage(pid)).await.expect("wait");
    std::mem::forget(child);
    let seen = reader.join().unwrap_or(0);
    let Some(elapsed) = done else {
        return Row::failed(case, crate::report::OURS, format!("{seen} of {lines} lines (exit {code}): {}", tail(&log, 5)));
    };
    let mut row = Row {
        rows: lines,
        seconds: elapsed.as_secs_f64(),
        binlog_bytes: Some(binlog_bytes),
        cpu_s: Some(cpu),
        peak_rss_kib: Some(maxrss),
        ..Row::new(case, crate::report::OURS)
    };
    row.notes.push("process start to last line; Debezium JSON with schemas".into());
    if let Some(r) = rss_now {
        row.notes.push(format!("RSS at the end {:.1} MiB", r as f64 / 1024.0));
    }
    row
}

/// Sets the pid the watcher samples.
pub fn set_pid(slot: &Arc<AtomicU32>, pid: Option<u32>) {
    slot.store(pid.unwrap_or(0), Ordering::Relaxed);
}

pub fn new_watch(bootstrap: &str, kafka_pid: Option<u32>, mariadb_pid: Option<u32>) -> Watch {
    Watch {
        bootstrap: bootstrap.to_string(),
        pid: Arc::new(AtomicU32::new(0)),
        kafka_pid,
        mariadb_pid,
        stop: Arc::new(AtomicBool::new(false)),
    }
}

/// `perf record` attached to a process while it runs a case, when
/// BENCH_PERF=1 (cpu-clock sampling works without hardware counters);
/// writes `target/bench/perf-<name>.data`.
pub struct Profiler {
    child: Option<std::process::Child>,
}

impl Profiler {
    pub fn attach(pid: Option<u32>, name: &str) -> Profiler {
        let on = std::env::var("BENCH_PERF").is_ok_and(|v| v == "1");
        let (Some(pid), true) = (pid, on) else { return Profiler { child: None } };
        let dir = crate::report::bench_dir();
        let out = dir.join(format!("perf-{name}.data"));
        let child = Command::new("perf")
            .args(["record", "-q", "-e", "cpu-clock", "-F", "499", "--call-graph", "dwarf,32768", "-o"])
            .arg(&out)
            .args(["-p", &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        if child.is_some() {
            eprintln!("[bench] perf record → {}", out.display());
        }
        Profiler { child }
    }

    /// Stops recording (SIGINT) and waits for perf to write its file.
    pub fn stop(mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGINT) };
            let _ = c.wait();
        }
    }
}
