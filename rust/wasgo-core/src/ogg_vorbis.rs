//! The Vorbis setup header of an Ogg Vorbis sound, checked before Godot reads it.
//!
//! The setup header (the stream's third packet) holds the codebooks, and its size says nothing
//! about their cost: an "ordered" codebook declares up to 2^23 entries in a few bytes. Godot
//! (libvorbis) unpacks every book when it loads the sound (a length per entry: 256 such books
//! are 2 GB) and builds the decode tables again at every `play()`, on the main thread, with two
//! stack buffers of 12 bytes per entry (a book of 4 million entries overflowed the main
//! thread's stack: Godot crashed). So the codebooks are read here as libvorbis reads them and a
//! sound whose books hold more than [`MAX_BOOK_ENTRIES`] entries, or more than
//! [`MAX_TOTAL_ENTRIES`] together, is refused. Real encoders stay far below both (libvorbis's
//! own books hold at most a few thousand entries each). A book with a lookup table is also
//! unpacked at every `play()` into a float per entry and dimension (libvorbis allows up to 2^24
//! of them per book and checks no allocation: 256 books of 511 entries in 32,767 dimensions, a
//! 5 KiB header, asked for 16 GiB and crashed the game at `play()`), so a book holds at most
//! [`MAX_BOOK_VALUES`] values and a sound's books [`MAX_TOTAL_VALUES`] together (libvorbis's
//! own books: a few thousand entries in at most 8 dimensions).
//!
//! The pages are found as libogg finds them (a page whose checksum is wrong is skipped, the
//! search going on one byte later), so the packets read here are the ones Godot decodes.

/// The most entries one codebook may declare.
pub const MAX_BOOK_ENTRIES: u32 = 1 << 16;
/// The most entries a sound's codebooks may declare together.
pub const MAX_TOTAL_ENTRIES: u64 = 1 << 18;

/// The most values (entries × dimensions) one codebook with a lookup table may unpack to.
pub const MAX_BOOK_VALUES: u64 = 1 << 18;
/// The most values a sound's codebooks may unpack to together (16 MiB of floats).
pub const MAX_TOTAL_VALUES: u64 = 1 << 22;

/// Why a sound's Vorbis headers are refused, as text for the asset error.
pub type Refusal = String;

/// Checks the setup header of the Ogg Vorbis stream in `b` (the whole file): found, well
/// formed as far as its codebooks, and within the entry limits.
pub fn check_setup_header(b: &[u8]) -> Result<(), Refusal> {
    let packets = header_packets(b)?;
    let setup = &packets[2];
    if setup.len() < 7 || setup[0] != 5 || &setup[1..7] != b"vorbis" {
        return Err("its third Vorbis header is not the setup header".into());
    }
    check_codebooks(&setup[7..])
}

/// The table of the Ogg CRC (polynomial 0x04c11db7, not reflected), one entry per byte.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut crc = (n as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[n] = crc;
        n += 1;
    }
    table
};

/// The CRC of an Ogg page (initial value 0), computed with the page's checksum field read as
/// zero.
fn page_crc(page: &[u8]) -> u32 {
    let mut crc: u32 = 0;
    for (i, &byte) in page.iter().enumerate() {
        let byte = if (22..26).contains(&i) { 0 } else { byte };
        crc = (crc << 8) ^ CRC_TABLE[((crc >> 24) as u8 ^ byte) as usize];
    }
    crc
}

/// An Ogg page found in the file.
struct Page<'a> {
    version: u8,
    serial: u32,
    sequence: u32,
    continued: bool,
    segments: &'a [u8],
    body: &'a [u8],
}

/// The page at `at`, if a whole page with a right checksum starts there.
fn page_at(b: &[u8], at: usize) -> Option<(Page<'_>, usize)> {
    let head = b.get(at..at + 27)?;
    if &head[..4] != b"OggS" {
        return None;
    }
    let count = usize::from(head[26]);
    let segments = b.get(at + 27..at + 27 + count)?;
    let end = at + claimed_len(b, at);
    let page = b.get(at..end)?;
    let stored = u32::from_le_bytes(head[22..26].try_into().ok()?);
    if page_crc(page) != stored {
        return None;
    }
    Some((
        Page {
            version: head[4],
            serial: u32::from_le_bytes(head[14..18].try_into().ok()?),
            sequence: u32::from_le_bytes(head[18..22].try_into().ok()?),
            continued: head[5] & 1 != 0,
            segments,
            body: &b[at + 27 + count..end],
        },
        end,
    ))
}

