//! `checkup export`: one ledger table as CSV, JSON or Parquet.

use std::io;
use std::path::PathBuf;

use polars::prelude::*;

use super::output::write_file;
use super::{AppError, Result};
use crate::ledger::{self, Ledger, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
    Parquet,
}

/// `checkup export`: one table of the ledger as CSV, JSON (an array of objects) or Parquet.
#[derive(Debug, Clone)]
pub struct ExportCommand {
    pub table: Table,
    pub format: ExportFormat,
    /// `None` writes to standard output.
    pub out: Option<PathBuf>,
}

pub fn export(ledger: &Ledger, command: &ExportCommand, stdout: &mut dyn io::Write) -> Result<()> {
    let mut frame = ledger.read(command.table)?;
    let path = command.out.clone().unwrap_or_else(|| PathBuf::from("-"));
    let export_error = |source| AppError::Export {
        table: command.table,
        path: path.clone(),
        source,
    };
    let mut buffer = Vec::new();
    match command.format {
        ExportFormat::Csv => {
            // CSV has no list type: list columns become JSON arrays in one cell.
            let list_columns: Vec<String> = frame
                .schema()
                .iter()
                .filter(|(_, dtype)| matches!(dtype, DataType::List(_)))
                .map(|(name, _)| name.to_string())
                .collect();
            for name in list_columns {
                let lists = ledger::Columns::new(&frame)
                    .text_lists(&name)
                    .map_err(export_error)?;
                let json: Vec<String> = lists
                    .iter()
                    .map(|list| serde_json::to_string(list).expect("strings serialize"))
                    .collect();
                frame
                    .with_column(Column::new(name.as_str().into(), json))
                    .map_err(export_error)?;
            }
            CsvWriter::new(&mut buffer)
                .include_header(true)
                .finish(&mut frame)
                .map_err(export_error)?;
        }
        ExportFormat::Json => {
            JsonWriter::new(&mut buffer)
                .with_json_format(JsonFormat::Json)
                .finish(&mut frame)
                .map_err(export_error)?;
        }
        ExportFormat::Parquet => {
            ParquetWriter::new(&mut buffer)
                .finish(&mut frame)
                .map_err(export_error)?;
        }
    }
    match &command.out {
        Some(path) => write_file(path, &buffer),
        None => stdout.write_all(&buffer).map_err(|source| AppError::Write {
            path: PathBuf::from("standard output"),
            source,
        }),
    }
}
