//! checkup's integration tests: one binary, a module per area (matklad's "Delete Cargo
//! Integration Tests"). Run them all with the README's test command.

mod aws_errors;
mod browser;
mod catalog;
mod cli;
mod demo;
mod hostile;
mod ingest;
mod ledger;
mod maturity;
mod nab;
mod outside_readers;
mod snapshots;
mod support;
