//! A test primary: test code speaking the server side of the MySQL protocol,
//! so the connector's MySQL paths run end to end without a MySQL server
//! (MySQL 8.x cannot be installed on these machines).
//!
//! It announces itself as `8.4.3`, accepts any login (mysql_native_password,
//! no TLS), answers the statements the connector sends — `SHOW GLOBAL
//! VARIABLES LIKE`, `SELECT @@…`, `SHOW BINARY LOG STATUS` (and refuses
//! `SHOW MASTER STATUS` as 8.4 does), `SET @…`, and the `information_schema`
//! queries of the catalog as prepared statements — registers replicas and
//! serves COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID from binlog files held in
//! memory: an artificial ROTATE, the FORMAT_DESCRIPTION, then the events
//! (for a GTID dump, the transactions not in the replica's set), then
//! heartbeats at the requested period while the test appends more.
//!
//! A statement it does not know is answered with an error that quotes it,
//! and recorded in [`Primary::unknown_queries`], so a new query in the
//! connector fails a test loudly instead of being answered wrongly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use binlog_cdc::offsets::gtid_mysql::{Gtid, GtidSet, Uuid};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::binlog_gen::{self, Binlog};

/// One column of a table the primary describes in `information_schema`.
#[derive(Clone, Debug)]
pub struct ColumnDef {
    pub name: &'static str,
    pub data_type: &'static str,
    pub column_type: &'static str,
    pub nullable: bool,
    pub char_max_length: Option<u64>,
    pub charset: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub struct TableDef {
    pub db: &'static str,
    pub table: &'static str,
    pub columns: Vec<ColumnDef>,
    pub primary_key: Vec<&'static str>,
}

struct State {
    /// Binlog files in order; the last one is being written.
    files: Vec<(String, Binlog)>,
    tables: Vec<TableDef>,
    /// Executed GTIDs (what SHOW BINARY LOG STATUS prints).
    executed: GtidSet,
    unknown: Vec<String>,
    dumps: Vec<String>,
    connections: usize,
}

/// A running test primary on 127.0.0.1.
pub struct Primary {
    port: u16,
    state: Arc<Mutex<State>>,
    appended: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Primary {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub const SERVER_ID: u32 = 223344;

impl Primary {
    /// Starts serving `first_file` (a binlog whose FORMAT_DESCRIPTION is written).
    pub async fn start(first_file: &str, binlog: Binlog, executed: GtidSet, tables: Vec<TableDef>) -> Primary {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind test primary");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State {
            files: vec![(first_file.to_string(), binlog)],
            tables,
            executed,
            unknown: Vec::new(),
            dumps: Vec::new(),
            connections: 0,
        }));
        let appended = Arc::new(Notify::new());
        let (st, ap) = (state.clone(), appended.clone());
        let task = tokio::spawn(async move {
            let mut id = 100;
            while let Ok((sock, _)) = listener.accept().await {
                id += 1;
                st.lock().unwrap().connections += 1;
                let (st, ap) = (st.clone(), ap.clone());
                tokio::spawn(async move {
                    let _ = Session { sock, seq: 0, state: st, appended: ap, id, heartbeat_ns: 0 }.run().await;
                });
            }
        });
        Primary { port, state, appended, task }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Appends events to the current file (and wakes the dumps).
    pub fn append(&self, f: impl FnOnce(&mut Binlog)) {
        {
            let mut st = self.state.lock().unwrap();
            let (_, b) = st.files.last_mut().expect("a file");
            f(b);
        }
        self.appended.notify_waiters();
    }

    /// Records a committed GTID in the executed set.
    pub fn executed(&self, gtid: &Gtid) {
        self.state.lock().unwrap().executed.add(gtid);
    }

    /// Statements the primary could not answer.
    pub fn unknown_queries(&self) -> Vec<String> {
        self.state.lock().unwrap().unknown.clone()
    }

    /// The dump requests received (`file:pos` or `gtid:<set>`).
    pub fn dumps(&self) -> Vec<String> {
        self.state.lock().unwrap().dumps.clone()
    }

