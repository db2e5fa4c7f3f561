//! A mod's TrueType/OpenType font written again without TrueType instructions.
//!
//! TrueType fonts carry bytecode (the `fpgm` and `prep` programs and one program per glyph)
//! that FreeType runs while it loads glyphs for hinting. FreeType bounds each run (a million
//! opcodes, and loop counts scaled by the font's own tables), yet a font made to spend each run
//! looping costs milliseconds per glyph and size: measured with Godot 4.6.3, 199 glyphs of such
//! a font took 1.6 to 5 s to render, on the main thread. FreeType runs the bytecode whatever
//! Godot's hinting setting when it takes a font for "tricky" (one of a list of CJK family names,
//! matched as a substring, or the checksums of known fonts' hinting tables, which a font can be
//! made to match), so no setting avoids it.
//!
//! Godot therefore gets the font without its instructions: the `fpgm`, `prep` and `cvt ` tables
//! are left out (with the tables that draw glyphs other than by outlines: SVG documents, embedded
//! bitmaps, color layers; see [`DROPPED`]), every glyph's instructions are cut (simple glyphs: the instruction length set to
//! zero; composite glyphs: the trailing instructions dropped and their flag cleared), `loca` is
//! written in its long form, `maxp`'s instruction limits are zeroed, and the table directory and
//! checksums are written anew. Outlines, metrics and every other table are kept byte for byte.
//! Godot hints mods' fonts with FreeType's auto-hinter (its default, light hinting, uses it
//! anyway), so ordinary fonts look the same; a font that only draws right through its bytecode
//! (the tricky fonts themselves) draws unhinted.
//!
//! Composite glyphs are bounded on the way: a composite draws its components, which may be
//! composites again, so a 3 KiB font of 100 components four levels deep asked FreeType for 10^8
//! points in one glyph (17 s on the main thread). With its components expanded, a glyph may have
//! at most [`MAX_GLYPH_POINTS`] points (the most TrueType's own `maxp` can declare) and
//! [`MAX_GLYPH_LOADS`] component loads, and all glyphs together [`MAX_FONT_POINTS`]; a component
//! that refers back to its own glyph is refused.

use std::fmt;

/// Why a font is not written again (the message says where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FontError {
    /// Its structure is broken.
    Broken(String),
    /// Its composite glyphs expand past [`MAX_GLYPH_POINTS`], [`MAX_GLYPH_LOADS`] or
    /// [`MAX_FONT_POINTS`].
    TooComplex(String),
}

impl FontError {
    /// What is wrong, for messages.
    pub fn reason(&self) -> &str {
        match self {
            FontError::Broken(why) | FontError::TooComplex(why) => why,
        }
    }
}

impl fmt::Display for FontError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

pub(crate) fn broken<T>(why: impl Into<String>) -> Result<T, FontError> {
    Err(FontError::Broken(why.into()))
}

pub(crate) fn too_complex<T>(why: impl Into<String>) -> Result<T, FontError> {
    Err(FontError::TooComplex(why.into()))
}

pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Points one glyph may have with its components expanded (`maxp`'s field for it is 16 bits).
pub const MAX_GLYPH_POINTS: u64 = 65_535;
/// Component glyphs one glyph may load with its components expanded (accented letters load 2 or
/// 3).
pub const MAX_GLYPH_LOADS: u64 = 1_024;
/// Points all glyphs together may have with their components expanded.
pub const MAX_FONT_POINTS: u64 = 1 << 24;

/// The tables left out: hinting bytecode and its data; glyphs drawn as SVG documents (Godot draws
/// them with ThorVG, past the SVG checks of `texture_from_bytes`: a 1.2 KiB document of nested
/// `<use>` in one glyph held Godot for over two minutes); embedded bitmaps (PNG-compressed in
/// `CBDT` and `sbix`, decoded without the image checks; Apple's `bdat`/`bloc`/`bhed`, which
/// FreeType reads where `EBDT`/`EBLC` are missing: compound bitmaps nest 100 deep, so a font of
/// a few KiB could ask for 10^9 blits in one glyph); color layers (`COLR`, each layer a glyph
/// drawn again, and its palette). Godot draws the glyphs' outlines instead.
const DROPPED: [&[u8; 4]; 15] = [
    b"fpgm", b"prep", b"cvt ", b"SVG ", b"CBDT", b"CBLC", b"sbix", b"EBDT", b"EBLC", b"EBSC",
    b"bdat", b"bloc", b"bhed", b"COLR", b"CPAL",
];

/// One table of the directory: its tag and bytes.
struct Table<'a> {
    tag: [u8; 4],
    data: std::borrow::Cow<'a, [u8]>,
}

