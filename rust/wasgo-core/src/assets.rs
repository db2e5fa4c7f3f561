//! What a mod's asset bytes are, decided before Godot sees them: the format from the bytes' own
//! signature (never from a name the mod gives), the image's declared size, and a structural
//! check of fonts. The game's decoders (Godot's PNG, JPEG, WebP, SVG, Ogg Vorbis, WAV, MP3 and
//! FreeType loaders) then only ever get data of a format they expect, at most
//! [`AssetLimits::max_bytes`] long and, for images, at most [`AssetLimits::max_side_px`] wide
//! and tall — so a few hundred bytes that declare a 60000 × 60000 image (a decompression bomb)
//! are refused here, before anything is allocated for them. An SVG must also stay within
//! [`AssetLimits::max_svg_px`] of estimated drawing ([`crate::svg_cost`]): its size says nothing
//! about how long ThorVG will draw it.
//!
//! Godot-free: the glue (`rust/wasgo/src/assets.rs`) reads the limits from the project
//! settings (defaults in [`crate::Limits`]) and does the decoding.

use crate::objects::AssetKind;
use crate::svg_cost::{self, SvgRefusal};
use crate::{font_cff, font_strip};
use std::fmt;

/// The caps on one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetLimits {
    /// The largest encoded asset, in bytes (`wasgo/limits/asset_kb`).
    pub max_bytes: usize,
    /// The widest and tallest image, in pixels (`wasgo/limits/texture_max_px`).
    pub max_side_px: u32,
    /// The most drawing one SVG may ask for, in pixels painted as [`crate::svg_cost`] estimates
    /// it (`wasgo/limits/svg_draw_mpx` x 2^20).
    pub max_svg_px: u64,
}

/// An asset format WasGo decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetFormat {
    Png,
    Jpeg,
    WebP,
    Svg,
    OggVorbis,
    Wav,
    Mp3,
    /// A TrueType or OpenType font (TrueType or CFF outlines), in one font file.
    Font,
}

/// What the sniffing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetInfo {
    pub format: AssetFormat,
    /// Width and height an image declares (`None` for sounds and fonts).
    pub size: Option<(u32, u32)>,
    /// The bytes to hand the decoder instead of the mod's: for an SVG, the document written
    /// again by [`svg_cost::prepare`] (so that ThorVG draws what was estimated); for a font, the
    /// font without TrueType instructions ([`font_strip`]: FreeType would run them on the main
    /// thread). `None` for the other formats, which are decoded from the mod's bytes.
    pub rewritten: Option<Vec<u8>>,
}

/// Why a mod's bytes are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetError {
    /// No bytes at all.
    Empty,
    /// More bytes than [`AssetLimits::max_bytes`].
    TooLarge { len: usize, max: usize },
    /// Not one of the formats of this kind.
    UnknownFormat,
    /// An image larger than [`AssetLimits::max_side_px`] on a side.
    TooWide { width: u32, height: u32, max: u32 },
    /// The format's signature is there but its structure is broken (what is wrong).
    Corrupt(String),
    /// An SVG with a feature WasGo does not accept (which one).
    SvgFeature(String),
    /// A font with `CFF2` (variable PostScript) outlines, whose charstrings WasGo does not
    /// read, so it cannot bound what FreeType runs to draw them (see [`font_cff`]).
    CffOutlines,
    /// A font whose composite glyphs multiply past what FreeType may be asked to draw (which
    /// glyph; see [`font_strip`]).
    FontTooComplex(String),
    /// An SVG that would take more drawing than [`AssetLimits::max_svg_px`] (what dominated).
    SvgTooCostly { what: String, max_px: u64 },
}

impl AssetError {
    /// The message for `wasgo.last_error`, naming the function and saying what to do.
    pub fn message(&self, kind: AssetKind) -> String {
        let f = kind.function();
        match self {
            AssetError::Empty => format!("`{f}` was given no bytes; pass the file's contents"),
            AssetError::TooLarge { len, max } => format!(
                "`{f}`: the data is {} KiB, over the game's limit of {} KiB (`wasgo/limits/asset_kb`); make the asset smaller",
                len.div_ceil(1024),
                max / 1024
            ),
            AssetError::UnknownFormat => format!(
                "`{f}`: the data is not {}; pass the file's bytes unchanged",
                expected(kind)
            ),
            AssetError::TooWide { width, height, max } => format!(
                "`{f}`: the image is {width} x {height} pixels, over the game's limit of {max} on a side (`wasgo/limits/texture_max_px`); scale it down"
            ),
            AssetError::Corrupt(why) => format!(
                "`{f}`: the data looks like {} but is corrupt ({why}); pass an intact file",
                expected(kind)
            ),
            AssetError::CffOutlines => format!(
                "`{f}`: the font has CFF2 (variable PostScript) outlines, which WasGo does not take (it cannot bound the work FreeType does to draw them); use a static OTF or TTF version of the font"
            ),
            AssetError::FontTooComplex(what) => format!(
                "`{f}`: the font is too complex to draw ({what}); drawing it would hold the game's main thread; pass a simpler font"
            ),
            AssetError::SvgFeature(what) => format!(
                "`{f}`: the SVG contains {what}, which WasGo does not accept; remove it (a picture goes to `{f}` on its own)"
            ),
            AssetError::SvgTooCostly { what, max_px } => format!(
                "`{f}`: drawing the SVG would take more than the game's limit of {} million pixels painted (`wasgo/limits/svg_draw_mpx`), reached at {what}; simplify it, give it a smaller size, or pass a PNG",
                max_px >> 20
            ),
        }
    }
}

