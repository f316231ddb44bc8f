//! MySQL GTID sets: the executed-transaction state binlog-cdc stores and resumes from.
//!
//! Invariant: for every source (a server UUID plus an optional MySQL 8.4 tag) a
//! [`GtidSet`] holds a sorted list of **inclusive** intervals `[start, end]`, with
//! `1 <= start <= end <= MAX_GNO`, pairwise disjoint and never adjacent (`1-3` and
//! `4-5` are always stored as `1-5`). Sources without transactions are not stored.
//! Because the representation is canonical, equality, `contains` and
//! `contains_set` are exact, and printing is deterministic.
//!
//! Why inclusive: the text form (`uuid:1-5`, what `SHOW MASTER STATUS`, `gtid_executed`
//! and Debezium's offsets use) is inclusive, and the offsets topic is where a wrong
//! boundary becomes a lost or duplicated transaction. The only half-open form is the
//! binary encoding of `COM_BINLOG_DUMP_GTID` / `PREVIOUS_GTIDS_LOG_EVENT`, where the
//! end is exclusive; the conversion happens in exactly one place,
//! [`GtidSet::encode_sid_block`] / [`GtidSet::decode_sid_block`].
//!
//! Printing follows Debezium's offsets: no spaces, lowercase UUIDs, every interval as
//! `start-end` even for one transaction (`5` prints `5-5`), adjacent intervals merged.
//! UUIDs keep the order of their first appearance, as the binlog client Debezium
//! uses (a `LinkedHashMap`) does: a seed's order first, new servers appended.
//! Debezium sorts a set when it builds it from a stored or server string; use
//! [`GtidSet::sorted`] for that. Within one UUID the untagged intervals come first,
//! then tags in ascending order, MySQL's own form: `uuid:1-5:tag_a:1-2:tag_b:7-7`.
//!
//! GNO range: MySQL refuses GNO 0 and any GNO >= `i64::MAX` (`GNO_END`), so
//! [`MAX_GNO`] is `i64::MAX - 1` and an exclusive end always fits the wire's `i64`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::bytes::{Cursor, Truncated};

/// Largest transaction number MySQL accepts (`GNO_END - 1`, `GNO_END = i64::MAX`).
pub const MAX_GNO: u64 = i64::MAX as u64 - 1;

/// Longest tag MySQL 8.4 accepts (`Tag::tag_max_length`).
pub const TAG_MAX_LEN: usize = 32;

/// Why a GTID, UUID, tag or GTID set string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtidParseError {
    #[error("invalid server UUID {0:?}: expected 8-4-4-4-12 hexadecimal digits")]
    InvalidUuid(String),
    #[error("invalid GTID tag {0:?}: expected 1 to 32 characters, a letter or '_' then letters, digits or '_'")]
    InvalidTag(String),
    #[error(
        "invalid GTID interval {0:?}: expected N or N-M with 1 <= N <= M <= 9223372036854775806"
    )]
    InvalidInterval(String),
    #[error("invalid GTID {0:?}: expected uuid:gno or uuid:tag:gno")]
    InvalidGtid(String),
    #[error("invalid GTID set element {element:?}: {reason}")]
    InvalidSetElement {
        element: String,
        reason: &'static str,
    },
}

/// Why a binary (`COM_BINLOG_DUMP_GTID` / `PREVIOUS_GTIDS`) GTID set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtidWireError {
    #[error("GTID set encoding truncated at byte {offset}: {needed} bytes needed, {available} available")]
    Truncated {
        offset: usize,
        needed: u64,
        available: usize,
    },
    #[error("GTID set encoding has unknown format byte {0} (0 = untagged, 1 = tagged)")]
    UnknownFormat(u8),
    #[error("GTID set encoding has an invalid tag at byte {offset}")]
    InvalidTag { offset: usize },
    #[error("GTID set encoding has an invalid interval [{start}, {end}) at byte {offset} (intervals must be ascending, non-empty, within 1..i64::MAX)")]
    InvalidInterval { offset: usize, start: i64, end: i64 },
    #[error("GTID set encoding has {remaining} unexpected trailing bytes at byte {offset}")]
    TrailingBytes { offset: usize, remaining: usize },
}

// ---------------------------------------------------------------------------
// Uuid
// ---------------------------------------------------------------------------

/// A server UUID (`server_uuid`), 16 bytes in the order MySQL sends them on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid([u8; 16]);

impl Uuid {
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Uuid(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the canonical `8-4-4-4-12` hexadecimal form, any letter case.
    pub fn parse(text: &str) -> Result<Self, GtidParseError> {
        let err = || GtidParseError::InvalidUuid(text.to_string());
        let raw = text.as_bytes();
        if raw.len() != 36 {
            return Err(err());
        }
        let mut bytes = [0u8; 16];
        let mut nibbles = 0usize;
        for (i, &c) in raw.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(err());
                }
                continue;
            }
            let v = hex_value(c).ok_or_else(err)?;
            let slot = bytes.get_mut(nibbles / 2).ok_or_else(err)?;
            *slot = (*slot << 4) | v;
            nibbles += 1;
        }
        if nibbles != 32 {
            return Err(err());
        }
        Ok(Uuid(bytes))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

impl FromStr for Uuid {
    type Err = GtidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse(s)
    }
}

// ---------------------------------------------------------------------------
// Tag
// ---------------------------------------------------------------------------

/// A MySQL 8.4 GTID tag: `[a-z_][a-z0-9_]{0,31}`, stored lowercase (tags are
/// case-insensitive in MySQL and normalised to lowercase).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub fn parse(text: &str) -> Result<Self, GtidParseError> {
        let err = || GtidParseError::InvalidTag(text.to_string());
        if text.is_empty() || text.len() > TAG_MAX_LEN {
            return Err(err());
        }
        for (i, c) in text.bytes().enumerate() {
            let ok = c.is_ascii_alphabetic() || c == b'_' || (i > 0 && c.is_ascii_digit());
            if !ok {
                return Err(err());
            }
        }
        Ok(Tag(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.0)
    }
}

impl FromStr for Tag {
    type Err = GtidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tag::parse(s)
    }
}

// ---------------------------------------------------------------------------
// GnoInterval
// ---------------------------------------------------------------------------

/// An inclusive range of transaction numbers, `1 <= start <= end <= MAX_GNO`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GnoInterval {
    start: u64,
    end: u64,
}

impl GnoInterval {
    /// The inclusive interval `start..=end`.
    pub fn new(start: u64, end: u64) -> Result<Self, GtidParseError> {
        if start == 0 || start > end || end > MAX_GNO {
            return Err(GtidParseError::InvalidInterval(format!("{start}-{end}")));
        }
        Ok(GnoInterval { start, end })
    }

    /// The interval holding only `gno`.
    pub fn single(gno: u64) -> Result<Self, GtidParseError> {
        GnoInterval::new(gno, gno)
    }

    /// First transaction number (inclusive).
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Last transaction number (inclusive).
    pub fn end(&self) -> u64 {
        self.end
    }

    /// One past the last transaction number: the wire format's exclusive end.
    pub fn end_exclusive(&self) -> u64 {
        self.end + 1
    }

    pub fn contains(&self, gno: u64) -> bool {
        self.start <= gno && gno <= self.end
    }

