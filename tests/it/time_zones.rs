//! The same answer everywhere: the demo's report.json, HTML and PDF text are identical on a laptop
//! in Tokyo or Los Angeles, in a Japanese locale, and in a CI runner in UTC. Period boundaries are
//! UTC and the reports say so.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::{pdf_text, stderr};

/// What a reader compares: report.json and the HTML byte for byte, the PDFs by their text (a PDF
/// carries its own creation metadata).
fn readable(reports: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(reports).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = if name.ends_with(".pdf") {
            pdf_text(&path)
        } else {
            std::fs::read_to_string(&path).unwrap()
        };
        files.insert(name, text);
    }
    files
}

/// The offset `date` prints under `TZ` (+0900 for Tokyo): proof that the zone is installed, so
/// the comparison is not between four runs in UTC.
fn offset(tz: &str) -> String {
    let output = Command::new("date")
        .arg("+%z")
        .env("TZ", tz)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn the_demo_reads_the_same_in_every_time_zone_and_locale() {
    assert_eq!(offset("Asia/Tokyo"), "+0900", "tzdata is missing");
    assert!(
        ["-0700", "-0800"].contains(&offset("America/Los_Angeles").as_str()),
        "tzdata is missing"
    );
    let dir = tempfile::tempdir().unwrap();
    let environments: [(&str, &str); 4] = [
        ("UTC", "C.UTF-8"),
        ("Asia/Tokyo", "C.UTF-8"),
        ("America/Los_Angeles", "C.UTF-8"),
        ("Asia/Tokyo", "ja_JP.UTF-8"),
    ];
    let mut seen: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for (index, (tz, lang)) in environments.iter().enumerate() {
        let out = dir.path().join(format!("run-{index}"));
        let output = Command::new(env!("CARGO_BIN_EXE_checkup"))
            .args(["demo", "--out", out.to_str().unwrap()])
            .args(["--experiments", "80", "--quiet"])
            .env("TZ", tz)
            .env("LANG", lang)
            .env("LC_ALL", lang)
            .output()
            .unwrap();
        assert!(output.status.success(), "TZ={tz}: {}", stderr(&output));
        seen.push((
            format!("TZ={tz} LANG={lang}"),
            readable(&out.join("reports")),
        ));
    }
    let (first_name, first) = &seen[0];
    assert!(first.len() >= 7, "{:?}", first.keys());
    for (name, files) in &seen[1..] {
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            first.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (file, text) in files {
            assert!(
                text == &first[file],
                "{file} differs between {first_name} and {name}"
            );
        }
    }
    // The reports say their boundaries are UTC.
    assert!(first["quarterly.html"].contains("UTC, end excluded"));
    assert!(first["executive.pdf"].contains("UTC, end excluded"));
}
