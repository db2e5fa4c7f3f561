//! Tests of `manifest.rs`: section extraction, every field's rule, the ABI rule and the claims a
//! game's level does not grant.

use super::*;

/// A binary module with the given custom sections (name, contents) and an empty type section
/// between them.
fn module_with(sections: &[(&str, &[u8])]) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    m.extend_from_slice(&[1, 1, 0]); // type section: 0 types
    for (name, body) in sections {
        let mut payload = Vec::new();
        leb(&mut payload, name.len() as u32);
        payload.extend_from_slice(name.as_bytes());
        payload.extend_from_slice(body);
        m.push(0);
        leb(&mut m, payload.len() as u32);
        m.extend_from_slice(&payload);
    }
    m
}

use crate::wasm_sections::push_uleb32 as leb;

#[test]
fn a_module_with_a_manifest_section_yields_its_fields() {
    let json = br#"{"id":"mover","name":"Mover","version":"1.2.0","authors":["Ada"],
        "description":"moves\nplayers","homepage":"https://example.com/mover","level":2,
        "permissions":["files"],"abi":"1.0","x-extra":true}"#;
    let bytes = module_with(&[("other", b"zz"), (MANIFEST_SECTION, json)]);
    let m = manifest_of_module(&bytes).unwrap().unwrap();
    assert_eq!(m.id.as_deref(), Some("mover"));
    assert_eq!(m.name.as_deref(), Some("Mover"));
    assert_eq!(m.version.as_deref(), Some("1.2.0"));
    assert_eq!(m.authors, ["Ada"]);
    assert_eq!(m.description.as_deref(), Some("moves\nplayers"));
    assert_eq!(m.homepage.as_deref(), Some("https://example.com/mover"));
    assert_eq!(m.level, Some(SafetyLevel::Wrapped));
    assert_eq!(m.permissions, [Permission::Files]);
    assert_eq!(m.abi, Some(AbiVersion { major: 1, minor: 0 }));
    assert_eq!(m.ignored, ["x-extra"]);
}

#[test]
fn a_module_without_the_section_has_no_manifest() {
    assert_eq!(
        manifest_of_module(&module_with(&[("name", b"\0")])),
        Ok(None)
    );
    assert_eq!(manifest_of_module(b"not wasm at all"), Ok(None));
}

#[test]
fn wat_text_with_a_custom_annotation_is_read_too() {
    let wat = br#"(module (@custom "wasgo.manifest" "{\"name\":\"wat mod\"}"))"#;
    let m = manifest_of_module(wat).unwrap().unwrap();
    assert_eq!(m.name.as_deref(), Some("wat mod"));
}

#[test]
fn two_manifest_sections_are_malformed() {
    let bytes = module_with(&[(MANIFEST_SECTION, b"{}"), (MANIFEST_SECTION, b"{}")]);
    let e = manifest_of_module(&bytes).unwrap_err();
    assert!(e.to_string().contains("2 `wasgo.manifest` sections"), "{e}");
}

#[test]
fn cut_or_lying_section_headers_are_errors_not_panics() {
    let mut bytes = module_with(&[(MANIFEST_SECTION, b"{}")]);
    bytes.truncate(bytes.len() - 1);
    assert!(find_custom_sections(&bytes, MANIFEST_SECTION).is_err());
    // A section claiming 4 GiB.
    let mut huge = b"\0asm\x01\0\0\0\0".to_vec();
    huge.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert!(find_custom_sections(&huge, MANIFEST_SECTION).is_err());
    // A LEB128 that never ends.
    let endless = b"\0asm\x01\0\0\0\0\x80\x80\x80\x80\x80\x80";
    assert!(find_custom_sections(endless, MANIFEST_SECTION).is_err());
    // A custom section whose name runs past it.
    let lying = b"\0asm\x01\0\0\0\0\x02\x09ab";
    assert!(find_custom_sections(lying, MANIFEST_SECTION).is_err());
    assert!(find_custom_sections(b"\0asm", MANIFEST_SECTION).is_err());
}

