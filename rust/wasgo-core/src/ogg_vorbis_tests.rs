use super::*;

/// A real Ogg Vorbis file (`oggenc -q -1` of the tests' 250 ms beep).
const BEEP: &[u8] = include_bytes!("../tests/data/beep.ogg");

/// Writes bits as libvorbis's `oggpack` does: least significant bit first.
#[derive(Default)]
struct Writer {
    bytes: Vec<u8>,
    bits: usize,
}

impl Writer {
    fn put(&mut self, value: u32, n: u32) {
        for i in 0..n {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = ((value >> i) & 1) as u8;
            *self.bytes.last_mut().unwrap() |= bit << (self.bits % 8);
            self.bits += 1;
        }
    }
}

/// An Ogg page of `serial` and `sequence` holding `packets` whole (and `continued` when the
/// first continues the last page's packet); `bad_crc` spoils its checksum.
fn page(serial: u32, sequence: u32, packets: &[&[u8]], bad_crc: bool) -> Vec<u8> {
    let mut segments = Vec::new();
    let mut body = Vec::new();
    for p in packets {
        let mut left = p.len();
        loop {
            let n = left.min(255);
            segments.push(n as u8);
            left -= n;
            if n < 255 {
                break;
            }
        }
        body.extend_from_slice(p);
    }
    let mut page = b"OggS\0".to_vec();
    page.push(if sequence == 0 { 2 } else { 0 });
    page.extend_from_slice(&0u64.to_le_bytes());
    page.extend_from_slice(&serial.to_le_bytes());
    page.extend_from_slice(&sequence.to_le_bytes());
    page.extend_from_slice(&[0; 4]);
    page.push(segments.len() as u8);
    page.extend_from_slice(&segments);
    page.extend_from_slice(&body);
    let crc = page_crc(&page) ^ u32::from(bad_crc);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

fn identification() -> Vec<u8> {
    let mut p = b"\x01vorbis".to_vec();
    p.extend_from_slice(&0u32.to_le_bytes());
    p.push(1);
    p.extend_from_slice(&44100u32.to_le_bytes());
    p.extend_from_slice(&[0; 12]);
    p.push(0xb8);
    p.push(1);
    p
}

fn comment() -> Vec<u8> {
    let mut p = b"\x03vorbis".to_vec();
    p.extend_from_slice(&0u32.to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes());
    p.push(1);
    p
}

/// A setup header of `books` ordered codebooks of `entries` entries each (one codeword length
/// for all: what a few bytes declare), without lookup tables.
fn setup(books: u32, entries: u32) -> Vec<u8> {
    let mut w = Writer::default();
    w.put(books - 1, 8);
    for _ in 0..books {
        w.put(0x56_4342, 24);
        w.put(1, 16);
        w.put(entries, 24);
        w.put(1, 1); // ordered
        w.put(22, 5); // first length 23
        w.put(entries, ilog(entries)); // every entry at that length
        w.put(0, 4); // no lookup
    }
    let mut p = b"\x05vorbis".to_vec();
    p.extend_from_slice(&w.bytes);
    p
}

fn file(setup: &[u8]) -> Vec<u8> {
    let mut f = page(7, 0, &[&identification()], false);
    f.extend(page(7, 1, &[&comment(), setup], false));
    f
}

#[test]
fn a_real_vorbis_file_passes() {
    check_setup_header(BEEP).unwrap();
}

#[test]
fn the_crc_is_the_one_ogg_pages_carry() {
    // The first page of the real file checks out, and one changed byte does not.
    let (_, end) = page_at(BEEP, 0).expect("the first page");
    let mut spoiled = BEEP[..end].to_vec();
    spoiled[end - 1] ^= 1;
    assert!(page_at(&spoiled, 0).is_none());
}

#[test]
fn small_books_pass_and_a_book_of_millions_of_entries_is_refused() {
    check_setup_header(&file(&setup(2, 1000))).unwrap();
    let e = check_setup_header(&file(&setup(1, 1 << 22))).unwrap_err();
    assert!(e.contains("4194304 entries"), "{e}");
    // Many books each under the limit: refused by the total.
    let e = check_setup_header(&file(&setup(8, MAX_BOOK_ENTRIES))).unwrap_err();
    assert!(e.contains("together"), "{e}");
}

#[test]
fn a_page_with_a_wrong_checksum_is_skipped_as_godot_skips_it() {
    // A harmless setup header on a page Godot ignores (its checksum is wrong), then the
    // hostile one on the page Godot reads.
    let mut f = page(7, 0, &[&identification()], false);
    f.extend(page(7, 1, &[&comment(), &setup(1, 10)], true));
    f.extend(page(7, 1, &[&comment(), &setup(1, 1 << 22)], false));
    assert!(check_setup_header(&f).is_err());
}

#[test]
fn a_setup_header_spread_over_pages_is_put_together() {
    let big = setup(1, 1 << 22);
    // The setup packet split at 255 bytes: a whole segment ends the first page.
    let mut padded = big.clone();
    padded.resize(600, 0);
    let mut f = page(7, 0, &[&identification()], false);
    f.extend(page(7, 1, &[&comment()], false));
    // Page 2 carries the first 255 bytes (one full segment: the packet goes on).
    let mut first = page(7, 2, &[], false);
    first[26] = 1;
    first.push(255);
    first.extend_from_slice(&padded[..255]);
    let crc = page_crc(&first);
    first[22..26].copy_from_slice(&crc.to_le_bytes());
    f.extend(first);
    let mut rest = page(7, 3, &[&padded[255..]], false);
    rest[5] |= 1; // continued
    let crc = page_crc(&rest);
    rest[22..26].copy_from_slice(&crc.to_le_bytes());
    f.extend(rest);
    let e = check_setup_header(&f).unwrap_err();
    assert!(e.contains("entries"), "{e}");
}

#[test]
fn header_pages_of_more_than_one_stream_are_refused_and_missing_headers_too() {
    // Another stream's pages among the headers: Godot may decode either (it passes over a
    // stream whose first packet is no identification header), so neither is trusted.
    let mut f = page(7, 0, &[&identification()], false);
    f.extend(page(9, 0, &[&comment(), &setup(1, 1 << 22)], false));
    f.extend(page(7, 1, &[&comment(), &setup(1, 10)], false));
    assert!(check_setup_header(&f)
        .unwrap_err()
        .contains("more than one Ogg stream"));
    // A decoy stream first (no identification header), the real one after it.
    let mut decoy = page(1, 0, &[b"junkjunk"], false);
    decoy.extend(page(2, 0, &[&identification(), &comment()], false));
    decoy.extend(page(1, 1, &[b"junk", &setup(1, 10)], false));
    decoy.extend(page(2, 1, &[&setup(1, 1 << 23)], false));
    assert!(check_setup_header(&decoy).is_err());
    let only_id = page(7, 0, &[&identification()], false);
    assert!(check_setup_header(&only_id)
        .unwrap_err()
        .contains("cut short"));
}

#[test]
fn a_page_of_another_ogg_version_is_refused() {
    // libogg drops such a page whole; a page hidden in its body is never read by Godot.
    let mut f = page(7, 0, &[&identification()], false);
    let mut v1 = page(7, 1, &[&comment(), &setup(1, 10)], false);
    v1[4] = 1;
    let crc = page_crc(&v1);
    v1[22..26].copy_from_slice(&crc.to_le_bytes());
    f.extend(v1);
    assert!(check_setup_header(&f).unwrap_err().contains("version 1"));
}

#[test]
fn overlapping_broken_pages_cost_a_bounded_search() {
    // A file of fake page headers each claiming a 65 KB body: every candidate fails its
    // checksum; the search stops at its budget instead of checksumming gigabytes.
    let mut f = page(7, 0, &[&identification()], false);
    let fake: &[u8] = b"OggS\0\0\0\0\0\0\0\0\0\0\x07\0\0\0\x01\0\0\0\0\0\0\0\xff";
    while f.len() < 4 << 20 {
        f.extend_from_slice(fake);
        f.extend_from_slice(&[0xff; 16]);
    }
    let e = check_setup_header(&f).unwrap_err();
    assert!(e.contains("malformed") || e.contains("cut short"), "{e}");
}

#[test]
fn a_cut_short_or_malformed_setup_header_is_refused() {
    let whole = setup(1, 1000);
    assert!(check_setup_header(&file(&whole[..whole.len() - 2])).is_err());
    let mut bad_sync = whole.clone();
    bad_sync[8] ^= 0xff;
    assert!(check_setup_header(&file(&bad_sync))
        .unwrap_err()
        .contains("sync"));
}

#[test]
fn lookup1_values_is_the_largest_root() {
    assert_eq!(lookup1_values(81, 4), 3);
    assert_eq!(lookup1_values(80, 4), 2);
    assert_eq!(lookup1_values(1, 65535), 1);
    assert_eq!(lookup1_values(65536, 1), 65536);
}

/// A setup header of `books` books of `entries` entries in `dims` dimensions, each with a
/// lookup table of type 1 (its `lookup1_values` 1-bit values, which unpack to one per entry
/// and dimension).
fn setup_with_lookup(books: u32, entries: u32, dims: u32) -> Vec<u8> {
    let mut w = Writer::default();
    w.put(books - 1, 8);
    for _ in 0..books {
        w.put(0x56_4342, 24);
        w.put(dims, 16);
        w.put(entries, 24);
        w.put(0, 1); // not ordered
        w.put(0, 1); // not sparse
        for _ in 0..entries {
            w.put(0, 5); // length 1
        }
        w.put(1, 4); // lookup type 1
        w.put(0, 32); // minimum
        w.put(0, 32); // delta
        w.put(0, 4); // value bits: 1
        w.put(0, 1); // sequence_p
        for _ in 0..lookup1_values(entries, dims) {
            w.put(0, 1);
        }
    }
    let mut p = b"\x05vorbis".to_vec();
    p.extend_from_slice(&w.bytes);
    p
}

/// A book with a lookup table is unpacked into a float per entry and dimension at every
/// `play()` (libvorbis checks no allocation: 511 entries in 32,767 dimensions per book, 256
/// books, asked for 16 GiB and crashed the game): bounded per book and per sound.
#[test]
fn a_book_of_many_dimensions_is_refused_and_a_usual_one_passes() {
    check_setup_header(&file(&setup_with_lookup(2, 81, 4))).unwrap();
    let e = check_setup_header(&file(&setup_with_lookup(1, 511, 32_767))).unwrap_err();
    assert!(e.contains("511 entries × 32767 dimensions"), "{e}");
    // Books each within the bound: refused by the total.
    let e = check_setup_header(&file(&setup_with_lookup(17, 1 << 10, 1 << 8))).unwrap_err();
    assert!(e.contains("values together"), "{e}");
}
