//! A mod's optional `config` export: dynamic metadata (W3CE's name), asked before the mod
//! starts, with no Godot access and a small budget.
//!
//! `config(out_ptr, out_cap) -> len` follows the ABI's out-buffer convention (like
//! `save_state`): the host calls `config(0, 0)` for the length, allocates that many bytes with
//! the mod's `malloc(size, align)`, calls `config(ptr, len)` and reads UTF-8 JSON text naming an
//! object, which the glue turns into a `Dictionary`.
//!
//! It runs in a **throwaway instance** of the module, never in the one that plays:
//!
//! - every import of the module links to a stub that traps naming it (`wasgo`, WASI, game
//!   functions alike), so `config` can only compute from the module's own code and data;
//! - the module's start function, its `_initialize` (WASI reactors) and the calls above run
//!   under one budget of [`CONFIG_BUDGET_MS`] of CPU time on the calling thread (with a
//!   wall-clock backstop of 20 times that), stopped by the engine's epoch ticks like any
//!   callback;
//! - its memory may grow only to the mod's memory cap, and the text may be at most
//!   [`MAX_CONFIG_BYTES`];
//! - the instance is dropped when the call returns: nothing it did reaches the instance that
//!   plays, and a trap here stops nothing but the config (the caller reports it).
//!
//! With no imports to call, `config` is a pure function of the module's bytes.

use std::time::{Duration, Instant};

use wasgo_catalog::{export, CONFIG_BUDGET_MS, MAX_CONFIG_BYTES};
use wasmtime::{ExternType, Linker, Store, UpdateDeadline};

use crate::budget::thread_cpu_time;
use crate::limits::GrowthTally;
use crate::ticker::EpochTicker;

/// One value of a mod's config: what JSON can say, with integers kept apart from floats.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<ConfigValue>),
    /// An object, its keys sorted.
    Map(Vec<(String, ConfigValue)>),
}

/// Why a mod's `config` gave no Dictionary. Each message names the mod and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The throwaway instance could not be made (a non-function import, memory over the cap).
    #[error("`{name}`: its `config` could not run: {reason}")]
    Instantiate { name: String, reason: String },
    /// `config`, its start function or `_initialize` trapped (a fault, a call to an import).
    #[error("`{name}`: its `config` trapped: {message}")]
    Trapped { name: String, message: String },
    /// It ran past [`CONFIG_BUDGET_MS`].
    #[error("`{name}`: its `config` ran past its budget of {budget_ms} ms and was stopped; `config` must only describe the mod (compute the Dictionary, nothing more)")]
    OverBudget { name: String, budget_ms: u64 },
    /// The export or its answer breaks the convention (signature, length, UTF-8, JSON object).
    #[error("`{name}`: its `config` {reason}")]
    Protocol { name: String, reason: String },
}

/// The store data of a throwaway instance.
struct ConfigState {
    /// The memory cap (`max_memory`) for all memories together.
    max_memory: usize,
    growth: GrowthTally,
    /// When the budget's wall-clock time is up: from then on each tick compares CPU time.
    deadline: Instant,
    /// The calling thread's CPU time when the run began.
    cpu_start: Duration,
    /// Stopped regardless of CPU time (a thread kept off the CPU cannot hold the caller longer).
    backstop: Instant,
    over_budget: bool,
}

/// The same rule as a mod's instance (`state.rs`): all memories together under the cap (a
/// growth past it traps), all tables together under [`MAX_TABLE_ENTRIES`](crate::limits::MAX_TABLE_ENTRIES)
/// (`table.grow` answers -1 past it), at most [`GrowthTally::MAX_MEMORIES`] memories and
/// [`GrowthTally::MAX_TABLES`] tables. (wasmtime's `StoreLimits` caps each memory on its own and
/// tables not at all: one `table.grow` in a `config` took 3 GB and 7 s of the main thread.)
impl wasmtime::ResourceLimiter for ConfigState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.growth
            .grow_memory(current, desired, maximum, self.max_memory)
            .map_err(|after| {
                wasmtime::Error::msg(format!(
                    "memory limit exceeded: its memories would take {} MiB, over the limit of {} MiB",
                    after.div_ceil(1 << 20),
                    self.max_memory >> 20
                ))
            })
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.growth.grow_table(current, desired, maximum))
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // Counted when asked; the engine could not make it.
        self.growth.grow_failed();
        Ok(())
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.growth.grow_failed();
        Ok(())
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        GrowthTally::MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        GrowthTally::MAX_TABLES
    }
}

/// The wall-clock backstop as a multiple of the budget.
const BACKSTOP_FACTOR: u32 = 20;

