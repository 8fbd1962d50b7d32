//! checkup's integration tests: one binary, a module per area (matklad's "Delete Cargo
//! Integration Tests"). Run them all with the README's test command.

mod aws_errors;
mod browser;
mod catalog;
mod chaostoolkit;
mod cli;
mod crash;
mod demo;
mod disk_full;
mod first_hour;
mod fuzz_corpora;
mod gate;
mod hostile;
mod incidents;
mod ingest;
mod ledger;
mod many_writers;
mod maturity;
mod nab;
mod notify;
mod outside_readers;
mod s3_write_faults;
mod signals;
mod site;
mod snapshots;
mod support;
mod time_zones;
mod verdicts;
mod wire_faults;
