//! The drawing cost of a font's CFF (PostScript) outlines, bounded before Godot sees the font.
//!
//! FreeType draws a CFF glyph by running its Type 2 charstring, which may call subroutines that
//! call subroutines (ten deep), each call site free to repeat: a 1.3 KiB font whose subroutines
//! call the next one 60 times, six deep, took about 0.2 s per glyph on the main thread in Godot
//! 4.6.3 (FreeType's own cap), once per glyph and size. Charstrings are the outlines, so they
//! cannot be left out the way TrueType instructions are ([`crate::font_strip`]); instead every
//! glyph's charstring is run here, counting operators with its subroutines expanded, without
//! drawing anything: at most [`MAX_GLYPH_OPS`] per glyph and [`MAX_FONT_OPS`] for the font, or
//! the font is refused.
//!
//! The run must see the bytes FreeType runs, so wherever FreeType's reading could part from a
//! model the font is refused instead (font tools write none of these): a DICT operator given
//! twice (FreeType keeps the last); Font DICTs without `ROS`, or `ROS` without Font DICTs
//! (FreeType decides by `ROS`); FDSelect ranges out of order; a subroutine number that is not
//! the integer pushed right before the `callsubr`/`callgsubr` (so no value on the stack is
//! modelled); hint operators after `get`, `put`, `index` or `roll` (whose effect on the stack
//! depends on values: the stack's depth sets the stems a hint adds, and so the mask bytes a
//! `hintmask` skips); `seac` in a CID-keyed font. Hint operators after a `hintmask` follow
//! FreeType (no more stems; a mask operator with operands skipped alone, its mask bytes run as
//! code), and a glyph ending in `seac` counts the two glyphs it draws. CID-keyed fonts
//! (FDArray, FDSelect formats 0 and 3) use each glyph's own local subroutines. `CFF2` tables
//! are not read (they are refused).

use crate::font_strip::{be16, broken, too_complex, FontError};

/// Operators (numbers included) one glyph's charstring may run with its subroutines expanded.
/// Ordinary glyphs run tens to a few thousand.
pub const MAX_GLYPH_OPS: u64 = 50_000;
/// Operators all glyphs together may run.
pub const MAX_FONT_OPS: u64 = 50_000_000;
/// Subroutine nesting Type 2 allows.
const MAX_SUBR_DEPTH: usize = 10;
/// Operand stack Type 2 allows.
const MAX_STACK: usize = 48;

/// An INDEX: its entries and where it ends.
fn index(cff: &[u8], at: usize) -> Result<(Vec<&[u8]>, usize), FontError> {
    let Some(count) = cff
        .get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    else {
        return broken("an INDEX is cut short");
    };
    if count == 0 {
        return Ok((Vec::new(), at + 2));
    }
    let off_size =
        *cff.get(at + 2)
            .ok_or_else(|| FontError::Broken("an INDEX is cut short".into()))? as usize;
    if !(1..=4).contains(&off_size) {
        return broken("an INDEX has a bad offset size");
    }
    let offsets_at = at + 3;
    let data_at = offsets_at + (count + 1) * off_size - 1;
    let offset = |i: usize| -> Option<usize> {
        let b = cff.get(offsets_at + i * off_size..offsets_at + (i + 1) * off_size)?;
        Some(b.iter().fold(0usize, |v, &x| (v << 8) | x as usize))
    };
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let (Some(start), Some(end)) = (offset(i), offset(i + 1)) else {
            return broken("an INDEX's offsets are cut short");
        };
        let Some(entry) = (start <= end)
            .then(|| cff.get(data_at + start..data_at + end))
            .flatten()
        else {
            return broken("an INDEX entry lies outside the table");
        };
        entries.push(entry);
    }
    let end = data_at + offset(count).unwrap_or(0);
    Ok((entries, end))
}

