//! checkup: the quarterly health check of a chaos-engineering program.
//!
//! The pipeline reads left to right: [`ingest`] (AWS, files, the demo generator) →
//! [`ledger`] (the Parquet store) → [`analyze`] (pure computation) → [`report`]
//! (view model, HTML, PDF). [`commands`] wires the stages together for each
//! subcommand; `main.rs` only parses arguments and prints errors.

pub mod analyze;
pub mod commands;
pub mod config;
pub mod fuzzing;
pub mod ingest;
pub mod ledger;
pub mod publish;
pub mod random;
pub mod report;
pub mod s3_ledger;
pub mod time;