impl fmt::Display for AssetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(AssetKind::Texture))
    }
}

fn expected(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Texture => "a PNG, JPEG, WebP or SVG image",
        AssetKind::Audio => "an Ogg Vorbis, WAV or MP3 sound",
        AssetKind::Font => "a TrueType or OpenType font (TTF/OTF)",
    }
}

/// Decides what `bytes` are, for an asset of `kind`, within `limits`.
///
/// # Errors
/// See [`AssetError`].
pub fn sniff(kind: AssetKind, bytes: &[u8], limits: AssetLimits) -> Result<AssetInfo, AssetError> {
    if bytes.is_empty() {
        return Err(AssetError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(AssetError::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let info = match kind {
        AssetKind::Texture => match svg_text(bytes) {
            Some(text) => return svg(text, limits),
            None => image(bytes)?,
        },
        AssetKind::Audio => AssetInfo {
            format: audio(bytes)?,
            size: None,
            rewritten: None,
        },
        AssetKind::Font => {
            font(bytes)?;
            let judged = |e| match e {
                font_strip::FontError::Broken(why) => corrupt(&why),
                font_strip::FontError::TooComplex(why) => AssetError::FontTooComplex(why),
            };
            if let Some(cff) = font_table(bytes, b"CFF ") {
                font_cff::check(cff).map_err(judged)?;
            }
            let stripped = font_strip::strip_instructions(bytes).map_err(judged)?;
            AssetInfo {
                format: AssetFormat::Font,
                size: None,
                rewritten: Some(stripped),
            }
        }
    };
    if let Some((width, height)) = info.size {
        check_size(width, height, limits)?;
    }
    Ok(info)
}

/// Refuses an image size of zero or over [`AssetLimits::max_side_px`] on a side.
fn check_size(width: u32, height: u32, limits: AssetLimits) -> Result<(), AssetError> {
    if width == 0 || height == 0 {
        return Err(AssetError::Corrupt(format!(
            "it declares a size of {width} x {height}"
        )));
    }
    if width > limits.max_side_px || height > limits.max_side_px {
        return Err(AssetError::TooWide {
            width,
            height,
            max: limits.max_side_px,
        });
    }
    Ok(())
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}
fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16)
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn corrupt(why: &str) -> AssetError {
    AssetError::Corrupt(why.to_string())
}

fn image(b: &[u8]) -> Result<AssetInfo, AssetError> {
    let sized = |format, w: Option<u32>, h: Option<u32>, why: &str| match (w, h) {
        (Some(w), Some(h)) => Ok(AssetInfo {
            format,
            size: Some((w, h)),
            rewritten: None,
        }),
        _ => Err(corrupt(why)),
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        if b.get(12..16) != Some(b"IHDR") {
            return Err(corrupt("its first chunk is not `IHDR`"));
        }
        return sized(
            AssetFormat::Png,
            be32(b, 16),
            be32(b, 20),
            "its header is cut short",
        );
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let (w, h) = jpeg_size(b).ok_or_else(|| corrupt("it has no frame header"))?;
        let scans = jpeg_scans(b);
        if scans > MAX_JPEG_SCANS {
            return Err(corrupt(&format!(
                "it has {scans} scans; WasGo takes at most {MAX_JPEG_SCANS} (progressive encoders write about 10)"
            )));
        }
        return sized(AssetFormat::Jpeg, Some(w), Some(h), "");
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        let (w, h) = webp_size(b)
            .ok_or_else(|| corrupt("its first chunk is not a VP8, VP8L or VP8X header"))?;
        return sized(AssetFormat::WebP, Some(w), Some(h), "");
    }
    Err(AssetError::UnknownFormat)
}

/// The text of `b` when it starts like an SVG document (UTF-8, an XML declaration, a comment or
/// `<svg` first).
fn svg_text(b: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(b).ok()?;
    let head = text.trim_start_matches('\u{feff}').trim_start();
    (head.starts_with("<?xml") || head.starts_with("<svg") || head.starts_with("<!--"))
        .then_some(text)
}

/// An SVG: read strictly, its size taken from its root, within the size limits, and its drawing
/// within [`AssetLimits::max_svg_px`]; the document to draw goes with it.
fn svg(text: &str, limits: AssetLimits) -> Result<AssetInfo, AssetError> {
    let refused = |e: SvgRefusal| match e {
        SvgRefusal::Feature(what) => AssetError::SvgFeature(what),
        SvgRefusal::Malformed(why) => AssetError::Corrupt(why),
        SvgRefusal::TooCostly(what) => AssetError::SvgTooCostly {
            what,
            max_px: limits.max_svg_px,
        },
    };
    let svg = svg_cost::read(text).map_err(refused)?;
    let (width, height) = svg_size(&svg)?;
    check_size(width, height, limits)?;
    let prepared = svg
        .prepare((width, height), limits.max_svg_px)
        .map_err(refused)?;
    Ok(AssetInfo {
        format: AssetFormat::Svg,
        size: Some((width, height)),
        rewritten: Some(prepared.document.into_bytes()),
    })
}

/// The size in the first SOF segment of a JPEG.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD9).contains(&marker) {
            i += 2; // no length
            continue;
        }
        let len = be16(b, i + 2)? as usize;
        if len < 2 {
            return None;
        }
        let is_sof = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            return Some((be16(b, i + 7)?, be16(b, i + 5)?));
        }
        i += 2 + len;
    }
    None
}

