//! Binlog files read from disk (`binlog-cdc replay`): the same events the
//! replication stream delivers, taken from a file instead of a server.
//!
//! Invariant: no byte reaches mysql_common's event parser before this module
//! has checked it. `Event::read` trusts the length in the event header
//! (`read_exact(..).unwrap()` on a short read) and subtracts the checksum
//! length from the body length without a check, so a truncated or corrupt
//! file would panic inside it. Here every event is framed first: the 4-byte
//! magic, then per event the 19-byte header, an `event_size` at least as
//! large as the header plus checksum (plus the fixed part of a
//! FORMAT_DESCRIPTION), at most what is left of the file and at most
//! [`Limits::max_event_size`]; only then are exactly those bytes handed over.
//! Every refusal is a [`FileError`] naming the file, the offset and the event
//! type, never a panic.
//!
//! The server decompresses nothing for us here: a TRANSACTION_PAYLOAD event
//! (MySQL 8.0.20+ `binlog_transaction_compression`) is decompressed with a
//! bound (the size its header declares, at most [`Limits::max_payload_size`])
//! and its inner events are framed the same way and yielded after it, as
//! mysql_async does on the live stream. Inner events carry `log_pos` 0, like
//! on the wire; the decoder places them at the payload event.
//!
//! CRC32 checksums are verified when the file has them, so a flipped bit is
//! reported where it is rather than decoded into wrong values.
//!
//! Binlogs of the MySQL 5.1/5.2 pre-release trees (`5.1.x-a_drop5p*`,
//! `5.2.x-a_drop6p*`) numbered events differently; their type codes are
//! mapped to today's as the server does (`event_type_permutation`). Their
//! TABLE_MAP and rows events predate column metadata and cannot be decoded:
//! those are refused with an error that says so.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use mysql_common::binlog::consts::{BinlogVersion, EventType};
use mysql_common::binlog::events::Event;
use mysql_common::binlog::EventStreamReader;

use crate::bytes::{Cursor, PackedError};

/// The first four bytes of every binlog file.
pub const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
const HEADER_LEN: u64 = 19;
const CHECKSUM_LEN: u64 = 4;
/// Binlog version (2) + server version (50) + create time (4) + header length (1).
const FDE_FIXED_LEN: u64 = 57;
/// Checksum algorithm byte + checksum, present in every FDE since 5.6.1.
const FDE_FOOTER_LEN: u64 = 5;

const FORMAT_DESCRIPTION: u8 = EventType::FORMAT_DESCRIPTION_EVENT as u8;
const TRANSACTION_PAYLOAD: u8 = EventType::TRANSACTION_PAYLOAD_EVENT as u8;
const TABLE_MAP: u8 = EventType::TABLE_MAP_EVENT as u8;

/// Upper bounds that keep a corrupt length from becoming an allocation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest event accepted (the server's own ceiling is
    /// `max_allowed_packet`, at most 1 GiB).
    pub max_event_size: u64,
    /// Largest decompressed TRANSACTION_PAYLOAD accepted.
    pub max_payload_size: u64,
    /// Verify CRC32 checksums where the file has them.
    pub verify_checksums: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_event_size: (1 << 30) + 4096, max_payload_size: 4 << 30, verify_checksums: true }
    }
}

/// What is wrong, and where.
#[derive(Debug, thiserror::Error)]
#[error("binlog file {file}, offset {offset}{}: {problem}", event_label(*.event_type, *.in_payload))]
pub struct FileError {
    pub file: String,
    /// Byte offset in the file of the event (of the enclosing
    /// TRANSACTION_PAYLOAD for an event inside one).
    pub offset: u64,
    /// Type code of the event, when its header could be read.
    pub event_type: Option<u8>,
    /// The event is inside a TRANSACTION_PAYLOAD.
    pub in_payload: bool,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("cannot read the file: {0}")]
    Io(#[source] io::Error),
    #[error("not a binlog file: it starts with {0:02x?}, not the magic bytes fe 62 69 6e")]
    NotABinlog(Vec<u8>),
    #[error("the file ends inside the event header ({available} of 19 bytes)")]
    TruncatedHeader { available: u64 },
    #[error("the event is {size} bytes but only {available} are left in the file (truncated file?)")]
    Truncated { size: u64, available: u64 },
    #[error("event size {size} is below the {minimum} bytes this event needs (corrupt header)")]
    TooSmall { size: u64, minimum: u64 },
    #[error("event size {size} exceeds the {limit}-byte limit (corrupt header)")]
    TooLarge { size: u64, limit: u64 },
    #[error("checksum mismatch: the event says {stored:#010x}, its bytes give {computed:#010x} (corrupt event)")]
    Checksum { stored: u32, computed: u32 },
    #[error("unreadable event: {0}")]
    Parse(String),
    #[error("transaction payload: {0}")]
    Payload(String),
    #[error("written by a MySQL pre-release ({0}) whose TABLE_MAP and rows events have no column metadata; binlog-cdc cannot decode them")]
    PreReleaseRows(String),
}