/// The operands of a DICT's operators: operator (12 x as 1200 + x) → its operands.
fn dict(data: &[u8]) -> Result<Vec<(u16, Vec<f64>)>, FontError> {
    let mut out = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        let need = |n: usize| {
            data.get(i + 1..i + 1 + n)
                .ok_or_else(|| FontError::Broken("a DICT is cut short".into()))
        };
        match b {
            0..=21 => {
                let op = if b == 12 {
                    let x = need(1)?[0];
                    i += 1;
                    1200 + u16::from(x)
                } else {
                    u16::from(b)
                };
                // FreeType keeps the last of a repeated operator: the check would read another
                // value than the one drawn with. Font tools never repeat one.
                if out.iter().any(|(o, _)| *o == op) {
                    return broken(format!("a DICT repeats operator {}", op_name(op)));
                }
                out.push((op, std::mem::take(&mut operands)));
                i += 1;
            }
            28 => {
                let v = need(2)?;
                operands.push(f64::from(i16::from_be_bytes([v[0], v[1]])));
                i += 3;
            }
            29 => {
                let v = need(4)?;
                operands.push(f64::from(i32::from_be_bytes([v[0], v[1], v[2], v[3]])));
                i += 5;
            }
            30 => {
                // A real: nibbles up to 0xf; its value is never an offset, so it is skipped.
                i += 1;
                while i < data.len() && data[i] & 0x0F != 0x0F && data[i] >> 4 != 0x0F {
                    i += 1;
                }
                i += 1;
                operands.push(0.0);
            }
            32..=246 => {
                operands.push(f64::from(i32::from(b) - 139));
                i += 1;
            }
            247..=250 => {
                let v = need(1)?;
                operands.push(f64::from(
                    (i32::from(b) - 247) * 256 + i32::from(v[0]) + 108,
                ));
                i += 2;
            }
            251..=254 => {
                let v = need(1)?;
                operands.push(f64::from(
                    -(i32::from(b) - 251) * 256 - i32::from(v[0]) - 108,
                ));
                i += 2;
            }
            _ => return broken("a DICT holds a reserved byte"),
        }
        if operands.len() > MAX_STACK {
            return broken("a DICT operator has too many operands");
        }
    }
    Ok(out)
}

/// A DICT operator as the CFF specification writes it (`12 x` for the two-byte ones).
fn op_name(op: u16) -> String {
    if op >= 1200 {
        format!("12 {}", op - 1200)
    } else {
        op.to_string()
    }
}

fn operand(d: &[(u16, Vec<f64>)], op: u16, i: usize) -> Option<f64> {
    d.iter()
        .find(|(o, _)| *o == op)
        .and_then(|(_, v)| v.get(i).copied())
}

/// The local subroutines of the Private DICT at `offset` (`size` bytes) of `cff`.
fn local_subrs(cff: &[u8], size: f64, offset: f64) -> Result<Vec<&[u8]>, FontError> {
    if !(0.0..=cff.len() as f64).contains(&offset) || !(0.0..=cff.len() as f64).contains(&size) {
        return broken("the Private DICT lies outside the table");
    }
    let (offset, size) = (offset as usize, size as usize);
    let Some(private) = cff.get(offset..offset + size) else {
        return broken("the Private DICT lies outside the table");
    };
    let private = dict(private)?;
    match operand(&private, 19, 0) {
        Some(subrs) if subrs >= 0.0 => Ok(index(cff, offset + subrs as usize)?.0),
        Some(_) => broken("the Private DICT's Subrs offset is negative"),
        None => Ok(Vec::new()),
    }
}

/// The subroutine bias Type 2 adds to a pushed number.
fn bias(count: usize) -> i64 {
    match count {
        0..1240 => 107,
        1240..33900 => 1131,
        _ => 32768,
    }
}

