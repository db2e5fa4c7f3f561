use super::*;

/// The `CFF ` table of an OpenType font file.
fn cff_of(font: &[u8]) -> &[u8] {
    let count = u16::from_be_bytes([font[4], font[5]]) as usize;
    for t in 0..count {
        let at = 12 + t * 16;
        if &font[at..at + 4] == b"CFF " {
            let offset = u32::from_be_bytes(font[at + 8..at + 12].try_into().unwrap()) as usize;
            let length = u32::from_be_bytes(font[at + 12..at + 16].try_into().unwrap()) as usize;
            return &font[offset..offset + length];
        }
    }
    panic!("no CFF table");
}

const ORDINARY: &[u8] = include_bytes!("../../../mods/tests/create/assets/cff_ordinary.otf");
const NESTED: &[u8] = include_bytes!("../../../mods/tests/create/assets/cff_nested_subrs.otf");

#[test]
fn ordinary_subroutines_pass() {
    check(cff_of(ORDINARY)).unwrap();
}

#[test]
fn subroutines_that_multiply_are_refused_naming_the_glyph() {
    // Each subroutine calls the next 60 times, six deep: FreeType took 0.2 s per glyph.
    let e = check(cff_of(NESTED)).unwrap_err();
    assert!(
        matches!(&e, FontError::TooComplex(w) if w.contains("glyph 0") && w.contains("charstring operators")),
        "{e:?}"
    );
}

/// A CFF table of one font whose glyphs are `charstrings` and local subroutines `subrs`.
fn cff_table(charstrings: &[&[u8]], subrs: &[&[u8]]) -> Vec<u8> {
    fn index(entries: &[&[u8]]) -> Vec<u8> {
        let mut out = (entries.len() as u16).to_be_bytes().to_vec();
        if entries.is_empty() {
            return out;
        }
        out.push(4);
        let mut offset = 1u32;
        out.extend_from_slice(&offset.to_be_bytes());
        for e in entries {
            offset += e.len() as u32;
            out.extend_from_slice(&offset.to_be_bytes());
        }
        for e in entries {
            out.extend_from_slice(e);
        }
        out
    }
    // Offsets are written as 5-byte integers (29), so the Top DICT's size does not depend on them.
    let int = |v: usize| {
        let mut b = vec![29];
        b.extend_from_slice(&(v as i32).to_be_bytes());
        b
    };
    let header = [1u8, 0, 4, 4];
    let names = index(&[b"F"]);
    let strings = index(&[]);
    let global = index(&[]);
    let top_len = 5 + 1 + 5 + 5 + 1; // CharStrings, Private (size, offset)
    let top_index_len = 2 + 1 + 8 + top_len;
    let charstrings_at = header.len() + names.len() + top_index_len + strings.len() + global.len();
    let charstrings = index(charstrings);
    let private_subrs_rel = 6; // the Private DICT is `int(6) 19`: 6 bytes
    let private_at = charstrings_at + charstrings.len();
    let mut private = int(private_subrs_rel);
    private.push(19);
    let mut top = int(charstrings_at);
    top.push(17);
    top.extend(int(private.len()));
    top.extend(int(private_at));
    top.push(18);
    assert_eq!(top.len(), top_len);
    let mut out = header.to_vec();
    out.extend(names);
    out.extend(index(&[&top]));
    out.extend(strings);
    out.extend(global);
    out.extend(charstrings);
    out.extend(private);
    out.extend(index(subrs));
    out
}

/// Type 2 bytes of the integer `v` (-107..=107).
fn num(v: i32) -> u8 {
    (v + 139) as u8
}

#[test]
fn hintmask_bytes_are_skipped_by_the_stem_count() {
    // 3 hstems (6 operands), then hintmask with one mask byte that looks like `callsubr` (10):
    // read as an operator it would call a subroutine that does not exist.
    let glyph: Vec<u8> = [
        num(0),
        num(1),
        num(2),
        num(3),
        num(4),
        num(5),
        1,
        19,
        10,
        14,
    ]
    .to_vec();
    check(&cff_table(&[&glyph], &[])).unwrap();
    // 17 stems: three mask bytes.
    let mut many = Vec::new();
    for _ in 0..17 {
        many.extend_from_slice(&[num(1), num(2)]);
    }
    many.extend_from_slice(&[18, 19, 10, 10, 10, 14]);
    check(&cff_table(&[&many], &[])).unwrap();
}

#[test]
fn computed_or_missing_subroutine_numbers_are_refused() {
    // `1 2 add callsubr`: the number is computed.
    let computed = [num(1), num(2), 12, 10, 10, 14];
    let e = check(&cff_table(&[&computed], &[&[11]])).unwrap_err();
    assert!(e.reason().contains("computed"), "{e:?}");
    // Subroutine 5 of one (bias 107: the number pushed is 5 - 107).
    let missing = [num(-102), 10, 14];
    let e = check(&cff_table(&[&missing], &[&[11]])).unwrap_err();
    assert!(e.reason().contains("does not have"), "{e:?}");
    // A subroutine that calls itself stops at the nesting limit.
    let selfcall: &[u8] = &[num(-107), 10, 11];
    let e = check(&cff_table(&[&[num(-107), 10, 14]], &[selfcall])).unwrap_err();
    assert!(e.reason().contains("deeper than 10"), "{e:?}");
}

#[test]
fn a_subroutine_called_many_times_counts_every_time() {
    // A subroutine of 200 operators, called 40 times by each of 300 glyphs: 8,000+ per glyph,
    // 2.4 M in all: within the bounds.
    let mut subr = Vec::new();
    for _ in 0..100 {
        subr.extend_from_slice(&[num(1), 18]);
    }
    subr.push(11);
    let mut glyph = Vec::new();
    for _ in 0..40 {
        glyph.extend_from_slice(&[num(-107), 10]);
    }
    glyph.push(14);
    let glyphs: Vec<&[u8]> = (0..300).map(|_| glyph.as_slice()).collect();
    check(&cff_table(&glyphs, &[&subr])).unwrap();
    // Called 300 times: 60,000+ operators in one glyph.
    let mut heavy = Vec::new();
    for _ in 0..300 {
        heavy.extend_from_slice(&[num(-107), 10]);
    }
    heavy.push(14);
    let e = check(&cff_table(&[&heavy], &[&subr])).unwrap_err();
    assert!(matches!(e, FontError::TooComplex(_)), "{e:?}");
}