/// The most scans a JPEG may have: the decoder redoes its work over the whole image for each
/// (a 733 KB progressive JPEG of one AC scan repeated held the main thread 24 s).
pub const MAX_JPEG_SCANS: usize = 100;

/// How many scans (SOS segments) a JPEG has: its markers walked, entropy-coded data skipped.
fn jpeg_scans(b: &[u8]) -> usize {
    let mut i = 2;
    let mut scans = 0;
    while i + 1 < b.len() {
        if b[i] != 0xFF {
            i += 1; // entropy-coded data
            continue;
        }
        match b[i + 1] {
            // A stuffed 0xFF in entropy-coded data, a fill byte, a restart or standalone marker.
            0x00 | 0xFF => i += 1,
            0x01 | 0xD0..=0xD8 => i += 2,
            0xD9 => break,
            marker => {
                let Some(len) = be16(b, i + 2).map(|l| l as usize).filter(|l| *l >= 2) else {
                    break;
                };
                if marker == 0xDA {
                    scans += 1;
                }
                i += 2 + len;
            }
        }
    }
    scans
}

/// The canvas size of a WebP (lossy, lossless or extended).
fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8 " => {
            if b.get(23..26)? != [0x9D, 0x01, 0x2A] {
                return None;
            }
            Some((le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF))
        }
        b"VP8L" => {
            if *b.get(20)? != 0x2F {
                return None;
            }
            let bits = le32(b, 21)?;
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        _ => None,
    }
}

/// The size an SVG renders at: its root's `width`/`height`, else its `viewBox`.
fn svg_size(svg: &svg_cost::Svg<'_>) -> Result<(u32, u32), AssetError> {
    let length = |name: &str| -> Result<Option<f64>, AssetError> {
        let Some(value) = svg.root_attribute(name) else {
            return Ok(None);
        };
        let number = value.trim().trim_end_matches("px");
        number.parse::<f64>().map(Some).map_err(|_| {
            corrupt(&format!(
                "its `{name}` is `{value}`; WasGo accepts plain pixel sizes"
            ))
        })
    };
    let (w, h) = match (length("width")?, length("height")?) {
        (Some(w), Some(h)) => (w, h),
        _ => {
            let view = svg.root_attribute("viewBox").ok_or_else(|| {
                corrupt("it declares neither `width` and `height` nor a `viewBox`")
            })?;
            let parts: Vec<f64> = view
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .collect();
            match parts[..] {
                [_, _, w, h] => (w, h),
                _ => return Err(corrupt(&format!("its `viewBox` is `{view}`"))),
            }
        }
    };
    if !(w.is_finite() && h.is_finite()) || w < 0.0 || h < 0.0 {
        return Err(corrupt("it declares a size that is not a positive number"));
    }
    Ok((
        w.ceil().min(u32::MAX as f64) as u32,
        h.ceil().min(u32::MAX as f64) as u32,
    ))
}

fn audio(b: &[u8]) -> Result<AssetFormat, AssetError> {
    if b.starts_with(b"OggS") {
        // The first page carries the codec's identification header.
        let first_page = &b[..b.len().min(512)];
        if let Some(at) = first_page.windows(7).position(|w| w == b"\x01vorbis") {
            vorbis_format(b, at + 7)?;
            crate::ogg_vorbis::check_setup_header(b).map_err(|why| corrupt(&why))?;
            return Ok(AssetFormat::OggVorbis);
        }
        return Err(corrupt("it is an Ogg file whose first stream is not Vorbis (Opus and others are not supported)"));
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WAVE") {
        // The chunks are walked as Godot walks them: a `fmt ` inside another chunk is not the
        // format (a decoy in a `JUNK` chunk hid a rate of 2^31 Hz).
        let format = wav_chunks(b)
            .find(|(tag, _, _)| *tag == b"fmt ")
            .map(|(_, body, _)| body)
            .ok_or_else(|| corrupt("it has no `fmt ` chunk"))?;
        wav_format(b, format)?;
        wav_data_fits(b)?;
        wav_loop_fits(b, format)?;
        return Ok(AssetFormat::Wav);
    }
    if b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0) {
        crate::mp3::check_frames(b).map_err(|why| corrupt(&why))?;
        return Ok(AssetFormat::Mp3);
    }
    Err(AssetError::UnknownFormat)
}

/// Checks an audio stream's channels (1 to 8) and sample rate (1 Hz to 384 kHz).
fn channels_and_rate(channels: u32, rate: u32) -> Result<(), AssetError> {
    if !(1..=8).contains(&channels) {
        return Err(corrupt(&format!(
            "it declares {channels} channels (1 to 8)"
        )));
    }
    if !(1..=384_000).contains(&rate) {
        return Err(corrupt(&format!(
            "it declares a sample rate of {rate} Hz (1 to 384000)"
        )));
    }
    Ok(())
}

