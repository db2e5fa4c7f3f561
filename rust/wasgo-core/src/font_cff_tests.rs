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

/// A 5-byte DICT integer (29): offsets written this way keep every DICT's size fixed.
fn int(v: usize) -> Vec<u8> {
    let mut b = vec![29];
    b.extend_from_slice(&(v as i32).to_be_bytes());
    b
}

fn cff_index(entries: &[&[u8]]) -> Vec<u8> {
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

/// A CFF table of one font whose glyphs are `charstrings` and local subroutines `subrs`.
fn cff_table(charstrings: &[&[u8]], subrs: &[&[u8]]) -> Vec<u8> {
    let header = [1u8, 0, 4, 4];
    let names = cff_index(&[b"F"]);
    let strings = cff_index(&[]);
    let global = cff_index(&[]);
    let top_len = 5 + 1 + 5 + 5 + 1; // CharStrings, Private (size, offset)
    let top_index_len = 2 + 1 + 8 + top_len;
    let charstrings_at = header.len() + names.len() + top_index_len + strings.len() + global.len();
    let charstrings = cff_index(charstrings);
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
    out.extend(cff_index(&[&top]));
    out.extend(strings);
    out.extend(global);
    out.extend(charstrings);
    out.extend(private);
    out.extend(cff_index(subrs));
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

/// A CFF table with Font DICTs: glyphs `charstrings`, the FDSelect `fd_select` (format byte
/// included), one Font DICT per entry of `fd_subrs` (its local subroutines); `ros` writes the
/// Top DICT's ROS, `fd_array` its FDArray and FDSelect.
fn cid_table(
    charstrings: &[&[u8]],
    fd_select: &[u8],
    fd_subrs: &[&[&[u8]]],
    ros: bool,
    fd_array: bool,
) -> Vec<u8> {
    let header = [1u8, 0, 4, 4];
    let names = cff_index(&[b"F"]);
    let strings = cff_index(&[]);
    let global = cff_index(&[]);
    let top_len = if ros { 17 } else { 0 } + 6 + if fd_array { 14 } else { 0 };
    let top_index_len = 2 + 1 + 8 + top_len;
    let charstrings_at = header.len() + names.len() + top_index_len + strings.len() + global.len();
    let charstrings = cff_index(charstrings);
    let fd_select_at = charstrings_at + charstrings.len();
    let fd_array_at = fd_select_at + fd_select.len();
    let fd_array_len = 2 + 1 + (fd_subrs.len() + 1) * 4 + fd_subrs.len() * 11;
    // Each Font DICT's Private DICT (`int(6) 19`, 6 bytes) and its subroutines, in turn.
    let mut privates = Vec::new();
    let mut fd_dicts = Vec::new();
    for subrs in fd_subrs {
        let private_at = fd_array_at + fd_array_len + privates.len();
        let mut fd = int(6);
        fd.extend(int(private_at));
        fd.push(18);
        fd_dicts.push(fd);
        privates.extend(int(6));
        privates.push(19);
        privates.extend(cff_index(subrs));
    }
    let mut top = Vec::new();
    if ros {
        top.extend(int(0));
        top.extend(int(0));
        top.extend(int(0));
        top.extend([12, 30]);
    }
    top.extend(int(charstrings_at));
    top.push(17);
    if fd_array {
        top.extend(int(fd_array_at));
        top.extend([12, 36]);
        top.extend(int(fd_select_at));
        top.extend([12, 37]);
    }
    assert_eq!(top.len(), top_len);
    let fd_refs: Vec<&[u8]> = fd_dicts.iter().map(Vec::as_slice).collect();
    let fd_index = cff_index(&fd_refs);
    assert_eq!(fd_index.len(), fd_array_len);
    let mut out = header.to_vec();
    out.extend(names);
    out.extend(cff_index(&[&top]));
    out.extend(strings);
    out.extend(global);
    out.extend(charstrings);
    out.extend_from_slice(fd_select);
    out.extend(fd_index);
    out.extend(privates);
    out
}

/// FDSelect format 3 of `ranges` (first glyph, Font DICT) ending before glyph `sentinel`.
fn fd_ranges(ranges: &[(u16, u8)], sentinel: u16) -> Vec<u8> {
    let mut out = vec![3];
    out.extend_from_slice(&(ranges.len() as u16).to_be_bytes());
    for (first, fd) in ranges {
        out.extend_from_slice(&first.to_be_bytes());
        out.push(*fd);
    }
    out.extend_from_slice(&sentinel.to_be_bytes());
    out
}

#[test]
fn a_cid_font_runs_each_glyph_with_its_font_dicts_subroutines() {
    // Glyph 0 (Font DICT 0) and glyph 1 (Font DICT 1) both call local subroutine 0.
    let call0: &[u8] = &[num(-107), 10, 14];
    let select = fd_ranges(&[(0, 0), (1, 1)], 2);
    check(&cid_table(
        &[call0, call0],
        &select,
        &[&[&[11]], &[&[11]]],
        true,
        true,
    ))
    .unwrap();
    // Font DICT 1 has no subroutines: glyph 1's call is refused, naming it.
    let e = check(&cid_table(
        &[call0, call0],
        &select,
        &[&[&[11]], &[]],
        true,
        true,
    ))
    .unwrap_err();
    assert!(e.reason().contains("glyph 1 calls subroutine 0"), "{e:?}");
    // Format 0 says the same.
    let e = check(&cid_table(
        &[call0, call0],
        &[0, 0, 1],
        &[&[&[11]], &[]],
        true,
        true,
    ))
    .unwrap_err();
    assert!(e.reason().contains("glyph 1 calls subroutine 0"), "{e:?}");
}

#[test]
fn a_font_is_cid_keyed_by_its_ros_as_freetype_decides() {
    // FreeType reads the FDArray only with ROS, and ROS wants an FDArray: either alone would
    // be checked with other subroutines than FreeType draws with.
    let glyph: &[u8] = &[14];
    let select = fd_ranges(&[(0, 0)], 1);
    let e = check(&cid_table(&[glyph], &select, &[&[]], false, true)).unwrap_err();
    assert!(e.reason().contains("not CID-keyed (no ROS)"), "{e:?}");
    let e = check(&cid_table(&[glyph], &select, &[&[]], true, false)).unwrap_err();
    assert!(e.reason().contains("has no FDArray"), "{e:?}");
}

#[test]
fn fd_select_ranges_must_increase_from_glyph_zero() {
    // FreeType takes the first range that holds a glyph: out of order, glyphs 5 to 9 would be
    // checked with Font DICT 1 and drawn with Font DICT 0's subroutines.
    let glyph: &[u8] = &[14];
    let glyphs = vec![glyph; 20];
    let fds: &[&[&[u8]]] = &[&[], &[]];
    let fine = fd_ranges(&[(0, 0), (10, 1)], 20);
    check(&cid_table(&glyphs, &fine, fds, true, true)).unwrap();
    for bad in [
        fd_ranges(&[(0, 0), (10, 1), (5, 1)], 20),
        fd_ranges(&[(1, 0), (10, 1)], 20),
        fd_ranges(&[(0, 0), (10, 1)], 10),
    ] {
        let e = check(&cid_table(&glyphs, &bad, fds, true, true)).unwrap_err();
        assert!(e.reason().contains("increasing order"), "{e:?}");
    }
}

#[test]
fn a_repeated_dict_operator_is_refused() {
    // FreeType keeps the last CharStrings offset, the check would read the first.
    let e = dict(&[140, 17, 141, 17]).unwrap_err();
    assert!(e.reason().contains("repeats operator 17"), "{e:?}");
    let e = dict(&[140, 12, 36, 141, 12, 36]).unwrap_err();
    assert!(e.reason().contains("repeats operator 12 36"), "{e:?}");
    assert_eq!(dict(&[140, 17, 141, 18]).unwrap().len(), 2);
}

#[test]
fn a_subroutine_number_must_be_pushed_right_before_the_call() {
    // `-106 -107 -1 get drop callsubr`: FreeType's `get` of an index out of range pushes
    // nothing, so it calls subroutine 1 where a model of the stack would call 0.
    let glyph = [num(-106), num(-107), num(-1), 12, 21, 12, 18, 10, 14];
    let e = check(&cff_table(&[&glyph], &[&[11], &[11]])).unwrap_err();
    assert!(
        e.reason().contains("not pushed right before the call"),
        "{e:?}"
    );
    // Right before it, after any stack work, is fine.
    let glyph = [num(1), num(2), 12, 21, 12, 18, num(-106), 10, 14];
    check(&cff_table(&[&glyph], &[&[11], &[11]])).unwrap();
}

#[test]
fn hints_after_stack_operators_whose_effect_is_not_followed_are_refused() {
    // `1 2 3 index hstem`: the stems (and so the mask bytes of a later hintmask) depend on it.
    let glyph = [num(1), num(2), num(3), 12, 29, 1, 14];
    let e = check(&cff_table(&[&glyph], &[])).unwrap_err();
    assert!(
        e.reason().contains("`get`, `put`, `index` or `roll`"),
        "{e:?}"
    );
    // Once a path operator cleared the stack, hints are fine again.
    let glyph = [num(1), num(2), num(3), 12, 29, 21, num(1), num(2), 1, 14];
    check(&cff_table(&[&glyph], &[])).unwrap();
}

#[test]
fn hint_operators_after_a_mask_run_as_freetype_runs_them() {
    // Eight hstems, a hintmask (one mask byte), then a hintmask with two operands: FreeType
    // skips that operator alone, and the byte after it (`-106 callsubr`) runs as code.
    let mut glyph = vec![num(0); 16];
    glyph.extend_from_slice(&[18, 19, 0xFF, num(0), num(0), 19, num(-106), 10, 14]);
    let e = check(&cff_table(&[&glyph], &[&[11]])).unwrap_err();
    assert!(e.reason().contains("calls subroutine 1"), "{e:?}");
    // A stem after a mask adds none: the next hintmask has one mask byte, not two, and the
    // byte after it runs.
    let mut glyph = vec![num(0); 16];
    glyph.extend_from_slice(&[18, 19, 0xFF, num(0), num(0), 1, 19, 0xFF, num(-106), 10, 14]);
    let e = check(&cff_table(&[&glyph], &[&[11]])).unwrap_err();
    assert!(e.reason().contains("calls subroutine 1"), "{e:?}");
    // A cntrmask reads its mask but is no hint mask: stems still count after it.
    let mut glyph = vec![num(0); 16];
    glyph.extend_from_slice(&[18, 20, 0xFF, num(0), num(0), 1, 19, 0xFF, 0x0A, 14]);
    check(&cff_table(&[&glyph], &[])).unwrap();
}

#[test]
fn an_accented_glyph_counts_the_two_glyphs_its_seac_draws() {
    // Glyph 0: 26,000+ operators (a 200-operator subroutine called 130 times).
    let mut subr = Vec::new();
    for _ in 0..100 {
        subr.extend_from_slice(&[num(1), 18]);
    }
    subr.push(11);
    let mut heavy = Vec::new();
    for _ in 0..130 {
        heavy.extend_from_slice(&[num(-107), 10]);
    }
    heavy.push(14);
    let plain = [num(0), 14];
    check(&cff_table(&[&heavy, &plain], &[&subr])).unwrap();
    // Glyph 1 ends with `seac`'s four operands: it draws two glyphs of up to 26,000 each.
    let seac = [num(0), num(0), num(0), num(0), 14];
    let e = check(&cff_table(&[&heavy, &seac], &[&subr])).unwrap_err();
    assert!(
        matches!(&e, FontError::TooComplex(w) if w.contains("glyph 1") && w.contains("seac")),
        "{e:?}"
    );
    // Not in a CID-keyed font, where FreeType would draw them with glyph 1's subroutines.
    let select = fd_ranges(&[(0, 0)], 2);
    let e = check(&cid_table(&[&plain, &seac], &select, &[&[]], true, true)).unwrap_err();
    assert!(e.reason().contains("CID-keyed"), "{e:?}");
}