    /// Current end of the binlog: (file, position).
    pub fn end(&self) -> (String, u64) {
        let st = self.state.lock().unwrap();
        let (name, b) = st.files.last().expect("a file");
        (name.clone(), b.pos())
    }
}

const CLIENT_CAPABILITIES: u32 = 0x0000_0001 // LONG_PASSWORD
    | 0x0000_0004 // LONG_FLAG
    | 0x0000_0008 // CONNECT_WITH_DB
    | 0x0000_0200 // PROTOCOL_41
    | 0x0000_2000 // TRANSACTIONS
    | 0x0000_8000 // SECURE_CONNECTION
    | 0x0001_0000 // MULTI_STATEMENTS
    | 0x0002_0000 // MULTI_RESULTS
    | 0x0004_0000 // PS_MULTI_RESULTS
    | 0x0008_0000 // PLUGIN_AUTH
    | 0x0010_0000 // CONNECT_ATTRS
    | 0x0020_0000; // PLUGIN_AUTH_LENENC_CLIENT_DATA

struct Session {
    sock: TcpStream,
    seq: u8,
    state: Arc<Mutex<State>>,
    appended: Arc<Notify>,
    id: u32,
    heartbeat_ns: u64,
}

fn lenenc_int(out: &mut Vec<u8>, v: u64) {
    binlog_gen::packed(out, v);
}

fn lenenc_str(out: &mut Vec<u8>, s: &[u8]) {
    lenenc_int(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Reads a length-encoded integer.
fn read_lenenc(b: &[u8], at: &mut usize) -> Option<u64> {
    let first = *b.get(*at)?;
    *at += 1;
    let n = match first {
        0..=250 => return Some(u64::from(first)),
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        _ => return None,
    };
    let v = b.get(*at..*at + n)?.iter().rev().fold(0u64, |a, x| (a << 8) | u64::from(*x));
    *at += n;
    Some(v)
}

impl Session {
    async fn read_packet(&mut self) -> std::io::Result<Vec<u8>> {
        let mut h = [0u8; 4];
        self.sock.read_exact(&mut h).await?;
        let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
        self.seq = h[3].wrapping_add(1);
        let mut body = vec![0u8; len];
        self.sock.read_exact(&mut body).await?;
        Ok(body)
    }

    async fn write_packet(&mut self, payload: &[u8]) -> std::io::Result<()> {
        // Payloads here stay below 16 MiB.
        let len = payload.len() as u32;
        let mut p = Vec::with_capacity(4 + payload.len());
        p.extend_from_slice(&len.to_le_bytes()[..3]);
        p.push(self.seq);
        self.seq = self.seq.wrapping_add(1);
        p.extend_from_slice(payload);
        self.sock.write_all(&p).await
    }

    async fn ok(&mut self) -> std::io::Result<()> {
        self.write_packet(&[0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]).await
    }

    async fn err(&mut self, code: u16, state: &str, msg: &str) -> std::io::Result<()> {
        let mut p = vec![0xff];
        p.extend_from_slice(&code.to_le_bytes());
        p.push(b'#');
        p.extend_from_slice(state.as_bytes());
        p.extend_from_slice(msg.as_bytes());
        self.write_packet(&p).await
    }

    async fn eof(&mut self) -> std::io::Result<()> {
        self.write_packet(&[0xfe, 0x00, 0x00, 0x02, 0x00]).await
    }

    fn column_def(name: &str, type_code: u8) -> Vec<u8> {
        let mut c = Vec::new();
        for s in ["def", "", "", "", name, name] {
            lenenc_str(&mut c, s.as_bytes());
        }
        c.push(0x0c);
        c.extend_from_slice(&255u16.to_le_bytes()); // utf8mb4
        c.extend_from_slice(&1024u32.to_le_bytes());
        c.push(type_code);
        c.extend_from_slice(&0u16.to_le_bytes());
        c.push(0);
        c.extend_from_slice(&[0, 0]);
        c
    }

    /// A text result set of string columns (`None` = NULL).
    async fn result_set(&mut self, columns: &[&str], rows: &[Vec<Option<String>>]) -> std::io::Result<()> {
        let mut n = Vec::new();
        lenenc_int(&mut n, columns.len() as u64);
        self.write_packet(&n).await?;
        for c in columns {
            self.write_packet(&Self::column_def(c, 253)).await?;
        }
        self.eof().await?;
        for row in rows {
            let mut r = Vec::new();
            for v in row {
                match v {
                    Some(s) => lenenc_str(&mut r, s.as_bytes()),
                    None => r.push(0xfb),
                }
            }
            self.write_packet(&r).await?;
        }
        self.eof().await
    }

    /// A binary (prepared statement) result set of string columns.
    async fn binary_result_set(&mut self, columns: &[&str], rows: &[Vec<Option<String>>]) -> std::io::Result<()> {
        let mut n = Vec::new();
        lenenc_int(&mut n, columns.len() as u64);
        self.write_packet(&n).await?;
        for c in columns {
            self.write_packet(&Self::column_def(c, 253)).await?;
        }
        self.eof().await?;
        for row in rows {
            let mut r = vec![0x00];
            let mut nulls = vec![0u8; (columns.len() + 7 + 2) / 8];
            let mut data = Vec::new();
            for (i, v) in row.iter().enumerate() {
                match v {
                    Some(s) => lenenc_str(&mut data, s.as_bytes()),
                    None => nulls[(i + 2) / 8] |= 1 << ((i + 2) % 8),
                }
            }
            r.extend(nulls);
            r.extend(data);
            self.write_packet(&r).await?;
        }
        self.eof().await
    }

    async fn run(mut self) -> std::io::Result<()> {
        self.handshake().await?;
        let mut statements: HashMap<u32, (String, usize)> = HashMap::new();
        let mut next_stmt = 1u32;
        loop {
            let p = self.read_packet().await?;
            let Some((&cmd, body)) = p.split_first() else { return Ok(()) };
            match cmd {
                0x01 => return Ok(()), // COM_QUIT
                0x03 => {
                    let sql = String::from_utf8_lossy(body).into_owned();
                    self.query(&sql).await?;
                }
                0x0e | 0x1f => self.ok().await?, // COM_PING, COM_RESET_CONNECTION
                0x16 => {
                    // COM_STMT_PREPARE
                    let sql = String::from_utf8_lossy(body).into_owned();
                    let params = sql.matches('?').count();
                    let columns = statement_columns(&sql);
                    let id = next_stmt;
                    next_stmt += 1;
                    let Some(columns) = columns else {
                        self.unknown(&sql);
                        self.err(1064, "42000", &format!("test primary does not know the statement {sql}")).await?;
                        continue;
                    };
                    statements.insert(id, (sql, params));
                    let mut r = vec![0x00];
                    r.extend_from_slice(&id.to_le_bytes());
                    r.extend_from_slice(&(columns.len() as u16).to_le_bytes());
                    r.extend_from_slice(&(params as u16).to_le_bytes());
                    r.push(0);
                    r.extend_from_slice(&0u16.to_le_bytes());
                    self.write_packet(&r).await?;
                    if params > 0 {
                        for i in 0..params {
                            self.write_packet(&Self::column_def(&format!("?{i}"), 253)).await?;
                        }
                        self.eof().await?;
                    }
                    if !columns.is_empty() {
                        for c in &columns {
                            self.write_packet(&Self::column_def(c, 253)).await?;
                        }
                        self.eof().await?;
                    }
                }
                0x17 => {
                    // COM_STMT_EXECUTE
                    let id = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
                    let Some((sql, nparams)) = statements.get(&id).cloned() else {
                        self.err(1243, "HY000", "unknown prepared statement").await?;
                        continue;
                    };
                    let params = parse_params(&body[9..], nparams);
                    let (columns, rows) = self.catalog_rows(&sql, &params);
                    let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
                    self.binary_result_set(&cols, &rows).await?;
                }
                0x19 => {} // COM_STMT_CLOSE: no response
                0x15 => self.ok().await?, // COM_REGISTER_SLAVE
                0x12 => {
                    // COM_BINLOG_DUMP: pos u32, flags u16, server_id u32, file
                    let pos = u64::from(u32::from_le_bytes([body[0], body[1], body[2], body[3]]));
                    let file = String::from_utf8_lossy(&body[10..]).into_owned();
                    self.state.lock().unwrap().dumps.push(format!("{file}:{pos}"));
                    return self.dump(Some((file, pos)), None).await;
                }
                0x1e => {
                    // COM_BINLOG_DUMP_GTID: flags u16, server_id u32, name_len u32, name, pos u64, size u32, sids
                    let name_len = u32::from_le_bytes([body[6], body[7], body[8], body[9]]) as usize;
                    let at = 10 + name_len + 8;
                    let size = u32::from_le_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]) as usize;
                    let sids = &body[at + 4..at + 4 + size];
                    let set = GtidSet::decode_sid_block(sids).expect("a valid SID block");
                    self.state.lock().unwrap().dumps.push(format!("gtid:{set}"));
                    return self.dump(None, Some(set)).await;
                }
                other => {
                    self.unknown(&format!("command {other:#04x}"));
                    self.err(1047, "08S01", "unknown command").await?;
                }
            }
        }
    }

    fn unknown(&self, what: &str) {
        self.state.lock().unwrap().unknown.push(what.to_string());
    }

    async fn handshake(&mut self) -> std::io::Result<()> {
        let mut p = vec![10];
        p.extend_from_slice(b"8.4.3\0");
        p.extend_from_slice(&self.id.to_le_bytes());
        p.extend_from_slice(b"abcdefgh\0");
        p.extend_from_slice(&(CLIENT_CAPABILITIES as u16).to_le_bytes());
        p.push(255);
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&((CLIENT_CAPABILITIES >> 16) as u16).to_le_bytes());
        p.push(21);
        p.extend_from_slice(&[0; 10]);
        p.extend_from_slice(b"ijklmnopqrst\0");
        p.extend_from_slice(b"mysql_native_password\0");
        self.seq = 0;
        self.write_packet(&p).await?;
        let _response = self.read_packet().await?;
        // Any credentials are welcome.
        self.ok().await
    }

