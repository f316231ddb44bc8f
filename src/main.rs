//! The binary: parse the command line, load the configuration, set up
//! logging, and call into the library.

use std::process::ExitCode;

use anyhow::{Context, Result};
use binlog_cdc::offsets::position::{GtidState, Position};
use binlog_cdc::{app, settings, shutdown};
use clap::Parser;

mod cli;

/// Records are built on the runtime's threads and freed on librdkafka's:
/// mimalloc handles that pattern without the lock and fragmentation costs
/// of glibc's or musl's malloc (`make bench`: see the README). Its
/// `override` feature makes it the C `malloc` too, so librdkafka's own
/// allocations (a message and its headers per record, freed on its broker
/// thread) take the same path: with glibc's malloc they cost ~8 % of the
/// snapshot's CPU, and glibc needed its arenas capped (M_ARENA_MAX=2) or
/// RSS grew with every record (1.8 GiB at 1M rows).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cli::{Cli, Command, OffsetsCommand};

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BINLOG_CDC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("BINLOG_CDC_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    // SAFETY: the global allocator is mimalloc with `override` (above), so
    // C's `free` releases what Rust allocated: librdkafka may free the
    // record values it is handed.
    unsafe { binlog_cdc::sink::native::hand_over_values() };
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode> {
    let path = cli.config.context("--config FILE is required")?;
    let cfg = app::load_config(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let (tx, rx) = shutdown::channel();
            tokio::spawn(shutdown::on_signal(tx));
            app::run(cfg, rx).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let problems = app::check(&cfg).await?;
            if problems.is_empty() {
                println!("ok: configuration, database and Kafka checks passed");
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &problems {
                    println!("problem: {p}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Replay(args) => {
            let (tx, rx) = shutdown::channel();
            tokio::spawn(shutdown::on_signal(tx));
            let opts = binlog_cdc::replay::ReplayOptions {
                files: args.files,
                minimal_metadata: match args.minimal_metadata {
                    cli::MinimalMetadataArg::Error => binlog_cdc::schema::MinimalMetadata::Error,
                    cli::MinimalMetadataArg::Synthetic => binlog_cdc::schema::MinimalMetadata::Synthetic,
                },
                limits: Default::default(),
            };
            binlog_cdc::replay::run(cfg, opts, rx).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Offsets(OffsetsCommand::Show) => {
            match app::offsets_show(&cfg).await? {
                Some(p) => println!("{}", p.to_offset_json()),
                None => println!("null"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Offsets(OffsetsCommand::Reset) => {
            app::offsets_write(&cfg, None).await?;
            println!("position removed");
            Ok(ExitCode::SUCCESS)
        }
        Command::Offsets(OffsetsCommand::Set(args)) => {
            let flavor = settings::offset_store(&cfg).map(|s| s.flavor);
            let mut position = Position::new(args.file.clone().unwrap_or_default(), args.pos.unwrap_or(4));
            if let Some(g) = &args.gtid {
                position.gtids = GtidState::parse(g, flavor).context("--gtid is not a GTID set of this flavour")?;
            }
            app::offsets_write(&cfg, Some(position.clone())).await?;
            println!("{}", position.to_offset_json());
            Ok(ExitCode::SUCCESS)
        }
    }
}
