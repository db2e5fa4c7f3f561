//! The class reference as a test: `godot --doctool <dir> --gdextension-docs` must write WasGo's
//! classes with their descriptions (the extension supplies them, `rust/wasgo/src/doc_export.rs`),
//! and leave internal classes out.
//!
//! Every class must have a brief description and a description, and every method, property
//! (member), signal and constant a description; a missing one is named in the failure.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::godot_run::{run_godot, FATAL_PATTERNS};
use crate::{Failure, Repo, Result};

/// The classes a game developer sees.
pub const PUBLIC_CLASSES: [&str; 4] = [
    "WasmEngine",
    "WasmModule",
    "WasmModuleRequest",
    "WasmScript",
];
/// Registered for WasGo's own use and hidden from the class list and the reference.
pub const INTERNAL_CLASSES: [&str; 3] = ["WasgoBench", "WasgoErrorWatch", "WasmModuleLoader"];
const DOCTOOL_TIMEOUT: Duration = Duration::from_secs(180);

/// Runs the doctool into `target/doc-check/` and judges what it wrote.
pub fn check(godot: &Path, repo: &Repo) -> Result<()> {
    let dir = repo.target_dir().join("doc-check");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| {
        Failure::new(
            format!("cannot create `{}`: {e}", dir.display()),
            "make target/ writable",
        )
    })?;
    let (project, out) = (repo.project(), dir.to_string_lossy().to_string());
    let project = project.to_string_lossy();
    let run = run_godot(
        godot,
        &[
            "--headless",
            "--path",
            &project,
            "--doctool",
            &out,
            "--gdextension-docs",
        ],
        DOCTOOL_TIMEOUT,
        false,
    )?;
    let mut problems: Vec<String> = run.exit_problem().into_iter().collect();
    problems.extend(run.lines_matching(FATAL_PATTERNS));
    let classes = dir.join("doc_classes");
    for class in PUBLIC_CLASSES {
        match fs::read_to_string(classes.join(format!("{class}.xml"))) {
            Ok(xml) => problems.extend(undocumented(class, &xml)),
            Err(e) => problems.push(format!("no `{class}.xml` was written: {e}")),
        }
    }
    for class in INTERNAL_CLASSES {
        if classes.join(format!("{class}.xml")).exists() {
            problems.push(format!(
                "`{class}` is internal but appears in the class reference"
            ));
        }
    }
    // Any other class the doctool wrote for the extension is one nobody listed: internal ones
    // must stay out of the reference (a new internal class was written there unnoticed).
    if let Ok(entries) = fs::read_dir(&classes) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(class) = name.strip_suffix(".xml") else {
                continue;
            };
            if !PUBLIC_CLASSES.contains(&class) && !INTERNAL_CLASSES.contains(&class) {
                problems.push(format!(
                    "`{class}.xml` was written: the class is neither in PUBLIC_CLASSES nor hidden (`doc_export::INTERNAL_CLASSES`)"
                ));
            }
        }
    }
    if problems.is_empty() {
        println!(
            "xtask: the doctool wrote WasGo's {} classes with every description",
            PUBLIC_CLASSES.len()
        );
        return Ok(());
    }
    Err(Failure::new(
        format!(
            "the class reference written by `{}` is incomplete:\n  - {}",
            run.command,
            problems.join("\n  - ")
        ),
        "add a `///` doc comment to each item named (rust/wasgo/src), or check doc_export.rs",
    ))
}

/// The text between `<tag ...>` and `</tag>` starting at `from`, and where it ends.
fn element<'a>(xml: &'a str, tag: &str, from: usize) -> Option<(&'a str, &'a str, usize)> {
    let open = format!("<{tag}");
    let mut start = from;
    // `<member` must not match `<members>`: the tag name ends at a space, `>` or `/`.
    loop {
        start += xml[start..].find(&open)?;
        match xml[start + open.len()..].chars().next() {
            Some(' ' | '>' | '/' | '\n' | '\t') => break,
            _ => start += open.len(),
        }
    }
    let head_end = start + xml[start..].find('>')?;
    let head = &xml[start..head_end];
    if head.ends_with('/') {
        return Some((head, "", head_end + 1));
    }
    let close = format!("</{tag}>");
    let body_end = head_end + xml[head_end..].find(&close)?;
    Some((head, &xml[head_end + 1..body_end], body_end + close.len()))
}

/// The `name="..."` attribute of an element's head.
fn name_of(head: &str) -> &str {
    head.split("name=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("?")
}

/// One problem per item of `class`'s XML without a description.
pub fn undocumented(class: &str, xml: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for tag in ["brief_description", "description"] {
        let text = element(xml, tag, 0).map(|(_, body, _)| body.trim());
        if text.is_none_or(str::is_empty) {
            problems.push(format!("`{class}` has no {tag}"));
        }
    }
    for (item, kind) in [
        ("method", "method"),
        ("member", "property"),
        ("signal", "signal"),
        ("constant", "constant"),
    ] {
        let mut at = 0;
        while let Some((head, body, end)) = element(xml, item, at) {
            at = end;
            // A member's and a constant's description is their body; a method's and a
            // signal's is their `<description>` element.
            let text = if item == "member" || item == "constant" {
                body.trim()
            } else {
                element(body, "description", 0)
                    .map(|(_, d, _)| d.trim())
                    .unwrap_or("")
            };
            if text.is_empty() {
                problems.push(format!(
                    "{kind} `{class}.{}` has no description",
                    name_of(head)
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fully_documented_class_passes() {
        let xml = r#"<class name="A"><brief_description>Short.</brief_description>
<description>Long.</description><methods><method name="f"><return type="void" />
<description>Does f.</description></method></methods><members>
<member name="x" type="int" setter="" getter="">The x.</member></members>
<signals><signal name="s"><description>Fired.</description></signal></signals>
<constants><constant name="C" value="1">One.</constant></constants></class>"#;
        assert_eq!(undocumented("A", xml), Vec::<String>::new());
    }

    #[test]
    fn each_missing_description_is_named() {
        let xml = r#"<class name="A"><brief_description>
</brief_description><description>Long.</description><methods><method name="f">
<return type="void" /><description>
</description></method></methods><members><member name="x" type="int" setter="" getter="">
</member></members><signals><signal name="s"><description></description></signal></signals>
<constants><constant name="C" value="1" /></constants></class>"#;
        let problems = undocumented("A", xml);
        assert_eq!(
            problems,
            vec![
                "`A` has no brief_description".to_string(),
                "method `A.f` has no description".into(),
                "property `A.x` has no description".into(),
                "signal `A.s` has no description".into(),
                "constant `A.C` has no description".into(),
            ]
        );
    }
}
