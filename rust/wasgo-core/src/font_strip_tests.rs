use super::*;

fn table<'a>(tag: &[u8; 4], data: Vec<u8>) -> Table<'a> {
    Table {
        tag: *tag,
        data: data.into(),
    }
}

/// A simple glyph of one contour with `instructions`, then `rest` (its flags and points).
fn simple_glyph(instructions: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut g = vec![0, 1, 0, 0, 0, 0, 0, 10, 0, 10, 0, 3];
    g.extend_from_slice(&(instructions.len() as u16).to_be_bytes());
    g.extend_from_slice(instructions);
    g.extend_from_slice(rest);
    g
}

/// A composite glyph of two components, the last one flagged as followed by instructions.
fn composite_glyph() -> Vec<u8> {
    let mut g = vec![0xFF, 0xFF, 0, 0, 0, 0, 0, 10, 0, 10];
    g.extend_from_slice(&[0x00, 0x21, 0, 1, 0, 5, 0, 6]); // words, more components; glyph 1 at (5, 6)
    g.extend_from_slice(&[0x01, 0x00, 0, 1, 7, 8]); // has instructions; glyph 1 at (7, 8)
    g.extend_from_slice(&[0, 3, 0xB0, 1, 0x21]);
    g
}

/// A TrueType font with hinting tables and instructions in both kinds of glyph (short `loca`).
fn hinted_font() -> Vec<u8> {
    let glyphs = [
        Vec::new(),
        simple_glyph(&[0xB0, 1, 0x21, 0xB0, 1, 0x21], b"FLAGS&POINTS"),
        composite_glyph(),
    ];
    let mut glyf = Vec::new();
    let mut loca = Vec::new();
    for g in &glyphs {
        loca.extend_from_slice(&((glyf.len() / 2) as u16).to_be_bytes());
        glyf.extend_from_slice(g);
        if glyf.len() % 2 != 0 {
            glyf.push(0);
        }
    }
    loca.extend_from_slice(&((glyf.len() / 2) as u16).to_be_bytes());
    let mut head = vec![0u8; 54];
    head[0..4].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    head[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    let mut maxp = vec![0u8; 32];
    maxp[0..4].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    maxp[4..6].copy_from_slice(&3u16.to_be_bytes());
    maxp[20..22].copy_from_slice(&1u16.to_be_bytes());
    maxp[26..28].copy_from_slice(&6u16.to_be_bytes());
    let mut tables = vec![
        table(b"cmap", vec![0; 4]),
        table(b"cvt ", vec![0; 64]),
        table(b"fpgm", vec![0xB0, 0, 0x2C, 0x2D]),
        table(b"glyf", glyf),
        table(b"head", head),
        table(b"hhea", vec![0; 36]),
        table(b"hmtx", vec![0; 12]),
        table(b"loca", loca),
        table(b"maxp", maxp),
        table(b"prep", vec![0xB0, 0, 0x2B]),
        table(b"SVG ", b"<svg/>".to_vec()),
        table(b"COLR", vec![0; 14]),
        table(b"sbix", vec![0; 8]),
        table(b"bdat", vec![0; 8]),
        table(b"bloc", vec![0; 8]),
        table(b"bhed", vec![0; 54]),
    ];
    write_font(&[0, 1, 0, 0], &mut tables)
}

/// The tables of a font file, by tag.
fn tables_of(font: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let count = be16(font, 4).unwrap() as usize;
    (0..count)
        .map(|t| {
            let at = 12 + t * 16;
            let offset = be32(font, at + 8).unwrap() as usize;
            let length = be32(font, at + 12).unwrap() as usize;
            assert_eq!(
                be32(font, at + 4).unwrap(),
                if &font[at..at + 4] == b"head" {
                    let mut head = font[offset..offset + length].to_vec();
                    head[8..12].fill(0);
                    checksum(&head)
                } else {
                    checksum(&font[offset..offset + length])
                },
                "the checksum of `{}`",
                String::from_utf8_lossy(&font[at..at + 4])
            );
            (
                font[at..at + 4].try_into().unwrap(),
                font[offset..offset + length].to_vec(),
            )
        })
        .collect()
}

fn get<'a>(tables: &'a [([u8; 4], Vec<u8>)], tag: &[u8; 4]) -> &'a [u8] {
    &tables.iter().find(|(t, _)| t == tag).unwrap().1
}

