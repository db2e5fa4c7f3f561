//! A panic stops the mod through `wasgo.abort` with the panic message (compiled only for wasm32
//! with the `panic-handler` feature).

use core::fmt::Write;

/// Room for the message; a longer one is cut (no allocation while panicking).
struct Message {
    buf: [u8; 512],
    len: usize,
}

impl Write for Message {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for ch in s.chars() {
            let mut tmp = [0u8; 4];
            let bytes = ch.encode_utf8(&mut tmp).as_bytes();
            if self.len + bytes.len() > self.buf.len() {
                break;
            }
            self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        }
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut message = Message {
        buf: [0; 512],
        len: 0,
    };
    let _ = write!(message, "panic: {info}");
    // Whole characters only were copied, so the bytes are UTF-8.
    let text = core::str::from_utf8(&message.buf[..message.len]).unwrap_or("panic");
    crate::abort(text)
}
