//! `make bench`: throughput and footprint figures, printed as a table.
//! Not a timed test: every case is `#[ignore]`d and run explicitly by the
//! Makefile in release mode, against servers the harness starts.

#[allow(dead_code, unused_imports)]
#[path = "../it/support/mod.rs"]
mod support;

mod backlog;
