//! Process figures (CPU seconds, RSS) from /proc and wait4, and the watcher
//! that times a drain by the high watermarks of its Kafka topics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// One look at a live process.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcSample {
    /// user + system CPU seconds so far (all threads).
    pub cpu_s: f64,
    pub rss_kib: u64,
    /// Peak RSS so far (VmHWM).
    pub hwm_kib: u64,
}

fn clk_tck() -> f64 {
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).max(1) as f64
}

/// `None` once the process is gone or a zombie.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X")) {
        return None;
    }
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| -> Option<u64> {
        status.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse().ok()
    };
    Some(ProcSample { cpu_s: (utime + stime) / clk_tck(), rss_kib: kib("VmRSS:")?, hwm_kib: kib("VmHWM:")? })
}

/// CPU seconds of a process, 0 when unknown (for server processes).
pub fn cpu_of(pid: Option<u32>) -> f64 {
    pid.and_then(sample).map_or(0.0, |s| s.cpu_s)
}

/// JIT compilations a JVM has done so far (`jstat -compiler`), `None` when
/// it cannot be asked.
pub fn jit_compilations(pid: Option<u32>) -> Option<u64> {
    let out = std::process::Command::new("jstat").args(["-compiler", &pid?.to_string()]).output().ok()?;
    // "Compiled Failed Invalid Time ..." then the figures.
    String::from_utf8_lossy(&out.stdout).lines().nth(1)?.split_whitespace().next()?.parse().ok()
}

/// Exit figures of a child (reaps it): (exit code or -signal, CPU s, peak RSS KiB).
pub fn wait_rusage(pid: u32) -> (i32, f64, u64) {
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut ru) };
    if r < 0 {
        return (-1000, 0.0, 0);
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -libc::WTERMSIG(status) };
    (code, tv(ru.ru_utime) + tv(ru.ru_stime), ru.ru_maxrss as u64)
}

/// Records in a topic (sum of high watermarks: acknowledged records).
pub struct TopicCounter {
    consumer: BaseConsumer,
    partitions: HashMap<String, Vec<i32>>,
}

impl TopicCounter {
    pub fn new(bootstrap: &str) -> Self {
        let consumer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().expect("watermark client");
        TopicCounter { consumer, partitions: HashMap::new() }
    }

    pub fn count(&mut self, topic: &str) -> i64 {
        if !self.partitions.contains_key(topic) {
            let Ok(md) = self.consumer.fetch_metadata(Some(topic), Duration::from_secs(2)) else { return 0 };
            let parts: Vec<i32> = md
                .topics()
                .iter()
                .filter(|t| t.error().is_none())
                .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                .collect();
            if parts.is_empty() {
                return 0;
            }
            self.partitions.insert(topic.to_string(), parts);
        }
        self.partitions[topic]
            .iter()
            .map(|p| self.consumer.fetch_watermarks(topic, *p, Duration::from_secs(5)).map_or(0, |(lo, hi)| hi - lo))
            .sum()
    }
}

/// A count one topic must reach, in order.
#[derive(Clone, Debug)]
pub struct Threshold {
    pub topic: String,
    pub count: i64,
}

/// When a threshold was reached.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mark {
    /// Since the watch started.
    pub at: Duration,
    /// The measured process's CPU seconds at that moment.
    pub cpu_s: f64,
    /// Highest VmRSS sampled since the previous mark.
    pub peak_rss_kib: u64,
    /// Server CPU seconds at that moment (Kafka, MariaDB).
    pub kafka_cpu_s: f64,
    pub mariadb_cpu_s: f64,
}

#[derive(Debug, Default)]
pub struct Watched {
    /// First record in the first threshold's topic.
    pub first_record: Option<Duration>,
    /// CPU figures at the start (for the first segment).
    pub start: Mark,
    pub marks: Vec<Mark>,
    /// VmHWM at the last sample.
    pub hwm_kib: u64,
    pub failed: Option<String>,
}