/// Checks a Vorbis identification header (whose fields start at `at`, after `\x01vorbis`):
/// version 0, 1 to 8 channels, a sample rate of 1 Hz to 384 kHz (Godot uses the rate it reads
/// for the stream's playback, and decodes every channel).
fn vorbis_format(b: &[u8], at: usize) -> Result<(), AssetError> {
    let short = || corrupt("its Vorbis header is cut short");
    let version = le32(b, at).ok_or_else(short)?;
    let channels = *b.get(at + 4).ok_or_else(short)?;
    let rate = le32(b, at + 5).ok_or_else(short)?;
    if version != 0 {
        return Err(corrupt(&format!("its Vorbis version is {version}, not 0")));
    }
    channels_and_rate(channels.into(), rate)?;
    Ok(())
}

/// The chunks of a RIFF WAVE file in `b`, walked as Godot walks them: each chunk's tag, where
/// its body starts and its declared length (`None` when the file ends inside the length field;
/// the walk stops after that chunk). Chunks are padded to an even length.
fn wav_chunks(b: &[u8]) -> impl Iterator<Item = (&[u8], usize, Option<usize>)> + '_ {
    let mut at = Some(12usize);
    std::iter::from_fn(move || {
        let here = at?;
        let tag = b.get(here..here + 4)?;
        let len = le32(b, here + 4).map(|len| len as usize);
        at = len.map(|len| {
            here.saturating_add(8)
                .saturating_add(len)
                .saturating_add(len & 1)
        });
        Some((tag, here + 8, len))
    })
}

/// Refuses a WAV whose `data` chunk declares more bytes than the file holds after it: a decoder
/// that sizes its buffer from the declared length would ask for gigabytes for a 44-byte file.
fn wav_data_fits(b: &[u8]) -> Result<(), AssetError> {
    for (tag, body, len) in wav_chunks(b) {
        let Some(len) = len else {
            return Ok(());
        };
        if tag == b"data" {
            let left = b.len().saturating_sub(body);
            if len > left {
                return Err(corrupt(&format!(
                    "its `data` chunk declares {len} bytes but only {left} follow"
                )));
            }
            return Ok(());
        }
    }
    Ok(())
}

/// Refuses a WAV whose `smpl` chunk declares a loop Godot's mixer cannot play safely: Godot
/// takes the first loop's type, start and end as they are (at bytes 40, 44 and 48 of the
/// chunk's body, whatever the chunk's length and loop count say) and plays up to the end, so an
/// end past the samples read far beyond the sound's buffer on the audio thread, and an empty
/// loop never advanced. A loop must have `0 <= start < end <= frames`. `fmt` is where the
/// checked `fmt ` chunk's body starts.
fn wav_loop_fits(b: &[u8], fmt: usize) -> Result<(), AssetError> {
    let (Some(channels), Some(bits)) = (le16(b, fmt + 2), le16(b, fmt + 14)) else {
        return Ok(());
    };
    let frame_bytes = (channels as usize * (bits as usize / 8)).max(1);
    let mut frames: Option<usize> = None;
    let mut loops = Vec::new();
    for (tag, body, len) in wav_chunks(b) {
        let Some(len) = len else {
            break;
        };
        match tag {
            // Godot plays the first `data` chunk and passes over any later one.
            b"data" if frames.is_none() => frames = Some(len / frame_bytes),
            // Godot reads past a short chunk (into what follows, or zeros past the end).
            b"smpl" => {
                let word = |o: usize| le32(b, body + o).unwrap_or(0);
                if matches!(word(40), 0..=2) {
                    loops.push((word(44), word(48)));
                }
            }
            _ => {}
        }
    }
    let frames = frames.unwrap_or(0);
    for (start, end) in loops {
        if start >= end || end as usize > frames {
            return Err(corrupt(&format!(
                "its `smpl` chunk declares a loop from sample {start} to {end}, but it holds {frames} samples (a loop needs start < end <= the samples)"
            )));
        }
    }
    Ok(())
}

/// Checks a WAV's `fmt ` chunk (whose body starts at `at`): PCM or IEEE float, 1 to 8 channels,
/// a sample rate of 1 Hz to 384 kHz and 8, 16, 24 or 32 bits (Godot took a rate of 0, 64 bits
/// and a rate of 2^31 without complaint, then played nonsense).
fn wav_format(b: &[u8], at: usize) -> Result<(), AssetError> {
    let short = || corrupt("its `fmt ` chunk is cut short");
    let format = le16(b, at).ok_or_else(short)?;
    let channels = le16(b, at + 2).ok_or_else(short)?;
    let rate = le32(b, at + 4).ok_or_else(short)?;
    let bits = le16(b, at + 14).ok_or_else(short)?;
    if !matches!(format, 1 | 3) {
        return Err(corrupt(&format!(
            "its sample format is {format}; WasGo takes PCM (1) or IEEE float (3)"
        )));
    }
    channels_and_rate(channels, rate)?;
    if !matches!(bits, 8 | 16 | 24 | 32) {
        return Err(corrupt(&format!(
            "it declares {bits} bits per sample (8, 16, 24 or 32)"
        )));
    }
    Ok(())
}

