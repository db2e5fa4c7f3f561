//! The frames of an MP3 sound, checked before Godot reads it.
//!
//! Godot decodes MP3 with minimp3, which looks for frames wherever they may start: at each
//! byte that could begin a *free-format* frame (a header with bitrate index 0, whose length is
//! found by trying every offset up to 2304 bytes on), it compares headers at each of those
//! offsets. Bytes made of such headers, none of which ever matches, kept it there for seconds
//! on the main thread, when the sound was made and again at every `play()`. So a sound is taken
//! only as encoders write one: an optional ID3v2 tag, then standard frames (bitrate index 1 to
//! 14) back to back, all of one MPEG version, layer and sample rate, to the end, where at most
//! [`MAX_TRAILING`] bytes may follow (an ID3v1 tag, a cut-short last frame).

/// The most bytes that may follow the last whole frame.
pub const MAX_TRAILING: usize = 4096;

/// Why an MP3 sound is refused, as text for the asset error.
pub type Refusal = String;

/// One frame header's fields that must stay the same through a sound.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Kind {
    version: u8,
    layer: u8,
    rate_index: u8,
}

/// The kind and length of the frame whose header is at `b[at..]`, if one is there.
fn frame_at(b: &[u8], at: usize) -> Option<(Kind, usize)> {
    let h = b.get(at..at + 4)?;
    if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 0: MPEG 2.5, 1: reserved, 2: MPEG 2, 3: MPEG 1
    let layer = (h[1] >> 1) & 3; // 0: reserved, 1: III, 2: II, 3: I
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = (h[2] >> 2) & 3;
    let padding = usize::from((h[2] >> 1) & 1);
    if version == 1 || layer == 0 || rate_index == 3 || bitrate_index == 0 || bitrate_index == 15 {
        return None;
    }
    const MPEG1: [[u32; 15]; 3] = [
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ], // III
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ], // II
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ], // I
    ];
    const MPEG2: [[u32; 15]; 3] = [
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160], // III
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160], // II
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ], // I
    ];
    let table = if version == 3 { &MPEG1 } else { &MPEG2 };
    let kbps = table[usize::from(layer) - 1][bitrate_index] as usize;
    let rate = [
        [11025, 12000, 8000],
        [0, 0, 0],
        [22050, 24000, 16000],
        [44100, 48000, 32000],
    ][usize::from(version)][usize::from(rate_index)] as usize;
    let len = match layer {
        3 => (12 * kbps * 1000 / rate + padding) * 4,
        1 if version != 3 => 72 * kbps * 1000 / rate + padding,
        _ => 144 * kbps * 1000 / rate + padding,
    };
    let kind = Kind {
        version,
        layer,
        rate_index,
    };
    (len >= 4).then_some((kind, len))
}

/// The length of the ID3v2 tag at the start of `b` (0 without one).
fn id3v2_length(b: &[u8]) -> Result<usize, Refusal> {
    if !b.starts_with(b"ID3") {
        return Ok(0);
    }
    let header = b
        .get(..10)
        .ok_or_else(|| "its ID3 tag is cut short".to_string())?;
    if header[6..10].iter().any(|&byte| byte >= 0x80) {
        return Err("its ID3 tag's size is not a syncsafe number".into());
    }
    let size = header[6..10]
        .iter()
        .fold(0usize, |n, &byte| (n << 7) | usize::from(byte));
    let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
    let length = 10 + size + footer;
    if length > b.len() {
        return Err(format!(
            "its ID3 tag declares {length} bytes, more than the {} the sound has",
            b.len()
        ));
    }
    Ok(length)
}

/// Checks that `b` is an MP3 sound as encoders write one (see the module docs).
///
/// # Errors
/// What is not: no frame after the tag, a free-format or malformed frame, frames of another
/// version, layer or rate, or more than [`MAX_TRAILING`] bytes after the last frame.
pub fn check_frames(b: &[u8]) -> Result<(), Refusal> {
    let mut at = id3v2_length(b)?;
    let (first, _) =
        frame_at(b, at).ok_or_else(|| "no standard MPEG audio frame starts right after its tag (free-format and malformed frames are not taken)".to_string())?;
    let mut frames = 0usize;
    while let Some((kind, len)) = frame_at(b, at) {
        if kind != first {
            return Err(format!(
                "its frame {frames} is of another MPEG version, layer or sample rate than the first"
            ));
        }
        if at + len > b.len() {
            break;
        }
        at += len;
        frames += 1;
    }
    let left = b.len() - at;
    if left > MAX_TRAILING {
        return Err(format!(
            "{left} bytes after its frame {frames} are no standard MPEG audio frame (at most {MAX_TRAILING} may follow the last one; free-format frames are not taken)"
        ));
    }
    if frames == 0 {
        return Err("it holds no whole MPEG audio frame".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of MPEG 1 layer III at 128 kbit/s and 44.1 kHz (417 bytes, no padding).
    fn frame() -> Vec<u8> {
        let mut f = vec![0xFF, 0xFB, 0x90, 0x64];
        f.resize(417, 0);
        f
    }

    fn frames(n: usize) -> Vec<u8> {
        (0..n).flat_map(|_| frame()).collect()
    }

    #[test]
    fn frames_back_to_back_after_a_tag_pass_with_a_tag_at_the_end() {
        assert_eq!(frame_at(&frame(), 0).map(|(_, len)| len), Some(417));
        check_frames(&frames(20)).unwrap();
        let mut tagged = b"ID3\x04\x00\x00\x00\x00\x00\x0a".to_vec();
        tagged.extend_from_slice(&[0; 10]);
        tagged.extend(frames(5));
        tagged.extend_from_slice(b"TAG");
        tagged.resize(tagged.len() + 125, b' ');
        check_frames(&tagged).unwrap();
        // A cut-short last frame is fine.
        let mut cut = frames(3);
        cut.truncate(cut.len() - 100);
        check_frames(&cut).unwrap();
    }

    /// minimp3 tried every offset up to 2304 bytes on at each byte that could begin a
    /// free-format frame: seconds for a few MiB of them, at every `play()`.
    #[test]
    fn free_format_and_junk_are_refused() {
        let mut free = vec![0xFF, 0xFB, 0x00, 0x64];
        free.resize(1000, 0);
        let e = check_frames(&free).unwrap_err();
        assert!(e.contains("free-format"), "{e}");
        let mut tail = frames(4);
        for i in 0..3000 {
            tail.extend_from_slice(&[0xFF, [0xF2, 0xF4, 0xFA][i % 3], [0x00, 0x04, 0x08][i % 3]]);
        }
        let e = check_frames(&tail).unwrap_err();
        assert!(e.contains("after its frame 4"), "{e}");
        let e = check_frames(b"ID3\x04").unwrap_err();
        assert!(e.contains("cut short"), "{e}");
        let e = check_frames(b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f").unwrap_err();
        assert!(e.contains("declares"), "{e}");
        // Frames of two sample rates.
        let mut mixed = frames(2);
        mixed.extend([0xFF, 0xFB, 0x94, 0x64]);
        mixed.resize(mixed.len() + 413, 0);
        let e = check_frames(&mixed).unwrap_err();
        assert!(
            e.contains("another MPEG version, layer or sample rate"),
            "{e}"
        );
    }
}
