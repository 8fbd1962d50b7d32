//! The action catalog against real FIS templates (AWS samples in ../shared/data/fis-templates):
//! every action they use is in data/action_catalog.csv with a system, except the wait action.

use std::path::{Path, PathBuf};

use checkup::vocab::catalog::ActionCatalog;

fn json_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
}

fn action_ids(value: &serde_json::Value, ids: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str()) {
                    ("actionId", Some(id)) => ids.push(id.to_string()),
                    _ => action_ids(value, ids),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| action_ids(v, ids)),
        _ => {}
    }
}

#[test]
fn every_action_of_the_aws_sample_templates_has_a_system() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/fis-templates");
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    let mut ids = Vec::new();
    for file in &files {
        // Some sample files are not JSON templates (CloudFormation with comments and the like).
        if let Ok(value) =
            serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(file).unwrap())
        {
            action_ids(&value, &mut ids);
        }
    }
    ids.sort();
    ids.dedup();
    assert!(
        ids.len() >= 15,
        "{} distinct actions in {} files",
        ids.len(),
        files.len()
    );
    let catalog = ActionCatalog::built_in();
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| id.as_str() != "aws:fis:wait" && catalog.system_of(id).is_none())
        .collect();
    assert!(missing.is_empty(), "actions without a system: {missing:?}");
}