/// The bytes of table `tag` of a font whose directory [`font`] checked.
fn font_table<'a>(b: &'a [u8], tag: &[u8; 4]) -> Option<&'a [u8]> {
    let tables = be16(b, 4)? as usize;
    (0..tables).find_map(|t| {
        let at = 12 + t * 16;
        (b.get(at..at + 4)? == tag).then_some(())?;
        let offset = be32(b, at + 8)? as usize;
        let length = be32(b, at + 12)? as usize;
        b.get(offset..offset + length)
    })
}

/// Checks a TrueType/OpenType table directory: every table inside the file, the tables every
/// font needs present, and outlines (`glyf` + `loca`, or `CFF `; a `CFF2` table is refused,
/// beside other outlines too, see [`AssetError::CffOutlines`]).
fn font(b: &[u8]) -> Result<(), AssetError> {
    let version = b.get(0..4).ok_or(AssetError::UnknownFormat)?;
    if !matches!(version, [0, 1, 0, 0] | b"OTTO" | b"true") {
        return Err(AssetError::UnknownFormat);
    }
    let tables = be16(b, 4).ok_or_else(|| corrupt("its header is cut short"))? as usize;
    if tables == 0 || tables > 512 {
        return Err(corrupt(&format!("it claims {tables} tables")));
    }
    let mut tags = Vec::with_capacity(tables);
    for t in 0..tables {
        let at = 12 + t * 16;
        let tag = b
            .get(at..at + 4)
            .ok_or_else(|| corrupt("its table directory is cut short"))?;
        let offset = be32(b, at + 8).ok_or_else(|| corrupt("its table directory is cut short"))?;
        let length = be32(b, at + 12).ok_or_else(|| corrupt("its table directory is cut short"))?;
        if offset as u64 + length as u64 > b.len() as u64 {
            return Err(corrupt(&format!(
                "its `{}` table reaches past the end of the file",
                String::from_utf8_lossy(tag)
            )));
        }
        tags.push(tag);
    }
    let has = |t: &[u8]| tags.contains(&t);
    for needed in [&b"cmap"[..], b"head", b"hhea", b"hmtx", b"maxp"] {
        if !has(needed) {
            return Err(corrupt(&format!(
                "it has no `{}` table",
                String::from_utf8_lossy(needed)
            )));
        }
    }
    // FreeType draws a `CFF2` table before any other outlines it finds beside it.
    if has(b"CFF2") {
        return Err(AssetError::CffOutlines);
    }
    if !((has(b"glyf") && has(b"loca")) || has(b"CFF ")) {
        return Err(corrupt("it has no glyph outlines (`glyf` or `CFF `)"));
    }
    Ok(())
}

/// Why a resource file's bytes show that loading it could load a script, if they do (the
/// check `wasgo.load_resource` makes of a `.tres`, `.res`, `.tscn` or `.scn` and of each file
/// it depends on, before anything is loaded): a text resource with a section or property
/// naming a script; a binary one holding the word `Script` anywhere (a built-in `GDScript` or
/// `CSharpScript` sub-resource; a resource merely named so is refused too, on the safe side);
/// a compressed binary one, which cannot be looked into.
pub fn resource_names_script(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"RSCC") {
        return Some("is a compressed resource, which WasGo cannot look into for scripts");
    }
    if bytes.starts_with(b"RSRC") {
        return bytes
            .windows(6)
            .any(|w| w == b"Script")
            .then_some("names a script");
    }
    let text = String::from_utf8_lossy(bytes);
    let names_script = text.lines().any(|line| {
        let line = line.trim_start();
        (line.starts_with('[') && line.to_ascii_lowercase().contains("script"))
            || line.starts_with("script =")
            || line.starts_with("script/")
    });
    names_script.then_some("names a script")
}

