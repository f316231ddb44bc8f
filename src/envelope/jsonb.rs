//! MySQL binary JSON (the JSON column type of MySQL, not MariaDB) rendered
//! as compact JSON text.
//!
//! Uses mysql_common's parser. Known gap, left for the MySQL type-fidelity
//! work: its DOM orders object keys lexicographically, while Debezium prints
//! them in storage order (by length, then bytes), and numbers go through
//! serde_json's formatting rather than Java's.

use mysql_common::binlog::jsonb;
use mysql_common::io::ParseBuf;

use super::json;

pub fn write(out: &mut Vec<u8>, bin: &[u8]) {
    let parsed: std::io::Result<jsonb::Value<'_>> = ParseBuf(bin).parse(());
    let dom = parsed.and_then(|v| v.parse());
    match dom {
        Ok(dom) => {
            let value: serde_json::Value = dom.into();
            match serde_json::to_string(&value) {
                Ok(text) => json::string(out, &text),
                Err(_) => out.extend_from_slice(b"null"),
            }
        }
        Err(_) => out.extend_from_slice(b"null"),
    }
}
