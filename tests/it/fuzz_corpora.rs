//! Replays the fuzz corpora (fuzz/corpus/<target>/, grown by `cargo fuzz run` on nightly) and the
//! crashing inputs found so far (fuzz/regressions/<target>/) through the fuzz targets' own entry
//! points: every input must return, never panic.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = 0;
    for folder in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{} panics", path.display());
            inputs += 1;
        }
    }
    inputs
}

#[test]
fn every_fuzz_input_so_far_returns_without_a_panic() {
    let replayed = [
        ("journal", replay("journal", checkup::fuzzing::journal)),
        (
            "incidents",
            replay("incidents", checkup::fuzzing::incidents),
        ),
        ("config", replay("config", checkup::fuzzing::config)),
        (
            "text_fields",
            replay("text_fields", checkup::fuzzing::text_fields),
        ),
    ];
    for (target, count) in replayed {
        assert!(count > 0, "fuzz/corpus/{target} is empty");
    }
}
