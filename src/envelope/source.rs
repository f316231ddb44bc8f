//! The `source` block (spec §2): where a change came from. Its schema is
//! fixed per connector flavour; its payload is written per record.

use super::json;

/// Which Debezium connector we stand in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Mysql,
    Mariadb,
}

impl Flavor {
    pub fn connector(self) -> &'static str {
        match self {
            Flavor::Mysql => "mysql",
            Flavor::Mariadb => "mariadb",
        }
    }
}

/// The Debezium release whose wire format binlog-cdc reproduces; printed as
/// `source.version`, where consumers expect a Debezium version string.
pub const DEBEZIUM_VERSION: &str = "3.6.1.Final";

/// Per-event source facts.
#[derive(Debug, Clone, Copy)]
pub struct SourceInfo<'a> {
    /// Source change time in microseconds since the epoch.
    pub ts_us: i64,
    pub snapshot: &'static str,
    pub db: &'a str,
    pub table: Option<&'a str>,
    pub server_id: u32,
    pub gtid: Option<&'a str>,
    pub file: &'a str,
    pub pos: u64,
    pub row: u32,
    pub thread: Option<u32>,
    pub query: Option<&'a str>,
}

pub fn schema_json(flavor: Flavor) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(
        b"{\"type\":\"struct\",\"fields\":[\
{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},\
{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},\
{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},\
{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},\
{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"},\
{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},\
{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},\
{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},\
{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},\
{\"type\":\"string\",\"optional\":true,\"field\":\"table\"},\
{\"type\":\"int64\",\"optional\":false,\"field\":\"server_id\"},\
{\"type\":\"string\",\"optional\":true,\"field\":\"gtid\"},\
{\"type\":\"string\",\"optional\":false,\"field\":\"file\"},\
{\"type\":\"int64\",\"optional\":false,\"field\":\"pos\"},\
{\"type\":\"int32\",\"optional\":false,\"field\":\"row\"},\
{\"type\":\"int64\",\"optional\":true,\"field\":\"thread\"},\
{\"type\":\"string\",\"optional\":true,\"field\":\"query\"}],\"optional\":false,\"name\":\"io.debezium.connector.",
    );
    s.extend_from_slice(flavor.connector().as_bytes());
    s.extend_from_slice(b".Source\",\"version\":1,\"field\":\"source\"}");
    s
}

fn opt_str(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => json::string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

pub fn write_payload(out: &mut Vec<u8>, flavor: Flavor, name: &str, s: &SourceInfo<'_>) {
    out.extend_from_slice(b"{\"version\":\"");
    out.extend_from_slice(DEBEZIUM_VERSION.as_bytes());
    out.extend_from_slice(b"\",\"connector\":\"");
    out.extend_from_slice(flavor.connector().as_bytes());
    out.extend_from_slice(b"\",\"name\":");
    json::string(out, name);
    out.extend_from_slice(b",\"ts_ms\":");
    json::int(out, s.ts_us.div_euclid(1000));
    out.extend_from_slice(b",\"snapshot\":\"");
    out.extend_from_slice(s.snapshot.as_bytes());
    out.extend_from_slice(b"\",\"db\":");
    json::string(out, s.db);
    out.extend_from_slice(b",\"sequence\":null,\"ts_us\":");
    json::int(out, s.ts_us);
    out.extend_from_slice(b",\"ts_ns\":");
    json::int(out, s.ts_us.saturating_mul(1000));
    out.extend_from_slice(b",\"table\":");
    opt_str(out, s.table);
    out.extend_from_slice(b",\"server_id\":");
    json::uint(out, u64::from(s.server_id));
    out.extend_from_slice(b",\"gtid\":");
    opt_str(out, s.gtid);
    out.extend_from_slice(b",\"file\":");
    json::string(out, s.file);
    out.extend_from_slice(b",\"pos\":");
    json::uint(out, s.pos);
    out.extend_from_slice(b",\"row\":");
    json::uint(out, u64::from(s.row));
    out.extend_from_slice(b",\"thread\":");
    match s.thread {
        Some(t) => json::uint(out, u64::from(t)),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"query\":");
    opt_str(out, s.query);
    out.push(b'}');
}
