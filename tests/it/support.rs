//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Runs the real `checkup` binary.
pub fn checkup(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_checkup"))
        .args(args)
        .output()
        .expect("checkup runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The default demo, generated once per test run into a temporary folder and shared read-only
/// by the tests that inspect it.
pub fn default_demo() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("checkup-demo-")
            .tempdir()
            .expect("temporary folder")
            .keep();
        let output = checkup(&["demo", "--out", dir.to_str().unwrap(), "--quiet"]);
        assert!(output.status.success(), "demo failed: {}", stderr(&output));
        dir
    })
}

/// A demo of `experiments` experiments (its history spans 2025Q3 to 2026Q3) generated into
/// `dir/demo`; returns that folder.
pub fn small_demo(dir: &Path, experiments: usize) -> PathBuf {
    let demo = dir.join("demo");
    let made = checkup(&[
        "demo",
        "--out",
        demo.to_str().unwrap(),
        "--experiments",
        &experiments.to_string(),
        "--quiet",
    ]);
    assert!(made.status.success(), "demo failed: {}", stderr(&made));
    demo
}

/// The text of a PDF, through pdftotext (poppler-utils, installed by `tests/run.sh`).
pub fn pdf_text(path: &Path) -> String {
    pdftotext(path, &[])
}

/// The text of a PDF laid out as on the page: a table's rows in their order, one line each.
pub fn pdf_text_as_laid_out(path: &Path) -> String {
    pdftotext(path, &["-layout"])
}

fn pdftotext(path: &Path, options: &[&str]) -> String {
    let output = Command::new("pdftotext")
        .args(options)
        .args([path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed by the README's test command");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `checkup <args> report --format json --out <out> <report_args>` and returns `report.json`.
pub fn report_json(args: &[&str], report_args: &[&str], out: &Path) -> serde_json::Value {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["report", "--format", "json", "--out", out.to_str().unwrap()]);
    all.extend_from_slice(report_args);
    let output = checkup(&all);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// The rows of one ledger table (`checkup export --table T --format json`); `context` says which
/// step of a test failed when the table does not read.
pub fn export_json(ledger: &Path, table: &str, context: &str) -> Vec<serde_json::Value> {
    let output = checkup(&[
        "--ledger",
        ledger.to_str().unwrap(),
        "export",
        "--table",
        table,
        "--format",
        "json",
    ]);
    assert!(
        output.status.success(),
        "{context}: table {table} does not read: {}",
        stderr(&output)
    );
    serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Every file under `dir` with its bytes (none when `dir` does not exist).
pub fn files_under(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The temporary files a writer left under `dir` (named as `checkup::atomic_file` names them).
pub fn temporary_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_keys()
        .filter(|path| {
            checkup::atomic_file::is_temporary_file(&path.file_name().unwrap().to_string_lossy())
        })
        .collect()
}
