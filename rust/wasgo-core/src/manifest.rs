//! A mod's manifest: what it says about itself, read from the module's bytes without running
//! any of its code.
//!
//! The manifest is a custom section named `wasgo.manifest` ([`MANIFEST_SECTION`]) holding a
//! UTF-8 JSON object, at most [`MAX_MANIFEST_BYTES`] long. Every field is optional:
//!
//! | field | type | rule |
//! |---|---|---|
//! | `id` | string | 1–100 of `[A-Za-z0-9_-]`; informational (the sandbox and grants use the id the game gives, never this one) |
//! | `name` | string | 1–100 characters, no control characters |
//! | `version` | string | 1–32 characters, no control characters or spaces |
//! | `authors` | array of strings | at most 16, each 1–100 characters |
//! | `description` | string | at most 2000 characters (newlines allowed) |
//! | `homepage` | string | an `http://` or `https://` URL, at most 500 characters, no spaces |
//! | `level` | integer | the safety level the mod asks for: 1, 2 or 3 |
//! | `permissions` | array of strings | the permission kinds it asks for (`files`, `network`), no repeats |
//! | `abi` | string | the WasGo ABI it targets, `"MAJOR.MINOR"` (or `"MAJOR"`) |
//!
//! **Unknown fields are ignored** (a manifest written for a newer WasGo still reads), and their
//! names are kept in [`Manifest::ignored`] so a tool can point at a typo. A field of the wrong
//! type or out of its rule makes the whole manifest malformed: [`ManifestError`] names the field
//! and says what it must be. A malformed manifest never stops a module from loading; it is
//! reported and the module has no manifest.
//!
//! The section is found by walking the module's sections ([`find_custom_section`]) without
//! parsing anything else; a module with two `wasgo.manifest` sections is malformed. The ABI the
//! manifest names is checked before compiling ([`check_abi`]): a mod that targets a newer ABI
//! than [`ABI_VERSION`] is refused with both versions named, since it may call what this host
//! does not have.

use crate::permissions::Permission;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;
use wasgo_catalog::{AbiVersion, SafetyLevel, ABI_VERSION, MANIFEST_SECTION, MAX_MANIFEST_BYTES};

/// A parsed, valid manifest (see the module essay for the fields' rules).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub authors: Vec<String>,
    pub description: Option<String>,
    pub homepage: Option<String>,
    /// The safety level the mod asks for.
    pub level: Option<SafetyLevel>,
    /// The permission kinds it asks for, in the manifest's order.
    pub permissions: Vec<Permission>,
    /// The ABI it targets.
    pub abi: Option<AbiVersion>,
    /// Names of fields WasGo does not know (ignored).
    pub ignored: Vec<String>,
}

/// Why a manifest is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The field at fault, or `None` for the section as a whole.
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(
                f,
                "malformed `{MANIFEST_SECTION}` section: `{field}` {}",
                self.reason
            ),
            None => write!(f, "malformed `{MANIFEST_SECTION}` section: {}", self.reason),
        }
    }
}

impl std::error::Error for ManifestError {}

fn whole(reason: impl Into<String>) -> ManifestError {
    ManifestError {
        field: None,
        reason: reason.into(),
    }
}

fn field(name: &str, reason: impl Into<String>) -> ManifestError {
    ManifestError {
        field: Some(name.into()),
        reason: reason.into(),
    }
}

pub use crate::wasm_sections::SectionError;

/// The contents of every custom section named `name` in a binary module, in order. Only the
/// section headers are read; a section whose size runs past the end is an error.
///
/// # Errors
/// The bytes are not a binary module (no `\0asm` version 1 header) or a section header is cut.
pub fn find_custom_sections<'a>(
    bytes: &'a [u8],
    name: &str,
) -> Result<Vec<&'a [u8]>, SectionError> {
    let mut found = Vec::new();
    for section in crate::wasm_sections::sections(bytes) {
        let (id, contents) = section?;
        if id != 0 {
            continue;
        }
        let mut at = 0;
        let name_end = crate::wasm_sections::uleb32(contents, &mut at)
            .and_then(|len| at.checked_add(len as usize))
            .filter(|&e| e <= contents.len())
            .ok_or_else(|| SectionError("a custom section's name runs past the section".into()))?;
        if &contents[at..name_end] == name.as_bytes() {
            found.push(&contents[name_end..]);
        }
    }
    Ok(found)
}