/// `font` without TrueType instructions (see the module docs). `font` has passed the asset
/// check (a table directory whose tables lie inside the file).
///
/// # Errors
/// [`FontError`] when `head`, `maxp`, `loca` or `glyf` do not hold what they must.
pub fn strip_instructions(font: &[u8]) -> Result<Vec<u8>, FontError> {
    let version = font
        .get(0..4)
        .ok_or_else(|| FontError::Broken("no header".into()))?;
    let count = be16(font, 4).ok_or_else(|| FontError::Broken("no table count".into()))? as usize;
    let mut tables = Vec::with_capacity(count);
    for t in 0..count {
        let at = 12 + t * 16;
        let (Some(tag), Some(offset), Some(length)) = (
            font.get(at..at + 4),
            be32(font, at + 8),
            be32(font, at + 12),
        ) else {
            return broken("the table directory is cut short");
        };
        let Some(data) = font.get(offset as usize..offset as usize + length as usize) else {
            return broken("a table reaches past the end of the file");
        };
        let tag: [u8; 4] = tag.try_into().expect("four bytes");
        if tables.iter().any(|t: &Table| t.tag == tag) {
            return broken(format!(
                "table `{}` appears twice",
                String::from_utf8_lossy(&tag)
            ));
        }
        if DROPPED.contains(&&tag) {
            continue;
        }
        tables.push(Table {
            tag,
            data: data.into(),
        });
    }
    let find = |tables: &[Table], tag: &[u8; 4]| tables.iter().position(|t| &t.tag == tag);
    if let (Some(glyf_at), Some(loca_at)) = (find(&tables, b"glyf"), find(&tables, b"loca")) {
        let head_at =
            find(&tables, b"head").ok_or_else(|| FontError::Broken("no `head` table".into()))?;
        let maxp_at =
            find(&tables, b"maxp").ok_or_else(|| FontError::Broken("no `maxp` table".into()))?;
        let long_loca = match be16(&tables[head_at].data, 50) {
            Some(0) => false,
            Some(1) => true,
            _ => return broken("`head` gives no valid `loca` format"),
        };
        let glyphs = be16(&tables[maxp_at].data, 4)
            .ok_or_else(|| FontError::Broken("`maxp` is cut short".into()))?
            as usize;
        let (glyf, loca) = rewrite_glyphs(
            &tables[glyf_at].data,
            &tables[loca_at].data,
            glyphs,
            long_loca,
        )?;
        tables[glyf_at].data = glyf.into();
        tables[loca_at].data = loca.into();
        let mut head = tables[head_at].data.to_vec();
        head[50..52].copy_from_slice(&1u16.to_be_bytes());
        tables[head_at].data = head.into();
        let mut maxp = tables[maxp_at].data.to_vec();
        if maxp.len() >= 32 {
            // maxFunctionDefs, maxInstructionDefs, maxStackElements, maxSizeOfInstructions.
            for at in [20, 22, 24, 26] {
                maxp[at..at + 2].copy_from_slice(&0u16.to_be_bytes());
            }
        }
        tables[maxp_at].data = maxp.into();
    }
    Ok(write_font(version, &mut tables))
}

