//! The HTML reports in a real browser: headless Chromium (Debian's, installed by `tests/run.sh`)
//! loads each report of the demo, takes a screenshot and dumps the DOM it rendered.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::default_demo;

fn chromium() -> PathBuf {
    let name = std::env::var("CHECKUP_CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(&name))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("{name} is not installed: run the tests with tests/run.sh, which installs Debian's chromium")
    })
}

fn headless(args: &[&str]) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
        ])
        .args(args)
        .output()
        .expect("chromium runs")
}

fn screenshot(url: &str, path: &Path) -> u64 {
    let target = format!("--screenshot={}", path.display());
    let output = headless(&[&target, "--window-size=1200,1800", url]);
    assert!(
        path.is_file(),
        "no screenshot of {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn every_html_report_renders_in_chromium_with_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    // A blank page compresses to almost nothing; a rendered report with charts does not.
    let blank = screenshot("about:blank", &dir.path().join("blank.png"));
    for (kind, charts) in [("quarterly", 3), ("executive", 1), ("maturity", 1)] {
        let report = default_demo().join(format!("reports/{kind}.html"));
        let url = format!("file://{}", report.display());
        let size = screenshot(&url, &dir.path().join(format!("{kind}.png")));
        assert!(
            size > 5 * blank,
            "{kind}.html looks blank: {size} bytes against {blank}"
        );
        let dom = headless(&["--dump-dom", &url]);
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(dom.contains("<h1"), "{kind}.html rendered no heading");
        let rendered_charts = dom.matches("<figure class=\"chart\"").count();
        assert!(
            rendered_charts >= charts,
            "{kind}.html: {rendered_charts} charts rendered"
        );
        assert!(
            dom.matches("<svg").count() >= charts,
            "{kind}.html: charts without SVG"
        );
    }
}