/// The one custom section named `name`, if any.
///
/// # Errors
/// The bytes cannot be walked (see [`find_custom_sections`]), or the section appears twice.
pub fn find_custom_section<'a>(
    bytes: &'a [u8],
    name: &str,
) -> Result<Option<&'a [u8]>, SectionError> {
    let found = find_custom_sections(bytes, name)?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(Some(found[0])),
        n => Err(SectionError(format!(
            "the module has {n} `{name}` sections; keep one"
        ))),
    }
}

/// A binary module holding only the `wasgo.manifest` sections of the module in `bytes` (WAT
/// text converted first), unchanged and in order: what a precompiled artifact carries, so that
/// [`manifest_of_module`] and [`abi_of_module`] answer for the artifact as they do for its
/// WebAssembly (duplicates and malformed fields included). Empty when the module has no such
/// section, or its sections cannot be walked (it does not compile then).
pub fn manifest_sections(bytes: &[u8]) -> Vec<u8> {
    let Ok(binary) = crate::wat_text::to_binary(bytes) else {
        return Vec::new();
    };
    let Ok(found) = find_custom_sections(&binary, MANIFEST_SECTION) else {
        return Vec::new();
    };
    if found.is_empty() {
        return Vec::new();
    }
    // The binary header: `\0asm`, version 1.
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    for contents in found {
        let mut section = Vec::with_capacity(contents.len() + MANIFEST_SECTION.len() + 5);
        crate::wasm_sections::push_uleb32(&mut section, MANIFEST_SECTION.len() as u32);
        section.extend_from_slice(MANIFEST_SECTION.as_bytes());
        section.extend_from_slice(contents);
        out.push(0);
        // A section's contents came from a module whose sizes are u32.
        crate::wasm_sections::push_uleb32(&mut out, section.len() as u32);
        out.extend_from_slice(&section);
    }
    out
}

/// The manifest of a module's bytes: `Ok(None)` when it has none, an error when the section is
/// malformed. WAT text is converted first (a `(@custom "wasgo.manifest" "...")` annotation);
/// bytes that are neither give `Ok(None)` (compiling reports them).
pub fn manifest_of_module(bytes: &[u8]) -> Result<Option<Manifest>, ManifestError> {
    let binary = match crate::wat_text::to_binary(bytes) {
        Ok(b) => b,
        Err(_) => return Ok(None),
    };
    let bytes = &binary[..];
    let section = match find_custom_section(bytes, MANIFEST_SECTION) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(None),
        Err(SectionError(reason)) if reason.contains("sections; keep one") => {
            return Err(whole(reason))
        }
        // A module whose sections cannot be walked does not compile either; compiling says why.
        Err(_) => return Ok(None),
    };
    parse(section).map(Some)
}