/// Runs `module`'s `config` export (see the module essay). `Ok(None)` when it has none.
/// `max_memory` is the mod's memory cap in bytes.
pub(crate) fn run(
    engine: &wasmtime::Engine,
    ticker: &EpochTicker,
    module: &wasmtime::Module,
    name: &str,
    max_memory: usize,
) -> Result<Option<Vec<(String, ConfigValue)>>, ConfigError> {
    let Some(ExternType::Func(ty)) = module.get_export(export::CONFIG) else {
        return Ok(None);
    };
    let i32s = |n: usize, types: Vec<wasmtime::ValType>| {
        types.len() == n && types.iter().all(|t| matches!(t, wasmtime::ValType::I32))
    };
    if !i32s(2, ty.params().collect()) || !i32s(1, ty.results().collect()) {
        return Err(ConfigError::Protocol {
            name: name.into(),
            reason: format!(
                "export must be `config(out_ptr: i32, out_cap: i32) -> i32`, not `{ty}`"
            ),
        });
    }
    let instantiate = |reason: String| ConfigError::Instantiate {
        name: name.into(),
        reason,
    };
    // Called inside other mods' calls (a game function that starts a mod), it could take the
    // thread's stack past its end like any call into a mod ([`crate::stack_room`]).
    if let Some(room) = crate::stack_room::short() {
        return Err(instantiate(format!(
            "the thread has {} KiB of stack left (calls into mods are running inside each other), less than a call into a mod may need; ask again when the outer calls have returned (e.g. `call_deferred`)",
            room >> 10
        )));
    }
    let mut linker: Linker<ConfigState> = Linker::new(engine);
    for import in module.imports() {
        // The names are the module's: shown escaped and cut, like every import name in a message.
        let function = crate::text::shown(&format!("{}.{}", import.module(), import.name()), 200);
        let ExternType::Func(ty) = import.ty() else {
            return Err(instantiate(format!(
                "it imports `{function}`, which is not a function; WasGo mods define their own memory, tables and globals"
            )));
        };
        let message = format!(
            "it called `{function}`: `config` runs before the mod starts, without Godot, WASI or game functions; compute the Dictionary from the mod's own data"
        );
        linker
            .func_new(
                import.module(),
                import.name(),
                ty,
                move |_caller, _params, _results| {
                    Err(wasmtime::Error::new(StubCall(message.clone())))
                },
            )
            .map_err(|e| instantiate(format!("{e:#}")))?;
    }
    let budget = Duration::from_millis(CONFIG_BUDGET_MS);
    let state = ConfigState {
        max_memory,
        growth: GrowthTally::default(),
        deadline: Instant::now() + budget,
        cpu_start: thread_cpu_time(),
        backstop: Instant::now() + budget * BACKSTOP_FACTOR,
        over_budget: false,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| s);
    store.epoch_deadline_callback(move |mut ctx| {
        let state = ctx.data_mut();
        let now = Instant::now();
        // CPU time decides, as for callbacks: a busy machine that keeps the thread waiting does
        // not count against the mod; the backstop bounds the wall-clock time anyway.
        let over = now >= state.backstop
            || (now >= state.deadline
                && thread_cpu_time().saturating_sub(state.cpu_start) >= budget);
        if over {
            state.over_budget = true;
            return Err(wasmtime::Error::msg("config budget"));
        }
        Ok(UpdateDeadline::Continue(1))
    });
    store.set_epoch_deadline(1);
    // The epoch advances only while an entry is under way.
    let _tick = ticker.enter();
    let failed = |store: &Store<ConfigState>, e: wasmtime::Error| {
        if store.data().over_budget {
            ConfigError::OverBudget {
                name: name.into(),
                budget_ms: CONFIG_BUDGET_MS,
            }
        } else {
            ConfigError::Trapped {
                name: name.into(),
                message: trap_text(&e),
            }
        }
    };
    let instance = match linker.instantiate(&mut store, module) {
        Ok(instance) => instance,
        Err(e)
            if store.data().over_budget
                || e.downcast_ref::<wasmtime::Trap>().is_some()
                || e.downcast_ref::<StubCall>().is_some() =>
        {
            return Err(failed(&store, e))
        }
        Err(e) => return Err(instantiate(trap_text(&e))),
    };
    if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, export::INITIALIZE) {
        init.call(&mut store, ()).map_err(|e| failed(&store, e))?;
    }
    let config = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, export::CONFIG)
        .map_err(|e| instantiate(format!("{e:#}")))?;
    let protocol = |reason: String| ConfigError::Protocol {
        name: name.into(),
        reason,
    };
    let len = config
        .call(&mut store, (0, 0))
        .map_err(|e| failed(&store, e))?;
    if len < 0 {
        return Err(protocol(format!(
            "answered {len}: return the length of the JSON text (an empty object is `{{}}`)"
        )));
    }
    let len = len as usize;
    if len > MAX_CONFIG_BYTES {
        return Err(protocol(format!(
            "announced {len} bytes, over the {} KiB a config may have; describe less",
            MAX_CONFIG_BYTES >> 10
        )));
    }
    let mut text = Vec::new();
    if len > 0 {
        let memory = instance
            .get_memory(&mut store, export::MEMORY)
            .ok_or_else(|| protocol("needs the mod to export its memory as `memory`".into()))?;
        let malloc = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, export::MALLOC)
            .map_err(|_| {
                protocol(
                    "needs the mod to export `malloc(size, align) -> ptr` to pass its text (the Rust SDK's `allocator` feature exports it)".into(),
                )
            })?;
        let ptr = malloc
            .call(&mut store, (len as i32, 1))
            .map_err(|e| failed(&store, e))?;
        if ptr == 0 {
            return Err(protocol(format!(
                "needed {len} bytes, and the mod's `malloc` answered 0"
            )));
        }
        let written = config
            .call(&mut store, (ptr, len as i32))
            .map_err(|e| failed(&store, e))?;
        if written < 0 || written as usize != len {
            return Err(protocol(format!(
                "announced {len} bytes, then answered {written}: the text must not change between the two calls"
            )));
        }
        let start = ptr as u32 as usize;
        text = memory
            .data(&store)
            .get(start..start + len)
            .ok_or_else(|| {
                protocol(format!(
                    "was given a buffer at {start} that its `malloc` placed outside its memory"
                ))
            })?
            .to_vec();
    }
    drop(_tick);
    parse(&text).map_err(protocol).map(Some)
}