/// `, TABLE_MAP_EVENT (19)` for error messages.
fn event_label(event_type: Option<u8>, in_payload: bool) -> String {
    match event_type {
        None => String::new(),
        Some(t) => format!(
            ", {} ({t}){}",
            event_type_name(t),
            if in_payload { " inside a TRANSACTION_PAYLOAD_EVENT" } else { "" }
        ),
    }
}

/// The server's name of an event type code.
pub fn event_type_name(code: u8) -> String {
    match code {
        160 => "ANNOTATE_ROWS_EVENT".into(),
        161 => "BINLOG_CHECKPOINT_EVENT".into(),
        162 => "GTID_EVENT (MariaDB)".into(),
        163 => "GTID_LIST_EVENT".into(),
        164 => "START_ENCRYPTION_EVENT".into(),
        _ => match EventType::try_from(code) {
            Ok(t) => format!("{t:?}"),
            Err(_) => "unknown event type".into(),
        },
    }
}

/// One event of the file.
pub struct FileEvent {
    pub event: Event,
    /// File offset of the event, or of the TRANSACTION_PAYLOAD holding it.
    pub offset: u64,
    pub in_payload: bool,
}

/// Reads the events of one binlog file in order.
pub struct BinlogFile<R> {
    name: String,
    input: R,
    len: u64,
    offset: u64,
    started: bool,
    esr: EventStreamReader,
    /// Pre-release numbering: the server version, when the FDE says so.
    pre_release: Option<String>,
    pending: VecDeque<FileEvent>,
    limits: Limits,
}

impl BinlogFile<BufReader<File>> {
    /// Opens a file on disk.
    pub fn open(path: &Path, limits: Limits) -> Result<Self, FileError> {
        let name = path.display().to_string();
        let io_err = |e| FileError { file: name.clone(), offset: 0, event_type: None, in_payload: false, problem: Problem::Io(e) };
        let file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        Ok(BinlogFile::new(name, BufReader::with_capacity(1 << 16, file), len, limits))
    }
}

impl<'a> BinlogFile<&'a [u8]> {
    /// Reads a binlog held in memory.
    pub fn from_bytes(name: impl Into<String>, bytes: &'a [u8], limits: Limits) -> Self {
        BinlogFile::new(name.into(), bytes, bytes.len() as u64, limits)
    }
}

impl<R: Read> BinlogFile<R> {
    /// `len` is the number of bytes `input` holds.
    pub fn new(name: String, input: R, len: u64, limits: Limits) -> Self {
        BinlogFile {
            name,
            input,
            len,
            offset: 0,
            started: false,
            esr: EventStreamReader::new(BinlogVersion::Version4),
            pre_release: None,
            pending: VecDeque::new(),
            limits,
        }
    }