/// Parses the contents of a `wasgo.manifest` section.
///
/// # Errors
/// Over [`MAX_MANIFEST_BYTES`], not UTF-8 JSON, not an object, or a field breaking its rule.
pub fn parse(section: &[u8]) -> Result<Manifest, ManifestError> {
    if section.len() > MAX_MANIFEST_BYTES {
        return Err(whole(format!(
            "it is {} bytes, over the limit of {MAX_MANIFEST_BYTES}; keep the manifest small and put long texts elsewhere",
            section.len()
        )));
    }
    let text = std::str::from_utf8(section)
        .map_err(|_| whole("it is not UTF-8 text; write the manifest as a JSON object"))?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        whole(format!(
            "it is not valid JSON ({e}); write a JSON object such as {{\"name\": \"My mod\"}}"
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(whole(
            "it is not a JSON object; write the fields inside `{ ... }`",
        ));
    };
    let mut m = Manifest::default();
    for (key, value) in &map {
        match key.as_str() {
            "id" => {
                let id = text_field("id", value, 100, Allowed::Line)?;
                if !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Err(field("id", "may hold only letters, digits, `-` and `_`"));
                }
                m.id = Some(id);
            }
            "name" => m.name = Some(text_field("name", value, 100, Allowed::Line)?),
            "version" => m.version = Some(text_field("version", value, 32, Allowed::Word)?),
            "description" => {
                let d = text_field("description", value, 2000, Allowed::Text)?;
                m.description = Some(d);
            }
            "homepage" => {
                let url = text_field("homepage", value, 500, Allowed::Word)?;
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(field("homepage", "must be an `http://` or `https://` URL"));
                }
                m.homepage = Some(url);
            }
            "authors" => {
                let Value::Array(items) = value else {
                    return Err(field("authors", "must be an array of strings"));
                };
                if items.len() > 16 {
                    return Err(field(
                        "authors",
                        format!("has {} entries; at most 16", items.len()),
                    ));
                }
                for item in items {
                    m.authors
                        .push(text_field("authors", item, 100, Allowed::Line)?);
                }
            }
            "level" => {
                let level = value
                    .as_i64()
                    .and_then(SafetyLevel::from_number)
                    .ok_or_else(|| {
                        field(
                            "level",
                            format!(
                                "is {}; it must be 1, 2 or 3 (the safety level the mod asks for)",
                                quoted(value)
                            ),
                        )
                    })?;
                m.level = Some(level);
            }
            "permissions" => {
                let Value::Array(items) = value else {
                    return Err(field(
                        "permissions",
                        format!(
                            "must be an array of permission kinds ({})",
                            Permission::names()
                        ),
                    ));
                };
                let mut seen = BTreeSet::new();
                for item in items {
                    let kind = item.as_str().and_then(Permission::parse).ok_or_else(|| {
                        field(
                            "permissions",
                            format!(
                                "holds {}, which is not a permission kind ({})",
                                quoted(item),
                                Permission::names()
                            ),
                        )
                    })?;
                    if !seen.insert(kind) {
                        return Err(field("permissions", format!("names `{kind}` twice")));
                    }
                    m.permissions.push(kind);
                }
            }
            "abi" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| field("abi", "must be a string such as \"1.0\""))?;
                let abi = AbiVersion::parse(text).ok_or_else(|| {
                    field("abi", format!("is {}; write the WasGo ABI version as \"MAJOR.MINOR\", e.g. \"{ABI_VERSION}\"", quoted(value)))
                })?;
                m.abi = Some(abi);
            }
            other => m.ignored.push(other.to_string()),
        }
    }
    Ok(m)
}

/// A value of the mod's JSON as a message shows it: JSON text with hidden characters escaped
/// (serde leaves bidi overrides and line separators as they are) and at most 100 bytes of it.
fn quoted(value: &Value) -> String {
    crate::text::shown(&value.to_string(), 100)
}

/// What a text field may contain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Allowed {
    /// No spaces or control characters.
    Word,
    /// No control characters.
    Line,
    /// No control characters but newlines and tabs.
    Text,
}

fn text_field(
    name: &str,
    value: &Value,
    max_chars: usize,
    allowed: Allowed,
) -> Result<String, ManifestError> {
    let Value::String(s) = value else {
        return Err(field(
            name,
            format!("must be a string, not {}", quoted(value)),
        ));
    };
    let count = s.chars().count();
    if count == 0 {
        return Err(field(name, "is empty; leave the field out instead"));
    }
    if count > max_chars {
        return Err(field(
            name,
            format!("is {count} characters long; at most {max_chars}"),
        ));
    }
    // Control characters and invisible format characters (a bidi override reorders the text a
    // game's mod list shows).
    let bad = s.chars().find(|&c| match allowed {
        Allowed::Word => crate::text::is_hidden(c) || c.is_whitespace(),
        Allowed::Line => crate::text::is_hidden(c),
        Allowed::Text => crate::text::is_hidden(c) && c != '\n' && c != '\t',
    });
    if let Some(c) = bad {
        return Err(field(
            name,
            format!("holds the character {c:?}, which is not allowed there"),
        ));
    }
    Ok(s.clone())
}

/// Why a module cannot run on this host's ABI, before it is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbiMismatch {
    pub target: AbiVersion,
    pub host: AbiVersion,
}

