//! Compiles in the background: the core compiles on its own thread and answers in a
//! [`CompileTicket`]; this module keeps the tickets of the main thread and polls them once per
//! frame ([`poll`], from the extension's frame hook), then runs each finished ticket's completion
//! on the main thread. Main thread only.
//!
//! A completion may do anything (start a mod, emit a signal whose handler frees a node or asks
//! for another compile): the list is taken out of its cell before any completion runs, and
//! compiles asked for meanwhile are kept for the next poll. The `WasmModuleRequest` class is the
//! awaitable `WasmEngine.load_module_async` / `compile_module_async` return.

use crate::module_res::WasmModule;
use crate::runtime;
use godot::prelude::*;
use std::cell::RefCell;
use std::sync::Arc;
use wasgo_core::{CompileTicket, CompiledModule, WasgoError};

/// What runs on the main thread once a compile has ended (or was refused).
pub type Completion = Box<dyn FnOnce(Result<Arc<CompiledModule>, WasgoError>)>;

/// The background compiles waiting for an answer (the `compiles` part of the main-thread
/// state). `Err` stands for a request refused before it reached the core (no runtime, no file),
/// answered at the next poll like the others.
#[derive(Default)]
pub struct Pending(RefCell<Vec<PendingCompile>>);

type PendingCompile = (Result<CompileTicket, String>, Completion);

impl crate::state::Part for Pending {}

/// Runs `f` with the pending compiles; the default answer when WasGo is not running here.
fn with_pending<R: Default>(f: impl FnOnce(&RefCell<Vec<PendingCompile>>) -> R) -> R {
    crate::state::with_part(|s| &s.compiles, |p: &Pending| f(&p.0)).unwrap_or_default()
}

/// Starts compiling `bytes` on a background thread under the compile limits of the project
/// settings as they are now; `done` runs on the main thread at a later frame (never inside this
/// call).
///
/// # Errors
/// `done` back (with the engine error reported) when the runtime is not running.
pub fn start(bytes: &[u8], name: &str, done: Completion) -> Result<(), Completion> {
    let Some(runtime) = runtime::runtime_for_compile() else {
        return Err(done);
    };
    let ticket = runtime.compile_in_background(bytes, name);
    with_pending(|p| p.borrow_mut().push((Ok(ticket), done)));
    Ok(())
}

/// Waits for `ticket` (polled every frame); `done` runs on the main thread at a later frame.
pub fn wait_for(ticket: CompileTicket, done: Completion) {
    with_pending(|p| p.borrow_mut().push((Ok(ticket), done)));
}

/// Runs the completions of the compiles that have ended (the frame hook calls it).
pub fn poll() {
    let pending = with_pending(|p| std::mem::take(&mut *p.borrow_mut()));
    if pending.is_empty() {
        return;
    }
    let mut waiting = Vec::new();
    let mut finished = Vec::new();
    for (ticket, done) in pending {
        let ticket = match ticket {
            Ok(ticket) => ticket,
            Err(message) => {
                finished.push((done, Err(WasgoError::Host(message))));
                continue;
            }
        };
        match ticket.try_take() {
            Ok(outcome) => finished.push((done, outcome)),
            Err(ticket) => waiting.push((Ok(ticket), done)),
        }
    }
    with_pending(|p| {
        let mut p = p.borrow_mut();
        // Compiles started while this poll ran (none yet: completions run below) stay behind.
        waiting.append(&mut p);
        *p = waiting;
    });
    for (done, outcome) in finished {
        done(outcome);
    }
}

/// Drops every waiting compile without running its completion (extension shutdown).
pub fn clear() {
    let pending = with_pending(|p| std::mem::take(&mut *p.borrow_mut()));
    drop(pending);
}

/// What a [`WasmModuleRequest`] waits for.
enum Source<'a> {
    Bytes(&'a [u8]),
    Ticket(CompileTicket),
    Refused(String),
}

/// A module being compiled in the background, as `WasmEngine.load_module_async` and
/// `WasmEngine.compile_module_async` return it: `await request.completed` gives the module (or
/// `null`, with [method get_error] and `WasmEngine.get_last_error()` saying why). The signal
/// comes at a later frame, never inside the call that made the request.
///
/// Compiling a large mod can take seconds; a request keeps the game's frames running meanwhile.
/// Two requests for the same bytes share one compile, and a request whose compile passes
/// `wasgo/limits/compile_timeout_ms` completes with `null` and an error naming the limit.
#[derive(GodotClass)]
#[class(base = RefCounted, no_init)]
pub struct WasmModuleRequest {
    name: GString,
    done: bool,
    module: Option<Gd<WasmModule>>,
    error: GString,
    base: Base<RefCounted>,
}

