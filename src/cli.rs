//! Command-line definitions (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "binlog-cdc",
    version,
    about = "MySQL/MariaDB change data capture to Kafka, Debezium-compatible",
    long_about = "Streams every committed row change of a MySQL or MariaDB server to Kafka as \
                  Debezium-compatible JSON, resuming from the position stored in a compacted \
                  Kafka topic. Without a subcommand it runs the connector."
)]
pub struct Cli {
    /// Connector configuration: YAML, or Kafka Connect JSON ({"name":…,"config":{…}}).
    #[arg(long, short, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the connector (the default).
    Run,
    /// Preflight: validate the configuration, connect to the database and
    /// Kafka, check binlog settings and privileges; exit non-zero on a problem.
    Check,
    /// Read or rewrite the stored position.
    #[command(subcommand)]
    Offsets(OffsetsCommand),
    /// Decode binlog files from disk and write their change events to the
    /// configured sink (sink.type: stdout prints JSON lines; kafka produces
    /// the records, without storing a position). Table structures come from
    /// the files' TABLE_MAP events (binlog_row_metadata=FULL).
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A binlog file (e.g. mysql-bin.000042); repeat to decode several, in order.
    #[arg(long = "file", required = true, value_name = "BINLOG")]
    pub files: Vec<PathBuf>,
    /// Tables whose TABLE_MAP has no column names (binlog_row_metadata=MINIMAL):
    /// `error` stops (or skips them, per inconsistent.schema.handling.mode);
    /// `synthetic` names the columns col_1, col_2, … (ENUM/SET values print as
    /// empty strings, records have no key).
    #[arg(long, value_enum, default_value_t = MinimalMetadataArg::Error, value_name = "MODE")]
    pub minimal_metadata: MinimalMetadataArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MinimalMetadataArg {
    Error,
    Synthetic,
}

#[derive(Debug, Subcommand)]
pub enum OffsetsCommand {
    /// Print the stored position (the offsets value JSON), or `null`.
    Show,
    /// Store a new position (replay from an earlier one, or skip ahead).
    /// The connector must be stopped.
    Set(SetArgs),
    /// Remove the stored position (tombstone): the next start begins fresh.
    Reset,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("where").required(true).args(["gtid", "file"])))]
pub struct SetArgs {
    /// GTID set (MySQL `uuid:1-5,…`) or position (MariaDB `0-1-42,…`) already processed.
    #[arg(long)]
    pub gtid: Option<String>,
    /// Binlog file to start at.
    #[arg(long, requires = "pos")]
    pub file: Option<String>,
    /// Position within --file.
    #[arg(long, requires = "file")]
    pub pos: Option<u64>,
}