#[test]
fn instructions_and_hinting_tables_are_gone_and_outlines_kept() {
    let font = hinted_font();
    let stripped = strip_instructions(&font).unwrap();
    let tables = tables_of(&stripped);
    let tags: Vec<&[u8; 4]> = tables.iter().map(|(t, _)| t).collect();
    assert_eq!(
        tags,
        [b"cmap", b"glyf", b"head", b"hhea", b"hmtx", b"loca", b"maxp"],
        "no fpgm, prep, cvt, SVG, COLR, sbix or Apple bitmaps (bdat, bloc, bhed), in tag order"
    );
    assert_eq!(be16(get(&tables, b"head"), 50), Some(1), "loca is long now");
    let maxp = get(&tables, b"maxp");
    assert_eq!(
        (be16(maxp, 4), be16(maxp, 20), be16(maxp, 26)),
        (Some(3), Some(0), Some(0))
    );
    let loca = get(&tables, b"loca");
    let glyf = get(&tables, b"glyf");
    let offsets: Vec<usize> = (0..4)
        .map(|i| be32(loca, i * 4).unwrap() as usize)
        .collect();
    assert_eq!(offsets[0], offsets[1], "the empty glyph stays empty");
    let simple = &glyf[offsets[1]..offsets[2]];
    assert_eq!(
        &simple[..simple_glyph(&[], b"FLAGS&POINTS").len()],
        simple_glyph(&[], b"FLAGS&POINTS").as_slice(),
        "the simple glyph keeps its outline, without instructions"
    );
    let composite = &glyf[offsets[2]..offsets[3]];
    let mut expected = composite_glyph();
    expected.truncate(expected.len() - 5);
    expected[18] = 0x00; // the instructions flag cleared
    assert_eq!(&composite[..expected.len()], expected.as_slice());
    assert!(
        composite[expected.len()..].iter().all(|&b| b == 0),
        "only padding after it"
    );
    assert_eq!(
        checksum(&stripped),
        0xB1B0_AFBA,
        "head's checksum adjustment"
    );
    assert_eq!(
        strip_instructions(&stripped).unwrap(),
        stripped,
        "a second pass changes nothing"
    );
}

#[test]
fn a_font_without_glyf_only_loses_its_hinting_tables() {
    let mut tables = vec![
        table(b"CFF ", b"charstrings".to_vec()),
        table(b"cvt ", vec![0; 8]),
        table(b"head", vec![0; 54]),
    ];
    let stripped = strip_instructions(&write_font(b"OTTO", &mut tables)).unwrap();
    let tags: Vec<[u8; 4]> = tables_of(&stripped).into_iter().map(|(t, _)| t).collect();
    assert_eq!(tags, [*b"CFF ", *b"head"]);
}

#[test]
fn broken_glyph_data_is_refused() {
    let font = hinted_font();
    let tables = tables_of(&font);
    let rebuild = |tag: &[u8; 4], data: Vec<u8>| {
        let mut all: Vec<Table> = tables
            .iter()
            .map(|(t, d)| table(t, if t == tag { data.clone() } else { d.clone() }))
            .collect();
        write_font(&[0, 1, 0, 0], &mut all)
    };
    // loca pointing past glyf.
    let mut loca = get(&tables, b"loca").to_vec();
    loca[6..8].copy_from_slice(&0x7FFFu16.to_be_bytes());
    assert!(strip_instructions(&rebuild(b"loca", loca))
        .unwrap_err()
        .reason()
        .to_string()
        .contains("outside `glyf`"));
    // An instruction length past the glyph's end.
    let mut glyf = get(&tables, b"glyf").to_vec();
    glyf[12..14].copy_from_slice(&0x4000u16.to_be_bytes());
    assert!(strip_instructions(&rebuild(b"glyf", glyf))
        .unwrap_err()
        .reason()
        .to_string()
        .contains("glyph 1"));
    // maxp counting more glyphs than loca has.
    let mut maxp = get(&tables, b"maxp").to_vec();
    maxp[4..6].copy_from_slice(&500u16.to_be_bytes());
    assert!(strip_instructions(&rebuild(b"maxp", maxp))
        .unwrap_err()
        .reason()
        .to_string()
        .contains("no entry"));
    // A head with no valid loca format.
    let mut head = get(&tables, b"head").to_vec();
    head[50..52].copy_from_slice(&7u16.to_be_bytes());
    assert!(strip_instructions(&rebuild(b"head", head)).is_err());
}