/// `glyf` and `loca` (long form) with every glyph's instructions cut.
fn rewrite_glyphs(
    glyf: &[u8],
    loca: &[u8],
    glyphs: usize,
    long_loca: bool,
) -> Result<(Vec<u8>, Vec<u8>), FontError> {
    let offset = |i: usize| -> Option<usize> {
        if long_loca {
            be32(loca, i * 4).map(|o| o as usize)
        } else {
            be16(loca, i * 2).map(|o| o as usize * 2)
        }
    };
    let mut out = Vec::with_capacity(glyf.len());
    let mut new_loca = Vec::with_capacity((glyphs + 1) * 4);
    let mut shapes = Vec::with_capacity(glyphs);
    for i in 0..glyphs {
        let (Some(start), Some(end)) = (offset(i), offset(i + 1)) else {
            return broken(format!("`loca` has no entry for glyph {i}"));
        };
        if start > end || end > glyf.len() {
            return broken(format!("glyph {i} lies outside `glyf`"));
        }
        new_loca.extend_from_slice(&(out.len() as u32).to_be_bytes());
        if start < end {
            shapes.push(
                strip_glyph(&glyf[start..end], &mut out)
                    .map_err(|e| FontError::Broken(format!("glyph {i}: {}", e.reason())))?,
            );
            while out.len() % 4 != 0 {
                out.push(0);
            }
        } else {
            shapes.push(Shape::Simple(0));
        }
    }
    new_loca.extend_from_slice(&(out.len() as u32).to_be_bytes());
    check_composites(&shapes)?;
    Ok((out, new_loca))
}

/// What a glyph is made of.
enum Shape {
    /// Its own outline, of this many points.
    Simple(u64),
    /// Other glyphs, by index.
    Composite(Vec<u16>),
}

/// Refuses composites past [`MAX_GLYPH_POINTS`], [`MAX_GLYPH_LOADS`] or, all glyphs together,
/// [`MAX_FONT_POINTS`], and components that refer back to their glyph. Each glyph is expanded
/// once (its points and loads are kept), without recursion (chains may be 65,535 long).
fn check_composites(shapes: &[Shape]) -> Result<(), FontError> {
    /// `None`: not expanded yet; `Some(None)`: being expanded; else its points and loads.
    type Expanded = Option<Option<(u64, u64)>>;
    let mut expanded: Vec<Expanded> = vec![None; shapes.len()];
    let mut total = 0u64;
    for root in 0..shapes.len() {
        // (glyph, its next component, points and loads so far)
        let mut stack: Vec<(usize, usize, u64, u64)> = Vec::new();
        if expanded[root].is_none() {
            expanded[root] = Some(None);
            stack.push((root, 0, 0, 0));
        }
        while let Some(top) = stack.last_mut() {
            let part = match &shapes[top.0] {
                Shape::Simple(points) => {
                    top.2 = *points;
                    None
                }
                Shape::Composite(parts) => parts.get(top.1).map(|&p| p as usize),
            };
            let Some(part) = part else {
                let (glyph, _, points, loads) = *top;
                expanded[glyph] = Some(Some((points, loads)));
                stack.pop();
                continue;
            };
            let glyph = top.0;
            if part >= shapes.len() {
                return broken(format!(
                    "glyph {glyph} uses glyph {part}, which the font does not have"
                ));
            }
            match expanded[part] {
                Some(Some((points, loads))) => {
                    top.1 += 1;
                    top.2 = top.2.saturating_add(points);
                    top.3 = top.3.saturating_add(loads + 1);
                    if top.2 > MAX_GLYPH_POINTS || top.3 > MAX_GLYPH_LOADS {
                        return too_complex(format!(
                            "glyph {glyph}, with its components expanded, has more than {MAX_GLYPH_POINTS} points or {MAX_GLYPH_LOADS} components"
                        ));
                    }
                }
                Some(None) => {
                    return broken(format!(
                        "glyph {glyph} is made of itself (through glyph {part})"
                    ))
                }
                None => {
                    expanded[part] = Some(None);
                    stack.push((part, 0, 0, 0));
                }
            }
        }
        if let Some(Some((points, _))) = expanded[root] {
            total = total.saturating_add(points);
        }
        if total > MAX_FONT_POINTS {
            return too_complex(format!(
                "its glyphs, with their components expanded, have more than {MAX_FONT_POINTS} points together"
            ));
        }
    }
    Ok(())
}

