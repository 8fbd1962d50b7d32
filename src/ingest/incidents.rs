//! Real incidents from a CSV file, for the incident MTTR trend (SPEC section 4):
//! `incident_id,service,team,severity,started_at,resolved_at[,customer_impact]`, columns by name
//! in any order. The whole file is checked before anything is stored: a bad row names the file,
//! its line and the field, and the ledger stays as it was.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::ledger::Incident;
use crate::vocab::time::{Micros, parse_timestamp};

const REQUIRED: &[&str] = &["incident_id", "started_at", "resolved_at"];
const OPTIONAL: &[&str] = &["service", "team", "severity", "customer_impact"];

#[derive(Debug, thiserror::Error)]
pub enum IncidentsError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {field}: {message}")]
    Row {
        path: PathBuf,
        line: u64,
        field: String,
        message: String,
    },
}

/// Reads and checks an incidents file.
pub fn read_incidents(path: &Path) -> Result<Vec<Incident>, IncidentsError> {
    let bytes = std::fs::read(path).map_err(|source| IncidentsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_incidents(path, &bytes)
}

/// A time as incident tools export it: RFC 3339, a date, or `YYYY-MM-DD HH:MM[:SS]` in UTC.
fn incident_time(text: &str) -> Result<Micros, String> {
    let text = text.trim();
    if let Ok(ts) = parse_timestamp(text) {
        return Ok(ts);
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(time.and_utc().timestamp_micros());
        }
    }
    Err(format!(
        "{} is not a time (2026-07-01T10:00:00Z, 2026-07-01 10:00 in UTC, or 2026-07-01)",
        crate::vocab::format::quoted(text)
    ))
}

/// Checks every row of `bytes` (CSV with a header); errors name `path`, the line and the field.
pub fn parse_incidents(path: &Path, bytes: &[u8]) -> Result<Vec<Incident>, IncidentsError> {
    let row_error = |line: u64, field: &str, message: String| IncidentsError::Row {
        path: path.to_path_buf(),
        line,
        field: field.to_string(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| row_error(1, "(header)", e.to_string()))?
        .clone();
    let mut columns: HashMap<&str, usize> = HashMap::new();
    for (index, name) in header.iter().enumerate() {
        if !REQUIRED.contains(&name) && !OPTIONAL.contains(&name) {
            return Err(row_error(
                1,
                name,
                format!(
                    "unknown column; the columns are {} and optionally {}",
                    REQUIRED.join(", "),
                    OPTIONAL.join(", ")
                ),
            ));
        }
        if columns.insert(name, index).is_some() {
            return Err(row_error(1, name, "the column appears twice".to_string()));
        }
    }
    if let Some(missing) = REQUIRED.iter().find(|name| !columns.contains_key(*name)) {
        return Err(row_error(
            1,
            missing,
            format!(
                "missing column; the header must name {}",
                REQUIRED.join(", ")
            ),
        ));
    }

    let mut incidents = Vec::new();
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            row_error(line, "(row)", e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &str| -> Option<String> {
            columns
                .get(name)
                .and_then(|&index| record.get(index))
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        let required =
            |name: &str| field(name).ok_or_else(|| row_error(line, name, "is empty".to_string()));
        let incident_id = required("incident_id")?;
        if let Some(first) = first_line_of.insert(incident_id.clone(), line) {
            return Err(row_error(
                line,
                "incident_id",
                format!("`{incident_id}` is already on line {first}"),
            ));
        }
        let started_at = incident_time(&required("started_at")?)
            .map_err(|message| row_error(line, "started_at", message))?;
        let resolved_at = incident_time(&required("resolved_at")?)
            .map_err(|message| row_error(line, "resolved_at", message))?;
        if resolved_at < started_at {
            return Err(row_error(
                line,
                "resolved_at",
                "is before started_at".to_string(),
            ));
        }
        incidents.push(Incident {
            incident_id,
            service: field("service"),
            team: field("team"),
            severity: field("severity"),
            started_at,
            resolved_at,
            customer_impact: field("customer_impact"),
        });
    }
    Ok(incidents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Incident>, String> {
        parse_incidents(Path::new("incidents.csv"), text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn rows_become_incidents_with_times_in_utc() {
        let incidents = parse(
            "incident_id,service,team,severity,started_at,resolved_at,customer_impact\n\
             INC-1,payments,payments,SEV2,2026-07-01T10:00:00Z,2026-07-01T11:30:00Z,\"checkout failed, 2% of orders\"\n\
             INC-2,search,,SEV3,2026-07-02 08:00,2026-07-02 08:45,\n",
        )
        .unwrap();
        assert_eq!(incidents.len(), 2);
        assert_eq!(
            incidents[0].resolved_at - incidents[0].started_at,
            90 * 60 * 1_000_000
        );
        assert_eq!(
            incidents[0].customer_impact.as_deref(),
            Some("checkout failed, 2% of orders")
        );
        assert_eq!(incidents[1].team, None);
        assert_eq!(
            incidents[1].started_at,
            parse_timestamp("2026-07-02T08:00:00Z").unwrap()
        );
    }

    #[test]
    fn bad_rows_name_the_line_and_the_field() {
        let header = "incident_id,started_at,resolved_at\n";
        assert_eq!(
            parse(&format!(
                "{header}INC-1,2026-07-01T10:00:00Z,2026-07-01T09:00:00Z\n"
            ))
            .unwrap_err(),
            "incidents.csv:2: resolved_at: is before started_at"
        );
        assert_eq!(
            parse(&format!(
                "{header}INC-1,2026-07-01,2026-07-02\nINC-1,2026-07-03,2026-07-04\n"
            ))
            .unwrap_err(),
            "incidents.csv:3: incident_id: `INC-1` is already on line 2"
        );
        assert_eq!(
            parse(&format!("{header}INC-1,yesterday,2026-07-02\n")).unwrap_err(),
            "incidents.csv:2: started_at: `yesterday` is not a time (2026-07-01T10:00:00Z, 2026-07-01 10:00 in UTC, or 2026-07-01)"
        );
        assert_eq!(
            parse(&format!("{header},2026-07-01,2026-07-02\n")).unwrap_err(),
            "incidents.csv:2: incident_id: is empty"
        );
        assert_eq!(
            parse("incident_id,started_at\nINC-1,2026-07-01\n").unwrap_err(),
            "incidents.csv:1: resolved_at: missing column; the header must name incident_id, started_at, resolved_at"
        );
        assert!(
            parse("incident_id,started,resolved_at\n")
                .unwrap_err()
                .starts_with("incidents.csv:1: started: unknown column")
        );
        assert!(
            parse(&format!("{header}INC-1,2026-07-01\n"))
                .unwrap_err()
                .starts_with("incidents.csv:2: (row): ")
        );
    }
}