    /// Number of transactions in the interval.
    pub fn count(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Parses `N` or `N-M` (whitespace around the numbers is ignored).
    pub fn parse(text: &str) -> Result<Self, GtidParseError> {
        let err = || GtidParseError::InvalidInterval(text.to_string());
        let (a, b) = match text.split_once('-') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let start = parse_decimal(a.trim()).ok_or_else(err)?;
        let end = match b {
            Some(b) => parse_decimal(b.trim()).ok_or_else(err)?,
            None => start,
        };
        GnoInterval::new(start, end).map_err(|_| err())
    }
}

impl fmt::Display for GnoInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

impl fmt::Debug for GnoInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// Plain ASCII decimal digits only (no sign, no spaces), without overflow.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok()
}

// ---------------------------------------------------------------------------
// Gtid
// ---------------------------------------------------------------------------

/// One transaction id: `uuid:gno`, or `uuid:tag:gno` on MySQL 8.4.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gtid {
    uuid: Uuid,
    tag: Option<Tag>,
    gno: u64,
}

impl Gtid {
    pub fn new(uuid: Uuid, tag: Option<Tag>, gno: u64) -> Result<Self, GtidParseError> {
        if gno == 0 || gno > MAX_GNO {
            return Err(GtidParseError::InvalidGtid(match &tag {
                Some(t) => format!("{uuid}:{t}:{gno}"),
                None => format!("{uuid}:{gno}"),
            }));
        }
        Ok(Gtid { uuid, tag, gno })
    }

    pub fn uuid(&self) -> &Uuid {
        &self.uuid
    }

    pub fn tag(&self) -> Option<&Tag> {
        self.tag.as_ref()
    }

    pub fn gno(&self) -> u64 {
        self.gno
    }

    pub fn parse(text: &str) -> Result<Self, GtidParseError> {
        let err = || GtidParseError::InvalidGtid(text.to_string());
        let parts: Vec<&str> = text.trim().split(':').map(str::trim).collect();
        let (uuid, tag, gno) = match parts.as_slice() {
            [u, n] => (*u, None, *n),
            [u, t, n] => (*u, Some(*t), *n),
            _ => return Err(err()),
        };
        let uuid = Uuid::parse(uuid)?;
        let tag = match tag {
            Some(t) => Some(Tag::parse(t)?),
            None => None,
        };
        let gno = parse_decimal(gno).ok_or_else(err)?;
        Gtid::new(uuid, tag, gno).map_err(|_| err())
    }
}

impl fmt::Display for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some(tag) => write!(f, "{}:{}:{}", self.uuid, tag, self.gno),
            None => write!(f, "{}:{}", self.uuid, self.gno),
        }
    }
}

impl fmt::Debug for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gtid({self})")
    }
}

impl FromStr for Gtid {
    type Err = GtidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Gtid::parse(s)
    }
}

// ---------------------------------------------------------------------------
// Interval lists (sorted, disjoint, non-adjacent)
// ---------------------------------------------------------------------------

/// Adds `iv` to a canonical list, merging overlapping and adjacent intervals.
/// Returns whether the list changed.
fn insert_interval(list: &mut Vec<GnoInterval>, iv: GnoInterval) -> bool {
    // First interval that overlaps or touches `iv` from the left (end + 1 >= start).
    let lo = list.partition_point(|x| x.end.saturating_add(1) < iv.start);
    let mut hi = lo;
    let (mut start, mut end) = (iv.start, iv.end);
    while let Some(x) = list.get(hi) {
        if x.start > end.saturating_add(1) {
            break;
        }
        start = start.min(x.start);
        end = end.max(x.end);
        hi += 1;
    }
    let merged = GnoInterval { start, end };
    if hi == lo + 1 && list.get(lo) == Some(&merged) {
        return false;
    }
    list.splice(lo..hi, std::iter::once(merged));
    true
}

fn list_contains(list: &[GnoInterval], gno: u64) -> bool {
    let i = list.partition_point(|x| x.end < gno);
    list.get(i).is_some_and(|x| x.start <= gno)
}

/// Whether `iv` lies inside one interval of the canonical `list` (a canonical list
/// has a gap between any two intervals, so spanning two means not contained).
fn list_contains_interval(list: &[GnoInterval], iv: &GnoInterval) -> bool {
    let i = list.partition_point(|x| x.end < iv.start);
    list.get(i)
        .is_some_and(|x| x.start <= iv.start && iv.end <= x.end)
}

// ---------------------------------------------------------------------------
// GtidSet
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct UuidEntry {
    uuid: Uuid,
    /// `None` (untagged) sorts before every tag, as MySQL prints it.
    groups: BTreeMap<Option<Tag>, Vec<GnoInterval>>,
}

/// The intervals of one source (UUID and optional tag), as yielded by [`GtidSet::iter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceIntervals<'a> {
    pub uuid: &'a Uuid,
    pub tag: Option<&'a Tag>,
    /// Sorted, disjoint, non-adjacent, inclusive; never empty.
    pub intervals: &'a [GnoInterval],
}

/// A set of MySQL GTIDs. See the module documentation for the invariant.
///
/// Equality is set equality: two sets holding the same transactions are equal
/// whatever their UUID print order.
#[derive(Clone, Default)]
pub struct GtidSet {
    /// In order of first appearance; no entry without transactions.
    entries: Vec<UuidEntry>,
}

impl GtidSet {
    pub fn new() -> Self {
        GtidSet::default()
    }

    /// Parses a GTID set as MySQL prints it (`gtid_executed`, `SHOW MASTER STATUS`)
    /// or Debezium stores it: `uuid:1-5:7[:tag:1-3...][,uuid2:...]`.
    ///
    /// Accepts any letter case, whitespace and newlines around every element (MySQL
    /// prints `,\n` between UUIDs), one UUID spread over several comma-separated
    /// elements, several tag groups per UUID, overlapping and unsorted intervals.
    /// An empty or all-whitespace string is the empty set. Refuses a UUID or a tag
    /// without intervals, empty elements, GNO 0, GNOs above [`MAX_GNO`] and
    /// reversed intervals (`5-3`).
    pub fn parse(text: &str) -> Result<Self, GtidParseError> {
        let mut set = GtidSet::new();
        if text.trim().is_empty() {
            return Ok(set);
        }
        for element in text.split(',') {
            let element = element.trim();
            let bad = |reason: &'static str| GtidParseError::InvalidSetElement {
                element: element.to_string(),
                reason,
            };
            if element.is_empty() {
                return Err(bad("empty element (stray comma)"));
            }
            let mut tokens = element.split(':').map(str::trim);
            let uuid = Uuid::parse(tokens.next().unwrap_or_default())?;
            let mut tag: Option<Tag> = None;
            // Whether the current group (untagged or the last tag) has an interval yet.
            let mut group_has_interval = false;
            let mut any_interval = false;
            for token in tokens {
                if token.is_empty() {
                    return Err(bad("empty field between ':'"));
                }
                if token.bytes().next().is_some_and(|c| c.is_ascii_digit()) {
                    let iv = GnoInterval::parse(token)?;
                    set.add_interval(uuid, tag.as_ref(), iv);
                    group_has_interval = true;
                    any_interval = true;
                } else {
                    if tag.is_some() && !group_has_interval {
                        return Err(bad("a tag must be followed by at least one interval"));
                    }
                    tag = Some(Tag::parse(token)?);
                    group_has_interval = false;
                }
            }
            if !any_interval {
                return Err(bad("a UUID must be followed by at least one interval"));
            }
            if !group_has_interval {
                return Err(bad("a tag must be followed by at least one interval"));
            }
        }
        Ok(set)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds one transaction. Returns `true` if it was not in the set yet.
    pub fn add(&mut self, gtid: &Gtid) -> bool {
        self.add_interval(
            gtid.uuid,
            gtid.tag.as_ref(),
            GnoInterval {
                start: gtid.gno,
                end: gtid.gno,
            },
        )
    }