    /// The file name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn error(&self, offset: u64, event_type: Option<u8>, problem: Problem) -> FileError {
        FileError { file: self.name.clone(), offset, event_type, in_payload: false, problem }
    }

    fn read_exact(&mut self, buf: &mut [u8], event_type: Option<u8>, at: u64) -> Result<(), FileError> {
        self.input.read_exact(buf).map_err(|e| self.error(at, event_type, Problem::Io(e)))
    }

    /// The next event, `None` at the end of the file.
    pub fn next_event(&mut self) -> Result<Option<FileEvent>, FileError> {
        if let Some(ev) = self.pending.pop_front() {
            return Ok(Some(ev));
        }
        if !self.started {
            self.started = true;
            let mut magic = [0u8; 4];
            let available = self.len.min(4) as usize;
            self.read_exact(&mut magic[..available], None, 0)?;
            if available < 4 || magic != MAGIC {
                return Err(self.error(0, None, Problem::NotABinlog(magic[..available].to_vec())));
            }
            self.offset = 4;
        }
        let at = self.offset;
        let left = self.len.saturating_sub(at);
        if left == 0 {
            return Ok(None);
        }
        if left < HEADER_LEN {
            return Err(self.error(at, None, Problem::TruncatedHeader { available: left }));
        }
        let mut header = [0u8; HEADER_LEN as usize];
        self.read_exact(&mut header, None, at)?;
        let raw_type = header[4];
        let event_type = self.permute(raw_type);
        header[4] = event_type;
        let size = u64::from(u32::from_le_bytes([header[9], header[10], header[11], header[12]]));
        let minimum = self.minimum_size(event_type);
        if size < minimum {
            return Err(self.error(at, Some(event_type), Problem::TooSmall { size, minimum }));
        }
        if size > self.limits.max_event_size {
            return Err(self.error(at, Some(event_type), Problem::TooLarge { size, limit: self.limits.max_event_size }));
        }
        if size > left {
            return Err(self.error(at, Some(event_type), Problem::Truncated { size, available: left }));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        bytes.extend_from_slice(&header);
        bytes.resize(size as usize, 0);
        self.read_exact(&mut bytes[HEADER_LEN as usize..], Some(event_type), at)?;
        self.offset = at + size;
        if event_type == FORMAT_DESCRIPTION {
            self.pre_release = pre_release_version(&bytes[HEADER_LEN as usize..]);
            if self.pre_release.is_some() {
                // The post-header lengths are indexed by type: permute them too.
                let table = &mut bytes[(HEADER_LEN + FDE_FIXED_LEN) as usize..];
                let old = table.to_vec();
                for (i, len) in old.iter().enumerate() {
                    let new_type = permute_pre_release(i as u8 + 1);
                    table[usize::from(new_type) - 1] = *len;
                }
            }
        }

        if let Some(version) = &self.pre_release {
            if event_type == TABLE_MAP || (20..=22).contains(&event_type) {
                return Err(self.error(at, Some(event_type), Problem::PreReleaseRows(version.clone())));
            }
        }
        let event = self
            .esr
            .read(&bytes[..])
            .map_err(|e| self.error(at, Some(event_type), Problem::Parse(e.to_string())))?
            .ok_or_else(|| self.error(at, Some(event_type), Problem::Parse("empty event".into())))?;
        if self.limits.verify_checksums {
            self.verify_checksum(&event, at, event_type)?;
        }
        if event_type == TRANSACTION_PAYLOAD {
            self.unpack_payload(&event, at)?;
        }
        Ok(Some(FileEvent { event, offset: at, in_payload: false }))
    }

    /// Smallest valid size of an event of this type, given the checksum
    /// setting of the current FORMAT_DESCRIPTION.
    fn minimum_size(&self, event_type: u8) -> u64 {
        if event_type == FORMAT_DESCRIPTION {
            return HEADER_LEN + FDE_FIXED_LEN + FDE_FOOTER_LEN;
        }
        HEADER_LEN + if has_checksum(&self.esr) { CHECKSUM_LEN } else { 0 }
    }

    fn permute(&self, raw: u8) -> u8 {
        if self.pre_release.is_none() {
            return raw;
        }
        permute_pre_release(raw)
    }

    fn verify_checksum(&self, event: &Event, at: u64, event_type: u8) -> Result<(), FileError> {
        use mysql_common::binlog::consts::BinlogChecksumAlg;
        let Some(stored) = event.checksum() else { return Ok(()) };
        if event.footer().get_checksum_alg() != Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32)) {
            return Ok(());
        }
        let stored = u32::from_le_bytes(stored);
        let computed = event.calc_checksum(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32);
        if stored != computed {
            return Err(self.error(at, Some(event_type), Problem::Checksum { stored, computed }));
        }
        Ok(())
    }

    /// Decompresses a TRANSACTION_PAYLOAD and queues its events.
    fn unpack_payload(&mut self, event: &Event, at: u64) -> Result<(), FileError> {
        use mysql_common::binlog::events::TransactionPayloadReader;
        let fail = |this: &Self, msg: String| this.error(at, Some(TRANSACTION_PAYLOAD), Problem::Payload(msg));
        // mysql_common's own parser unwraps an unknown compression type and
        // skips unknown fields without a bound: read the header here.
        let header = PayloadHeader::parse(event.data()).map_err(|m| fail(self, m))?;
        let declared = header.uncompressed_size;
        if declared > self.limits.max_payload_size {
            return Err(fail(self, format!("declares {declared} uncompressed bytes, above the {}-byte limit", self.limits.max_payload_size)));
        }
        let mut reader = match header.compression {
            0 => TransactionPayloadReader::new_zstd(header.payload).map_err(|e| fail(self, e.to_string()))?,
            255 => TransactionPayloadReader::new_uncompressed(header.payload),
            other => return Err(fail(self, format!("unknown compression type {other} (0 = zstd, 255 = none)"))),
        };
        // Never trust the declared size for the allocation: grow as data comes.
        let mut data = Vec::with_capacity(declared.min(1 << 20) as usize);
        (&mut reader).take(declared + 1).read_to_end(&mut data).map_err(|e| fail(self, format!("cannot decompress: {e}")))?;
        if data.len() as u64 != declared {
            return Err(fail(self, format!("decompresses to {}{} bytes, its header says {declared}", data.len(), if data.len() as u64 > declared { "+" } else { "" })));
        }
        let mut pos = 0usize;
        while pos < data.len() {
            let rest = &data[pos..];
            let inner_err = |this: &Self, t: Option<u8>, problem: Problem| FileError {
                file: this.name.clone(),
                offset: at,
                event_type: t,
                in_payload: true,
                problem,
            };
            if rest.len() < HEADER_LEN as usize {
                return Err(inner_err(self, None, Problem::TruncatedHeader { available: rest.len() as u64 }));
            }
            let t = rest[4];
            let size = u64::from(u32::from_le_bytes([rest[9], rest[10], rest[11], rest[12]]));
            if size < HEADER_LEN {
                return Err(inner_err(self, Some(t), Problem::TooSmall { size, minimum: HEADER_LEN }));
            }
            if size > rest.len() as u64 {
                return Err(inner_err(self, Some(t), Problem::Truncated { size, available: rest.len() as u64 }));
            }
            if t == FORMAT_DESCRIPTION || t == TRANSACTION_PAYLOAD {
                return Err(inner_err(self, Some(t), Problem::Parse("this event type cannot be part of a transaction payload".into())));
            }
            let bytes = &rest[..size as usize];
            let inner = self
                .esr
                .read_decompressed(bytes)
                .map_err(|e| inner_err(self, Some(t), Problem::Parse(e.to_string())))?
                .ok_or_else(|| inner_err(self, Some(t), Problem::Parse("empty event".into())))?;
            self.pending.push_back(FileEvent { event: inner, offset: at, in_payload: true });
            pos += size as usize;
        }
        Ok(())
    }
}