/// The first three packets (identification, comment, setup) of the file's logical stream, put
/// together across pages. Only a file whose header pages are all of one stream, of Ogg
/// version 0, is read: Godot passes over a stream whose first packet is no Vorbis
/// identification header and takes the next one, and libogg drops a page of another version
/// whole, so a decoy stream or page could show this check other headers than Godot decodes.
fn header_packets(b: &[u8]) -> Result<[Vec<u8>; 3], Refusal> {
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let mut partial: Option<Vec<u8>> = None;
    let mut stream: Option<(u32, u32)> = None; // serial, last sequence number
    let mut at = 0;
    // Bytes checksummed so far: candidates that fail their checksum cost their claimed length,
    // and overlapping fake pages could ask for gigabytes in a 4 MiB file.
    let mut checked = 0usize;
    let budget = b.len().saturating_mul(2).saturating_add(1 << 16);
    while packets.len() < 3 {
        // Found as libogg finds pages: the next `OggS` whose page checks out.
        let Some(found) = b
            .get(at..)
            .and_then(|rest| rest.windows(4).position(|w| w == b"OggS"))
        else {
            return Err(
                "its Vorbis headers are cut short (fewer than three header packets)".into(),
            );
        };
        let start = at + found;
        if checked > budget {
            return Err(
                "its Ogg pages are malformed (too many broken pages before its headers)".into(),
            );
        }
        checked = checked.saturating_add(claimed_len(b, start));
        let Some((page, end)) = page_at(b, start) else {
            at = start + 1;
            continue;
        };
        at = end;
        if page.version != 0 {
            return Err(format!(
                "it has an Ogg page of version {} among its headers (0 is the only one)",
                page.version
            ));
        }
        match stream {
            None => stream = Some((page.serial, page.sequence)),
            Some((serial, _)) if serial != page.serial => {
                return Err("its header pages belong to more than one Ogg stream; WasGo reads a sound of one Vorbis stream".into());
            }
            Some((serial, last)) => {
                if page.sequence != last.wrapping_add(1) {
                    return Err("its header pages are out of order".into());
                }
                stream = Some((serial, page.sequence));
            }
        }
        if page.continued != partial.is_some() {
            return Err("its header pages do not continue each other's packets".into());
        }
        let mut from = 0;
        for &segment in page.segments {
            let len = usize::from(segment);
            let part = &page.body[from..from + len];
            from += len;
            partial.get_or_insert_with(Vec::new).extend_from_slice(part);
            if segment < 255 {
                packets.extend(partial.take());
                if packets.len() == 3 {
                    break;
                }
            }
        }
    }
    if !packets[0].starts_with(b"\x01vorbis") {
        return Err("its Ogg stream does not start with a Vorbis identification header".into());
    }
    let mut packets = packets.into_iter();
    let mut next = || packets.next().unwrap_or_default();
    Ok([next(), next(), next()])
}

/// The length the page at `at` claims (its header, segment table and body), as far as it can be
/// read: what checking its checksum costs.
fn claimed_len(b: &[u8], at: usize) -> usize {
    let Some(&count) = b.get(at + 26) else {
        return 27;
    };
    let count = usize::from(count);
    let body: usize = b
        .get(at + 27..at + 27 + count)
        .map_or(0, |s| s.iter().map(|&x| usize::from(x)).sum());
    27 + count + body
}