/// Checks the CFF table `cff` (see the module docs).
///
/// # Errors
/// [`FontError::Broken`] for a table that cannot be read, [`FontError::TooComplex`] past the
/// bounds (naming the glyph).
pub fn check(cff: &[u8]) -> Result<(), FontError> {
    if cff.first() != Some(&1) {
        return broken("the CFF table is not version 1");
    }
    let header = *cff
        .get(2)
        .ok_or_else(|| FontError::Broken("the CFF header is cut short".into()))?
        as usize;
    let (_, after_names) = index(cff, header)?;
    let (tops, after_tops) = index(cff, after_names)?;
    let (_, after_strings) = index(cff, after_tops)?;
    let (global, _) = index(cff, after_strings)?;
    let top = dict(
        tops.first()
            .ok_or_else(|| FontError::Broken("the CFF table has no font".into()))?,
    )?;
    if operand(&top, 1206, 0).is_some_and(|t| t != 2.0) {
        return broken("the charstrings are not Type 2");
    }
    let charstrings_at = operand(&top, 17, 0)
        .filter(|o| (0.0..=cff.len() as f64).contains(o))
        .ok_or_else(|| FontError::Broken("the CFF table has no CharStrings".into()))?;
    let (glyphs, _) = index(cff, charstrings_at as usize)?;
    // Local subroutines: one set, or one per Font DICT of a CID-keyed font.
    let mut locals: Vec<Vec<&[u8]>> = Vec::new();
    let mut select: Vec<u8> = Vec::new();
    // FreeType takes a font for CID-keyed when its Top DICT has `ROS`, and only then reads the
    // FDArray: a font with one and not the other would be checked with other subroutines than
    // FreeType draws with.
    let ros = top.iter().any(|(op, _)| *op == 1230);
    let fd_array = operand(&top, 1236, 0);
    if ros != fd_array.is_some() {
        return broken(if ros {
            "a CID-keyed CFF font (ROS) has no FDArray"
        } else {
            "a CFF font has an FDArray but is not CID-keyed (no ROS)"
        });
    }
    if let Some(fd_array) = fd_array {
        if !(0.0..=cff.len() as f64).contains(&fd_array) {
            return broken("the FDArray lies outside the table");
        }
        let (fonts, _) = index(cff, fd_array as usize)?;
        // FreeType ignores an FDArray of more Font DICTs than FDSelect can name.
        if fonts.len() > 256 {
            return broken(format!(
                "the FDArray holds {} Font DICTs (at most 256)",
                fonts.len()
            ));
        }
        for font in fonts {
            let font = dict(font)?;
            locals.push(match (operand(&font, 18, 0), operand(&font, 18, 1)) {
                (Some(size), Some(offset)) => local_subrs(cff, size, offset)?,
                _ => Vec::new(),
            });
        }
        let fd_select = operand(&top, 1237, 0)
            .filter(|o| (0.0..=cff.len() as f64).contains(o))
            .ok_or_else(|| FontError::Broken("a CID font has no FDSelect".into()))?
            as usize;
        select = fd_select_table(cff, fd_select, glyphs.len())?;
    } else if let (Some(size), Some(offset)) = (operand(&top, 18, 0), operand(&top, 18, 1)) {
        locals.push(local_subrs(cff, size, offset)?);
    } else {
        locals.push(Vec::new());
    }
    let cid = fd_array.is_some();
    let mut total = 0u64;
    let mut most = 0u64;
    let mut accented = Vec::new();
    for (g, charstring) in glyphs.iter().enumerate() {
        let fd = select.get(g).copied().unwrap_or(0) as usize;
        let Some(local) = locals.get(fd) else {
            return broken(format!(
                "glyph {g} names Font DICT {fd}, which the font does not have"
            ));
        };
        let mut run = Run {
            global: &global,
            local,
            ops: 0,
            depth: 0,
            depth_known: true,
            stems: 0,
            mask_read: false,
            seac: false,
            glyph: g,
        };
        run.program(charstring, 0)?;
        if run.seac {
            // A CID-keyed font has no standard encoding to name the two glyphs by, and FreeType
            // would draw them with this glyph's subroutines, not their own.
            if cid {
                return broken(format!(
                    "glyph {g} ends with `seac` (an accented glyph) in a CID-keyed font"
                ));
            }
            accented.push((g, run.ops));
        }
        most = most.max(run.ops);
        total = total.saturating_add(run.ops);
        // Checked as it grows: a font far over the bound is not run to its last glyph.
        within_font_ops(total)?;
    }
    // An accented glyph (`endchar` with `seac`'s arguments) draws two more glyphs after its own
    // charstring, each at most as costly as the costliest glyph (FreeType refuses a `seac` in
    // them).
    for (g, ops) in accented {
        let with_parts = ops.saturating_add(most.saturating_mul(2));
        if with_parts > MAX_GLYPH_OPS {
            return too_complex(format!(
                "glyph {g}'s outline takes more than {MAX_GLYPH_OPS} charstring operators with the two glyphs its `seac` draws"
            ));
        }
        total = total.saturating_add(most.saturating_mul(2));
    }
    within_font_ops(total)
}

/// Whether `total` operators for all glyphs are within [`MAX_FONT_OPS`].
fn within_font_ops(total: u64) -> Result<(), FontError> {
    if total > MAX_FONT_OPS {
        return too_complex(format!(
            "its glyphs' outlines together take more than {MAX_FONT_OPS} charstring operators"
        ));
    }
    Ok(())
}