/// What the watcher looks at: the measured process (its pid may be set
/// later, e.g. after a JVM restart) and the servers.
#[derive(Clone)]
pub struct Watch {
    pub bootstrap: String,
    pub pid: Arc<AtomicU32>,
    pub kafka_pid: Option<u32>,
    pub mariadb_pid: Option<u32>,
    pub stop: Arc<AtomicBool>,
}

const WATCH_POLL: Duration = Duration::from_millis(50);

impl Watch {
    /// Polls until every threshold is reached in order, the process dies,
    /// `stop` is set, or `deadline` passes. Blocking: run it on a thread.
    pub fn run(&self, thresholds: &[Threshold], started: Instant, deadline: Duration) -> Watched {
        let mut counter = TopicCounter::new(&self.bootstrap);
        let mut out = Watched {
            start: Mark {
                at: Duration::ZERO,
                cpu_s: 0.0,
                peak_rss_kib: 0,
                kafka_cpu_s: cpu_of(self.kafka_pid),
                mariadb_cpu_s: cpu_of(self.mariadb_pid),
            },
            ..Default::default()
        };
        let mut peak = 0u64;
        let mut last = ProcSample::default();
        let mut seen_pid = false;
        let mut next = 0;
        loop {
            let pid = self.pid.load(Ordering::Relaxed);
            if pid != 0 {
                match sample(pid) {
                    Some(s) => {
                        seen_pid = true;
                        peak = peak.max(s.rss_kib);
                        out.hwm_kib = out.hwm_kib.max(s.hwm_kib);
                        last = s;
                    }
                    None if seen_pid => {
                        out.failed = Some("the measured process exited".into());
                        return out;
                    }
                    None => {}
                }
            }
            if out.first_record.is_none() {
                if let Some(t) = thresholds.first() {
                    if counter.count(&t.topic) > 0 {
                        out.first_record = Some(started.elapsed());
                    }
                }
            }
            while next < thresholds.len() && counter.count(&thresholds[next].topic) >= thresholds[next].count {
                out.marks.push(Mark {
                    at: started.elapsed(),
                    cpu_s: last.cpu_s,
                    peak_rss_kib: peak,
                    kafka_cpu_s: cpu_of(self.kafka_pid),
                    mariadb_cpu_s: cpu_of(self.mariadb_pid),
                });
                peak = last.rss_kib;
                next += 1;
            }
            if next == thresholds.len() {
                return out;
            }
            if self.stop.load(Ordering::Relaxed) {
                out.failed = Some("stopped".into());
                return out;
            }
            if started.elapsed() > deadline {
                out.failed = Some(format!(
                    "deadline {deadline:?} passed with {} of {} records in {}",
                    counter.count(&thresholds[next].topic),
                    thresholds[next].count,
                    thresholds[next].topic
                ));
                return out;
            }
            std::thread::sleep(WATCH_POLL);
        }
    }
}

/// Load average (1, 5, 15 min) from /proc/loadavg.
pub fn loadavg() -> [f64; 3] {
    let s = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut it = s.split_whitespace().map(|v| v.parse().unwrap_or(0.0));
    [it.next().unwrap_or(0.0), it.next().unwrap_or(0.0), it.next().unwrap_or(0.0)]
}

/// Debugging aid (BENCH_SMAPS=1): the largest mappings of a process by RSS.
pub fn dump_smaps(pid: u32) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut maps: Vec<(u64, String)> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with("Rss:") {
            let kib = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            maps.push((kib, current.clone()));
        } else if line.contains('-') && !line.contains(':') || line.split_whitespace().next().is_some_and(|f| f.contains('-') && f.len() > 20) {
            current = line.to_string();
        }
    }
    maps.sort_by(|a, b| b.0.cmp(&a.0));
    let total: u64 = maps.iter().map(|m| m.0).sum();
    let mut out = format!("[smaps] pid {pid} total {} MiB in {} mappings:", total / 1024, maps.len());
    for (kib, m) in maps.iter().take(8) {
        out += &format!("\n  {:>7} KiB  {}", kib, m);
    }
    eprintln!("{out}");
}