    async fn query(&mut self, sql: &str) -> std::io::Result<()> {
        let trimmed = sql.trim().trim_end_matches(';');
        let upper = trimmed.to_ascii_uppercase();
        if let Some(rest) = upper.strip_prefix("SET ") {
            if let Some(v) = rest.strip_prefix("@MASTER_HEARTBEAT_PERIOD = ").or_else(|| rest.strip_prefix("@SOURCE_HEARTBEAT_PERIOD = ")) {
                self.heartbeat_ns = v.trim().parse().unwrap_or(0);
            }
            return self.ok().await;
        }
        if let Some(rest) = upper.strip_prefix("SHOW GLOBAL VARIABLES LIKE ") {
            let name = rest.trim_matches('\'').to_ascii_lowercase();
            let rows: Vec<Vec<Option<String>>> =
                variable(&name).map(|v| vec![Some(name.clone()), Some(v.to_string())]).into_iter().collect();
            return self.result_set(&["Variable_name", "Value"], &rows).await;
        }
        if upper == "SHOW MASTER STATUS" {
            // Removed in MySQL 8.4.
            return self
                .err(1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'MASTER STATUS' at line 1")
                .await;
        }
        if upper == "SHOW BINARY LOG STATUS" {
            let (file, pos, gtids) = {
                let st = self.state.lock().unwrap();
                let (name, b) = st.files.last().expect("a file");
                (name.clone(), b.pos(), st.executed.to_string())
            };
            let cols = ["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"];
            return self.result_set(&cols, &[vec![Some(file), Some(pos.to_string()), Some(String::new()), Some(String::new()), Some(gtids)]]).await;
        }
        if upper == "SHOW BINARY LOGS" {
            let rows: Vec<Vec<Option<String>>> = {
                let st = self.state.lock().unwrap();
                st.files.iter().map(|(n, b)| vec![Some(n.clone()), Some(b.pos().to_string()), Some("No".into())]).collect()
            };
            return self.result_set(&["Log_name", "File_size", "Encrypted"], &rows).await;
        }
        if let Some(list) = upper.strip_prefix("SELECT @@") {
            let names: Vec<String> = trimmed[7..].split(',').map(|s| s.trim().to_string()).collect();
            let _ = list;
            let values: Vec<Option<String>> = names
                .iter()
                .map(|n| {
                    let var = n.trim_start_matches("@@").to_ascii_lowercase();
                    let var = var.strip_prefix("global.").or_else(|| var.strip_prefix("session.")).unwrap_or(&var).to_string();
                    variable(&var).map(str::to_string)
                })
                .collect();
            let cols: Vec<&str> = names.iter().map(String::as_str).collect();
            return self.result_set(&cols, &[values]).await;
        }
        if upper == "SELECT UNIX_TIMESTAMP()" {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            return self.result_set(&["UNIX_TIMESTAMP()"], &[vec![Some(now.to_string())]]).await;
        }
        if upper == "SELECT CURRENT_USER()" {
            return self.result_set(&["CURRENT_USER()"], &[vec![Some("cdc@%".into())]]).await;
        }
        if upper.starts_with("SHOW GRANTS") {
            return self.result_set(&["Grants for cdc@%"], &[vec![Some("GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `cdc`@`%`".into())]]).await;
        }
        self.unknown(sql);
        self.err(1064, "42000", &format!("test primary does not know the statement {sql}")).await
    }

    /// The catalog's information_schema statements (see schema/catalog.rs).
    fn catalog_rows(&self, sql: &str, params: &[String]) -> (Vec<String>, Vec<Vec<Option<String>>>) {
        let columns = statement_columns(sql).unwrap_or_default();
        let st = self.state.lock().unwrap();
        let table = params.first().zip(params.get(1)).and_then(|(db, t)| st.tables.iter().find(|d| d.db == db && d.table == t));
        let Some(table) = table else { return (columns, Vec::new()) };
        let rows = if sql.contains("information_schema.COLUMNS") {
            table
                .columns
                .iter()
                .map(|c| {
                    let mut row = vec![
                        Some(c.name.to_string()),
                        Some(c.data_type.to_string()),
                        Some(c.column_type.to_string()),
                        Some(if c.nullable { "YES" } else { "NO" }.to_string()),
                        c.char_max_length.map(|l| l.to_string()),
                        (c.data_type == "int").then(|| "10".to_string()),
                        (c.data_type == "int").then(|| "0".to_string()),
                        None,
                        c.charset.map(str::to_string),
                        None,
                        Some(String::new()),
                        Some(String::new()),
                    ];
                    row.resize(columns.len(), None);
                    row
                })
                .collect()
        } else if sql.contains("information_schema.STATISTICS") {
            table
                .primary_key
                .iter()
                .enumerate()
                .map(|(i, c)| vec![Some("PRIMARY".into()), Some("0".into()), Some((i + 1).to_string()), Some(c.to_string())])
                .collect()
        } else {
            vec![vec![Some("utf8mb4".into()), Some(String::new())]]
        };
        (columns, rows)
    }

    /// Serves the binlog: from `file:pos`, or (GTID dump) every transaction
    /// not in `skip`, from the first file.
    async fn dump(&mut self, from: Option<(String, u64)>, skip: Option<GtidSet>) -> std::io::Result<()> {
        let found = {
            let st = self.state.lock().unwrap();
            match &from {
                Some((name, pos)) => st.files.iter().position(|(n, _)| n == name).map(|i| (i, (*pos).max(4))),
                None => Some((0, 4)),
            }
        };
        let Some((mut file_index, mut pos)) = found else {
            let name = from.map(|f| f.0).unwrap_or_default();
            return self.err(1236, "HY000", &format!("Could not find first log file name in binary log index file ({name})")).await;
        };
        let name = self.state.lock().unwrap().files[file_index].0.clone();
        self.send_rotate(&name, pos).await?;
        let mut sent_fde_for = None;
        let mut skipping = false;
        loop {
            // Events available now in the current file.
            let (bytes, name, has_next) = {
                let st = self.state.lock().unwrap();
                let (n, b) = &st.files[file_index];
                (b.bytes.clone(), n.clone(), file_index + 1 < st.files.len())
            };
            if sent_fde_for != Some(file_index) {
                // The FORMAT_DESCRIPTION first; artificial (log_pos 0) when the dump starts later.
                let size = u32::from_le_bytes([bytes[13], bytes[14], bytes[15], bytes[16]]) as usize;
                let mut fde = bytes[4..4 + size].to_vec();
                if pos > 4 {
                    fde[13..17].copy_from_slice(&0u32.to_le_bytes());
                    let n = fde.len();
                    let sum = binlog_gen::crc32(&fde[..n - 4]);
                    fde[n - 4..].copy_from_slice(&sum.to_le_bytes());
                }
                self.send_event(&fde).await?;
                sent_fde_for = Some(file_index);
                if pos <= 4 {
                    pos = 4 + size as u64;
                }
            }
            while (pos as usize) < bytes.len() {
                let at = pos as usize;
                let size = u32::from_le_bytes([bytes[at + 9], bytes[at + 10], bytes[at + 11], bytes[at + 12]]) as usize;
                let ev = &bytes[at..at + size];
                pos += size as u64;
                let ty = ev[4];
                if let Some(set) = &skip {
                    if ty == binlog_gen::GTID {
                        let mut uuid = [0u8; 16];
                        uuid.copy_from_slice(&ev[20..36]);
                        let gno = u64::from_le_bytes(ev[36..44].try_into().unwrap());
                        let gtid = Gtid::new(Uuid::from_bytes(uuid), None, gno).expect("gtid");
                        skipping = set.contains(&gtid);
                    }
                    if skipping {
                        if ty == binlog_gen::XID {
                            skipping = false;
                        }
                        continue;
                    }
                }
                self.send_event(ev).await?;
            }
            if has_next {
                file_index += 1;
                pos = 4;
                continue;
            }
            // Caught up: wait for more, sending heartbeats meanwhile.
            let period = Duration::from_nanos(self.heartbeat_ns.max(100_000_000));
            let appended = self.appended.clone();
            tokio::select! {
                _ = appended.notified() => {}
                _ = tokio::time::sleep(period) => {
                    let mut body = Vec::new();
                    body.extend_from_slice(name.as_bytes());
                    let hb = binlog_gen::event(binlog_gen::HEARTBEAT, 0, SERVER_ID, pos as u32, 0, &body, true);
                    self.send_event(&hb).await?;
                }
            }
        }
    }

    async fn send_rotate(&mut self, name: &str, pos: u64) -> std::io::Result<()> {
        let mut body = pos.to_le_bytes().to_vec();
        body.extend_from_slice(name.as_bytes());
        let ev = binlog_gen::event(binlog_gen::ROTATE, 0, SERVER_ID, 0, 0x20, &body, true);
        self.send_event(&ev).await
    }

    async fn send_event(&mut self, ev: &[u8]) -> std::io::Result<()> {
        let mut p = Vec::with_capacity(ev.len() + 1);
        p.push(0x00);
        p.extend_from_slice(ev);
        self.write_packet(&p).await
    }
}

fn variable(name: &str) -> Option<&'static str> {
    Some(match name {
        "log_bin" => "ON",
        "binlog_format" => "ROW",
        "binlog_row_image" => "FULL",
        "binlog_row_metadata" => "FULL",
        "binlog_row_value_options" => "",
        "gtid_mode" => "ON",
        "enforce_gtid_consistency" => "ON",
        "binlog_checksum" => "CRC32",
        "server_id" => "223344",
        "server_uuid" => "3e11fa47-71ca-11e1-9e33-c80aa9429562",
        "version" => "8.4.3",
        "max_allowed_packet" => "67108864",
        "wait_timeout" => "28800",
        "time_zone" => "SYSTEM",
        "system_time_zone" => "UTC",
        "lower_case_table_names" => "0",
        _ => return None,
    })
}

