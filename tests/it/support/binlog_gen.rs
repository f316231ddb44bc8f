//! Writes MySQL 8.4-format binlog events for tests: what a MySQL primary
//! would log for a given transaction, byte for byte (CRC32 checksums, GTID
//! events with `original_commit_timestamp`, BEGIN with the thread id,
//! TABLE_MAP with `binlog_row_metadata=FULL`, v2 rows events, partial JSON
//! updates). Used to build binlog files for replay and to feed the test
//! primary's replication stream; GTID events come from mysql_common's own
//! serializer, the rest is laid out by hand after the server's `*_event.cpp`.

use mysql_common::binlog::events::GtidEvent;
use mysql_common::proto::MySerialize;

pub const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];

pub const FORMAT_DESCRIPTION: u8 = 15;
pub const ROTATE: u8 = 4;
pub const QUERY: u8 = 2;
pub const XID: u8 = 16;
pub const TABLE_MAP: u8 = 19;
pub const WRITE_ROWS: u8 = 30;
pub const UPDATE_ROWS: u8 = 31;
pub const DELETE_ROWS: u8 = 32;
pub const GTID: u8 = 33;
pub const PARTIAL_UPDATE_ROWS: u8 = 39;
pub const HEARTBEAT: u8 = 27;

/// Post-header lengths of a MySQL 8.4/9.x FORMAT_DESCRIPTION (42 types).
const POST_HEADER_LENGTHS: [u8; 42] = [
    0, 13, 0, 8, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 99, 0, 4, 26, 8, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 10, 10, 10, 42, 42, 0,
    18, 52, 0, 10, 40, 0, 0,
];