/// The file an exported game's `<path>.remap` sends a resource to (Godot converts text
/// resources to binary on export and leaves `path="res://.godot/exported/..."` in the remap).
pub fn remap_target(remap: &str) -> Option<String> {
    remap.lines().find_map(|line| {
        let value = line.trim().strip_prefix("path=")?.trim();
        let value = value.strip_prefix('"')?.strip_suffix('"')?;
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// Whether a dependency at `path` is a resource file that may itself name scripts (and is
/// looked into: text and binary resources and scenes).
pub fn is_resource_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".tres", ".res", ".tscn", ".scn"]
        .iter()
        .any(|e| lower.ends_with(e))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_resource_naming_a_script_in_text_or_binary_or_compressed_is_found() {
        use super::resource_names_script as names;
        assert_eq!(names(b"[gd_resource type=\"StandardMaterial3D\" format=3]\n\n[resource]\nalbedo_color = Color(1, 0, 0, 1)\n"), None);
        assert!(names(
            b"[gd_scene format=3]\n[ext_resource type=\"Script\" path=\"res://s.gd\" id=\"1\"]\n"
        )
        .is_some());
        assert!(names(
            b"[gd_scene format=3]\n[node name=\"N\" type=\"Node\"]\nscript = ExtResource(\"1\")\n"
        )
        .is_some());
        assert!(
            names(b"[gd_resource format=3]\n[sub_resource type=\"GDScript\" id=\"1\"]\n").is_some()
        );
        assert!(names(b"RSRC\0\0\0\0...GDScript...").is_some());
        assert_eq!(names(b"RSRC\0\0\0\0...StandardMaterial3D..."), None);
        assert!(names(b"RSCC\x01\x02").is_some());
    }

    #[test]
    fn a_remap_names_its_exported_file_and_scenes_are_resource_files() {
        let remap = "[remap]\n\npath=\"res://.godot/exported/133200997/export-1.res\"\n";
        assert_eq!(
            super::remap_target(remap).as_deref(),
            Some("res://.godot/exported/133200997/export-1.res")
        );
        assert_eq!(super::remap_target("[remap]\n"), None);
        assert!(super::is_resource_file("res://a/b.TSCN") && super::is_resource_file("x.res"));
        assert!(!super::is_resource_file("res://icon.png"));
    }

    use super::*;

    const LIMITS: AssetLimits = AssetLimits {
        max_bytes: 1 << 20,
        max_side_px: 4096,
        max_svg_px: 512 << 20,
    };

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0]);
        b
    }

    #[test]
    fn images_are_recognised_by_their_signature_with_their_size() {
        let info = sniff(AssetKind::Texture, &png(16, 8), LIMITS).unwrap();
        assert_eq!((info.format, info.size), (AssetFormat::Png, Some((16, 8))));
        // JPEG: SOI, an APP0 segment, then SOF0 with height 20, width 30.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 20, 0, 30, 3,
        ];
        let info = sniff(AssetKind::Texture, &jpeg, LIMITS).unwrap();
        assert_eq!(
            (info.format, info.size),
            (AssetFormat::Jpeg, Some((30, 20)))
        );
        let mut webp = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        webp.extend_from_slice(&((9u32) | (4u32 << 14)).to_le_bytes());
        let info = sniff(AssetKind::Texture, &webp, LIMITS).unwrap();
        assert_eq!((info.format, info.size), (AssetFormat::WebP, Some((10, 5))));
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="32px"></svg>"#;
        let info = sniff(AssetKind::Texture, svg, LIMITS).unwrap();
        assert_eq!((info.format, info.size), (AssetFormat::Svg, Some((64, 32))));
        let svg = br#"<svg viewBox="0 0 100 50"/>"#;
        assert_eq!(
            sniff(AssetKind::Texture, svg, LIMITS).unwrap().size,
            Some((100, 50))
        );
    }

    #[test]
    fn a_jpeg_with_more_scans_than_a_decoder_needs_is_refused() {
        // SOI, SOF2 (progressive, 1 component, 64 x 64), then `n` SOS segments each followed by
        // entropy-coded bytes (with a stuffed 0xFF and a restart marker), then EOI.
        let jpeg = |n: usize| {
            let mut b = vec![
                0xFF, 0xD8, 0xFF, 0xC2, 0, 11, 8, 0, 64, 0, 64, 1, 1, 0x11, 0,
            ];
            for _ in 0..n {
                b.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 1, 63, 0]);
                b.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
            }
            b.extend_from_slice(&[0xFF, 0xD9]);
            b
        };
        assert_eq!(jpeg_scans(&jpeg(7)), 7);
        assert!(sniff(AssetKind::Texture, &jpeg(MAX_JPEG_SCANS), LIMITS).is_ok());
        match sniff(AssetKind::Texture, &jpeg(MAX_JPEG_SCANS + 1), LIMITS) {
            Err(AssetError::Corrupt(m)) => assert!(m.contains("101 scans"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn declared_bombs_and_oversized_data_are_refused_before_decoding() {
        assert_eq!(
            sniff(AssetKind::Texture, &png(60000, 60000), LIMITS),
            Err(AssetError::TooWide {
                width: 60000,
                height: 60000,
                max: 4096
            })
        );
        let svg = br#"<svg width="100000" height="10"/>"#;
        assert!(matches!(
            sniff(AssetKind::Texture, svg, LIMITS),
            Err(AssetError::TooWide { .. })
        ));
        // The size is the root's, not that of an `<svg` in a comment before it (the canvas
        // ThorVG draws is the root's: a 1 x 1 decoy let a 4096 x 4096 drawing be estimated at
        // one pixel).
        let decoy = br#"<!-- <svg width="1" height="1"> --><svg width="5000" height="10"/>"#;
        assert!(matches!(
            sniff(AssetKind::Texture, decoy, LIMITS),
            Err(AssetError::TooWide { width: 5000, .. })
        ));
        let decoy = br#"<!-- <svg width="1" height="1"> --><svg width="64" height="32"/>"#;
        let info = sniff(AssetKind::Texture, decoy, LIMITS).unwrap();
        assert_eq!(info.size, Some((64, 32)));
        assert!(String::from_utf8(info.rewritten.unwrap())
            .unwrap()
            .starts_with(r#"<svg width="64" height="32">"#));
        let big = vec![0u8; (1 << 20) + 1];
        assert_eq!(
            sniff(AssetKind::Audio, &big, LIMITS),
            Err(AssetError::TooLarge {
                len: (1 << 20) + 1,
                max: 1 << 20
            })
        );
        assert_eq!(sniff(AssetKind::Font, &[], LIMITS), Err(AssetError::Empty));
        let e = sniff(AssetKind::Texture, &png(60000, 1), LIMITS)
            .unwrap_err()
            .message(AssetKind::Texture);
        assert!(
            e.contains("`wasgo.texture_from_bytes`") && e.contains("`wasgo/limits/texture_max_px`"),
            "{e}"
        );
    }

    #[test]
    fn other_and_broken_data_is_refused_with_what_was_expected() {
        for junk in [
            &b"GIF89a........"[..],
            b"hello",
            b"\x89PNG\r\n\x1a\n\0\0\0\x0dIDAT",
        ] {
            let e = sniff(AssetKind::Texture, junk, LIMITS).unwrap_err();
            assert!(
                matches!(e, AssetError::UnknownFormat | AssetError::Corrupt(_)),
                "{e:?}"
            );
            assert!(e
                .message(AssetKind::Texture)
                .contains("PNG, JPEG, WebP or SVG"));
        }
        assert_eq!(
            sniff(AssetKind::Texture, &png(0, 4), LIMITS).unwrap_err(),
            corrupt("it declares a size of 0 x 4")
        );
        assert!(matches!(
            sniff(
                AssetKind::Texture,
                b"<svg width=\"50%\" height=\"1\">",
                LIMITS
            ),
            Err(AssetError::Corrupt(_))
        ));
        assert_eq!(
            sniff(AssetKind::Audio, b"not a sound", LIMITS),
            Err(AssetError::UnknownFormat)
        );
        assert!(matches!(
            sniff(AssetKind::Audio, b"OggS\0\x02........\x01opus", LIMITS),
            Err(AssetError::Corrupt(_))
        ));
        let vorbis = |channels: u8, rate: u32| {
            let mut b = b"OggS\0\x02\x01vorbis\0\0\0\0".to_vec();
            b.push(channels);
            b.extend_from_slice(&rate.to_le_bytes());
            b
        };
        // A real file (the setup header is checked too: `ogg_vorbis`'s tests).
        assert_eq!(
            sniff(
                AssetKind::Audio,
                include_bytes!("../tests/data/beep.ogg"),
                LIMITS
            )
            .unwrap()
            .format,
            AssetFormat::OggVorbis
        );
        for (bad, why) in [
            (vorbis(2, 44100), "fewer than three header packets"),
            (vorbis(2, u32::MAX), "sample rate of 4294967295 Hz"),
            (vorbis(255, 44100), "255 channels"),
            (b"OggS\0\x02\x01vorbis".to_vec(), "cut short"),
        ] {
            match sniff(AssetKind::Audio, &bad, LIMITS) {
                Err(AssetError::Corrupt(m)) => assert!(m.contains(why), "{m}"),
                other => panic!("{why}: {other:?}"),
            }
        }
        let wav = |format: u16, channels: u16, rate: u32, bits: u16| {
            let mut b = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
            b.extend_from_slice(&format.to_le_bytes());
            b.extend_from_slice(&channels.to_le_bytes());
            b.extend_from_slice(&rate.to_le_bytes());
            b.extend_from_slice(&(rate * 2).to_le_bytes());
            b.extend_from_slice(&2u16.to_le_bytes());
            b.extend_from_slice(&bits.to_le_bytes());
            b
        };
        assert_eq!(
            sniff(AssetKind::Audio, &wav(1, 2, 44100, 16), LIMITS)
                .unwrap()
                .format,
            AssetFormat::Wav
        );
        assert!(sniff(AssetKind::Audio, &wav(3, 1, 48000, 32), LIMITS).is_ok());
        let with_data = [wav(1, 1, 44100, 16), b"data\x04\0\0\0\0\0\0\0".to_vec()].concat();
        assert!(sniff(AssetKind::Audio, &with_data, LIMITS).is_ok());
        // A `smpl` chunk's first loop (type, start, end at 40, 44, 48 of its body): Godot's
        // mixer played a loop ending at sample 2^31 - 1 of a 2-sample sound, reading gigabytes
        // past its buffer on the audio thread.
        let smpl = |kind: u32, start: u32, end: u32| {
            let mut c = b"smpl\x3c\0\0\0".to_vec();
            c.extend_from_slice(&[0; 28]);
            c.extend_from_slice(&1u32.to_le_bytes());
            c.extend_from_slice(&[0; 8]);
            for w in [kind, start, end, 0, 0] {
                c.extend_from_slice(&w.to_le_bytes());
            }
            [with_data.clone(), c].concat()
        };
        for (start, end) in [(0, 2), (1, 2), (0, 1)] {
            assert!(sniff(AssetKind::Audio, &smpl(0, start, end), LIMITS).is_ok());
        }
        // A second `data` chunk (Godot plays the first) does not count its samples.
        let mut two_chunks = smpl(0, 0, 0x7FFF_FFFF);
        two_chunks.extend_from_slice(b"data\xfe\xff\xff\xff");
        assert!(sniff(AssetKind::Audio, &two_chunks, LIMITS).is_err());
        // Another loop type (not looped by Godot) is not looked at.
        assert!(sniff(AssetKind::Audio, &smpl(7, 0, 0x7FFF_FFFF), LIMITS).is_ok());
        for (kind, start, end) in [(0, 0, 0x7FFF_FFFF), (1, 0, 3), (2, 1, 1), (0, 2, 1)] {
            match sniff(AssetKind::Audio, &smpl(kind, start, end), LIMITS) {
                Err(AssetError::Corrupt(m)) => {
                    assert!(m.contains(&format!("from sample {start} to {end}")), "{m}")
                }
                other => panic!("loop {kind} {start}..{end}: {other:?}"),
            }
        }
        for (bad, why) in [
            (wav(1, 1, 0, 16), "sample rate of 0 Hz"),
            (wav(1, 1, 0x7FFF_FFFF, 16), "sample rate of 2147483647 Hz"),
            (wav(1, 1, 8000, 64), "64 bits per sample"),
            (wav(1, 0, 8000, 8), "0 channels"),
            (wav(2, 1, 8000, 4), "sample format is 2"),
            (b"RIFF\0\0\0\0WAVEfmt ".to_vec(), "cut short"),
            // 2 GB of samples declared in a 52-byte file.
            (
                [wav(1, 1, 44100, 16), b"data\0\0\0\x80\0\0\0\0".to_vec()].concat(),
                "declares 2147483648 bytes but only 4 follow",
            ),
            // A good `fmt ` inside a `JUNK` chunk, the real one after it.
            (
                [
                    b"RIFF\0\0\0\0WAVEJUNK\x18\0\0\0".to_vec(),
                    wav(1, 1, 44100, 16)[12..].to_vec(),
                    wav(1, 1, 0x7FFF_FFFF, 16)[12..].to_vec(),
                ]
                .concat(),
                "sample rate of 2147483647 Hz",
            ),
        ] {
            match sniff(AssetKind::Audio, &bad, LIMITS) {
                Err(AssetError::Corrupt(m)) => assert!(m.contains(why), "{m}"),
                other => panic!("{why}: {other:?}"),
            }
        }
        // An MP3 is its frames back to back (`crate::mp3`): a tag alone is none.
        let mut mp3 = Vec::new();
        for _ in 0..4 {
            mp3.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
            mp3.resize(mp3.len() + 413, 0);
        }
        assert_eq!(
            sniff(AssetKind::Audio, &mp3, LIMITS).unwrap().format,
            AssetFormat::Mp3
        );
        assert!(matches!(
            sniff(AssetKind::Audio, b"ID3\x04", LIMITS),
            Err(AssetError::Corrupt(_))
        ));
    }

    #[test]
    fn fonts_need_an_intact_table_directory_with_outlines() {
        fn font_with(tags: &[&[u8; 4]], table_len: u32) -> Vec<u8> {
            let mut b = vec![0, 1, 0, 0];
            b.extend_from_slice(&(tags.len() as u16).to_be_bytes());
            b.extend_from_slice(&[0; 6]);
            let data_at = 12 + tags.len() as u32 * 16;
            for tag in tags {
                b.extend_from_slice(*tag);
                b.extend_from_slice(&[0; 4]);
                b.extend_from_slice(&data_at.to_be_bytes());
                b.extend_from_slice(&table_len.to_be_bytes());
            }
            b.extend_from_slice(&[0; 64]);
            b
        }
        let full: [&[u8; 4]; 7] = [
            b"cmap", b"head", b"hhea", b"hmtx", b"maxp", b"glyf", b"loca",
        ];
        let info = sniff(AssetKind::Font, &font_with(&full, 64), LIMITS).unwrap();
        assert!(
            info.rewritten.is_some(),
            "Godot gets the font without instructions"
        );
        let e = sniff(AssetKind::Font, &font_with(&full, 65), LIMITS).unwrap_err();
        assert!(
            matches!(&e, AssetError::Corrupt(w) if w.contains("past the end")),
            "{e:?}"
        );
        let e = sniff(AssetKind::Font, &font_with(&full[..5], 64), LIMITS).unwrap_err();
        assert!(
            matches!(&e, AssetError::Corrupt(w) if w.contains("outlines")),
            "{e:?}"
        );
        // CFF outlines are read (`font_cff`): zeros are no CFF table. CFF2 is refused.
        let mut cff = font_with(&[b"cmap", b"head", b"hhea", b"hmtx", b"maxp", b"CFF "], 64);
        cff[0..4].copy_from_slice(b"OTTO");
        let e = sniff(AssetKind::Font, &cff, LIMITS).unwrap_err();
        assert!(
            matches!(&e, AssetError::Corrupt(w) if w.contains("not version 1")),
            "{e:?}"
        );
        let cff2 = font_with(&[b"cmap", b"head", b"hhea", b"hmtx", b"maxp", b"CFF2"], 64);
        let e = sniff(AssetKind::Font, &cff2, LIMITS).unwrap_err();
        assert_eq!(e, AssetError::CffOutlines);
        assert!(e.message(AssetKind::Font).contains("CFF2"));
        // Beside other outlines too: FreeType draws the CFF2 first.
        for other in [&[b"CFF "][..], &[b"glyf", b"loca"]] {
            let mut tags: Vec<&[u8; 4]> =
                vec![b"cmap", b"head", b"hhea", b"hmtx", b"maxp", b"CFF2"];
            tags.extend_from_slice(other);
            let mut both = font_with(&tags, 64);
            both[0..4].copy_from_slice(b"OTTO");
            assert_eq!(
                sniff(AssetKind::Font, &both, LIMITS),
                Err(AssetError::CffOutlines)
            );
        }
        assert_eq!(
            sniff(AssetKind::Font, b"wOFF\0\0", LIMITS),
            Err(AssetError::UnknownFormat)
        );
        let e = sniff(AssetKind::Font, &[0, 1, 0, 0, 0, 3, 0, 0], LIMITS).unwrap_err();
        assert!(
            e.message(AssetKind::Font).contains("TrueType or OpenType"),
            "{e:?}"
        );
    }
}
