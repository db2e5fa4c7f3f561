//! The mod's manifest: [`manifest!`](crate::manifest!) embeds it as the `wasgo.manifest` custom
//! section, which the game reads without running the mod (`WasmModule.get_manifest()`).

/// Embeds the mod's manifest, a JSON object, as the `wasgo.manifest` custom section, with the
/// field `"abi"` (the ABI these bindings were generated for, [`sys::ABI_VERSION`](crate::sys::ABI_VERSION))
/// added in front. Fields: `id`, `name`, `version`, `authors`, `description`, `homepage`,
/// `level` (the safety level the mod asks for), `permissions` (`"files"`, `"network"`); see
/// docs/abi.md. Use it once, at the top level of the crate:
///
/// ```ignore
/// wasgo_sdk::manifest!(r#"{"id": "mover", "name": "Mover", "version": "1.0.0", "level": 1}"#);
/// ```
#[macro_export]
macro_rules! manifest {
    ($json:expr) => {
        const _: () = {
            const JSON: &str = $json;
            const FIELD: &str = $crate::sys::ABI_MANIFEST_FIELD;
            const LEN: usize = JSON.len() + FIELD.len();
            #[used]
            #[link_section = "wasgo.manifest"]
            static MANIFEST: [u8; LEN] =
                $crate::manifest::with_abi::<LEN>(JSON.as_bytes(), FIELD.as_bytes());
        };
    };
}

const fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `json` (a JSON object) with `field` (`"abi":"1.0",`) inserted after its `{`; when the object
/// is empty the comma becomes a space. `N` is `json.len() + field.len()`. Fails to compile
/// (a const panic) when `json` does not start with `{`.
#[doc(hidden)]
pub const fn with_abi<const N: usize>(json: &[u8], field: &[u8]) -> [u8; N] {
    let mut out = [b' '; N];
    let mut i = 0;
    while i < json.len() && is_blank(json[i]) {
        i += 1;
    }
    assert!(
        i < json.len() && json[i] == b'{',
        "wasgo_sdk::manifest!: the manifest must be a JSON object, `{{...}}`"
    );
    let mut o = 0;
    let mut k = 0;
    while k <= i {
        out[o] = json[k];
        o += 1;
        k += 1;
    }
    let mut j = i + 1;
    while j < json.len() && is_blank(json[j]) {
        j += 1;
    }
    let empty = j < json.len() && json[j] == b'}';
    let take = if empty { field.len() - 1 } else { field.len() };
    k = 0;
    while k < take {
        out[o] = field[k];
        o += 1;
        k += 1;
    }
    if empty {
        o += 1; // the comma's place stays a space
    }
    k = i + 1;
    while k < json.len() {
        out[o] = json[k];
        o += 1;
        k += 1;
    }
    out
}
