//! Fuzzing the binlog file path on mutated fixture bytes: the file reader,
//! mysql_common's event parsers behind it, the decoder (rows images, JSON
//! rendering, partial JSON updates) and the envelope must answer every
//! input with records or an error — never a panic, never an allocation
//! sized by a corrupt length.
//!
//! A short run is part of `make test` (`PROPTEST_CASES`, default 48 per
//! property). For a long run:
//! `PROPTEST_CASES=20000 cargo test --release --test fuzz_binlog`.
//! Allocations are counted by a wrapping global allocator: no single one may
//! exceed [`MAX_ALLOCATION`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use binlog_cdc::decode::decoder::Decoder;
use binlog_cdc::envelope::Encoder;
use binlog_cdc::offsets::position::Position;
use binlog_cdc::schema::{Catalog, MinimalMetadata};
use binlog_cdc::source::file::{BinlogFile, Limits};
use binlog_cdc::{channel, config, replay, settings};
use proptest::prelude::*;

/// Largest single allocation a mutated input may cause.
const MAX_ALLOCATION: usize = 64 << 20;

/// Memory live at once: beyond this the allocator fails (the test aborts
/// with "memory allocation failed") rather than the machine running out.
const MAX_LIVE: usize = 2 << 30;

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        if LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size() > MAX_LIVE {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        if new_size > layout.size() && LIVE.load(Ordering::Relaxed) + (new_size - layout.size()) > MAX_LIVE {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Limits for fuzzing: far below the defaults, so a corrupt length shows.
const LIMITS: Limits = Limits { max_event_size: 4 << 20, max_payload_size: 16 << 20, verify_checksums: false };

fn fixtures() -> &'static Vec<(String, Vec<u8>)> {
    static FILES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/mysql-binlogs");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
            // The three ~150 KB files make each case slow without adding variety.
            .filter(|p| std::fs::metadata(p).map(|m| m.len() < 100_000).unwrap_or(false))
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).expect("read")))
            .collect();
        files.sort();
        files
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime"))
}

const CONFIG: &str = "name: fuzz\ndatabase.hostname: 127.0.0.1\ndatabase.user: u\ndatabase.server.id: 1\n\
topic.prefix: fz\nsink.type: stdout\ntable.ignore.builtin: false\ninclude.schema.changes: false\n";

/// Runs bytes through reader + decoder + envelope; the records produced
/// are drained. Errors are fine, panics are not.
fn decode(name: &str, bytes: &[u8], verify_checksums: bool) {
    let cfg = config::from_str(CONFIG, "fuzz").expect("config");
    runtime().block_on(async {
        let (tx, mut rx) = channel::bounded::<binlog_cdc::decode::decoder::Batch>(64, 64 << 20);
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let mut decoder = Decoder::new(
            settings::decoder(&cfg),
            Encoder::new(settings::envelope(&cfg)),
            Catalog::new_offline(MinimalMetadata::Synthetic),
            Arc::new(cfg.filters.clone()),
            tx,
            Position::new(name, 4),
        );
        let mut file = BinlogFile::from_bytes(name, bytes, Limits { verify_checksums, ..LIMITS });
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        let _ = replay::feed_file(&mut decoder, name, &mut file, &stop).await;
        let _ = decoder.finish().await;
        let _ = drain.await;
    });
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    /// Overwrite 4 bytes with an extreme little-endian length.
    SetLength(usize, u32),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    /// Copy a range over another place (events from elsewhere in the file).
    Splice(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<prop::sample::Index>();
    prop_oneof![
        4 => (pos.clone(), 0u8..8).prop_map(|(p, b)| Mutation::FlipBit(p.index(usize::MAX), b)),
        3 => (pos.clone(), any::<u8>()).prop_map(|(p, v)| Mutation::SetByte(p.index(usize::MAX), v)),
        2 => (pos.clone(), prop_oneof![Just(0u32), Just(1), Just(18), Just(19), Just(0xffff), Just(0x7fff_ffff), Just(u32::MAX), any::<u32>()])
            .prop_map(|(p, v)| Mutation::SetLength(p.index(usize::MAX), v)),
        1 => pos.clone().prop_map(|p| Mutation::Truncate(p.index(usize::MAX))),
        1 => (pos.clone(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(p, v)| Mutation::Insert(p.index(usize::MAX), v)),
        1 => (pos.clone(), 1usize..64).prop_map(|(p, n)| Mutation::Remove(p.index(usize::MAX), n)),
        1 => (pos.clone(), pos, 1usize..256).prop_map(|(a, b, n)| Mutation::Splice(a.index(usize::MAX), b.index(usize::MAX), n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let at = |p: usize, len: usize| p % len.max(1);
    match m {
        Mutation::FlipBit(p, b) => {
            let i = at(*p, bytes.len());
            bytes[i] ^= 1 << b;
        }
        Mutation::SetByte(p, v) => {
            let i = at(*p, bytes.len());
            bytes[i] = *v;
        }
        Mutation::SetLength(p, v) => {
            let i = at(*p, bytes.len().saturating_sub(4).max(1));
            for (k, b) in v.to_le_bytes().iter().enumerate() {
                if let Some(x) = bytes.get_mut(i + k) {
                    *x = *b;
                }
            }
        }
        Mutation::Truncate(p) => bytes.truncate(at(*p, bytes.len())),
        Mutation::Insert(p, v) => {
            let i = at(*p, bytes.len());
            bytes.splice(i..i, v.iter().copied());
        }
        Mutation::Remove(p, n) => {
            let i = at(*p, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::Splice(a, b, n) => {
            let (src, dst) = (at(*a, bytes.len()), at(*b, bytes.len()));
            let n = (*n).min(bytes.len() - src).min(bytes.len() - dst);
            let chunk = bytes[src..src + n].to_vec();
            bytes[dst..dst + n].copy_from_slice(&chunk);
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Mutated fixture files through the whole file path.
    #[test]
    fn mutated_fixtures_never_panic(file in any::<prop::sample::Index>(), muts in prop::collection::vec(mutation(), 1..6), checksums in any::<bool>()) {
        let files = fixtures();
        let (name, original) = &files[file.index(files.len())];
        let mut bytes = original.clone();
        for m in &muts {
            apply(&mut bytes, m);
        }
        LARGEST.store(0, Ordering::Relaxed);
        decode(name, &bytes, checksums);
        let largest = LARGEST.load(Ordering::Relaxed);
        prop_assert!(largest <= MAX_ALLOCATION, "{name}: an allocation of {largest} bytes after {muts:?}");
    }

    /// Arbitrary bytes as a JSON column value and as a partial-update diff.
    #[test]
    fn json_renderer_and_diffs_never_panic(doc in prop::collection::vec(any::<u8>(), 0..256), diff in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = binlog_cdc::envelope::jsonb::render(&doc);
        let _ = binlog_cdc::decode::json_diff::apply(&doc, &diff);
    }
}

/// Every fixture unmutated still works through this harness (a harness that
/// fails on everything would fuzz nothing).
#[test]
fn unmutated_fixtures_decode() {
    for (name, bytes) in fixtures() {
        decode(name, bytes, true);
    }
}