/// A font of `glyphs` (long `loca`), without hinting tables.
fn font_of(glyphs: &[Vec<u8>]) -> Vec<u8> {
    let mut glyf = Vec::new();
    let mut loca = Vec::new();
    for g in glyphs {
        loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
        glyf.extend_from_slice(g);
        while glyf.len() % 4 != 0 {
            glyf.push(0);
        }
    }
    loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
    let mut head = vec![0u8; 54];
    head[50..52].copy_from_slice(&1u16.to_be_bytes());
    let mut maxp = vec![0u8; 32];
    maxp[4..6].copy_from_slice(&(glyphs.len() as u16).to_be_bytes());
    let mut tables = vec![
        table(b"glyf", glyf),
        table(b"head", head),
        table(b"loca", loca),
        table(b"maxp", maxp),
    ];
    write_font(&[0, 1, 0, 0], &mut tables)
}

/// A composite glyph of `parts` (glyph indexes, byte offsets).
fn composite_of(parts: &[u16]) -> Vec<u8> {
    let mut g = vec![0xFF, 0xFF, 0, 0, 0, 0, 0, 10, 0, 10];
    for (i, part) in parts.iter().enumerate() {
        let more: u16 = if i + 1 < parts.len() { 0x0020 } else { 0 };
        g.extend_from_slice(&more.to_be_bytes());
        g.extend_from_slice(&part.to_be_bytes());
        g.extend_from_slice(&[0, 0]);
    }
    g
}

#[test]
fn composites_that_multiply_are_refused_and_ordinary_ones_kept() {
    let square = simple_glyph(&[], b"points");
    // Accent-like composites: fine.
    let ok = font_of(&[
        Vec::new(),
        square.clone(),
        composite_of(&[1, 1]),
        composite_of(&[2, 1]),
    ]);
    assert!(strip_instructions(&ok).is_ok());
    // 100 components of 100 components: 10,100 loads and 40,000 points in one glyph.
    let hundred = |part: u16| composite_of(&[part; 100]);
    let bomb = font_of(&[Vec::new(), square.clone(), hundred(1), hundred(2)]);
    let e = strip_instructions(&bomb).unwrap_err().reason().to_string();
    assert!(
        e.contains("glyph 3") && e.contains("components expanded"),
        "{e}"
    );
    // A glyph made of itself, directly or through another.
    let itself = font_of(&[Vec::new(), composite_of(&[1])]);
    assert!(strip_instructions(&itself)
        .unwrap_err()
        .reason()
        .to_string()
        .contains("made of itself"));
    let circle = font_of(&[Vec::new(), composite_of(&[2]), composite_of(&[1])]);
    assert!(strip_instructions(&circle)
        .unwrap_err()
        .reason()
        .to_string()
        .contains("made of itself"));
    let missing = font_of(&[Vec::new(), composite_of(&[9])]);
    assert!(strip_instructions(&missing)
        .unwrap_err()
        .reason()
        .to_string()
        .contains("does not have"));
}

#[test]
fn long_component_chains_are_followed_without_recursion() {
    // glyph i uses glyph i + 1, 1000 deep: 999 loads for glyph 1, within the bound.
    let mut glyphs = vec![Vec::new()];
    for i in 1..1000u16 {
        glyphs.push(composite_of(&[i + 1]));
    }
    glyphs.push(simple_glyph(&[], b"points"));
    assert!(strip_instructions(&font_of(&glyphs)).is_ok());
    // 5000 deep: past the loads bound, refused (and no stack overflow on the way).
    let mut glyphs = vec![Vec::new()];
    for i in 1..5000u16 {
        glyphs.push(composite_of(&[i + 1]));
    }
    glyphs.push(simple_glyph(&[], b"points"));
    assert!(strip_instructions(&font_of(&glyphs)).is_err());
}

#[test]
fn the_points_of_all_glyphs_together_are_bounded() {
    // One glyph of 65,535 points used by 300 composites: 19.7 M points with the components
    // expanded, past the font's bound.
    let mut big = vec![0, 1, 0, 0, 0, 0, 0, 10, 0, 10];
    big.extend_from_slice(&65_534u16.to_be_bytes());
    big.extend_from_slice(&[0, 0]);
    let mut glyphs = vec![Vec::new(), big];
    for _ in 0..300 {
        glyphs.push(composite_of(&[1]));
    }
    let e = strip_instructions(&font_of(&glyphs))
        .unwrap_err()
        .reason()
        .to_string();
    assert!(e.contains("together"), "{e}");
    glyphs.truncate(200);
    assert!(strip_instructions(&font_of(&glyphs)).is_ok());
}