/// CRC-32 (IEEE), as the binlog checksums use.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// MySQL's packed (length-encoded) integer.
pub fn packed(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=250 => out.push(v as u8),
        251..=0xffff => {
            out.push(0xfc);
            out.extend_from_slice(&(v as u16).to_le_bytes());
        }
        0x1_0000..=0xff_ffff => {
            out.push(0xfd);
            out.extend_from_slice(&(v as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// Appends events to a binlog, tracking positions (`log_pos`) as the server does.
pub struct Binlog {
    pub bytes: Vec<u8>,
    pub server_id: u32,
    pub timestamp: u32,
}

impl Binlog {
    /// A new file: magic and FORMAT_DESCRIPTION (server version 8.4.3, CRC32).
    pub fn new(server_id: u32, timestamp: u32) -> Binlog {
        let mut b = Binlog { bytes: MAGIC.to_vec(), server_id, timestamp };
        b.push(FORMAT_DESCRIPTION, &format_description_body(timestamp));
        b
    }

    /// Current end of the file (the position of the next event).
    pub fn pos(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Appends an event with this body; returns its position.
    pub fn push(&mut self, event_type: u8, body: &[u8]) -> u64 {
        let at = self.pos();
        let ev = event(event_type, self.timestamp, self.server_id, (at + 19 + body.len() as u64 + 4) as u32, 0, body, true);
        self.bytes.extend_from_slice(&ev);
        at
    }

    /// GTID event of `uuid:gno` committed at `commit_us` (µs since the epoch).
    pub fn gtid(&mut self, uuid: [u8; 16], gno: u64, commit_us: u64) -> u64 {
        let ev = GtidEvent::new(uuid, gno)
            .with_last_committed(0)
            .with_sequence_number(1)
            .with_immediate_commit_timestamp(commit_us)
            .with_original_commit_timestamp(commit_us)
            .with_original_server_version(80403)
            .with_immediate_server_version(80403);
        let mut body = Vec::new();
        ev.serialize(&mut body);
        self.push(GTID, &body)
    }

    pub fn query(&mut self, thread_id: u32, schema: &str, sql: &str) -> u64 {
        self.push(QUERY, &query_body(thread_id, schema, sql))
    }

    pub fn xid(&mut self, xid: u64) -> u64 {
        self.push(XID, &xid.to_le_bytes())
    }

    pub fn rotate(&mut self, next: &str) -> u64 {
        let mut body = 4u64.to_le_bytes().to_vec();
        body.extend_from_slice(next.as_bytes());
        self.push(ROTATE, &body)
    }
}

/// One event: 19-byte header, body, CRC32 when `checksum`.
pub fn event(event_type: u8, timestamp: u32, server_id: u32, log_pos: u32, flags: u16, body: &[u8], checksum: bool) -> Vec<u8> {
    let size = 19 + body.len() + if checksum { 4 } else { 0 };
    let mut ev = Vec::with_capacity(size);
    ev.extend_from_slice(&timestamp.to_le_bytes());
    ev.push(event_type);
    ev.extend_from_slice(&server_id.to_le_bytes());
    ev.extend_from_slice(&(size as u32).to_le_bytes());
    ev.extend_from_slice(&log_pos.to_le_bytes());
    ev.extend_from_slice(&flags.to_le_bytes());
    ev.extend_from_slice(body);
    if checksum {
        let sum = crc32(&ev);
        ev.extend_from_slice(&sum.to_le_bytes());
    }
    ev
}

pub fn format_description_body(timestamp: u32) -> Vec<u8> {
    let mut body = 4u16.to_le_bytes().to_vec();
    let mut version = b"8.4.3".to_vec();
    version.resize(50, 0);
    body.extend_from_slice(&version);
    body.extend_from_slice(&timestamp.to_le_bytes());
    body.push(19);
    body.extend_from_slice(&POST_HEADER_LENGTHS);
    body.push(1); // BINLOG_CHECKSUM_ALG_CRC32
    body
}

pub fn query_body(thread_id: u32, schema: &str, sql: &str) -> Vec<u8> {
    let mut body = thread_id.to_le_bytes().to_vec();
    body.extend_from_slice(&0u32.to_le_bytes()); // exec time
    body.push(schema.len() as u8);
    body.extend_from_slice(&0u16.to_le_bytes()); // error code
    body.extend_from_slice(&0u16.to_le_bytes()); // status vars length
    body.extend_from_slice(schema.as_bytes());
    body.push(0);
    body.extend_from_slice(sql.as_bytes());
    body
}

/// A column of a generated table.
#[derive(Clone, Debug)]
pub struct Col {
    pub name: &'static str,
    pub type_code: u8,
    pub meta: Vec<u8>,
    pub nullable: bool,
}

pub fn int_col(name: &'static str, nullable: bool) -> Col {
    Col { name, type_code: 3, meta: vec![], nullable }
}

/// VARCHAR(n) in utf8mb4 (4 bytes per character).
pub fn varchar_col(name: &'static str, chars: u16, nullable: bool) -> Col {
    Col { name, type_code: 15, meta: (chars * 4).to_le_bytes().to_vec(), nullable }
}

pub fn json_col(name: &'static str, nullable: bool) -> Col {
    Col { name, type_code: 245, meta: vec![4], nullable }
}

/// TABLE_MAP with `binlog_row_metadata=FULL`: signedness, default charset
/// (utf8mb4_0900_ai_ci), column names, primary key.
pub fn table_map_body(table_id: u64, db: &str, table: &str, cols: &[Col], pk: &[usize]) -> Vec<u8> {
    let mut b = table_id.to_le_bytes()[..6].to_vec();
    b.extend_from_slice(&1u16.to_le_bytes());
    b.push(db.len() as u8);
    b.extend_from_slice(db.as_bytes());
    b.push(0);
    b.push(table.len() as u8);
    b.extend_from_slice(table.as_bytes());
    b.push(0);
    packed(&mut b, cols.len() as u64);
    b.extend(cols.iter().map(|c| c.type_code));
    let meta: Vec<u8> = cols.iter().flat_map(|c| c.meta.clone()).collect();
    packed(&mut b, meta.len() as u64);
    b.extend_from_slice(&meta);
    let mut nulls = vec![0u8; cols.len().div_ceil(8)];
    for (i, c) in cols.iter().enumerate() {
        if c.nullable {
            nulls[i / 8] |= 1 << (i % 8);
        }
    }
    b.extend_from_slice(&nulls);
    let tlv = |b: &mut Vec<u8>, t: u8, v: &[u8]| {
        b.push(t);
        packed(b, v.len() as u64);
        b.extend_from_slice(v);
    };
    // SIGNEDNESS: one bit per numeric column, most significant first; all signed.
    let numeric = cols.iter().filter(|c| matches!(c.type_code, 1..=5 | 8 | 9 | 246)).count();
    tlv(&mut b, 1, &vec![0u8; numeric.div_ceil(8)]);
    // DEFAULT_CHARSET: utf8mb4_0900_ai_ci (255) for every character column.
    let mut cs = Vec::new();
    packed(&mut cs, 255);
    tlv(&mut b, 2, &cs);
    let mut names = Vec::new();
    for c in cols {
        packed(&mut names, c.name.len() as u64);
        names.extend_from_slice(c.name.as_bytes());
    }
    tlv(&mut b, 4, &names);
    let mut keys = Vec::new();
    for k in pk {
        packed(&mut keys, *k as u64);
    }
    tlv(&mut b, 8, &keys);
    b
}

/// A column value of a generated row.
#[derive(Clone, Debug)]
pub enum Val {
    Null,
    Int(i32),
    Str(String),
    /// MySQL binary JSON.
    Json(Vec<u8>),
    /// A partial JSON update's diff list (after images of PARTIAL_UPDATE_ROWS).
    JsonDiff(Vec<u8>),
}

/// One full row image.
pub fn row_image(cols: &[Col], vals: &[Val]) -> Vec<u8> {
    let mut nulls = vec![0u8; cols.len().div_ceil(8)];
    let mut data = Vec::new();
    for (i, (c, v)) in cols.iter().zip(vals).enumerate() {
        match v {
            Val::Null => nulls[i / 8] |= 1 << (i % 8),
            Val::Int(x) => data.extend_from_slice(&x.to_le_bytes()),
            Val::Str(s) => {
                let max = u16::from_le_bytes([c.meta[0], c.meta[1]]);
                if max < 256 {
                    data.push(s.len() as u8);
                } else {
                    data.extend_from_slice(&(s.len() as u16).to_le_bytes());
                }
                data.extend_from_slice(s.as_bytes());
            }
            Val::Json(j) | Val::JsonDiff(j) => {
                data.extend_from_slice(&(j.len() as u32).to_le_bytes());
                data.extend_from_slice(j);
            }
        }
    }
    nulls.extend(data);
    nulls
}

/// WRITE/UPDATE/DELETE_ROWS (v2) or PARTIAL_UPDATE_ROWS body. `rows` holds
/// one image per row (two, before then after, for updates).
pub fn rows_body(event_type: u8, table_id: u64, cols: &[Col], rows: &[Vec<Val>]) -> Vec<u8> {
    let mut b = table_id.to_le_bytes()[..6].to_vec();
    b.extend_from_slice(&1u16.to_le_bytes()); // STMT_END
    b.extend_from_slice(&2u16.to_le_bytes()); // no extra data
    packed(&mut b, cols.len() as u64);
    let all = vec![0xffu8; cols.len().div_ceil(8)];
    b.extend_from_slice(&all);
    let update = matches!(event_type, UPDATE_ROWS | PARTIAL_UPDATE_ROWS);
    if update {
        b.extend_from_slice(&all);
    }
    for (i, image) in rows.iter().enumerate() {
        if event_type == PARTIAL_UPDATE_ROWS && i % 2 == 1 {
            // value_options PARTIAL_JSON_UPDATES and the partial bits.
            let json: Vec<bool> =
                cols.iter().zip(image).filter(|(c, _)| c.type_code == 245).map(|(_, v)| matches!(v, Val::JsonDiff(_))).collect();
            b.push(1);
            let mut bits = vec![0u8; json.len().div_ceil(8)];
            for (j, partial) in json.iter().enumerate() {
                if *partial {
                    bits[j / 8] |= 1 << (j % 8);
                }
            }
            b.extend_from_slice(&bits);
        }
        b.extend_from_slice(&row_image(cols, image));
    }
    b
}

/// Binary JSON of a small object with string values, keys in MySQL's order
/// (by length, then bytes).
pub fn json_object(members: &[(&str, &str)]) -> Vec<u8> {
    let mut m: Vec<(&str, &str)> = members.to_vec();
    m.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.cmp(b.0)));
    let n = m.len();
    let header = 4 + n * 4 + n * 3;
    let keys_len: usize = m.iter().map(|(k, _)| k.len()).sum();
    let mut key_entries = Vec::new();
    let mut value_entries = Vec::new();
    let mut keys = Vec::new();
    let mut values = Vec::new();
    let mut key_at = header;
    let mut value_at = header + keys_len;
    for (k, v) in &m {
        key_entries.extend_from_slice(&(key_at as u16).to_le_bytes());
        key_entries.extend_from_slice(&(k.len() as u16).to_le_bytes());
        keys.extend_from_slice(k.as_bytes());
        key_at += k.len();
        value_entries.push(0x0c);
        value_entries.extend_from_slice(&(value_at as u16).to_le_bytes());
        values.push(v.len() as u8);
        values.extend_from_slice(v.as_bytes());
        value_at += 1 + v.len();
    }
    let size = value_at;
    let mut out = vec![0x00];
    out.extend_from_slice(&(n as u16).to_le_bytes());
    out.extend_from_slice(&(size as u16).to_le_bytes());
    out.extend(key_entries);
    out.extend(value_entries);
    out.extend(keys);
    out.extend(values);
    out
}

/// One partial-update diff (operation 0 REPLACE, 1 INSERT, 2 REMOVE).
pub fn json_diff(op: u8, path: &str, value: Option<&[u8]>) -> Vec<u8> {
    let mut d = vec![op];
    packed(&mut d, path.len() as u64);
    d.extend_from_slice(path.as_bytes());
    if let Some(v) = value {
        packed(&mut d, v.len() as u64);
        d.extend_from_slice(v);
    }
    d
}

/// A binary JSON string scalar (type byte + data), as diffs carry values.
pub fn json_string(s: &str) -> Vec<u8> {
    let mut v = vec![0x0c, s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}
