//! The codes a mod gets come from the catalog's `ErrorCode` (so the linker, the docs, the SDKs
//! and the host agree on them): no failure in the core or the glue is written with a bare
//! number. A test, so that a new one does not creep back in.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_failure_in_the_core_or_the_glue_is_a_bare_number() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for crate_dir in ["wasgo-core/src", "wasgo/src"] {
        sources(&root.join(crate_dir), &mut files);
    }
    let patterns = ["failed(-", "fail(-", "Err((-", "code: -"];
    let mut found = Vec::new();
    for file in files {
        let name = file.to_string_lossy().to_string();
        if name.ends_with("tests.rs") || name.contains("/tests/") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests at the end of a file may spell the codes they expect.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        // Comments out, every line's spaces out and the lines joined: a call split over lines
        // (`failed(` at one line's end, the code on the next) reads as one.
        let joined: String = code
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default().replace(' ', ""))
            .collect();
        for p in patterns.map(|p| p.replace(' ', "")) {
            for (at, _) in joined.match_indices(&p) {
                let rest = &joined[at + p.len()..];
                if rest
                    .chars()
                    .next()
                    .is_some_and(|c| ('1'..='7').contains(&c))
                {
                    let end = rest.char_indices().nth(24).map_or(rest.len(), |(i, _)| i);
                    found.push(format!("{name}: `{p}{}`", &rest[..end]));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "failures written with a bare code (use wasgo_catalog::ErrorCode): {found:#?}"
    );
}