/// The server's `event_type_permutation` for the pre-release trees.
fn permute_pre_release(raw: u8) -> u8 {
    match raw {
        16 => 19, // TABLE_MAP
        17 => 20, // PRE_GA_WRITE_ROWS
        18 => 21, // PRE_GA_UPDATE_ROWS
        19 => 22, // PRE_GA_DELETE_ROWS
        20 => 16, // XID
        21 => 17, // BEGIN_LOAD_QUERY
        22 => 18, // EXECUTE_LOAD_QUERY
        other => other,
    }
}

/// The header of a TRANSACTION_PAYLOAD body (`Transaction_payload_event`):
/// fields `type, length, value` as packed integers until the end mark 0;
/// 1 = payload size, 2 = compression (0 zstd, 255 none), 3 = uncompressed
/// size; unknown fields are skipped by their length. The payload follows.
struct PayloadHeader<'a> {
    compression: u64,
    uncompressed_size: u64,
    payload: &'a [u8],
}

impl<'a> PayloadHeader<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, String> {
        let mut c = Cursor::new(body);
        let packed = |c: &mut Cursor<'_>| -> Result<u64, String> {
            let at = c.pos();
            c.packed().map_err(|e| match e {
                PackedError::Truncated(_) => format!("header ends early at byte {at}"),
                PackedError::Invalid(first) => format!("invalid packed integer {first:#04x} at byte {at}"),
            })
        };
        let (mut size, mut compression, mut uncompressed) = (None, None, 0);
        loop {
            let field = packed(&mut c)?;
            if field == 0 {
                break;
            }
            let len = packed(&mut c)?;
            match field {
                1 => size = Some(packed(&mut c)?),
                2 => compression = Some(packed(&mut c)?),
                3 => uncompressed = packed(&mut c)?,
                _ => {
                    usize::try_from(len)
                        .ok()
                        .and_then(|l| c.skip(l).ok())
                        .ok_or_else(|| format!("field {field} of {len} bytes goes past the event"))?;
                }
            }
        }
        let size = size.ok_or("no payload size field")?;
        let compression = compression.ok_or("no compression type field")?;
        let payload = usize::try_from(size)
            .ok()
            .and_then(|s| c.take(s).ok())
            .ok_or_else(|| format!("payload of {size} bytes but {} left in the event", c.remaining()))?;
        Ok(PayloadHeader { compression, uncompressed_size: uncompressed, payload })
    }
}