/// The Font DICT of each glyph (FDSelect formats 0 and 3).
fn fd_select_table(cff: &[u8], at: usize, glyphs: usize) -> Result<Vec<u8>, FontError> {
    let cut = || FontError::Broken("the FDSelect is cut short".into());
    match cff.get(at) {
        Some(0) => Ok(cff.get(at + 1..at + 1 + glyphs).ok_or_else(cut)?.to_vec()),
        Some(3) => {
            let ranges = usize::from(be16(cff, at + 1).ok_or_else(cut)?);
            let mut out = vec![0u8; glyphs];
            for r in 0..ranges {
                let rec = cff
                    .get(at + 3 + r * 3..at + 3 + r * 3 + 5)
                    .ok_or_else(cut)?;
                let first = u16::from_be_bytes([rec[0], rec[1]]) as usize;
                let next = u16::from_be_bytes([rec[3], rec[4]]) as usize;
                // Ranges in increasing order from glyph 0, as the specification asks: FreeType
                // takes the first range that holds a glyph, this table the last.
                if (r == 0 && first != 0) || next <= first {
                    return broken(
                        "the FDSelect's ranges are not in increasing order from glyph 0",
                    );
                }
                for slot in out.iter_mut().take(next.min(glyphs)).skip(first) {
                    *slot = rec[2];
                }
            }
            Ok(out)
        }
        _ => broken("the FDSelect format is not 0 or 3"),
    }
}

/// One glyph's charstring run (operators counted, nothing drawn).
///
/// The run follows FreeType's Type 2 interpreter where it decides which bytes run: the number a
/// `callsubr`/`callgsubr` takes must be the integer pushed right before it (so no model of the
/// values on the stack is needed), and the stack's depth decides the stems a hint operator adds
/// and so the mask bytes a `hintmask`/`cntrmask` skips.
struct Run<'a> {
    global: &'a [&'a [u8]],
    local: &'a [&'a [u8]],
    ops: u64,
    /// Operands on the stack.
    depth: usize,
    /// False after `get`, `put`, `index` or `roll`, whose effect on FreeType's stack depends on
    /// the values; true again once an operator clears the stack.
    depth_known: bool,
    stems: usize,
    /// Whether a `hintmask` was read: FreeType then adds no more stems, and runs a later hint
    /// mask operator with operands as no operator (its mask bytes then run as code).
    mask_read: bool,
    /// Whether the glyph ends with `seac`'s arguments (`endchar` with four or five operands):
    /// FreeType then draws two more glyphs.
    seac: bool,
    glyph: usize,
}

/// How a program ended.
enum End {
    /// `return` (or the end of its bytes): the caller goes on.
    Return,
    /// `endchar`: the glyph is done.
    EndChar,
}

