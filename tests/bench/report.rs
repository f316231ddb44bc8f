//! The one table `make bench` prints (markdown), and the same figures as
//! JSON under `target/bench/`.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{json, Value};

pub const OURS: &str = "binlog-cdc";

/// One implementation's figures for one case.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub case: String,
    pub implementation: String,
    pub rows: u64,
    /// Wall seconds of the measured window (see the case's definition).
    pub seconds: f64,
    /// Binlog bytes the case's backlog occupies (`None`: not a backlog case).
    pub binlog_bytes: Option<u64>,
    pub cpu_s: Option<f64>,
    pub peak_rss_kib: Option<u64>,
    /// (p50, p99, max) milliseconds, for latency cases.
    pub latency_ms: Option<(f64, f64, f64)>,
    /// Offered rate of a latency case (rows/s).
    pub offered_rate: Option<u64>,
    pub notes: Vec<String>,
    /// Why the implementation produced no figures.
    pub failed: Option<String>,
    /// Server CPU seconds during the window.
    pub kafka_cpu_s: Option<f64>,
    pub mariadb_cpu_s: Option<f64>,
}

impl Row {
    pub fn new(case: &str, implementation: &str) -> Self {
        Row { case: case.into(), implementation: implementation.into(), ..Default::default() }
    }
    pub fn failed(case: &str, implementation: &str, why: impl Into<String>) -> Self {
        Row { failed: Some(why.into()), ..Row::new(case, implementation) }
    }
    pub fn rows_per_s(&self) -> Option<f64> {
        (self.failed.is_none() && self.seconds > 0.0).then(|| self.rows as f64 / self.seconds)
    }
    fn binlog_mb_per_s(&self) -> Option<f64> {
        Some(self.binlog_bytes? as f64 / 1e6 / self.seconds).filter(|_| self.failed.is_none() && self.seconds > 0.0)
    }
    fn cpu_per_1m(&self) -> Option<f64> {
        Some(self.cpu_s? * 1e6 / self.rows as f64).filter(|_| self.rows > 0)
    }
    fn is_ours(&self) -> bool {
        self.implementation.starts_with(OURS)
    }
    fn to_json(&self, ratio: Option<f64>) -> Value {
        json!({
            "case": self.case,
            "implementation": self.implementation,
            "rows": self.rows,
            "seconds": self.seconds,
            "rows_per_s": self.rows_per_s(),
            "offered_rows_per_s": self.offered_rate,
            "binlog_bytes": self.binlog_bytes,
            "binlog_mb_per_s": self.binlog_mb_per_s(),
            "cpu_s": self.cpu_s,
            "cpu_s_per_1m_rows": self.cpu_per_1m(),
            "peak_rss_mib": self.peak_rss_kib.map(|k| k as f64 / 1024.0),
            "latency_ms": self.latency_ms.map(|(p50, p99, max)| json!({"p50": p50, "p99": p99, "max": max})),
            "binlog_cdc_advantage": ratio,
            "kafka_cpu_s": self.kafka_cpu_s,
            "mariadb_cpu_s": self.mariadb_cpu_s,
            "notes": self.notes,
            "failed": self.failed,
        })
    }
}

/// How much better binlog-cdc is than `peer` in the same case: throughput
/// ratio, or for latency cases the p99 ratio.
fn advantage(ours: &Row, peer: &Row) -> Option<f64> {
    if peer.failed.is_some() || ours.failed.is_some() {
        return None;
    }
    match (ours.latency_ms, peer.latency_ms) {
        (Some((_, a, _)), Some((_, b, _))) if a > 0.0 => Some(b / a),
        (None, None) => Some(ours.rows_per_s()? / peer.rows_per_s()?),
        _ => None,
    }
}

/// `target/bench/` (created).
pub fn bench_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("bench");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

pub struct Report {
    pub rows: Vec<Row>,
    pub context: Value,
}

fn f(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.digits$}"))
}

fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    pub fn new(context: Value) -> Self {
        Report { rows: Vec::new(), context }
    }

    pub fn push(&mut self, row: Row) {
        eprintln!("[bench] {} / {}: {}", row.case, row.implementation, self.line(&row));
        self.rows.push(row);
    }

    fn ours_for(&self, case: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.case == case && r.is_ours())
    }

    fn ratio(&self, r: &Row) -> Option<f64> {
        if r.is_ours() {
            return None;
        }
        advantage(self.ours_for(&r.case)?, r)
    }

    fn line(&self, r: &Row) -> String {
        if let Some(why) = &r.failed {
            return format!("failed: {why}");
        }
        format!(
            "{} rows in {:.2} s = {} rows/s, CPU {} s, peak RSS {} MiB{}",
            r.rows,
            r.seconds,
            f(r.rows_per_s(), 0),
            f(r.cpu_s, 2),
            f(r.peak_rss_kib.map(|k| k as f64 / 1024.0), 1),
            r.latency_ms.map_or(String::new(), |(a, b, c)| format!(", latency p50/p99/max {a:.1}/{b:.1}/{c:.1} ms"))
        )
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        s.push_str("| case | implementation | rows | seconds | rows/s | binlog MB/s | CPU s / 1M rows | peak RSS MiB | latency p50 / p99 / max ms | binlog-cdc advantage | notes |\n");
        s.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
        for r in &self.rows {
            if let Some(why) = &r.failed {
                let _ = writeln!(s, "| {} | {} | – | – | – | – | – | – | – | – | failed: {} |", r.case, r.implementation, why.replace('|', "/").replace('\n', " "));
                continue;
            }
            let rate = match r.offered_rate {
                Some(o) => format!("{} (offered {})", thousands(r.rows_per_s().unwrap_or(0.0)), thousands(o as f64)),
                None => r.rows_per_s().map_or("–".into(), thousands),
            };
            let ratio = self.ratio(r).map_or("–".into(), |x| match r.latency_ms {
                Some(_) => format!("{x:.1}× lower p99"),
                None => format!("{x:.1}×"),
            });
            let latency = r.latency_ms.map_or("–".into(), |(a, b, c)| format!("{a:.1} / {b:.1} / {c:.1}"));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.2} | {} | {} | {} | {} | {} | {} | {} |",
                r.case,
                r.implementation,
                thousands(r.rows as f64),
                r.seconds,
                rate,
                f(r.binlog_mb_per_s(), 1),
                f(r.cpu_per_1m(), 2),
                f(r.peak_rss_kib.map(|k| k as f64 / 1024.0), 1),
                latency,
                ratio,
                r.notes.join("; ").replace('|', "/"),
            );
        }
        s
    }

    pub fn json(&self) -> Value {
        json!({
            "context": self.context,
            "results": self.rows.iter().map(|r| r.to_json(self.ratio(r))).collect::<Vec<_>>(),
        })
    }

    /// Writes `target/bench/bench-<unix time>.json`, `latest.json` and
    /// `latest.md`; returns the directory.
    pub fn write(&self) -> PathBuf {
        let dir = bench_dir();
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let text = serde_json::to_string_pretty(&self.json()).unwrap_or_default();
        let _ = std::fs::write(dir.join(format!("bench-{stamp}.json")), &text);
        let _ = std::fs::write(dir.join("latest.json"), &text);
        let _ = std::fs::write(dir.join("latest.md"), self.markdown());
        dir
    }
}