/// Whether events after the current FORMAT_DESCRIPTION end in a checksum.
fn has_checksum(esr: &EventStreamReader) -> bool {
    let footer = esr.get_fde().footer();
    match footer.get_checksum_alg() {
        Ok(None) => false,
        Ok(Some(alg)) => alg as u8 != 0,
        // An unknown algorithm: mysql_common still strips 4 bytes.
        Err(_) => true,
    }
}

/// The server version of a FORMAT_DESCRIPTION body when it is one of the
/// pre-release trees with the old event numbering (the server's test:
/// `5.1.[1-5]-a_drop5p*` or `5.2.[0-2]-a_drop6p*`, 22 event types).
fn pre_release_version(body: &[u8]) -> Option<String> {
    let version = body.get(2..52)?;
    let end = version.iter().position(|b| *b == 0).unwrap_or(version.len());
    let v = &version[..end];
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    let old = at(0) == b'5'
        && ((at(2) == b'1' && (b'1'..=b'5').contains(&at(4)) && at(12) == b'5')
            || (at(2) == b'2' && (b'0'..=b'2').contains(&at(4)) && at(12) == b'6'))
        && v.len() > 12
        && &v[5..12] == b"-a_drop";
    let event_types = body.len().checked_sub(FDE_FIXED_LEN as usize)?;
    (old && event_types == 22).then(|| String::from_utf8_lossy(v).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(event_type: u8, size: u32, log_pos: u32) -> Vec<u8> {
        let mut h = vec![0u8; 19];
        h[4] = event_type;
        h[9..13].copy_from_slice(&size.to_le_bytes());
        h[13..17].copy_from_slice(&log_pos.to_le_bytes());
        h
    }

    fn all(bytes: &[u8]) -> Result<usize, FileError> {
        let mut f = BinlogFile::from_bytes("test.000001", bytes, Limits::default());
        let mut n = 0;
        while f.next_event()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    #[test]
    fn empty_and_wrong_magic_are_clear_errors() {
        let e = all(b"").unwrap_err();
        assert!(e.to_string().contains("not a binlog file"), "{e}");
        let e = all(b"\xfebix\0\0").unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(matches!(e.problem, Problem::NotABinlog(_)));
        assert_eq!(all(&MAGIC).unwrap(), 0);
    }

    #[test]
    fn sizes_are_checked_before_parsing() {
        // A header claiming fewer bytes than a header: would underflow in mysql_common.
        let mut f = MAGIC.to_vec();
        f.extend(header(2, 3, 0));
        let e = all(&f).unwrap_err();
        assert!(matches!(e.problem, Problem::TooSmall { size: 3, minimum: 19 }), "{e}");
        assert_eq!((e.offset, e.event_type), (4, Some(2)));
        // A header claiming more than the file has: would panic on read_exact.
        let mut f = MAGIC.to_vec();
        f.extend(header(2, 100, 0));
        f.extend([0u8; 10]);
        let e = all(&f).unwrap_err();
        assert!(matches!(e.problem, Problem::Truncated { size: 100, available: 29 }), "{e}");
        assert!(e.to_string().contains("QUERY_EVENT (2)"), "{e}");
        // A partial header.
        let mut f = MAGIC.to_vec();
        f.extend([0u8; 7]);
        assert!(matches!(all(&f).unwrap_err().problem, Problem::TruncatedHeader { available: 7 }));
        // A FORMAT_DESCRIPTION too short for its fixed part.
        let mut f = MAGIC.to_vec();
        f.extend(header(15, 40, 0));
        f.extend([0u8; 21]);
        assert!(matches!(all(&f).unwrap_err().problem, Problem::TooSmall { size: 40, minimum: 81 }));
    }

    #[test]
    fn oversized_event_is_refused_without_allocating() {
        let mut f = MAGIC.to_vec();
        f.extend(header(2, u32::MAX, 0));
        let mut r = BinlogFile::from_bytes("x", &f, Limits { max_event_size: 1 << 20, ..Limits::default() });
        let e = r.next_event().err().expect("error");
        assert!(matches!(e.problem, Problem::TooLarge { .. }), "{e}");
    }

    pub(crate) fn fixtures_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/mysql-binlogs")
    }

    /// Frames and parses every event (`read_data`) of a file; the number of
    /// events, or the first error.
    fn decode_all(path: &Path) -> Result<usize, String> {
        let mut f = BinlogFile::open(path, Limits::default()).map_err(|e| e.to_string())?;
        let mut n = 0;
        while let Some(ev) = f.next_event().map_err(|e| e.to_string())? {
            let t = ev.event.header().event_type_raw();
            // MariaDB's own events are not mysql_common's business.
            if t < 160 {
                ev.event.read_data().map_err(|e| {
                    format!("{}, offset {}, {} ({t}): {e}", f.name(), ev.offset, event_type_name(t))
                })?;
            }
            n += 1;
        }
        Ok(n)
    }

    /// Every event of every well-formed fixture is read; the truncated and
    /// corrupt ones fail with an error naming file, offset and event type.
    #[test]
    fn every_fixture_event_decodes_or_fails_cleanly() {
        let expected_failures: &[(&str, &str)] = &[
            ("binlog_truncated_event.000001", "offset 4: the file ends inside the event header (10 of 19 bytes)"),
            ("binlog_truncated_prev_gtid_event.000001", "offset 120: the file ends inside the event header (9 of 19 bytes)"),
            ("corrupt-relay-bin.000624", "offset 91204, QUERY_EVENT (2): "),
            ("ver_5_1-wl2325_r.001", "offset 428, TABLE_MAP_EVENT (19): written by a MySQL pre-release (5.2.2-a_drop6p13-debug-log)"),
        ];
        let mut files: Vec<_> = std::fs::read_dir(fixtures_dir())
            .expect("fixtures directory ../shared/fixtures/mysql-binlogs")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
            .collect();
        files.sort();
        assert!(files.len() >= 40, "fixture files: {}", files.len());
        let mut total = 0;
        for path in &files {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let result = decode_all(path);
            match expected_failures.iter().find(|(f, _)| *f == name) {
                Some((_, message)) => {
                    let err = result.expect_err(&name);
                    assert!(err.contains(&name) && err.contains(message), "{name}: {err}");
                }
                None => total += result.unwrap_or_else(|e| panic!("{e}")),
            }
        }
        assert!(total >= 600, "events read: {total}");
    }

    #[test]
    fn compressed_transaction_payload_yields_its_events() {
        let path = fixtures_dir().join("transaction_compression.000001");
        let mut f = BinlogFile::open(&path, Limits::default()).unwrap();
        let mut seen = Vec::new();
        while let Some(ev) = f.next_event().unwrap() {
            let h = ev.event.header();
            seen.push((h.event_type_raw(), ev.offset, ev.in_payload, h.log_pos()));
        }
        let inner: Vec<_> = seen.iter().filter(|e| e.2).map(|e| (e.0, e.1, e.3)).collect();
        // BEGIN, TABLE_MAP, WRITE_ROWS, XID, all placed at the payload (offset 274).
        assert_eq!(inner, [(2, 274, 0), (19, 274, 0), (30, 274, 0), (16, 274, 0)]);
        assert_eq!(seen.iter().position(|e| e.0 == 40), Some(3));
    }

    #[test]
    fn flipped_bit_is_a_checksum_error() {
        let path = fixtures_dir().join("binlog_transaction_with_GTID_TAG.000001");
        let mut bytes = std::fs::read(path).unwrap();
        bytes[470] ^= 0x10; // inside the WRITE_ROWS event at 461
        let mut f = BinlogFile::from_bytes("tagged", &bytes, Limits::default());
        let err = loop {
            match f.next_event() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error"),
                Err(e) => break e,
            }
        };
        assert_eq!((err.offset, err.event_type), (461, Some(30)));
        assert!(matches!(err.problem, Problem::Checksum { .. }), "{err}");
    }

    #[test]
    fn pre_release_versions_are_recognised() {
        let mut body = vec![4u8, 0];
        let mut v = b"5.2.2-a_drop6p13-debug-log".to_vec();
        v.resize(50, 0);
        body.extend(v);
        body.extend([0u8; 5]);
        body.extend([0u8; 22]);
        assert_eq!(pre_release_version(&body).as_deref(), Some("5.2.2-a_drop6p13-debug-log"));
        let mut modern = body.clone();
        modern[2..8].copy_from_slice(b"8.0.32");
        assert_eq!(pre_release_version(&modern), None);
    }
}
