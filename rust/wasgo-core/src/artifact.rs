//! The framed format of a precompiled module ("artifact"), authenticated with HMAC-SHA256.
//!
//! A precompiled module is native code: loading one runs whatever machine code it holds, with no
//! validation of the kind WebAssembly gets. So WasGo loads an artifact only when it can prove the
//! artifact came from someone holding a key: the game's key for the artifacts it ships
//! (`WasmEngine.precompile` / `load_precompiled`), a per-install random key for WasGo's own disk
//! cache. This module is the format alone, without wasmtime: framing, HMAC and the checks, so it
//! is tested byte by byte with `cargo test`. [`precompiled`](crate::precompiled) puts wasmtime's
//! serialized modules in it and takes them out.
//!
//! # Layout (all integers little-endian)
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 8 | magic [`MAGIC`] (`WASGOAOT`: never `\0asm`, never WAT text) |
//! | 8 | 4 | format version ([`FORMAT_VERSION`]) |
//! | 12 | 32 | compatibility hash: what the engine that made it was (see `precompiled`) |
//! | 44 | 32 | SHA-256 of the WebAssembly the payload was compiled from |
//! | 76 | 8 | payload length |
//! | 84 | 32 | HMAC-SHA256 under the key of bytes 0..84 followed by the payload |
//! | 116 | n | payload (see `precompiled::seal_module`: the module's manifest sections, then wasmtime's serialized module) |
//!
//! [`open`] checks, in this order: the magic (else [`ArtifactError::NotAnArtifact`]), the
//! version, the length (a truncated or padded frame is refused before anything is hashed), the
//! HMAC in constant time (so nothing of an unauthenticated frame is believed, not even its
//! compatibility hash), then the compatibility hash. Only then is the payload handed out.
//!
//! HMAC is RFC 2104 over `sha2`'s SHA-256 ([`hmac_sha256`], checked against the RFC 4231 test
//! vectors below).

use sha2::{Digest, Sha256};
use std::fmt;

/// The first eight bytes of every artifact.
pub const MAGIC: &[u8; 8] = b"WASGOAOT";
/// The version of this layout. A change of the layout or of what the compatibility hash covers
/// increments it.
/// Version 2: the payload carries the module's manifest sections before the serialized module.
/// Version 3: compiled under the compile-cost checks of `compile_cost` (at most 4 memories,
/// tables of at most an instance's entries) and memory images of sparse data bounded
/// (`memory_guaranteed_dense_image_size`): a disk-cache entry an older build wrote for a module
/// those refuse, gigabytes from a few bytes, is not loaded (the cache is read before the
/// checks run, and wasmtime's own compatibility check does not cover that setting).
pub const FORMAT_VERSION: u32 = 3;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 116;
/// Keys shorter than this are refused (a short key is guessable).
pub const MIN_KEY_LEN: usize = 16;
const MAC_OFFSET: usize = 84;

/// A SHA-256 digest.
pub type Digest32 = [u8; 32];

/// A key artifacts are authenticated with. Its bytes never appear in `Debug` output or messages.
#[derive(Clone, PartialEq, Eq)]
pub struct ArtifactKey(Vec<u8>);

impl fmt::Debug for ArtifactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ArtifactKey({} bytes)", self.0.len())
    }
}

impl ArtifactKey {
    /// A key from raw bytes.
    ///
    /// # Errors
    /// [`ArtifactError::KeyTooShort`] under [`MIN_KEY_LEN`] bytes.
    pub fn new(bytes: &[u8]) -> Result<ArtifactKey, ArtifactError> {
        if bytes.len() < MIN_KEY_LEN {
            return Err(ArtifactError::KeyTooShort { len: bytes.len() });
        }
        Ok(ArtifactKey(bytes.to_vec()))
    }