    /// Adds an interval of transactions of one source. Returns `true` if the set changed.
    /// A UUID new to the set is appended at the end of the print order.
    pub fn add_interval(&mut self, uuid: Uuid, tag: Option<&Tag>, interval: GnoInterval) -> bool {
        let idx = match self.entries.iter().position(|e| e.uuid == uuid) {
            Some(i) => i,
            None => {
                self.entries.push(UuidEntry {
                    uuid,
                    groups: BTreeMap::new(),
                });
                self.entries.len() - 1
            }
        };
        match self.entries.get_mut(idx) {
            Some(entry) => insert_interval(entry.groups.entry(tag.cloned()).or_default(), interval),
            None => false,
        }
    }

    /// Adds every transaction of `other` to `self`; UUIDs new to `self` are appended in
    /// `other`'s order.
    pub fn union_with(&mut self, other: &GtidSet) {
        for src in other.iter() {
            for iv in src.intervals {
                self.add_interval(*src.uuid, src.tag, *iv);
            }
        }
    }

    /// `self ∪ other`, keeping `self`'s UUID order then `other`'s new UUIDs.
    pub fn union(&self, other: &GtidSet) -> GtidSet {
        let mut out = self.clone();
        out.union_with(other);
        out
    }

    fn group(&self, uuid: &Uuid, tag: Option<&Tag>) -> &[GnoInterval] {
        self.entries
            .iter()
            .find(|e| &e.uuid == uuid)
            .and_then(|e| e.groups.get(&tag.cloned()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The intervals of one source (empty if the set has none).
    pub fn intervals(&self, uuid: &Uuid, tag: Option<&Tag>) -> &[GnoInterval] {
        self.group(uuid, tag)
    }

    pub fn contains(&self, gtid: &Gtid) -> bool {
        list_contains(self.group(&gtid.uuid, gtid.tag.as_ref()), gtid.gno)
    }

    /// Whether every transaction of `other` is in `self` (`other ⊆ self`).
    pub fn contains_set(&self, other: &GtidSet) -> bool {
        other.iter().all(|src| {
            let mine = self.group(src.uuid, src.tag);
            src.intervals
                .iter()
                .all(|iv| list_contains_interval(mine, iv))
        })
    }

    /// Every source with its intervals, in print order.
    pub fn iter(&self) -> impl Iterator<Item = SourceIntervals<'_>> + '_ {
        self.entries.iter().flat_map(|e| {
            e.groups.iter().map(move |(tag, ivs)| SourceIntervals {
                uuid: &e.uuid,
                tag: tag.as_ref(),
                intervals: ivs.as_slice(),
            })
        })
    }

    /// The UUIDs in print order.
    pub fn uuids(&self) -> impl Iterator<Item = &Uuid> + '_ {
        self.entries.iter().map(|e| &e.uuid)
    }

    /// Keeps only the sources for which `keep(uuid, tag)` is true (Debezium's
    /// `gtid.source.includes/excludes` and "limit to UUIDs known in the offset").
    pub fn retain(&mut self, mut keep: impl FnMut(&Uuid, Option<&Tag>) -> bool) {
        for entry in &mut self.entries {
            let uuid = entry.uuid;
            entry.groups.retain(|tag, _| keep(&uuid, tag.as_ref()));
        }
        self.entries.retain(|e| !e.groups.is_empty());
    }

    /// The same set with UUIDs in ascending order (what Debezium prints for a set
    /// built from a stored or server string).
    pub fn sorted(&self) -> GtidSet {
        let mut out = self.clone();
        out.entries.sort_by_key(|e| e.uuid);
        out
    }

    /// Encodes the set as the SID block of `COM_BINLOG_DUMP_GTID` (also the body of
    /// `PREVIOUS_GTIDS_LOG_EVENT`): all integers little-endian, intervals half-open.
    ///
    /// Untagged sets use the classic layout every server understands:
    /// `n_sids: u64`, then per UUID `uuid: [u8; 16]`, `n_intervals: u64`, and per
    /// interval `start: i64`, `end_exclusive: i64`.
    ///
    /// A set with any tagged source uses MySQL 8.3+'s tagged layout
    /// (`Gtid_set::encode`, `encode_nsids_format` in `sql/rpl_gtid_set.cc`): the first
    /// u64 is `(1 << 56) | (n_entries << 8) | 1`; every (uuid, tag) pair is its own
    /// entry (the untagged intervals of a UUID too) and carries, between the UUID
    /// and `n_intervals`, the tag as a varlen length (`len << 1`, one byte since
    /// tags are at most 32 characters; `0x00` for untagged) and the tag bytes.
    /// Servers older than 8.3 reject the tagged layout as malformed.
    /// Entries are sorted by (uuid, tag), as MySQL writes them.
    pub fn encode_sid_block(&self) -> Vec<u8> {
        let mut sources: Vec<SourceIntervals<'_>> = self.iter().collect();
        sources.sort_by(|a, b| (a.uuid, a.tag).cmp(&(b.uuid, b.tag)));
        let tagged = sources.iter().any(|s| s.tag.is_some());
        let mut out = Vec::new();
        let n = sources.len() as u64;
        let header = if tagged {
            (1u64 << 56) | (n << 8) | 1
        } else {
            n
        };
        out.extend_from_slice(&header.to_le_bytes());
        for src in &sources {
            out.extend_from_slice(src.uuid.as_bytes());
            if tagged {
                let tag = src.tag.map(Tag::as_str).unwrap_or("");
                // Tag length <= 32, so the varlen length is the single byte len << 1.
                out.push((tag.len() as u8) << 1);
                out.extend_from_slice(tag.as_bytes());
            }
            out.extend_from_slice(&(src.intervals.len() as u64).to_le_bytes());
            for iv in src.intervals {
                out.extend_from_slice(&iv.start.to_le_bytes());
                out.extend_from_slice(&iv.end_exclusive().to_le_bytes());
            }
        }
        out
    }

    /// Decodes a SID block (either layout, see [`GtidSet::encode_sid_block`]), e.g. the
    /// body of a `PREVIOUS_GTIDS_LOG_EVENT` without checksum. The whole slice must be
    /// consumed. Intervals must be ascending and non-empty within each entry, as
    /// MySQL checks (`Gtid_set::add_gtid_encoding`).
    pub fn decode_sid_block(bytes: &[u8]) -> Result<GtidSet, GtidWireError> {
        let mut r = Cursor::new(bytes);
        let header = r.u64()?;
        let format = (header >> 56) as u8;
        let (tagged, n_sids) = match format {
            0 => (false, header),
            1 => (true, (header & 0x00ff_ffff_ffff_ff00) >> 8),
            other => return Err(GtidWireError::UnknownFormat(other)),
        };
        let mut set = GtidSet::new();
        for _ in 0..n_sids {
            let uuid = Uuid(r.take_array()?);
            let tag = if tagged {
                let at = r.pos();
                let len_byte = r.u8()?;
                // Low bit set means a multi-byte length: >= 128, never a valid tag.
                if len_byte & 1 != 0 || usize::from(len_byte >> 1) > TAG_MAX_LEN {
                    return Err(GtidWireError::InvalidTag { offset: at });
                }
                let raw = r.take(usize::from(len_byte >> 1))?;
                if raw.is_empty() {
                    None
                } else {
                    let text = std::str::from_utf8(raw)
                        .map_err(|_| GtidWireError::InvalidTag { offset: at })?;
                    Some(Tag::parse(text).map_err(|_| GtidWireError::InvalidTag { offset: at })?)
                }
            } else {
                None
            };
            let n_intervals = r.u64()?;
            let needed = n_intervals.saturating_mul(16);
            if needed > r.remaining() as u64 {
                return Err(GtidWireError::Truncated {
                    offset: r.pos(),
                    needed,
                    available: r.remaining(),
                });
            }
            let mut last: i64 = 0;
            for _ in 0..n_intervals {
                let at = r.pos();
                let start = r.i64()?;
                let end = r.i64()?;
                if start <= last || end <= start {
                    return Err(GtidWireError::InvalidInterval {
                        offset: at,
                        start,
                        end,
                    });
                }
                last = end;
                // start >= 1 and end <= i64::MAX, so end - 1 <= MAX_GNO.
                let iv = GnoInterval {
                    start: start as u64,
                    end: (end - 1) as u64,
                };
                set.add_interval(uuid, tag.as_ref(), iv);
            }
        }
        if r.remaining() != 0 {
            return Err(GtidWireError::TrailingBytes {
                offset: r.pos(),
                remaining: r.remaining(),
            });
        }
        Ok(set)
    }
}

impl From<Truncated> for GtidWireError {
    fn from(t: Truncated) -> Self {
        GtidWireError::Truncated {
            offset: t.offset,
            needed: t.needed,
            available: t.available,
        }
    }
}

impl PartialEq for GtidSet {
    fn eq(&self, other: &Self) -> bool {
        let a: Vec<_> = self
            .sorted()
            .iter()
            .map(|s| (*s.uuid, s.tag.cloned(), s.intervals.to_vec()))
            .collect();
        let b: Vec<_> = other
            .sorted()
            .iter()
            .map(|s| (*s.uuid, s.tag.cloned(), s.intervals.to_vec()))
            .collect();
        a == b
    }
}

impl Eq for GtidSet {}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", entry.uuid)?;
            for (tag, ivs) in &entry.groups {
                if let Some(tag) = tag {
                    write!(f, ":{tag}")?;
                }
                for iv in ivs {
                    write!(f, ":{iv}")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GtidSet({self})")
    }
}

impl FromStr for GtidSet {
    type Err = GtidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GtidSet::parse(s)
    }
}

impl<'a> IntoIterator for &'a GtidSet {
    type Item = SourceIntervals<'a>;
    type IntoIter = Box<dyn Iterator<Item = SourceIntervals<'a>> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const U2: &str = "5a8e8a44-0bb5-11ef-8b3e-0242ac120002";
    const U3: &str = "00000000-0000-0000-0000-000000000001";