/// Appends `glyph` without its instructions to `out`; says what it is made of.
fn strip_glyph(glyph: &[u8], out: &mut Vec<u8>) -> Result<Shape, FontError> {
    let contours = be16(glyph, 0).ok_or_else(|| FontError::Broken("no header".into()))? as i16;
    if glyph.len() < 10 {
        return broken("its header is cut short");
    }
    if contours >= 0 {
        let lengths_at = 10 + 2 * contours as usize;
        let Some(instructions) = be16(glyph, lengths_at) else {
            return broken("its contour ends are cut short");
        };
        let rest = lengths_at + 2 + instructions as usize;
        if rest > glyph.len() {
            return broken("its instructions reach past its end");
        }
        // The last contour's end is the last point's index.
        let points = match contours {
            0 => 0,
            n => u64::from(be16(glyph, 10 + 2 * (n as usize - 1)).unwrap_or(0)) + 1,
        };
        out.extend_from_slice(&glyph[..lengths_at]);
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&glyph[rest..]);
        return Ok(Shape::Simple(points));
    }
    // A composite glyph: components, then instructions if the last one's flag says so.
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAS_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const HAS_XY_SCALE: u16 = 0x0040;
    const HAS_TWO_BY_TWO: u16 = 0x0080;
    const HAS_INSTRUCTIONS: u16 = 0x0100;
    out.extend_from_slice(&glyph[..10]);
    let mut parts = Vec::new();
    let mut at = 10;
    loop {
        let Some(flags) = be16(glyph, at) else {
            return broken("its components are cut short");
        };
        let size = 4
            + if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 }
            + if flags & HAS_TWO_BY_TWO != 0 {
                8
            } else if flags & HAS_XY_SCALE != 0 {
                4
            } else if flags & HAS_SCALE != 0 {
                2
            } else {
                0
            };
        let Some(component) = glyph.get(at..at + size) else {
            return broken("its components are cut short");
        };
        parts.push(u16::from_be_bytes([component[2], component[3]]));
        let kept = out.len();
        out.extend_from_slice(component);
        out[kept..kept + 2].copy_from_slice(&(flags & !HAS_INSTRUCTIONS).to_be_bytes());
        at += size;
        if flags & MORE_COMPONENTS == 0 {
            break;
        }
    }
    Ok(Shape::Composite(parts))
}

/// The OpenType table checksum: the sum of the big-endian 32-bit words, zero-padded.
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// A font file of `tables` (sorted by tag, 4-byte aligned, checksums and `head`'s adjustment
/// written).
fn write_font(version: &[u8], tables: &mut [Table]) -> Vec<u8> {
    tables.sort_by_key(|t| t.tag);
    let count = tables.len();
    let mut power = 1usize;
    let mut selector = 0u16;
    while power * 2 <= count {
        power *= 2;
        selector += 1;
    }
    let search_range = (power * 16) as u16;
    let mut out = Vec::new();
    out.extend_from_slice(version);
    out.extend_from_slice(&(count as u16).to_be_bytes());
    out.extend_from_slice(&search_range.to_be_bytes());
    out.extend_from_slice(&selector.to_be_bytes());
    out.extend_from_slice(
        &((count * 16) as u16)
            .wrapping_sub(search_range)
            .to_be_bytes(),
    );
    let mut offset = 12 + count * 16;
    let mut head_at = None;
    for t in tables.iter() {
        let mut data = t.data.to_vec();
        if &t.tag == b"head" && data.len() >= 12 {
            data[8..12].fill(0); // checkSumAdjustment counts as zero in the table's own sum
        }
        out.extend_from_slice(&t.tag);
        out.extend_from_slice(&checksum(&data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        offset += data.len().div_ceil(4) * 4;
    }
    for t in tables.iter() {
        if &t.tag == b"head" {
            head_at = Some(out.len());
        }
        out.extend_from_slice(&t.data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    if let Some(at) = head_at.filter(|at| out.len() >= at + 12) {
        out[at + 8..at + 12].fill(0);
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

#[cfg(test)]
#[path = "font_strip_tests.rs"]
mod tests;
