//! Telling a Go panic from a program that merely exits with code 2.
//!
//! Go's runtime prints a panic as `panic: <message>` (or `fatal error: <message>`) at the start
//! of a line of stderr, the message's further lines, a blank line, then the goroutine dump
//! (`goroutine 1 [running]:`, or `runtime stack:` for a fatal error), and exits with code 2.
//! [`PanicWatch`] reads stderr as it is written, keeps the last such header (at most
//! [`MAX_HEAD`] bytes, however long the message and the dump), and calls it a panic only when
//! the dump followed it: a header pushed out of a tail buffer by a long message was missed, and
//! a line that merely contained `panic: ` followed by `os.Exit(2)` was taken for one.

/// The most bytes of a panic's header kept.
pub const MAX_HEAD: usize = 4 << 10;

/// The most bytes of one write to stderr read line by line (see [`PanicWatch::write`]).
pub const MAX_WATCHED_WRITE: usize = 64 << 10;

/// The most bytes of one stderr line looked at (the rest of a longer line is skipped).
const MAX_LINE: usize = MAX_HEAD;

/// What stderr said so far.
#[derive(Debug, Default)]
pub struct PanicWatch {
    /// The line being written (up to [`MAX_LINE`] bytes of it).
    line: Vec<u8>,
    /// The last panic header and the message lines after it.
    head: Option<String>,
    /// Whether lines after the header still belong to the message.
    in_message: bool,
    /// Whether the goroutine dump followed the last header.
    dumped: bool,
}

impl PanicWatch {
    /// Reads `bytes` written to stderr. Of a write over [`MAX_WATCHED_WRITE`] only the lines in
    /// its last part are read, and a header before it is no longer followed: Go's runtime prints
    /// a panic in small writes, and one write of 60 MB of line breaks (a program's own output)
    /// held the main thread for most of a second, line by line.
    pub fn write(&mut self, bytes: &[u8]) {
        let bytes = if bytes.len() > MAX_WATCHED_WRITE {
            self.line.clear();
            self.in_message = false;
            let tail = &bytes[bytes.len() - MAX_WATCHED_WRITE..];
            match tail.iter().position(|b| *b == b'\n') {
                // From the first line that starts inside the tail.
                Some(at) => &tail[at + 1..],
                None => return,
            }
        } else {
            bytes
        };
        for chunk in bytes.split_inclusive(|b| *b == b'\n') {
            let room = MAX_LINE.saturating_sub(self.line.len());
            let (text, ended) = match chunk.strip_suffix(b"\n") {
                Some(text) => (text, true),
                None => (chunk, false),
            };
            self.line.extend_from_slice(&text[..text.len().min(room)]);
            if ended {
                let line = String::from_utf8_lossy(&self.line).into_owned();
                self.line.clear();
                self.end_line(&line);
            }
        }
    }

    fn end_line(&mut self, line: &str) {
        if line.starts_with("panic: ") || line.starts_with("fatal error: ") {
            self.head = Some(line.to_string());
            self.in_message = true;
            self.dumped = false;
            return;
        }
        if !self.in_message {
            return;
        }
        if line.starts_with("goroutine ") || line.starts_with("runtime stack:") {
            self.in_message = false;
            self.dumped = true;
        } else if !line.is_empty() {
            if let Some(head) = &mut self.head {
                if head.len() + 1 + line.len() <= MAX_HEAD {
                    head.push('\n');
                    head.push_str(line);
                }
            }
        }
    }

    /// The panic's header and message, if the program panicked (a header and its dump seen).
    pub fn panic(&self) -> Option<&str> {
        self.head.as_deref().filter(|_| self.dumped)
    }
}

#[cfg(test)]
mod tests {
    use super::{PanicWatch, MAX_HEAD, MAX_WATCHED_WRITE};

    /// One write of megabytes of line breaks is read only in its last part; a panic printed
    /// after it, or at the end of it, is still one.
    #[test]
    fn a_huge_write_is_read_only_in_its_last_part() {
        let breaks = vec![b'\n'; 48 << 20];
        let w = watch(&[&breaks, b"panic: late\n\n", b"goroutine 1 [running]:\n"]);
        assert_eq!(w.panic(), Some("panic: late"));
        let mut ends = vec![b'\n'; 4 << 20];
        ends.extend_from_slice(b"panic: at the end\n\ngoroutine 1 [running]:\n");
        assert_eq!(watch(&[&ends]).panic(), Some("panic: at the end"));
        // A header whose message is followed by a huge write is no longer followed.
        let big = vec![b'x'; MAX_WATCHED_WRITE + 1];
        let w = watch(&[b"panic: early\n", &big, b"\ngoroutine 1 [running]:\n"]);
        assert_eq!(w.panic(), None);
    }

    fn watch(parts: &[&[u8]]) -> PanicWatch {
        let mut w = PanicWatch::default();
        for p in parts {
            w.write(p);
        }
        w
    }

    #[test]
    fn a_panic_and_its_dump_is_a_panic_with_its_message() {
        let w = watch(&[b"log line\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n"]);
        assert_eq!(w.panic(), Some("panic: boom"));
        let w = watch(&[
            b"fatal error: all goroutines are asleep - deadlock!\n\n",
            b"goroutine 1 [chan receive]:\n",
        ]);
        assert_eq!(
            w.panic(),
            Some("fatal error: all goroutines are asleep - deadlock!")
        );
    }

    #[test]
    fn a_panic_whose_message_is_longer_than_the_kept_text_is_still_one() {
        let long = "x".repeat(9000);
        let text = format!(
            "panic: {long}\n\ngoroutine 1 [running]:\n{}\n",
            "main.f()\n".repeat(2000)
        );
        let w = watch(&[text.as_bytes()]);
        let head = w.panic().expect("a panic");
        assert!(
            head.starts_with("panic: xxx") && head.len() <= MAX_HEAD,
            "{}",
            head.len()
        );
    }

    #[test]
    fn a_line_that_mentions_panic_then_exit_2_is_no_panic() {
        let w = watch(&[b"recovered from panic: boom\n"]);
        assert_eq!(w.panic(), None);
        // A header without the dump (the program printed it itself).
        let w = watch(&[b"panic: not really\nexiting\n"]);
        assert_eq!(w.panic(), None);
    }

    #[test]
    fn a_message_of_several_lines_is_kept_and_a_header_split_across_writes_is_found() {
        let w = watch(&[
            b"pa",
            b"nic: first\nsecond line\n\ngorout",
            b"ine 1 [running]:\n",
        ]);
        assert_eq!(w.panic(), Some("panic: first\nsecond line"));
    }
}