impl Run<'_> {
    fn count(&mut self) -> Result<(), FontError> {
        self.ops += 1;
        if self.ops > MAX_GLYPH_OPS {
            return too_complex(format!(
                "glyph {}'s outline takes more than {MAX_GLYPH_OPS} charstring operators with its subroutines expanded",
                self.glyph
            ));
        }
        Ok(())
    }

    fn push(&mut self) -> Result<(), FontError> {
        if self.depth >= MAX_STACK {
            return broken(format!("glyph {} overflows the operand stack", self.glyph));
        }
        self.depth += 1;
        Ok(())
    }

    /// Pops `n` operands (FreeType stops the glyph when there are fewer).
    fn pop(&mut self, n: usize) {
        self.depth = self.depth.saturating_sub(n);
    }

    fn clear(&mut self) {
        self.depth = 0;
        self.depth_known = true;
    }

    /// A hint operator needs the stack's depth: refused when it is not known.
    fn hint_depth(&self) -> Result<usize, FontError> {
        if self.depth_known {
            Ok(self.depth)
        } else {
            broken(format!(
                "glyph {} gives hints after `get`, `put`, `index` or `roll`, whose effect on the stack WasGo does not follow",
                self.glyph
            ))
        }
    }

    fn program(&mut self, code: &[u8], depth: usize) -> Result<End, FontError> {
        let mut i = 0;
        // The integer the operator just before pushed, in this program.
        let mut pushed: Option<i64> = None;
        while i < code.len() {
            self.count()?;
            let b = code[i];
            i += 1;
            let byte = |at: usize| code.get(at).copied().map(i64::from);
            let before = pushed.take();
            match b {
                32..=246 => {
                    self.push()?;
                    pushed = Some(i64::from(b) - 139);
                }
                247..=250 => {
                    let Some(v) = byte(i) else { break };
                    self.push()?;
                    pushed = Some((i64::from(b) - 247) * 256 + v + 108);
                    i += 1;
                }
                251..=254 => {
                    let Some(v) = byte(i) else { break };
                    self.push()?;
                    pushed = Some(-(i64::from(b) - 251) * 256 - v - 108);
                    i += 1;
                }
                28 => {
                    let (Some(hi), Some(lo)) = (byte(i), byte(i + 1)) else {
                        break;
                    };
                    self.push()?;
                    pushed = Some(i64::from(i16::from_be_bytes([hi as u8, lo as u8])));
                    i += 2;
                }
                255 => {
                    self.push()?; // 16.16 fixed: not a subroutine number
                    i += 4;
                }
                // hstem, vstem, hstemhm, vstemhm: no stems once a mask was read.
                1 | 3 | 18 | 23 => {
                    let operands = self.hint_depth()?;
                    if !self.mask_read {
                        self.stems += operands / 2;
                    }
                    self.clear();
                }
                // hintmask, cntrmask: operands before them are implicit vstems.
                19 | 20 => {
                    let operands = self.hint_depth()?;
                    self.clear();
                    if operands > 1 && self.mask_read {
                        // FreeType skips the operator alone: its mask bytes run as code.
                        continue;
                    }
                    self.stems += operands / 2;
                    i += self.stems.div_ceil(8);
                    if b == 19 {
                        self.mask_read = true;
                    }
                }
                10 | 29 => {
                    let subrs = if b == 10 { self.local } else { self.global };
                    let Some(number) = before else {
                        return broken(format!(
                            "glyph {} calls a subroutine whose number is computed or not pushed right before the call",
                            self.glyph
                        ));
                    };
                    self.pop(1);
                    let index = number + bias(subrs.len());
                    let Some(subr) = usize::try_from(index).ok().and_then(|k| subrs.get(k)) else {
                        return broken(format!(
                            "glyph {} calls subroutine {index}, which the font does not have",
                            self.glyph
                        ));
                    };
                    if depth + 1 > MAX_SUBR_DEPTH {
                        return broken(format!(
                            "glyph {} nests subroutines deeper than {MAX_SUBR_DEPTH}",
                            self.glyph
                        ));
                    }
                    if let End::EndChar = self.program(subr, depth + 1)? {
                        return Ok(End::EndChar);
                    }
                }
                11 => return Ok(End::Return),
                14 => {
                    // With more than one operand FreeType reads `seac`'s.
                    if !self.depth_known || self.depth > 1 {
                        self.seac = true;
                    }
                    return Ok(End::EndChar);
                }
                12 => {
                    let Some(x) = byte(i) else { break };
                    i += 1;
                    match x {
                        // and, or, add, sub, div, eq, mul: two in, one out.
                        3 | 4 | 10 | 11 | 12 | 15 | 24 => {
                            self.pop(2);
                            self.push()?;
                        }
                        // not, abs, neg, sqrt: one in, one out.
                        5 | 9 | 14 | 26 => {
                            self.pop(1);
                            self.push()?;
                        }
                        // get, index (one in, one out), put (two in), roll (two in, the rest
                        // rolled): FreeType's effect on the stack depends on the values.
                        21 | 29 => {
                            self.pop(1);
                            self.push()?;
                            self.depth_known = false;
                        }
                        20 | 30 => {
                            self.pop(2);
                            self.depth_known = false;
                        }
                        18 => self.pop(1), // drop
                        22 => {
                            self.pop(4); // ifelse
                            self.push()?;
                        }
                        23 | 27 => self.push()?, // random, dup
                        28 => {}                 // exch
                        // flex operators and anything else: path work, the stack is cleared.
                        _ => self.clear(),
                    }
                }
                // Path operators (and reserved ones): the stack is cleared.
                _ => self.clear(),
            }
        }
        Ok(End::Return)
    }
}

#[cfg(test)]
#[path = "font_cff_tests.rs"]
mod tests;