    fn set(s: &str) -> GtidSet {
        match GtidSet::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("parse {s:?}: {e}"),
        }
    }

    fn gtid(s: &str) -> Gtid {
        match Gtid::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("parse {s:?}: {e}"),
        }
    }

    fn uuid(s: &str) -> Uuid {
        match Uuid::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("parse {s:?}: {e}"),
        }
    }

    fn tag(s: &str) -> Tag {
        match Tag::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("parse {s:?}: {e}"),
        }
    }

    fn iv(a: u64, b: u64) -> GnoInterval {
        match GnoInterval::new(a, b) {
            Ok(v) => v,
            Err(e) => panic!("interval {a}-{b}: {e}"),
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex {s}")))
            .collect()
    }

    // ----- Uuid -----

    #[test]
    fn uuid_round_trip_lowercase() {
        let u = uuid(U1);
        assert_eq!(u.to_string(), U1);
        assert_eq!(u.as_bytes()[0], 0x3e);
        assert_eq!(u.as_bytes()[15], 0x62);
    }

    #[test]
    fn uuid_uppercase_is_normalised() {
        let u = uuid("3E11FA47-71CA-11E1-9E33-C80AA9429562");
        assert_eq!(u.to_string(), U1);
        assert_eq!(u, uuid(U1));
    }

    #[test]
    fn uuid_from_bytes_prints_canonical() {
        let u = Uuid::from_bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        assert_eq!(u.to_string(), "00010203-0405-0607-0809-0a0b0c0d0e0f");
        assert_eq!(u.to_string().parse::<Uuid>(), Ok(u));
    }

    #[test]
    fn uuid_garbage_is_an_error() {
        for bad in [
            "",
            "3e11fa47",
            "3e11fa4771ca11e19e33c80aa9429562",
            "3e11fa47-71ca-11e1-9e33-c80aa942956",
            "3e11fa47-71ca-11e1-9e33-c80aa94295622",
            "3e11fa47-71ca-11e1-9e33-c80aa942956g",
            "3e11fa47_71ca-11e1-9e33-c80aa9429562",
            "3e11fa4-771ca-11e1-9e33-c80aa9429562",
            "{3e11fa47-71ca-11e1-9e33-c80aa9429562}",
            "3e11fa47-71ca-11e1-9e33-c80aa94295é",
            "ééééééééééééééééééé",
            "------------------------------------",
        ] {
            assert!(
                matches!(Uuid::parse(bad), Err(GtidParseError::InvalidUuid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn uuid_order_matches_text_order() {
        let a = uuid(U3);
        let b = uuid(U1);
        let c = uuid(U2);
        assert!(a < b && b < c);
        assert!(U3 < U1 && U1 < U2);
    }

    // ----- Tag -----

    #[test]
    fn tag_valid_forms() {
        assert_eq!(tag("a").as_str(), "a");
        assert_eq!(tag("_").as_str(), "_");
        assert_eq!(tag("_9").as_str(), "_9");
        assert_eq!(tag("Tag_1").as_str(), "tag_1");
        assert_eq!(tag("ABC").to_string(), "abc");
        let max = "a".repeat(32);
        assert_eq!(tag(&max).as_str(), max);
    }

    #[test]
    fn tag_invalid_forms() {
        for bad in [
            "",
            "1abc",
            "9",
            "a-b",
            "a b",
            "a.b",
            "é",
            "tag!",
            &"a".repeat(33),
        ] {
            assert!(
                matches!(Tag::parse(bad), Err(GtidParseError::InvalidTag(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tag_case_insensitive_equality() {
        assert_eq!(tag("MyTag"), tag("mytag"));
    }

    // ----- GnoInterval -----

    #[test]
    fn interval_is_inclusive() {
        let i = iv(3, 5);
        assert!(!i.contains(2));
        assert!(i.contains(3));
        assert!(i.contains(4));
        assert!(i.contains(5));
        assert!(!i.contains(6));
        assert_eq!(i.count(), 3);
        assert_eq!(i.end_exclusive(), 6);
        assert_eq!(iv(7, 7).count(), 1);
    }

    #[test]
    fn interval_parse_and_print() {
        assert_eq!(GnoInterval::parse("5"), Ok(iv(5, 5)));
        assert_eq!(iv(5, 5).to_string(), "5-5");
        assert_eq!(GnoInterval::parse("1-10"), Ok(iv(1, 10)));
        assert_eq!(GnoInterval::parse(" 1 - 10 "), Ok(iv(1, 10)));
        assert_eq!(GnoInterval::single(9), Ok(iv(9, 9)));
    }

    #[test]
    fn interval_bounds() {
        assert!(GnoInterval::new(0, 1).is_err());
        assert!(GnoInterval::new(0, 0).is_err());
        assert!(GnoInterval::new(5, 4).is_err());
        assert!(GnoInterval::new(1, MAX_GNO).is_ok());
        assert!(GnoInterval::new(1, MAX_GNO + 1).is_err());
        assert!(GnoInterval::new(u64::MAX, u64::MAX).is_err());
        assert_eq!(iv(1, MAX_GNO).end_exclusive(), i64::MAX as u64);
    }

    #[test]
    fn interval_garbage() {
        for bad in [
            "",
            "-",
            "-5",
            "5-",
            "a",
            "1-a",
            "1-2-3",
            "+1",
            "1.5",
            "0",
            "0-3",
            "5-3",
            "18446744073709551616",
            "9223372036854775807",
            "1-9223372036854775807",
            "１",
        ] {
            assert!(
                matches!(
                    GnoInterval::parse(bad),
                    Err(GtidParseError::InvalidInterval(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            GnoInterval::parse("9223372036854775806"),
            Ok(iv(MAX_GNO, MAX_GNO))
        );
    }

    // ----- Gtid -----

    #[test]
    fn gtid_round_trip() {
        let g = gtid(&format!("{U1}:23"));
        assert_eq!(g.uuid(), &uuid(U1));
        assert_eq!(g.tag(), None);
        assert_eq!(g.gno(), 23);
        assert_eq!(g.to_string(), format!("{U1}:23"));
    }

    #[test]
    fn gtid_tagged_round_trip() {
        let g = gtid(&format!("{}:MyTag:7", U1.to_uppercase()));
        assert_eq!(g.tag().map(Tag::as_str), Some("mytag"));
        assert_eq!(g.gno(), 7);
        assert_eq!(g.to_string(), format!("{U1}:mytag:7"));
        assert_eq!(g.to_string().parse::<Gtid>(), Ok(g));
    }

    #[test]
    fn gtid_garbage() {
        for bad in [
            String::new(),
            U1.to_string(),
            format!("{U1}:"),
            format!("{U1}:0"),
            format!("{U1}:-1"),
            format!("{U1}:1-2"),
            format!("{U1}:tag"),
            format!("{U1}:tag:"),
            format!("{U1}:1tag:5"),
            format!("{U1}:a:b:5"),
            format!("{U1}:9223372036854775807"),
            format!("{U1}:99999999999999999999999"),
            "0-1-42".to_string(),
            ":::".to_string(),
        ] {
            assert!(Gtid::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn gtid_new_checks_gno() {
        assert!(Gtid::new(uuid(U1), None, 0).is_err());
        assert!(Gtid::new(uuid(U1), None, MAX_GNO + 1).is_err());
        assert!(Gtid::new(uuid(U1), None, MAX_GNO).is_ok());
    }

    // ----- GtidSet parse / print -----

    #[test]
    fn empty_set() {
        for s in ["", "  ", "\n", " \r\n\t "] {
            let g = set(s);
            assert!(g.is_empty());
            assert_eq!(g.to_string(), "");
        }
        assert_eq!(GtidSet::new(), GtidSet::default());
    }

    #[test]
    fn debezium_example_round_trips() {
        let s = format!("{U1}:1-23");
        assert_eq!(set(&s).to_string(), s);
    }

    #[test]
    fn single_transaction_prints_as_range() {
        assert_eq!(set(&format!("{U1}:5")).to_string(), format!("{U1}:5-5"));
        assert_eq!(
            set(&format!("{U1}:1:3:5")).to_string(),
            format!("{U1}:1-1:3-3:5-5")
        );
    }

    #[test]
    fn adjacent_intervals_merge() {
        assert_eq!(
            set(&format!("{U1}:1-3:4-6")).to_string(),
            format!("{U1}:1-6")
        );
        assert_eq!(set(&format!("{U1}:1:2:3")).to_string(), format!("{U1}:1-3"));
        assert_eq!(
            set(&format!("{U1}:4-6:1-3")).to_string(),
            format!("{U1}:1-6")
        );
    }

    #[test]
    fn gap_of_one_does_not_merge() {
        assert_eq!(
            set(&format!("{U1}:1-3:5-6")).to_string(),
            format!("{U1}:1-3:5-6")
        );
    }

    #[test]
    fn overlapping_and_unsorted_intervals_merge() {
        assert_eq!(
            set(&format!("{U1}:5-10:1-6")).to_string(),
            format!("{U1}:1-10")
        );
        assert_eq!(
            set(&format!("{U1}:20-30:1-2:3-4:10-12:11-25")).to_string(),
            format!("{U1}:1-4:10-30")
        );
        assert_eq!(
            set(&format!("{U1}:1-100:5-6:50")).to_string(),
            format!("{U1}:1-100")
        );
        assert_eq!(
            set(&format!("{U1}:8:6:4:2:3:5:7")).to_string(),
            format!("{U1}:2-8")
        );
    }

    #[test]
    fn uppercase_uuid_prints_lowercase() {
        let s = format!("{}:1-5", U1.to_uppercase());
        assert_eq!(set(&s).to_string(), format!("{U1}:1-5"));
    }

    #[test]
    fn show_master_status_whitespace() {
        let s = format!("{U1}:1-5,\n{U2}:1-3,\n {U3}:7");
        assert_eq!(set(&s).to_string(), format!("{U1}:1-5,{U2}:1-3,{U3}:7-7"));
        let s = format!("  {U1} : 1 - 5 : 7 ,\r\n\t{U2}:1-3\n");
        assert_eq!(set(&s).to_string(), format!("{U1}:1-5:7-7,{U2}:1-3"));
    }

    #[test]
    fn insertion_order_is_kept() {
        let s = format!("{U2}:1-3,{U1}:1-5,{U3}:1");
        assert_eq!(set(&s).to_string(), format!("{U2}:1-3,{U1}:1-5,{U3}:1-1"));
    }

    #[test]
    fn sorted_variant_orders_uuids() {
        let s = format!("{U2}:1-3,{U1}:1-5,{U3}:1");
        assert_eq!(
            set(&s).sorted().to_string(),
            format!("{U3}:1-1,{U1}:1-5,{U2}:1-3")
        );
    }

    #[test]
    fn same_uuid_in_two_elements_merges_at_first_position() {
        let s = format!("{U1}:1-3,{U2}:1,{U1}:4-6");
        assert_eq!(set(&s).to_string(), format!("{U1}:1-6,{U2}:1-1"));
        let s = format!("{U1}:1-3,{}:10", U1.to_uppercase());
        assert_eq!(set(&s).to_string(), format!("{U1}:1-3:10-10"));
    }

    #[test]
    fn tagged_forms() {
        assert_eq!(
            set(&format!("{U1}:tag:1-5")).to_string(),
            format!("{U1}:tag:1-5")
        );
        assert_eq!(
            set(&format!("{U1}:1-5:tag1:3-4")).to_string(),
            format!("{U1}:1-5:tag1:3-4")
        );
        assert_eq!(
            set(&format!("{U1}:TAG1:3")).to_string(),
            format!("{U1}:tag1:3-3")
        );
        // Tags print after the untagged intervals, in ascending order, merged.
        let s = format!("{U1}:zeta:1:alpha:5-6:7:1-2,{U1}:ZETA:2");
        assert_eq!(set(&s).to_string(), format!("{U1}:alpha:1-2:5-7:zeta:1-2"));
        let s = format!("{U1}:t:1,{U1}:1-2");
        assert_eq!(set(&s).to_string(), format!("{U1}:1-2:t:1-1"));
        // Untagged intervals after a tag belong to that tag (MySQL grammar).
        let s = format!("{U1}:t:1:3");
        assert_eq!(set(&s).to_string(), format!("{U1}:t:1-1:3-3"));
    }

    #[test]
    fn tagged_and_untagged_are_distinct_sources() {
        let g = set(&format!("{U1}:1-5:tag:10"));
        assert!(g.contains(&gtid(&format!("{U1}:5"))));
        assert!(!g.contains(&gtid(&format!("{U1}:tag:5"))));
        assert!(g.contains(&gtid(&format!("{U1}:tag:10"))));
        assert!(!g.contains(&gtid(&format!("{U1}:10"))));
        assert!(!g.contains(&gtid(&format!("{U1}:other:10"))));
    }

    #[test]
    fn parse_print_round_trip_many() {
        for s in [
            format!("{U1}:1-1"),
            format!("{U1}:1-5:7-9:11-11"),
            format!("{U1}:1-5,{U2}:3-4"),
            format!("{U2}:3-4,{U1}:1-5"),
            format!("{U1}:a:1-2"),
            format!("{U1}:1-2:a:1-2:b:3-3,{U3}:_x:9-12"),
            format!("{U1}:1-{MAX_GNO}"),
        ] {
            let g = set(&s);
            assert_eq!(g.to_string(), s);
            assert_eq!(set(&g.to_string()), g);
        }
    }

    #[test]
    fn garbage_sets_are_errors_not_panics() {
        let cases = [
            ",".to_string(),
            format!("{U1}:1-5,"),
            format!(",{U1}:1-5"),
            format!("{U1}:1-5,,{U2}:1"),
            U1.to_string(),
            format!("{U1}:"),
            format!("{U1}::1"),
            format!("{U1}:1-5:"),
            format!("{U1}:tag"),
            format!("{U1}:1-5:tag"),
            format!("{U1}:tag:other:1"),
            format!("{U1}:0"),
            format!("{U1}:0-5"),
            format!("{U1}:5-3"),
            format!("{U1}:1-"),
            format!("{U1}:-1"),
            format!("{U1}:1-2-3"),
            format!("{U1}:9223372036854775807"),
            format!("{U1}:1-18446744073709551616"),
            format!("{U1}:1x"),
            format!("{U1}:bad-tag:1"),
            format!("{U1}:{}:1", "a".repeat(33)),
            "garbage".to_string(),
            "0-1-42".to_string(),
            "0-1-42,1-2-7".to_string(),
            ":1-5".to_string(),
            "3e11fa47-71ca-11e1-9e33-c80aa942956:1".to_string(),
            "\u{0}".to_string(),
            "é:1".to_string(),
            format!("{U1}:1;{U2}:2"),
            format!("{U1}:1 {U2}:2"),
        ];
        for bad in &cases {
            assert!(GtidSet::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn errors_name_the_input() {
        let e = GtidSet::parse(&format!("{U1}:5-3"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("5-3"), "{e}");
        let e = GtidSet::parse("nonsense:1")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("nonsense"), "{e}");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz over a small alphabet of GTID-ish characters.
        let alphabet: Vec<char> = "0123456789abcdefABCDEF-:, \n_tgé".chars().collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 60) as usize;
            let mut s = String::new();
            let mut x = state;
            for _ in 0..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push(alphabet[(x >> 33) as usize % alphabet.len()]);
            }
            let _ = GtidSet::parse(&s);
            let _ = Gtid::parse(&s);
            let _ = GnoInterval::parse(&s);
            // Valid prefix plus noise.
            let _ = GtidSet::parse(&format!("{U1}:{s}"));
        }
    }

    // ----- add -----

    #[test]
    fn add_reports_new_and_duplicate() {
        let mut g = GtidSet::new();
        assert!(g.add(&gtid(&format!("{U1}:1"))));
        assert!(!g.add(&gtid(&format!("{U1}:1"))));
        assert!(g.add(&gtid(&format!("{U1}:2"))));
        assert_eq!(g.to_string(), format!("{U1}:1-2"));
    }

    #[test]
    fn add_fills_gap_and_merges_both_sides() {
        let mut g = set(&format!("{U1}:1-3:5-7"));
        assert!(g.add(&gtid(&format!("{U1}:4"))));
        assert_eq!(g.to_string(), format!("{U1}:1-7"));
        assert_eq!(g.intervals(&uuid(U1), None), &[iv(1, 7)]);
    }

    #[test]
    fn add_extends_left_and_right() {
        let mut g = set(&format!("{U1}:5-7"));
        g.add(&gtid(&format!("{U1}:4")));
        assert_eq!(g.to_string(), format!("{U1}:4-7"));
        g.add(&gtid(&format!("{U1}:8")));
        assert_eq!(g.to_string(), format!("{U1}:4-8"));
        g.add(&gtid(&format!("{U1}:10")));
        assert_eq!(g.to_string(), format!("{U1}:4-8:10-10"));
        g.add(&gtid(&format!("{U1}:1")));
        assert_eq!(g.to_string(), format!("{U1}:1-1:4-8:10-10"));
    }

    #[test]
    fn add_inside_existing_is_noop() {
        let mut g = set(&format!("{U1}:1-10"));
        for n in 1..=10 {
            assert!(!g.add(&gtid(&format!("{U1}:{n}"))));
        }
        assert_eq!(g.to_string(), format!("{U1}:1-10"));
    }

    #[test]
    fn add_new_uuid_appends() {
        let mut g = set(&format!("{U2}:1-3"));
        g.add(&gtid(&format!("{U1}:1")));
        g.add(&gtid(&format!("{U3}:tag:1")));
        assert_eq!(g.to_string(), format!("{U2}:1-3,{U1}:1-1,{U3}:tag:1-1"));
    }

    #[test]
    fn add_streaming_sequence() {
        let mut g = GtidSet::new();
        for n in 1..=1000 {
            g.add(&gtid(&format!("{U1}:{n}")));
        }
        assert_eq!(g.to_string(), format!("{U1}:1-1000"));
        // Out of order arrival (parallel applier upstream) still merges.
        let mut g = GtidSet::new();
        for n in (1..=100).rev() {
            g.add(&gtid(&format!("{U1}:{n}")));
        }
        assert_eq!(g.to_string(), format!("{U1}:1-100"));
    }

    #[test]
    fn add_interval_merges_across_many() {
        let mut g = set(&format!("{U1}:1:3:5:7:9:20"));
        assert!(g.add_interval(uuid(U1), None, iv(2, 8)));
        assert_eq!(g.to_string(), format!("{U1}:1-9:20-20"));
        assert!(!g.add_interval(uuid(U1), None, iv(3, 9)));
    }

    #[test]
    fn add_at_max_gno() {
        let mut g = GtidSet::new();
        g.add(&gtid(&format!("{U1}:{MAX_GNO}")));
        g.add(&gtid(&format!("{U1}:{}", MAX_GNO - 1)));
        assert_eq!(g.to_string(), format!("{U1}:{}-{MAX_GNO}", MAX_GNO - 1));
    }

    // ----- union -----

    #[test]
    fn union_any_order_same_set() {
        let a = set(&format!("{U1}:1-5,{U2}:1-2"));
        let b = set(&format!("{U1}:6-8:10,{U3}:1"));
        let ab = a.union(&b);
        let ba = b.union(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.to_string(), format!("{U1}:1-8:10-10,{U2}:1-2,{U3}:1-1"));
        assert_eq!(ba.to_string(), format!("{U1}:1-8:10-10,{U3}:1-1,{U2}:1-2"));
        assert_eq!(ab.sorted().to_string(), ba.sorted().to_string());
    }

    #[test]
    fn union_is_idempotent_and_associative() {
        let a = set(&format!("{U1}:1-3:7"));
        let b = set(&format!("{U1}:4-6,{U2}:tag:2"));
        let c = set(&format!("{U2}:tag:1:3,{U3}:9"));
        assert_eq!(a.union(&a), a);
        assert_eq!(a.union(&b).union(&c), a.union(&b.union(&c)));
        assert_eq!(
            a.union(&b).union(&c).to_string(),
            format!("{U1}:1-7,{U2}:tag:1-3,{U3}:9-9")
        );
    }

    #[test]
    fn union_with_empty() {
        let a = set(&format!("{U1}:1-3"));
        assert_eq!(a.union(&GtidSet::new()), a);
        assert_eq!(GtidSet::new().union(&a), a);
        let mut e = GtidSet::new();
        e.union_with(&a);
        assert_eq!(e.to_string(), a.to_string());
    }

    // ----- contains -----

    #[test]
    fn contains_at_boundaries() {
        let g = set(&format!("{U1}:3-5:8-8:10-20"));
        let c = |n: u64| g.contains(&gtid(&format!("{U1}:{n}")));
        assert!(!c(1));
        assert!(!c(2));
        assert!(c(3));
        assert!(c(5));
        assert!(!c(6));
        assert!(!c(7));
        assert!(c(8));
        assert!(!c(9));
        assert!(c(10));
        assert!(c(20));
        assert!(!c(21));
        assert!(!c(MAX_GNO));
        assert!(!g.contains(&gtid(&format!("{U2}:3"))));
        assert!(!GtidSet::new().contains(&gtid(&format!("{U2}:3"))));
    }

    #[test]
    fn contains_set_cases() {
        let g = set(&format!("{U1}:1-10:20-30,{U2}:5,{U3}:t:1-4"));
        let yes = [
            String::new(),
            format!("{U1}:1-10"),
            format!("{U1}:1"),
            format!("{U1}:10"),
            format!("{U1}:20-30"),
            format!("{U1}:2-3:25"),
            format!("{U2}:5"),
            format!("{U3}:t:2-4"),
            format!("{U1}:1-10:20-30,{U2}:5,{U3}:t:1-4"),
        ];
        for s in &yes {
            assert!(g.contains_set(&set(s)), "{s}");
        }
        let no = [
            format!("{U1}:11"),
            format!("{U1}:1-11"),
            format!("{U1}:10-20"),
            format!("{U1}:19-20"),
            format!("{U1}:30-31"),
            format!("{U1}:1-30"),
            format!("{U2}:4-5"),
            format!("{U2}:t:5"),
            format!("{U3}:1"),
            format!("{U3}:t:5"),
            format!("{U3}:u:1"),
            "00000000-0000-0000-0000-000000000009:1".to_string(),
        ];
        for s in &no {
            assert!(!g.contains_set(&set(s)), "{s}");
        }
        assert!(g.contains_set(&g));
        assert!(!GtidSet::new().contains_set(&g));
    }

    #[test]
    fn contains_set_is_subset_of_union() {
        let a = set(&format!("{U1}:1-5:9"));
        let b = set(&format!("{U1}:6-7,{U2}:1"));
        let u = a.union(&b);
        assert!(u.contains_set(&a));
        assert!(u.contains_set(&b));
        assert!(!a.contains_set(&u));
    }

    // ----- equality, iteration, retain -----

    #[test]
    fn equality_ignores_uuid_order() {
        assert_eq!(
            set(&format!("{U1}:1,{U2}:1")),
            set(&format!("{U2}:1,{U1}:1"))
        );
        assert_ne!(
            set(&format!("{U1}:1,{U2}:1")),
            set(&format!("{U2}:1,{U1}:2"))
        );
        assert_ne!(set(&format!("{U1}:1")), set(&format!("{U1}:t:1")));
    }

    #[test]
    fn iteration_in_print_order() {
        let g = set(&format!("{U2}:1-3:b:1:a:2,{U1}:7"));
        let items: Vec<String> = g
            .iter()
            .map(|s| {
                let ivs: Vec<String> = s.intervals.iter().map(ToString::to_string).collect();
                format!(
                    "{}|{}|{}",
                    s.uuid,
                    s.tag.map(Tag::as_str).unwrap_or("-"),
                    ivs.join(",")
                )
            })
            .collect();
        assert_eq!(
            items,
            vec![
                format!("{U2}|-|1-3"),
                format!("{U2}|a|2-2"),
                format!("{U2}|b|1-1"),
                format!("{U1}|-|7-7")
            ]
        );
        let uuids: Vec<String> = g.uuids().map(ToString::to_string).collect();
        assert_eq!(uuids, vec![U2.to_string(), U1.to_string()]);
        assert_eq!((&g).into_iter().count(), 4);
        assert_eq!(g.intervals(&uuid(U3), None), &[] as &[GnoInterval]);
    }

    #[test]
    fn retain_filters_sources() {
        let mut g = set(&format!("{U1}:1-3:t:1,{U2}:1-2,{U3}:5"));
        let keep = uuid(U1);
        g.retain(|u, _| *u == keep);
        assert_eq!(g.to_string(), format!("{U1}:1-3:t:1-1"));
        g.retain(|_, t| t.is_none());
        assert_eq!(g.to_string(), format!("{U1}:1-3"));
        g.retain(|_, _| false);
        assert!(g.is_empty());
        assert_eq!(g.to_string(), "");
    }

    // ----- wire encoding -----

    #[test]
    fn encode_empty() {
        assert_eq!(GtidSet::new().encode_sid_block(), vec![0u8; 8]);
        assert_eq!(GtidSet::decode_sid_block(&[0u8; 8]), Ok(GtidSet::new()));
    }

    #[test]
    fn encode_untagged_matches_known_bytes() {
        // Same bytes as the classic canal/shyiko test vector for "<uuid>:1".
        let g = set("726757ad-4455-11e8-ae04-0242ac110002:1");
        let expected = hex(
            "0100000000000000 726757ad445511e8ae040242ac110002 0100000000000000
             0100000000000000 0200000000000000",
        );
        assert_eq!(g.encode_sid_block(), expected);
    }

    #[test]
    fn encode_end_is_exclusive() {
        let g = set(&format!("{U1}:1-5:7"));
        let bytes = g.encode_sid_block();
        assert_eq!(bytes.len(), 8 + 16 + 8 + 2 * 16);
        let body = &bytes[8 + 16 + 8..];
        let ints: Vec<u64> = body
            .chunks(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        assert_eq!(ints, vec![1, 6, 7, 8]);
    }

    #[test]
    fn encode_sorts_uuids() {
        let g = set(&format!("{U2}:1,{U1}:2"));
        let bytes = g.encode_sid_block();
        assert_eq!(&bytes[8..24], uuid(U1).as_bytes());
        assert_eq!(
            &bytes[8 + 16 + 8 + 16..8 + 16 + 8 + 16 + 16],
            uuid(U2).as_bytes()
        );
    }

    #[test]
    fn decode_real_previous_gtids_untagged() {
        // PREVIOUS_GTIDS_LOG_EVENT body of fixtures/mysql-binlogs/
        // binlog_transaction_previous_GTID_no_tag.000001 (MySQL 8.0.40).
        let body = hex(
            "0100000000000000 b9b88c66075511f198994a9da94c4d71 0100000000000000
             0100000000000000 0300000000000000",
        );
        let g = GtidSet::decode_sid_block(&body);
        assert_eq!(
            g.as_ref().map(ToString::to_string),
            Ok("b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2".to_string())
        );
        assert_eq!(g.map(|g| g.encode_sid_block()), Ok(body));
    }

    #[test]
    fn decode_real_previous_gtids_tagged() {
        // PREVIOUS_GTIDS_LOG_EVENT body of fixtures/mysql-binlogs/
        // binlog_transaction_with_GTID_TAG.000001 (MySQL 9.6): tagged format.
        let body = hex(
            "0102000000000001
             55778904029911f1b1b84ef0c4956feb 00 0100000000000000 0100000000000000 0e00000000000000
             55778904029911f1b1b84ef0c4956feb 0a6d79746167 0100000000000000 0100000000000000 0300000000000000",
        );
        let g = GtidSet::decode_sid_block(&body);
        assert_eq!(
            g.as_ref().map(ToString::to_string),
            Ok("55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2".to_string())
        );
        // Our encoder writes exactly what MySQL wrote.
        assert_eq!(g.map(|g| g.encode_sid_block()), Ok(body));
    }

    #[test]
    fn encode_tagged_header_and_entries() {
        let g = set(&format!("{U1}:t:1-2"));
        let bytes = g.encode_sid_block();
        let expected_header: u64 = (1 << 56) | (1 << 8) | 1;
        assert_eq!(&bytes[..8], &expected_header.to_le_bytes());
        assert_eq!(&bytes[8..24], uuid(U1).as_bytes());
        assert_eq!(bytes[24], 2); // len 1 << 1
        assert_eq!(bytes[25], b't');
        assert_eq!(bytes.len(), 8 + 16 + 2 + 8 + 16);
        assert_eq!(GtidSet::decode_sid_block(&bytes), Ok(g));
    }

    #[test]
    fn wire_round_trip_many() {
        for s in [
            format!("{U1}:1-5"),
            format!("{U1}:1-5:7-9,{U2}:1,{U3}:100-200"),
            format!("{U1}:1-{MAX_GNO}"),
            format!("{U1}:a:1,{U2}:1-2:b:3:c:4-9"),
            format!("{U1}:{}:1", "z".repeat(32)),
        ] {
            let g = set(&s);
            assert_eq!(
                GtidSet::decode_sid_block(&g.encode_sid_block()),
                Ok(g.clone()),
                "{s}"
            );
        }
    }

    #[test]
    fn decode_truncated_everywhere() {
        let g = set(&format!("{U1}:1-5:7-9,{U2}:tag:1"));
        let bytes = g.encode_sid_block();
        for len in 0..bytes.len() {
            let r = GtidSet::decode_sid_block(&bytes[..len]);
            assert!(
                matches!(r, Err(GtidWireError::Truncated { .. })),
                "len {len}: {r:?}"
            );
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(matches!(
            GtidSet::decode_sid_block(&extra),
            Err(GtidWireError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn decode_rejects_bad_intervals() {
        let mk = |ivs: &[(i64, i64)]| {
            let mut b = 1u64.to_le_bytes().to_vec();
            b.extend_from_slice(uuid(U1).as_bytes());
            b.extend_from_slice(&(ivs.len() as u64).to_le_bytes());
            for (s, e) in ivs {
                b.extend_from_slice(&s.to_le_bytes());
                b.extend_from_slice(&e.to_le_bytes());
            }
            GtidSet::decode_sid_block(&b)
        };
        assert!(mk(&[(1, 2)]).is_ok());
        assert!(mk(&[(1, i64::MAX)]).is_ok());
        for bad in [
            vec![(0, 1)],
            vec![(1, 1)],
            vec![(3, 2)],
            vec![(-5, 2)],
            vec![(1, -1)],
            vec![(1, 5), (5, 7)], // adjacent: MySQL always merges, so refuses this
            vec![(1, 5), (3, 7)],
            vec![(5, 7), (1, 2)],
        ] {
            assert!(
                matches!(mk(&bad), Err(GtidWireError::InvalidInterval { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn decode_rejects_bad_format_and_tags() {
        let mut b = 0u64.to_le_bytes();
        b[7] = 2;
        assert_eq!(
            GtidSet::decode_sid_block(&b),
            Err(GtidWireError::UnknownFormat(2))
        );
        let tagged = |tag_bytes: &[u8]| {
            let mut b = ((1u64 << 56) | (1 << 8) | 1).to_le_bytes().to_vec();
            b.extend_from_slice(uuid(U1).as_bytes());
            b.extend_from_slice(tag_bytes);
            b.extend_from_slice(&1u64.to_le_bytes());
            b.extend_from_slice(&1i64.to_le_bytes());
            b.extend_from_slice(&2i64.to_le_bytes());
            GtidSet::decode_sid_block(&b)
        };
        assert!(tagged(&[0]).is_ok());
        assert!(tagged(&[4, b'o', b'k']).is_ok());
        assert_eq!(
            tagged(&[4, b'O', b'K']).map(|g| g.to_string()),
            Ok(format!("{U1}:ok:1-1"))
        );
        assert!(matches!(
            tagged(&[4, b'1', b'k']),
            Err(GtidWireError::InvalidTag { .. })
        ));
        assert!(matches!(
            tagged(&[4, b'o', b'-']),
            Err(GtidWireError::InvalidTag { .. })
        ));
        assert!(matches!(
            tagged(&[4, 0xff, 0xfe]),
            Err(GtidWireError::InvalidTag { .. })
        ));
        assert!(matches!(
            tagged(&[1, 0]),
            Err(GtidWireError::InvalidTag { .. })
        ));
        assert!(matches!(
            tagged(&[66]),
            Err(GtidWireError::InvalidTag { .. })
        ));
    }

    #[test]
    fn decode_huge_counts_do_not_allocate_or_panic() {
        let mut b = u64::MAX.to_le_bytes().to_vec();
        b[7] = 0; // format 0, n_sids = 2^56 - 1
        assert!(matches!(
            GtidSet::decode_sid_block(&b),
            Err(GtidWireError::Truncated { .. })
        ));
        let mut b = 1u64.to_le_bytes().to_vec();
        b.extend_from_slice(uuid(U1).as_bytes());
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            GtidSet::decode_sid_block(&b),
            Err(GtidWireError::Truncated { .. })
        ));
    }

    #[test]
    fn decode_arbitrary_bytes_never_panics() {
        let mut state: u64 = 0x1234_5678_9abc_def1;
        for round in 0..5_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 120) as usize;
            let mut b: Vec<u8> = (0..len)
                .map(|i| (state.rotate_left(i as u32 % 64) & 0xff) as u8)
                .collect();
            // Make some inputs start with plausible headers.
            if round % 3 == 0 && b.len() >= 8 {
                b[..8].copy_from_slice(&1u64.to_le_bytes());
            } else if round % 3 == 1 && b.len() >= 8 {
                b[..8].copy_from_slice(&((1u64 << 56) | (1 << 8) | 1).to_le_bytes());
            }
            let _ = GtidSet::decode_sid_block(&b);
        }
    }
}