#[godot_api]
impl WasmModuleRequest {
    /// The compile ended: [param module] is the compiled module, or `null` when it was refused
    /// (invalid bytes, over `wasgo/limits/module_mb`, longer than
    /// `wasgo/limits/compile_timeout_ms`); see [method get_error].
    #[signal]
    fn completed(module: Option<Gd<WasmModule>>);

    /// Whether the compile has ended ([signal completed] was emitted).
    #[func]
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The module once compiled (`null` before, or when it was refused).
    #[func]
    pub fn get_module(&self) -> Option<Gd<WasmModule>> {
        self.module.clone()
    }

    /// Why the compile was refused (empty while it runs and when it succeeded).
    #[func]
    pub fn get_error(&self) -> GString {
        self.error.clone()
    }

    /// The mod's name the request was made with.
    #[func]
    pub fn get_name(&self) -> GString {
        self.name.clone()
    }
}

impl WasmModuleRequest {
    /// Starts compiling `bytes` into a module named `name` (from `path`, empty for bytes) and
    /// returns the request; a runtime that is not running answers at the next frame too.
    pub fn start(bytes: &[u8], name: &str, path: &str) -> Gd<WasmModuleRequest> {
        Self::make(Source::Bytes(bytes), name, path)
    }

    /// A request for a compile (or load) under way in `ticket`.
    pub fn waiting(ticket: CompileTicket, name: &str, path: &str) -> Gd<WasmModuleRequest> {
        Self::make(Source::Ticket(ticket), name, path)
    }

    /// A request refused before compiling (e.g. the file cannot be read): it answers `null`
    /// with `message` at the next frame.
    pub fn refused(message: String, name: &str, path: &str) -> Gd<WasmModuleRequest> {
        Self::make(Source::Refused(message), name, path)
    }

    fn make(source: Source<'_>, name: &str, path: &str) -> Gd<WasmModuleRequest> {
        let request = Gd::from_init_fn(|base| WasmModuleRequest {
            name: name.into(),
            done: false,
            module: None,
            error: GString::new(),
            base,
        });
        let held = request.clone();
        let (module_name, path) = (name.to_string(), path.to_string());
        let done: Completion = Box::new(move |outcome| {
            let module = match outcome {
                Ok(compiled) => Ok(WasmModule::from_compiled(compiled, &module_name, &path)),
                Err(WasgoError::Host(message)) => Err(message),
                Err(e) => Err(e.to_string()),
            };
            Self::complete(held, module);
        });
        // A refusal is answered at the next frame like any other, so an `await` placed after
        // the call still sees the signal.
        let refusal = match source {
            Source::Bytes(bytes) => match start(bytes, name, done) {
                Ok(()) => return request,
                Err(done) => (runtime::last_error_text(), done),
            },
            Source::Ticket(ticket) => {
                wait_for(ticket, done);
                return request;
            }
            Source::Refused(message) => (message, done),
        };
        with_pending(|p| p.borrow_mut().push((Err(refusal.0), refusal.1)));
        request
    }

    /// A request refused at once, done already (no `completed` will come): for a call from a
    /// thread other than the main thread, where no frame would ever answer it.
    pub fn refused_off_main_thread(what: &str, name: &str) -> Gd<WasmModuleRequest> {
        let error = format!(
            "`{what}` was called from a thread other than the main thread; call it on the main thread (from a thread, with `call_deferred`)"
        );
        Gd::from_init_fn(|base| WasmModuleRequest {
            name: name.into(),
            done: true,
            module: None,
            error: error.as_str().into(),
            base,
        })
    }

    /// Records the outcome and emits `completed` (no borrow held while handlers run).
    fn complete(mut request: Gd<WasmModuleRequest>, module: Result<Gd<WasmModule>, String>) {
        let module = match module {
            Ok(m) => Some(m),
            Err(message) => {
                runtime::report(message.clone());
                request.bind_mut().error = message.as_str().into();
                None
            }
        };
        {
            let mut r = request.bind_mut();
            r.done = true;
            r.module = module.clone();
        }
        request.emit_signal("completed", &[module.to_variant()]);
    }
}