/// The message of a trap or error, without wasmtime's backtrace context.
fn trap_text(e: &wasmtime::Error) -> String {
    if let Some(stub) = e.downcast_ref::<StubCall>() {
        return stub.0.clone();
    }
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return trap.to_string();
    }
    e.root_cause().to_string()
}

/// The JSON object text of a config, as ordered pairs; the error says what is wrong.
pub fn parse(text: &[u8]) -> Result<Vec<(String, ConfigValue)>, String> {
    let text = std::str::from_utf8(text)
        .map_err(|e| format!("answered text that is not UTF-8 ({e}); return UTF-8 JSON"))?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "answered text that is not JSON ({e}); return a JSON object such as `{{\"waves\": 3}}`"
        )
    })?;
    match convert(value) {
        ConfigValue::Map(pairs) => Ok(pairs),
        _ => Err(
            "answered JSON that is not an object; return an object such as `{\"waves\": 3}`".into(),
        ),
    }
}

fn convert(value: serde_json::Value) -> ConfigValue {
    use serde_json::Value;
    match value {
        Value::Null => ConfigValue::Null,
        Value::Bool(b) => ConfigValue::Bool(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => ConfigValue::Int(i),
            None => ConfigValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => ConfigValue::Text(s),
        Value::Array(items) => ConfigValue::List(items.into_iter().map(convert).collect()),
        Value::Object(map) => {
            ConfigValue::Map(map.into_iter().map(|(k, v)| (k, convert(v))).collect())
        }
    }
}

/// The error of a call to an import from inside `config`.
#[derive(Debug)]
struct StubCall(String);

impl std::fmt::Display for StubCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StubCall {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_is_a_json_object_with_ints_kept_apart_from_floats() {
        let pairs = parse(br#"{"b": 1, "a": [2.5, "x", null, true], "c": {}}"#).unwrap();
        assert_eq!(pairs[1], ("b".into(), ConfigValue::Int(1)));
        assert_eq!(
            pairs[0].1,
            ConfigValue::List(vec![
                ConfigValue::Float(2.5),
                ConfigValue::Text("x".into()),
                ConfigValue::Null,
                ConfigValue::Bool(true)
            ])
        );
        assert_eq!(pairs[2].1, ConfigValue::Map(vec![]));
    }

    #[test]
    fn text_that_is_not_a_json_object_is_refused_saying_what_to_return() {
        assert!(parse(b"[1]").unwrap_err().contains("not an object"));
        assert!(parse(b"{").unwrap_err().contains("not JSON"));
        assert!(parse(&[0xff, 0xfe]).unwrap_err().contains("not UTF-8"));
    }
}
