//! checkup: the quarterly health check of a chaos-engineering program.
//!
//! The pipeline reads left to right: [`ingest`] (AWS, files, the demo generator) →
//! [`ledger`] (the Parquet store) → [`analyze`] (pure computation) → [`report`]
//! (view model, HTML, PDF). [`vocab`] is the shared vocabulary below them all; [`app`] runs each
//! command by wiring the stages together; `main.rs` only parses arguments and prints errors.

pub mod analyze;
pub mod app;
pub mod atomic_file;
pub mod aws;
pub mod config;
pub mod fuzzing;
pub mod ingest;
pub mod interrupt;
pub mod ledger;
pub mod presets;
pub mod publish;
pub mod random;
pub mod report;
pub mod s3_ledger;
pub mod vocab;