    /// A key from hexadecimal text (what the project setting `wasgo/runtime/precompile_key`
    /// holds; blanks around it are ignored).
    ///
    /// # Errors
    /// [`ArtifactError::KeyNotHex`] for text that is not an even number of hex digits,
    /// [`ArtifactError::KeyTooShort`] for fewer than [`MIN_KEY_LEN`] bytes.
    pub fn from_hex(text: &str) -> Result<ArtifactKey, ArtifactError> {
        let text = text.trim();
        if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ArtifactError::KeyNotHex);
        }
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("checked hex digits"))
            .collect();
        ArtifactKey::new(&bytes)
    }

    /// A fresh random key of 32 bytes from the operating system's generator.
    ///
    /// # Errors
    /// The generator's failure, as text.
    pub fn random() -> Result<ArtifactKey, String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| format!("no random bytes: {e}"))?;
        Ok(ArtifactKey(bytes.to_vec()))
    }

    /// The key's bytes (to store it; never print them).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Why bytes are not an artifact this engine may load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactError {
    /// The bytes do not start with [`MAGIC`].
    #[error("not a WasGo precompiled artifact (no `WASGOAOT` header); precompile the module with `WasmEngine.precompile`")]
    NotAnArtifact,
    /// Made by another version of the format.
    #[error("the artifact has format version {found}, this WasGo reads version {expected}; precompile the module again with this build")]
    WrongVersion { found: u32, expected: u32 },
    /// Shorter or longer than its header says.
    #[error("the artifact is {len} bytes, its header says {expected}: the file is truncated or damaged; precompile the module again")]
    WrongLength { len: usize, expected: usize },
    /// The HMAC does not match: another key made it, or a byte changed since.
    #[error("the artifact is not authenticated: it was made with another key or altered since (an artifact must come from the game's own export, never from a mod); precompile the module again with the game's key")]
    NotAuthenticated,
    /// Authentic, but made by an engine of another version, target or configuration.
    #[error("the artifact was made for another engine (another WasGo or wasmtime version, platform, execution mode or `wasgo/runtime/debug_info`); precompile the module again with this build")]
    Incompatible,
    /// The key is too short to authenticate anything.
    #[error("the precompile key is {len} bytes, shorter than the minimum of 16; use 32 random bytes (64 hex digits)")]
    KeyTooShort { len: usize },
    /// The key text is not hexadecimal.
    #[error("the precompile key is not hexadecimal text; use 64 hex digits (32 random bytes)")]
    KeyNotHex,
}

/// What an authenticated artifact holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened<'a> {
    /// SHA-256 of the WebAssembly the payload was compiled from.
    pub source_sha256: Digest32,
    /// The serialized module.
    pub payload: &'a [u8],
}

/// Frames `payload` (compiled from WebAssembly with SHA-256 `source_sha256` by an engine whose
/// compatibility hash is `compat`) and authenticates it under `key`.
pub fn seal(
    key: &ArtifactKey,
    compat: &Digest32,
    source_sha256: &Digest32,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(compat);
    out.extend_from_slice(source_sha256);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    let mac = mac_of(key, &out, payload);
    out.extend_from_slice(&mac);
    out.extend_from_slice(payload);
    out
}