impl fmt::Display for AbiMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.target.major == self.host.major {
            write!(
                f,
                "was built for WasGo ABI {}, newer than this game's ABI {}: it may use functions this WasGo does not have; update the game's WasGo or rebuild the mod against ABI {}",
                self.target, self.host, self.host
            )
        } else {
            write!(
                f,
                "was built for WasGo ABI {}, but this game's WasGo speaks ABI {} (a different major version); rebuild the mod against ABI {}",
                self.target, self.host, self.host
            )
        }
    }
}

/// Whether a mod whose manifest targets `target` runs on this host's [`ABI_VERSION`].
///
/// # Errors
/// [`AbiMismatch`] naming both versions when it does not.
pub fn check_abi(target: AbiVersion) -> Result<(), AbiMismatch> {
    check_abi_against(target, ABI_VERSION)
}

/// Whether the module in `bytes` runs on this host's ABI, by its manifest's `abi` (a module
/// without a manifest or without `abi` is not refused here). The `abi` is read even when
/// another field of the manifest is malformed, and from every `wasgo.manifest` section when
/// there are several: a mod built for a newer ABI with an empty `name` beside it was not
/// refused.
///
/// # Errors
/// [`AbiMismatch`] when a manifest targets an ABI this host does not run.
pub fn abi_of_module(bytes: &[u8]) -> Result<(), AbiMismatch> {
    match manifest_of_module(bytes) {
        Ok(Some(Manifest { abi: Some(abi), .. })) => check_abi(abi),
        Ok(_) => Ok(()),
        Err(_) => declared_abis(bytes).into_iter().try_for_each(check_abi),
    }
}

/// The `abi` of every `wasgo.manifest` section of the module in `bytes` that names one that
/// parses, whatever the rest of the section holds.
fn declared_abis(bytes: &[u8]) -> Vec<AbiVersion> {
    let Ok(binary) = crate::wat_text::to_binary(bytes) else {
        return Vec::new();
    };
    let Ok(sections) = find_custom_sections(&binary, MANIFEST_SECTION) else {
        return Vec::new();
    };
    sections
        .into_iter()
        .filter(|section| section.len() <= MAX_MANIFEST_BYTES)
        .filter_map(|section| serde_json::from_slice::<Value>(section).ok())
        .filter_map(|value| value.get("abi").and_then(lenient_abi))
        .collect()
}

/// An `abi` read leniently, for the refusal only (a malformed manifest is still malformed):
/// `"1.4"`, `"1.4.0"` (a patch is no part of the ABI) and the number `1.4`. Read strictly, a
/// mod built for a newer ABI whose manifest wrote `"1.4.0"` or `1.4` was not refused.
fn lenient_abi(value: &Value) -> Option<AbiVersion> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    AbiVersion::parse(&text).or_else(|| {
        let mut parts = text.splitn(3, '.');
        let (major, minor) = (parts.next()?, parts.next()?);
        let patch = parts.next()?;
        (!patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
            .then(|| AbiVersion::parse(&format!("{major}.{minor}")))
            .flatten()
    })
}

/// [`check_abi`] against any host version (for tests of the rule).
pub fn check_abi_against(target: AbiVersion, host: AbiVersion) -> Result<(), AbiMismatch> {
    if host.runs(target) {
        Ok(())
    } else {
        Err(AbiMismatch { target, host })
    }
}

/// What a manifest asks for that a game running mods at `level` never gives: a level above it,
/// or permission kinds no level at or below it grants (every kind needs level 2). One message
/// per problem, each naming the field and the game's level.
pub fn claims_above(manifest: &Manifest, level: SafetyLevel) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(asked) = manifest.level {
        if asked > level {
            out.push(format!(
                "its manifest asks for safety level {} ({}), but the game runs it at level {} ({}); it starts at level {} and calls above it trap",
                asked.number(),
                asked.title(),
                level.number(),
                level.title(),
                level.number()
            ));
        }
    }
    if level < SafetyLevel::Wrapped {
        let kinds: Vec<String> = manifest
            .permissions
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        if !kinds.is_empty() {
            out.push(format!(
                "its manifest asks for the permission{} {}, which no mod gets at safety level {} ({}); they need level 2",
                if kinds.len() == 1 { "" } else { "s" },
                kinds.join(", "),
                level.number(),
                level.title()
            ));
        }
    }
    out
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
