//! Walking a binary module's sections without parsing them: what the manifest
//! ([`crate::manifest`], a custom section) and the frame driver's memory hints
//! ([`crate::prefetch`], the global and data sections) read from a module's bytes. Only section
//! headers are trusted as far as they are checked: a section whose size runs past the end, or a
//! number that is not a valid LEB128, ends the walk with a [`SectionError`].

use std::fmt;

/// Why a module's bytes could not be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionError(pub String);

impl fmt::Display for SectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The sections of binary module `bytes`, in order, as (id, contents).
///
/// # Errors
/// The first item is an error when the bytes are not a binary module (no `\0asm` header); an
/// item is an error when a section header is cut or a section runs past the end, and nothing
/// follows it.
pub fn sections(bytes: &[u8]) -> Sections<'_> {
    Sections {
        bytes,
        at: 0,
        done: false,
    }
}

/// The iterator of [`sections`].
pub struct Sections<'a> {
    bytes: &'a [u8],
    /// 0 before the header is checked, then the offset of the next section.
    at: usize,
    done: bool,
}

impl<'a> Iterator for Sections<'a> {
    type Item = Result<(u8, &'a [u8]), SectionError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

impl<'a> Sections<'a> {
    fn step(&mut self) -> Option<Result<(u8, &'a [u8]), SectionError>> {
        let bytes = self.bytes;
        if self.at == 0 {
            if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
                return Some(Err(SectionError("not a binary WebAssembly module".into())));
            }
            self.at = 8;
        }
        if self.at >= bytes.len() {
            return None;
        }
        let id = bytes[self.at];
        self.at += 1;
        let size = match section_size(bytes, &mut self.at) {
            Ok(size) => size as usize,
            Err(e) => return Some(Err(e)),
        };
        let Some(end) = self.at.checked_add(size).filter(|&e| e <= bytes.len()) else {
            return Some(Err(SectionError(
                "a section runs past the end of the module".into(),
            )));
        };
        let contents = &bytes[self.at..end];
        self.at = end;
        Some(Ok((id, contents)))
    }
}

/// A section's size at `*at`, with the error saying what is wrong with it.
fn section_size(bytes: &[u8], at: &mut usize) -> Result<u32, SectionError> {
    uleb32(bytes, at).ok_or_else(|| {
        SectionError(
            if *at >= bytes.len() {
                "the module ends inside a section header"
            } else {
                "a section size is not a valid LEB128 number under 4 GiB"
            }
            .into(),
        )
    })
}

/// Appends `value` as an unsigned LEB128 number (what [`uleb32`] reads).
pub fn push_uleb32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// An unsigned LEB128 `u32` at `*at`, moving `*at` past it (`None` when cut, longer than five
/// bytes or over `u32::MAX`).
pub fn uleb32(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut value: u64 = 0;
    for i in 0..5 {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value).ok();
        }
    }
    None
}

/// A signed LEB128 `i32` at `*at`, moving `*at` past it (`None` when cut, longer than five bytes
/// or out of range).
pub fn sleb32(bytes: &[u8], at: &mut usize) -> Option<i32> {
    let mut value: i64 = 0;
    for i in 0..5 {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= i64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let shift = 7 * (i + 1);
            if b & 0x40 != 0 {
                value |= -1i64 << shift;
            }
            return i32::try_from(value).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_come_in_order_with_their_contents() {
        let bytes = wat::parse_str(
            r#"(module (memory 1) (global (mut i32) (i32.const 7)) (@custom "c" "xyz"))"#,
        )
        .unwrap();
        let found: Vec<(u8, Vec<u8>)> = sections(&bytes)
            .map(|s| s.map(|(id, c)| (id, c.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap();
        let ids: Vec<u8> = found.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![5, 6, 0]);
        assert!(found[2].1.ends_with(b"xyz"));
    }

    #[test]
    fn a_bad_walk_is_one_error_and_then_nothing() {
        for bad in [
            &b""[..],
            b"\0asm",
            b"nope\x01\0\0\0",
            b"\0asm\x01\0\0\0\0\x80\x80",
            b"\0asm\x01\0\0\0\0\xff\xff\xff\xff\x0f",
            b"\0asm\x01\0\0\0\0\x05ab",
        ] {
            let items: Vec<_> = sections(bad).collect();
            assert_eq!(items.len(), 1, "{bad:?}");
            assert!(items[0].is_err(), "{bad:?}");
        }
        assert_eq!(sections(b"\0asm\x01\0\0\0").count(), 0);
    }

    #[test]
    fn leb128_numbers_read_as_the_spec_says() {
        let read_u = |b: &[u8]| uleb32(b, &mut 0);
        let read_s = |b: &[u8]| sleb32(b, &mut 0);
        assert_eq!(read_u(&[0x00]), Some(0));
        assert_eq!(read_u(&[0xe5, 0x8e, 0x26]), Some(624_485));
        assert_eq!(read_u(&[0xff, 0xff, 0xff, 0xff, 0x0f]), Some(u32::MAX));
        assert_eq!(read_u(&[0xff, 0xff, 0xff, 0xff, 0x1f]), None);
        assert_eq!(read_u(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), None);
        assert_eq!(read_u(&[0x80]), None);
        assert_eq!(read_s(&[0x7f]), Some(-1));
        assert_eq!(read_s(&[0xc0, 0xbb, 0x78]), Some(-123_456));
        assert_eq!(read_s(&[0x80, 0x80, 0xc0, 0x00]), Some(1_048_576));
        assert_eq!(read_s(&[0xff, 0xff, 0xff, 0xff, 0x07]), Some(i32::MAX));
        assert_eq!(read_s(&[0x80, 0x80, 0x80, 0x80, 0x78]), Some(i32::MIN));
        assert_eq!(read_s(&[0x80, 0x80]), None);
    }
}