/// Whether `bytes` start like an artifact (its magic), whatever else they hold.
pub fn is_artifact(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Whether `head`, the first [`HEADER_LEN`] bytes of a file of `file_len` bytes, is the header
/// of an artifact of this format that long: checked before a file is read whole, so that junk
/// put in its place (hundreds of MB) is refused without reading it.
pub fn header_fits(head: &[u8], file_len: u64) -> bool {
    head.len() >= HEADER_LEN
        && is_artifact(head)
        && u32::from_le_bytes(head[8..12].try_into().expect("4 bytes")) == FORMAT_VERSION
        && u64::from_le_bytes(head[76..84].try_into().expect("8 bytes"))
            .checked_add(HEADER_LEN as u64)
            == Some(file_len)
}

/// Checks `bytes` and returns what they hold (see the module essay for the order of checks).
///
/// # Errors
/// The first check that fails, as an [`ArtifactError`].
pub fn open<'a>(
    key: &ArtifactKey,
    compat: &Digest32,
    bytes: &'a [u8],
) -> Result<Opened<'a>, ArtifactError> {
    if !is_artifact(bytes) {
        return Err(ArtifactError::NotAnArtifact);
    }
    if bytes.len() < 12 {
        return Err(ArtifactError::WrongLength {
            len: bytes.len(),
            expected: HEADER_LEN,
        });
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(ArtifactError::WrongVersion {
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(ArtifactError::WrongLength {
            len: bytes.len(),
            expected: HEADER_LEN,
        });
    }
    let declared = u64::from_le_bytes(bytes[76..84].try_into().expect("8 bytes"));
    let expected = usize::try_from(declared)
        .ok()
        .and_then(|n| n.checked_add(HEADER_LEN))
        .unwrap_or(usize::MAX);
    if bytes.len() != expected {
        return Err(ArtifactError::WrongLength {
            len: bytes.len(),
            expected,
        });
    }
    let payload = &bytes[HEADER_LEN..];
    let mac = mac_of(key, &bytes[..MAC_OFFSET], payload);
    if !constant_time_eq(&mac, &bytes[MAC_OFFSET..HEADER_LEN]) {
        return Err(ArtifactError::NotAuthenticated);
    }
    if !constant_time_eq(compat, &bytes[12..44]) {
        return Err(ArtifactError::Incompatible);
    }
    Ok(Opened {
        source_sha256: bytes[44..76].try_into().expect("32 bytes"),
        payload,
    })
}

fn mac_of(key: &ArtifactKey, header: &[u8], payload: &[u8]) -> Digest32 {
    hmac_sha256(&key.0, &[header, payload])
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Digest32 {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Compares without an early exit, so the time taken says nothing about where the first
/// difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 4231, test cases 1, 2, 3, 4, 6 and 7 (case 5 is a truncated MAC).
    #[test]
    fn hmac_sha256_matches_the_rfc_4231_vectors() {
        let cases: [(Vec<u8>, Vec<u8>, &str); 6] = [
            (vec![0x0b; 20], b"Hi There".to_vec(), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (b"Jefe".to_vec(), b"what do ya want for nothing?".to_vec(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (vec![0xaa; 20], vec![0xdd; 50], "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), vec![0xcd; 50], "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            (vec![0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (vec![0xaa; 131], b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hmac_sha256(&key, &[&data]).to_vec(), unhex(expected));
            // Split input gives the same MAC as one part.
            let (a, b) = data.split_at(data.len() / 2);
            assert_eq!(hmac_sha256(&key, &[a, b]).to_vec(), unhex(expected));
        }
    }

    fn key(byte: u8) -> ArtifactKey {
        ArtifactKey::new(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_header_fits_only_a_file_of_the_length_it_declares() {
        let sealed = seal(&key(1), &[2; 32], &[3; 32], b"payload");
        let len = sealed.len() as u64;
        assert!(header_fits(&sealed[..HEADER_LEN], len));
        assert!(!header_fits(&sealed[..HEADER_LEN], len + 1));
        assert!(!header_fits(&sealed[..HEADER_LEN], 500 << 20));
        assert!(!header_fits(&sealed[..HEADER_LEN - 1], len));
        let mut junk = sealed.clone();
        junk[0] ^= 1;
        assert!(!header_fits(&junk[..HEADER_LEN], len));
    }

    const COMPAT: Digest32 = [7; 32];
    const SOURCE: Digest32 = [9; 32];

    #[test]
    fn a_sealed_artifact_opens_with_its_key_and_gives_back_the_payload() {
        let sealed = seal(&key(1), &COMPAT, &SOURCE, b"native code");
        assert_eq!(sealed.len(), HEADER_LEN + 11);
        let opened = open(&key(1), &COMPAT, &sealed).unwrap();
        assert_eq!(opened.payload, b"native code");
        assert_eq!(opened.source_sha256, SOURCE);
        let empty = seal(&key(1), &COMPAT, &SOURCE, b"");
        assert_eq!(open(&key(1), &COMPAT, &empty).unwrap().payload, b"");
    }

    #[test]
    fn a_change_of_any_byte_is_refused() {
        let sealed = seal(&key(1), &COMPAT, &SOURCE, b"some native code");
        for i in 0..sealed.len() {
            for flip in [0x01u8, 0x80] {
                let mut bad = sealed.clone();
                bad[i] ^= flip;
                let err = open(&key(1), &COMPAT, &bad).unwrap_err();
                let expected_kind = match i {
                    0..8 => matches!(err, ArtifactError::NotAnArtifact),
                    8..12 => matches!(err, ArtifactError::WrongVersion { .. }),
                    76..84 => matches!(err, ArtifactError::WrongLength { .. }),
                    _ => err == ArtifactError::NotAuthenticated,
                };
                assert!(expected_kind, "byte {i} flipped with {flip:#x}: {err:?}");
            }
        }
    }

    #[test]
    fn another_key_is_refused_as_not_authenticated() {
        let sealed = seal(&key(1), &COMPAT, &SOURCE, b"code");
        assert_eq!(
            open(&key(2), &COMPAT, &sealed),
            Err(ArtifactError::NotAuthenticated)
        );
        // A key that is a prefix of the right one is another key.
        let long = ArtifactKey::new(&[1; 33]).unwrap();
        assert_eq!(
            open(&long, &COMPAT, &sealed),
            Err(ArtifactError::NotAuthenticated)
        );
    }

    #[test]
    fn an_authentic_artifact_of_another_engine_is_refused_as_incompatible() {
        let sealed = seal(&key(1), &COMPAT, &SOURCE, b"code");
        assert_eq!(
            open(&key(1), &[8; 32], &sealed),
            Err(ArtifactError::Incompatible)
        );
    }

    #[test]
    fn a_truncated_or_padded_artifact_is_refused_before_its_mac_is_checked() {
        let sealed = seal(&key(1), &COMPAT, &SOURCE, b"some native code");
        for len in 0..sealed.len() {
            let err = open(&key(1), &COMPAT, &sealed[..len]).unwrap_err();
            let ok = match len {
                0..8 => err == ArtifactError::NotAnArtifact,
                _ => matches!(err, ArtifactError::WrongLength { .. }),
            };
            assert!(ok, "cut at {len}: {err:?}");
        }
        let mut padded = sealed.clone();
        padded.push(0);
        assert!(matches!(
            open(&key(1), &COMPAT, &padded),
            Err(ArtifactError::WrongLength { .. })
        ));
        // A header claiming an enormous payload does not overflow.
        let mut huge = sealed.clone();
        huge[76..84].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            open(&key(1), &COMPAT, &huge),
            Err(ArtifactError::WrongLength { .. })
        ));
    }

    #[test]
    fn another_format_version_is_named_in_the_refusal() {
        let mut sealed = seal(&key(1), &COMPAT, &SOURCE, b"code");
        sealed[8..12].copy_from_slice(&1u32.to_le_bytes());
        let err = open(&key(1), &COMPAT, &sealed).unwrap_err();
        assert_eq!(
            err,
            ArtifactError::WrongVersion {
                found: 1,
                expected: FORMAT_VERSION
            }
        );
        assert!(err.to_string().contains("version 1"), "{err}");
    }

    #[test]
    fn webassembly_and_wat_are_not_artifacts_and_artifacts_are_not_webassembly() {
        let wasm = b"\0asm\x01\0\0\0";
        assert!(!is_artifact(wasm));
        assert_eq!(
            open(&key(1), &COMPAT, wasm),
            Err(ArtifactError::NotAnArtifact)
        );
        assert_eq!(
            open(&key(1), &COMPAT, b"(module)"),
            Err(ArtifactError::NotAnArtifact)
        );
        let sealed = seal(&key(1), &COMPAT, &SOURCE, b"code");
        assert!(is_artifact(&sealed));
        assert!(!sealed.starts_with(b"\0asm") && sealed[0] != b'(');
    }

    #[test]
    fn keys_are_checked_and_never_shown() {
        assert_eq!(
            ArtifactKey::new(&[0; 15]),
            Err(ArtifactError::KeyTooShort { len: 15 })
        );
        assert_eq!(ArtifactKey::from_hex("zz"), Err(ArtifactError::KeyNotHex));
        assert_eq!(ArtifactKey::from_hex("abc"), Err(ArtifactError::KeyNotHex));
        let hex = "00112233445566778899aabbccddeeff";
        let k = ArtifactKey::from_hex(&format!(" {hex}\n")).unwrap();
        assert_eq!(k.bytes(), unhex(hex));
        assert_eq!(format!("{k:?}"), "ArtifactKey(16 bytes)");
        let a = ArtifactKey::random().unwrap();
        let b = ArtifactKey::random().unwrap();
        assert_eq!(a.bytes().len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn constant_time_eq_compares_whole_slices() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
