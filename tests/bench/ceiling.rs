//! What Kafka alone allows on this machine: a bare librdkafka producer,
//! with binlog-cdc's producer settings, sending records shaped like the
//! connector's (same size, same headers) as fast as it can; no database,
//! no decoding. Also used to warm the broker's JIT up before the cases, so
//! that neither binlog-cdc nor Debezium pays for it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

use crate::report::Row;
use crate::stats;
use crate::support::kafka::{create_topic, Record};

/// CPU seconds of this (harness) process.
fn self_cpu() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A record like case 1's (used for the warm-up, before any exists).
pub fn synthetic() -> Record {
    let schema: String = (0..40).map(|i| format!("{{\"type\":\"string\",\"optional\":true,\"field\":\"f{i}\"}},")).collect();
    let value = format!(
        "{{\"schema\":{{\"type\":\"struct\",\"fields\":[{schema}{{}}]}},\"payload\":{{\"before\":null,\"after\":{{\"id\":1,\"note\":\"{}\"}},\"op\":\"c\"}}}}",
        "x".repeat(300)
    );
    Record {
        topic: String::new(),
        partition: 0,
        offset: 0,
        key: Some(br#"{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"k.Key"},"payload":{"id":1}}"#.to_vec()),
        value: Some(value.into_bytes()),
        headers: (0..4).map(|i| (format!("__debezium.context.h{i}"), Some(b"some-header-value".to_vec()))).collect(),
    }
}

/// Sends `n` copies of `template` (keys varied) to a new topic of
/// `partitions` partitions and waits until every one is acknowledged.
pub async fn bare_produce(bootstrap: &str, topic: &str, partitions: i32, template: &Record, n: u64, kafka_pid: Option<u32>) -> Row {
    let case = format!("0. Kafka ceiling: bare producer, {} records like case 1's", crate::human(n));
    let name = "librdkafka alone (binlog-cdc's producer settings)";
    create_topic(bootstrap, topic, partitions, &[]).await;
    // The same `producer.*` overrides as binlog-cdc gets (BENCH_OURS_PROPS).
    let extra: BTreeMap<String, String> = std::env::var("BENCH_OURS_PROPS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.trim().strip_prefix("producer.")?.to_string(), v.trim().to_string())))
        .collect();
    let producer: ThreadedProducer<DefaultProducerContext> =
        match binlog_cdc::sink::kafka::producer_config(bootstrap, "bench-ceiling", &extra).create() {
            Ok(p) => p,
            Err(e) => return Row::failed(&case, name, e.to_string()),
        };
    let mut headers = OwnedHeaders::new();
    for (k, v) in &template.headers {
        headers = headers.insert(Header { key: k, value: v.as_deref() });
    }
    let value = template.value.clone().unwrap_or_default();
    let key_text = String::from_utf8_lossy(template.key.as_deref().unwrap_or_default()).into_owned();
    // Leaders known before the clock starts (as binlog-cdc waits for them).
    for _ in 0..100 {
        let ready = producer.client().fetch_metadata(Some(topic), Duration::from_secs(2)).ok().is_some_and(|md| {
            md.topics().iter().any(|t| t.error().is_none() && !t.partitions().is_empty() && t.partitions().iter().all(|p| p.leader() >= 0))
        });
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (cpu0, broker0) = (self_cpu(), stats::cpu_of(kafka_pid));
    let started = Instant::now();
    let topic_owned = topic.to_string();
    let sent = tokio::task::spawn_blocking(move || {
        for i in 0..n {
            let key = key_text.replace("\"payload\":{\"id\":", &format!("\"payload\":{{\"id\":{i}0"));
            let mut rec: BaseRecord<'_, [u8], [u8]> =
                BaseRecord::to(&topic_owned).key(key.as_bytes()).payload(value.as_slice()).headers(headers.clone());
            loop {
                match producer.send(rec) {
                    Ok(()) => break,
                    Err((_, back)) => {
                        rec = back;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
        }
        producer.flush(Duration::from_secs(120)).map_err(|e| e.to_string())
    })
    .await
    .expect("producer thread");
    let seconds = started.elapsed().as_secs_f64();
    if let Err(e) = sent {
        return Row::failed(&case, name, e);
    }
    let broker = stats::cpu_of(kafka_pid) - broker0;
    Row {
        rows: n,
        seconds,
        cpu_s: Some(self_cpu() - cpu0),
        kafka_cpu_s: Some(broker),
        notes: vec![
            format!("{} B values, {} headers; broker CPU {:.1} s", value_len(template), template.headers.len(), broker),
            "CPU: the producing process".into(),
        ],
        ..Row::new(&case, name)
    }
}

fn value_len(r: &Record) -> usize {
    r.value.as_ref().map_or(0, Vec::len)
}