/// Reads bits as libvorbis's `oggpack` does: least significant bit first.
struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: u32) -> Result<u32, Refusal> {
        let mut value: u32 = 0;
        for i in 0..n {
            let byte = *self
                .bytes
                .get(self.at / 8)
                .ok_or_else(|| "its Vorbis setup header is cut short".to_string())?;
            let bit = (byte >> (self.at % 8)) & 1;
            value |= u32::from(bit) << i;
            self.at += 1;
        }
        Ok(value)
    }

    /// Skips `n` bits, failing as a read would past the end.
    fn skip(&mut self, n: u64) -> Result<(), Refusal> {
        let to = (self.at as u64).saturating_add(n);
        if to > self.bytes.len() as u64 * 8 {
            return Err("its Vorbis setup header is cut short".into());
        }
        self.at = to as usize;
        Ok(())
    }
}

/// The number of bits of `v` (0 for 0), libvorbis's `ilog`.
fn ilog(v: u32) -> u32 {
    32 - v.leading_zeros()
}

/// The number of values of a type-1 lookup table: the largest `r` with `r^dims <= entries`.
fn lookup1_values(entries: u32, dims: u32) -> u64 {
    let mut r: u64 = 0;
    while (r + 1)
        .checked_pow(dims)
        .is_some_and(|p| p <= u64::from(entries))
    {
        r += 1;
    }
    r
}

/// Reads every codebook of a setup header (after its `\x05vorbis`) as libvorbis does, refusing
/// one over the entry limits.
fn check_codebooks(setup: &[u8]) -> Result<(), Refusal> {
    let mut bits = Bits {
        bytes: setup,
        at: 0,
    };
    let books = bits.read(8)? + 1;
    let mut total: u64 = 0;
    let mut total_values: u64 = 0;
    for book in 0..books {
        if bits.read(24)? != 0x56_4342 {
            return Err(format!(
                "its Vorbis codebook {book} does not start with the codebook sync pattern"
            ));
        }
        let dims = bits.read(16)?;
        let entries = bits.read(24)?;
        if entries > MAX_BOOK_ENTRIES {
            return Err(format!(
                "its Vorbis codebook {book} declares {entries} entries (at most {MAX_BOOK_ENTRIES}; Godot builds tables of that size on the main thread's stack at every play)"
            ));
        }
        total += u64::from(entries);
        if total > MAX_TOTAL_ENTRIES {
            return Err(format!(
                "its Vorbis codebooks declare more than {MAX_TOTAL_ENTRIES} entries together"
            ));
        }
        let ordered = bits.read(1)? == 1;
        if !ordered {
            let sparse = bits.read(1)? == 1;
            for _ in 0..entries {
                if !sparse || bits.read(1)? == 1 {
                    bits.read(5)?;
                }
            }
        } else {
            let mut length = bits.read(5)? + 1;
            let mut entry = 0;
            while entry < entries {
                if length > 32 {
                    return Err(format!(
                        "its Vorbis codebook {book} has codeword lengths over 32 bits"
                    ));
                }
                let number = bits.read(ilog(entries - entry))?;
                if number > entries - entry {
                    return Err(format!(
                        "its Vorbis codebook {book} has more codewords than entries"
                    ));
                }
                entry += number;
                length += 1;
            }
        }
        match bits.read(4)? {
            0 => {}
            kind @ (1 | 2) => {
                bits.skip(32 + 32)?;
                let value_bits = bits.read(4)? + 1;
                bits.skip(1)?;
                if dims == 0 {
                    return Err(format!(
                        "its Vorbis codebook {book} has a lookup table but no dimensions"
                    ));
                }
                let unpacked = u64::from(entries) * u64::from(dims);
                if unpacked > MAX_BOOK_VALUES {
                    return Err(format!(
                        "its Vorbis codebook {book} unpacks to {entries} entries × {dims} dimensions (at most {MAX_BOOK_VALUES} values; Godot unpacks them at every play)"
                    ));
                }
                total_values += unpacked;
                if total_values > MAX_TOTAL_VALUES {
                    return Err(format!(
                        "its Vorbis codebooks unpack to more than {MAX_TOTAL_VALUES} values together"
                    ));
                }
                let values = if kind == 1 {
                    lookup1_values(entries, dims)
                } else {
                    unpacked
                };
                bits.skip(values.saturating_mul(u64::from(value_bits)))?;
            }
            kind => {
                return Err(format!(
                    "its Vorbis codebook {book} has lookup type {kind} (0 to 2)"
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "ogg_vorbis_tests.rs"]
mod tests;
