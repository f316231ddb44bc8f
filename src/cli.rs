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