#[test]
fn every_malformed_field_is_named_in_the_error() {
    let cases: &[(&str, &str)] = &[
        (r#"{"id":"a/b"}"#, "`id`"),
        (r#"{"id":""}"#, "`id`"),
        (r#"{"name":7}"#, "`name`"),
        (r#"{"name":"a\u0007b"}"#, "`name`"),
        // A bidi override would reorder the name in the game's mod list.
        (r#"{"name":"gnp.\u202Eexe"}"#, "`name`"),
        (r#"{"description":"a\u200Bb"}"#, "`description`"),
        (r#"{"version":"1 0"}"#, "`version`"),
        (r#"{"authors":"Ada"}"#, "`authors`"),
        (r#"{"authors":[1]}"#, "`authors`"),
        (r#"{"homepage":"javascript:alert(1)"}"#, "`homepage`"),
        (r#"{"level":4}"#, "`level`"),
        (r#"{"level":"2"}"#, "`level`"),
        (r#"{"level":0}"#, "`level`"),
        (r#"{"permissions":["root"]}"#, "`permissions`"),
        (r#"{"permissions":["files","files"]}"#, "`permissions`"),
        (r#"{"permissions":"files"}"#, "`permissions`"),
        (r#"{"abi":"one"}"#, "`abi`"),
        (r#"{"abi":1}"#, "`abi`"),
    ];
    for (json, named) in cases {
        let e = parse(json.as_bytes()).unwrap_err();
        assert!(e.to_string().contains(named), "{json}: {e}");
        assert!(
            e.to_string()
                .starts_with("malformed `wasgo.manifest` section"),
            "{e}"
        );
    }
    let long_name = format!(r#"{{"name":"{}"}}"#, "n".repeat(101));
    assert!(parse(long_name.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("at most 100"));
    let many = format!(r#"{{"authors":[{}]}}"#, vec!["\"a\""; 17].join(","));
    assert!(parse(many.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("at most 16"));
}

#[test]
fn values_quoted_in_an_error_show_no_hidden_characters_and_are_cut() {
    // Each value is echoed by the error; a line separator or bidi override in it would start a
    // line of its own in the console, or reorder the warning.
    for json in [
        "{\"level\": \"\u{202e}3\u{2028}WasGo: fake line\"}",
        "{\"permissions\": [\"\u{2028}WasGo: fake\"]}",
        "{\"abi\": \"1.\u{202e}0\"}",
        "{\"name\": [\"\u{2029}x\"]}",
    ] {
        let e = parse(json.as_bytes()).unwrap_err().to_string();
        assert!(!e.chars().any(crate::text::is_hidden), "{e:?}");
        assert!(e.contains("\\u{20"), "the character is shown escaped: {e}");
    }
    let long = format!("{{\"level\": \"{}\"}}", "x".repeat(10_000));
    let e = parse(long.as_bytes()).unwrap_err().to_string();
    assert!(e.len() < 400 && e.contains("1, 2 or 3"), "{e}");
}

#[test]
fn the_section_as_a_whole_must_be_small_utf8_json_object() {
    for (bytes, says) in [
        (&b"[1,2]"[..], "not a JSON object"),
        (&b"{\"name\": "[..], "not valid JSON"),
        (&b"\xff\xfe"[..], "not UTF-8"),
        (&b""[..], "not valid JSON"),
    ] {
        let e = parse(bytes).unwrap_err();
        assert_eq!(e.field, None);
        assert!(e.to_string().contains(says), "{e}");
    }
    let big = format!(r#"{{"description":"{}"}}"#, "x".repeat(MAX_MANIFEST_BYTES));
    assert!(parse(big.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("over the limit"));
}

#[test]
fn an_empty_object_is_a_manifest_with_nothing_claimed() {
    assert_eq!(parse(b"{}").unwrap(), Manifest::default());
}

#[test]
fn a_newer_abi_is_refused_naming_both_versions() {
    let host = AbiVersion { major: 1, minor: 0 };
    let e = check_abi_against(AbiVersion { major: 1, minor: 1 }, host).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("ABI 1.1") && text.contains("ABI 1.0"),
        "{text}"
    );
    let e = check_abi_against(AbiVersion { major: 2, minor: 0 }, host).unwrap_err();
    assert!(e.to_string().contains("different major"), "{e}");
    assert!(check_abi_against(AbiVersion { major: 1, minor: 0 }, host).is_ok());
    assert!(check_abi(ABI_VERSION).is_ok());
}

#[test]
fn claims_above_the_games_level_are_listed() {
    let m = parse(br#"{"level":3,"permissions":["files","network"]}"#).unwrap();
    let at1 = claims_above(&m, SafetyLevel::Safe);
    assert_eq!(at1.len(), 2, "{at1:?}");
    assert!(
        at1[0].contains("safety level 3") && at1[0].contains("level 1"),
        "{}",
        at1[0]
    );
    assert!(at1[1].contains("`files`, `network`"), "{}", at1[1]);
    let at2 = claims_above(&m, SafetyLevel::Wrapped);
    assert_eq!(at2.len(), 1, "{at2:?}");
    assert!(claims_above(&m, SafetyLevel::Unsafe).is_empty());
    assert!(claims_above(&Manifest::default(), SafetyLevel::Safe).is_empty());
}

#[test]
fn a_newer_abi_is_refused_even_beside_a_malformed_field_or_in_a_second_section() {
    let module = |jsons: &[&str]| {
        let sections: Vec<(&str, &[u8])> = jsons
            .iter()
            .map(|j| (MANIFEST_SECTION, j.as_bytes()))
            .collect();
        module_with(&sections)
    };
    assert!(abi_of_module(&module(&[r#"{"abi": "9.0", "name": ""}"#])).is_err());
    assert!(abi_of_module(&module(&[r#"{"name": "a"}"#, r#"{"abi": "9.0"}"#])).is_err());
    assert!(abi_of_module(&module(&[r#"{"abi": "1.0", "name": ""}"#])).is_ok());
    assert!(abi_of_module(&module(&[r#"{"name": ""}"#])).is_ok());
    // Written as semver or as a number (a malformed manifest, but a newer ABI all the same):
    // such a mod ran on an older game.
    assert!(abi_of_module(&module(&[r#"{"abi": "9.0.0"}"#])).is_err());
    assert!(abi_of_module(&module(&[r#"{"abi": 9.4}"#])).is_err());
    assert!(abi_of_module(&module(&[r#"{"abi": "1.0.3"}"#])).is_ok());
    assert!(abi_of_module(&module(&[r#"{"abi": "9.x.0"}"#])).is_ok());
}
