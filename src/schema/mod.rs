//! The table catalog: what each captured table looks like, so rows events
//! (which carry only raw bytes and type codes) can be turned into named,
//! typed Debezium fields.
//!
//! Columns come from `information_schema` (names, declared types, defaults,
//! keys) and are cross-checked against each TABLE_MAP event. A mismatch means
//! the table changed since we loaded it (DDL) and the entry is reloaded; if the
//! server's current definition still disagrees with the binlog (a replay of
//! rows written before a later DDL), the row is undecodable and the error says
//! so with the table and position.

pub mod catalog;
pub mod ddl;
pub mod table_map;

pub use catalog::{Catalog, CatalogError, MinimalMetadata};

/// Column type families, as Debezium distinguishes them (spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    TinyInt,
    SmallInt,
    MediumInt,
    Int,
    BigInt,
    Decimal,
    Float,
    Double,
    Bit,
    Char,
    VarChar,
    Text,
    Binary,
    VarBinary,
    Blob,
    Enum,
    Set,
    Json,
    Date,
    Time,
    DateTime,
    Timestamp,
    Year,
    Geometry,
    Point,
    Uuid,
    Inet4,
    Inet6,
    Vector,
}

impl ColumnKind {
    /// Maps `information_schema.COLUMNS.DATA_TYPE` to a kind.
    pub fn from_data_type(data_type: &str) -> Option<ColumnKind> {
        use ColumnKind::*;
        Some(match data_type.to_ascii_lowercase().as_str() {
            "tinyint" => TinyInt,
            "smallint" => SmallInt,
            "mediumint" => MediumInt,
            "int" | "integer" => Int,
            "bigint" => BigInt,
            "decimal" | "numeric" => Decimal,
            "float" => Float,
            "double" | "real" | "double precision" => Double,
            "bit" => Bit,
            "char" => Char,
            "varchar" => VarChar,
            "tinytext" | "text" | "mediumtext" | "longtext" => Text,
            "binary" => Binary,
            "varbinary" => VarBinary,
            "tinyblob" | "blob" | "mediumblob" | "longblob" => Blob,
            "enum" => Enum,
            "set" => Set,
            "json" => Json,
            "date" => Date,
            "time" => Time,
            "datetime" => DateTime,
            "timestamp" => Timestamp,
            "year" => Year,
            "point" => Point,
            "geometry" | "linestring" | "polygon" | "multipoint" | "multilinestring"
            | "multipolygon" | "geometrycollection" | "geomcollection" => Geometry,
            "uuid" => Uuid,
            "inet4" => Inet4,
            "inet6" => Inet6,
            "vector" => Vector,
            _ => return None,
        })
    }

    pub fn is_integer(self) -> bool {
        matches!(
            self,
            ColumnKind::TinyInt
                | ColumnKind::SmallInt
                | ColumnKind::MediumInt
                | ColumnKind::Int
                | ColumnKind::BigInt
        )
    }

    pub fn is_string(self) -> bool {
        matches!(self, ColumnKind::Char | ColumnKind::VarChar | ColumnKind::Text)
    }
}

/// One column of a table, in table order.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    /// `DATA_TYPE` upper-cased, e.g. `VARCHAR`.
    pub type_name: String,
    /// `COLUMN_TYPE`, e.g. `int(10) unsigned`, `enum('a','b')`.
    pub column_type: String,
    pub unsigned: bool,
    pub nullable: bool,
    /// Characters for strings, bytes for binary, bits for BIT.
    pub length: Option<u64>,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    /// Fractional-second digits of TIME/DATETIME/TIMESTAMP.
    pub fsp: u8,
    pub charset: Option<String>,
    /// ENUM/SET literals in definition order.
    pub enum_values: Vec<String>,
    /// `COLUMN_DEFAULT` as the server prints it (MariaDB quotes strings).
    pub default: Option<String>,
    pub generated: bool,
    pub auto_increment: bool,
    pub comment: Option<String>,
}

/// A table's structure at one point of the binlog.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    pub db: String,
    pub table: String,
    pub columns: Vec<Column>,
    /// Indices of the key columns (primary key, else first usable unique key).
    pub key: Vec<usize>,
    /// Whether `key` is the primary key (not a unique key standing in).
    pub primary_key: bool,
    /// Table default character set.
    pub charset: Option<String>,
    pub comment: Option<String>,
}

impl TableSchema {
    /// `db.table`, as used in include lists and `data_collection` names.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.db, self.table)
    }
}