/// Result columns of the catalog's prepared statements; `None` if unknown.
fn statement_columns(sql: &str) -> Option<Vec<String>> {
    let select = sql.trim().strip_prefix("SELECT ")?;
    let (cols, rest) = select.split_once(" FROM ")?;
    if !rest.contains("information_schema.") {
        return None;
    }
    Some(cols.split(',').map(|c| c.trim().rsplit('.').next().unwrap_or("").to_string()).collect())
}

/// String parameters of COM_STMT_EXECUTE (after stmt id, flags, iterations).
fn parse_params(b: &[u8], n: usize) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let mut at = n.div_ceil(8);
    let bound = b.get(at).copied().unwrap_or(0);
    at += 1;
    let mut types = Vec::new();
    if bound == 1 {
        for i in 0..n {
            types.push(b.get(at + 2 * i).copied().unwrap_or(253));
        }
        at += 2 * n;
    }
    let mut out = Vec::new();
    for i in 0..n {
        match types.get(i).copied().unwrap_or(253) {
            1 => {
                out.push(b.get(at).map(|v| v.to_string()).unwrap_or_default());
                at += 1;
            }
            8 => {
                out.push(b.get(at..at + 8).map(|v| i64::from_le_bytes(v.try_into().unwrap()).to_string()).unwrap_or_default());
                at += 8;
            }
            _ => {
                let len = read_lenenc(b, &mut at).unwrap_or(0) as usize;
                out.push(String::from_utf8_lossy(b.get(at..at + len).unwrap_or(&[])).into_owned());
                at += len;
            }
        }
    }
    out
}
