//! Logging, stopping, the last error and what the instance may call.

use super::generated::BasicFunctions;
use super::{exposed, Caller, Host};
use crate::error::HostTrap;
use crate::error::TrapKind;
use crate::events::OutputSource;
use crate::guest;

impl BasicFunctions for Host {
    fn log(c: &mut Caller<'_>, level: i32, ptr: i32, len: i32) -> wasmtime::Result<()> {
        let text = guest::read_str(c, "wasgo.log", ptr, len)?;
        let level = level.clamp(0, 3);
        let events = &c.data().events;
        let mut rest = text.as_str();
        loop {
            if events.output_full() {
                // Every line left would be dropped: count them, do not offer each.
                events.drop_output(rest.bytes().filter(|b| *b == b'\n').count() + 1);
                break;
            }
            let (line, more) = match rest.split_once('\n') {
                Some((line, more)) => (line, Some(more)),
                None => (rest, None),
            };
            let line = line.trim_end_matches('\r');
            events.output(OutputSource::Log(level), line.to_string());
            match more {
                Some(more) => rest = more,
                None => break,
            }
        }
        Ok(())
    }

    fn abort(c: &mut Caller<'_>, ptr: i32, len: i32) -> wasmtime::Result<()> {
        let text = guest::read_str(c, "wasgo.abort", ptr, len)?;
        // Printed as WasGo's own error: one line, hidden characters escaped, at most 4 KiB.
        let text = crate::text::shown(&text, crate::text::MAX_TRAP_TEXT);
        Err(HostTrap::new(
            TrapKind::Abort,
            format!("`{}` aborted: {text}", c.data().name),
        )
        .into_error())
    }

    fn last_error(c: &mut Caller<'_>, out_ptr: i32, out_cap: i32) -> wasmtime::Result<i32> {
        crate::object_calls::settle_queued(c)?;
        let message = c.data().last_error.clone();
        guest::write_out(c, "wasgo.last_error", out_ptr, out_cap, message.as_bytes())
    }

    fn safety_level(c: &mut Caller<'_>) -> wasmtime::Result<i32> {
        Ok(c.data().level.number())
    }

    fn has_function(
        c: &mut Caller<'_>,
        module_ptr: i32,
        module_len: i32,
        name_ptr: i32,
        name_len: i32,
    ) -> wasmtime::Result<i32> {
        const F: &str = "wasgo.has_function";
        let module = guest::read_str(c, F, module_ptr, module_len)?;
        let name = guest::read_str(c, F, name_ptr, name_len)?;
        Ok(exposed(c.data(), &module, &name) as i32)
    }
}
