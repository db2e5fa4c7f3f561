//! The main-thread entries of the other guest kinds, on [`ModInstance`]: calling a Go-js
//! program's `js.FuncOf` functions and delivering signals to them, resuming its timeouts, and
//! invoking waPC operations. They take `&self` (the store is behind the instance's lock, as
//! for `call_shared`), so the glue can call them from a shared reference. Each runs under the callback budget through the instance's one
//! entry path, like [`ModInstance::call`]; the hosts themselves are [`gojs`](crate::gojs) and
//! [`wapc`](crate::wapc).

use crate::error::WasgoError;
use crate::gojs;
use crate::guest_kind::GuestKind;
use crate::instance::ModInstance;
use crate::variant::WireVariant;
use crate::wapc::{self, InvokeError, MAX_NAME, MAX_PAYLOAD};
use wasgo_catalog::catalog::Abi;

/// The most of a waPC guest's error text (and operation name) an invoke's error keeps.
pub const GUEST_ERROR_SHOWN: usize = 4096;

impl ModInstance {
    /// Calls the function a Go-js program set on the global object as `name` (with
    /// `js.Global().Set(name, js.FuncOf(...))`) on the calling (main) thread under the callback
    /// budget; arguments and result convert as the `godot` object converts them.
    ///
    /// # Errors
    /// [`WasgoError::NoSuchExport`] when the global has no function `name` (or the mod is not a
    /// Go-js program), [`WasgoError::BadArguments`] when the call throws, and the errors of
    /// [`ModInstance::call`].
    pub fn call_js(&self, name: &str, args: Vec<WireVariant>) -> Result<WireVariant, WasgoError> {
        let label = name.to_string();
        let outcome = self.enter(name, move |store, _| {
            let r = gojs::call_global(store, &label, args)?;
            Ok(r.map(|r| gojs::settle(store.data(), &label, r)))
        })?;
        match outcome {
            Some(r) => r,
            None => Err(WasgoError::NoSuchExport {
                module: self.name().to_string(),
                export: format!("globalThis.{name} (a function set with `js.FuncOf`)"),
            }),
        }
    }

    /// Delivers a signal connected with `godot.connect` to its js function (the glue calls this
    /// where it would call a `wasgo` mod's `native_callback(callback_id)`).
    ///
    /// # Errors
    /// As [`ModInstance::call_js`]; [`WasgoError::BadArguments`] for an unknown callback id.
    pub fn call_js_callback(
        &self,
        callback_id: i32,
        args: Vec<WireVariant>,
    ) -> Result<(), WasgoError> {
        let outcome = self.enter("signal callback", move |store, _| {
            let r = gojs::call_callback(store, callback_id, args)?;
            Ok(r.map(|r| gojs::settle_unread("signal callback", r)))
        })?;
        match outcome {
            Some(r) => r,
            None => Err(WasgoError::BadArguments(format!(
                "`{}` has no Go-js callback {callback_id}",
                self.name()
            ))),
        }
    }

    /// Delivers the answer of HTTP request `id` (from [`ModInstance::take_http_responses`]) to the
    /// callback a Go-js program gave `godot.httpRequest`; `Ok(false)` when it has none.
    ///
    /// # Errors
    /// As [`ModInstance::call_js`].
    pub fn call_js_http(&self, id: i32, status: i32) -> Result<bool, WasgoError> {
        let outcome = self.enter("http response", move |store, _| {
            let r = gojs::call_http(store, id, status)?;
            Ok(r.map(|r| gojs::settle_unread("http response", r)))
        })?;
        match outcome {
            Some(r) => r.map(|_| true),
            None => Ok(false),
        }
    }

    /// Resumes a Go-js program for every timeout that has fallen due since `main` returned; does
    /// nothing for other mods or while `main` runs. Call it every frame.
    ///
    /// # Errors
    /// As [`ModInstance::call`] (except `Busy`, which is not an error here).
    pub fn run_js_timers(&self) -> Result<(), WasgoError> {
        if self.is_main_running() || !self.status().is_live() {
            return Ok(());
        }
        match self.enter("timers", |store, _| gojs::run_timers(store)) {
            Err(WasgoError::Busy { .. }) => Ok(()),
            other => other,
        }
    }

    /// Whether a Go-js program has a timeout scheduled (so the owner keeps calling
    /// [`ModInstance::run_js_timers`]).
    pub fn has_js_timers(&self) -> bool {
        self.peek_state(gojs::has_timers).unwrap_or(false)
    }

    /// Invokes waPC operation `operation` with `payload` on the calling (main) thread under the
    /// callback budget, and returns the guest's response.
    ///
    /// # Errors
    /// [`InvokeError::NameTooLong`] for a name over [`MAX_NAME`] and
    /// [`InvokeError::PayloadTooLarge`] over [`MAX_PAYLOAD`] (nothing runs),
    /// [`InvokeError::Guest`] when the guest answers with an error (the instance lives on), and
    /// [`InvokeError::Failed`] with the errors of [`ModInstance::call`] (a trap ends the
    /// instance) or [`WasgoError::BadArguments`] for a mod that is not a waPC guest.
    pub fn invoke(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, InvokeError> {
        if operation.len() > MAX_NAME {
            return Err(InvokeError::NameTooLong {
                operation: crate::text::prefix(operation, 64).to_string(),
                len: operation.len(),
                limit: MAX_NAME,
            });
        }
        if payload.len() > MAX_PAYLOAD {
            return Err(InvokeError::PayloadTooLarge {
                operation: operation.to_string(),
                len: payload.len(),
                limit: MAX_PAYLOAD,
            });
        }
        // Refused before anything runs: the instance lives on (a Go-js program that happens to
        // export `__guest_call`, or a guest whose `__guest_call` has another type, was trapped
        // by the call into it).
        if self.guest_kind() != GuestKind::Wapc || !self.has_export("__guest_call") {
            return Err(WasgoError::BadArguments(format!(
                "`{}` is not a waPC guest (its module is of the `{}` kind): invoke() calls waPC operations; call its exports with call_export()",
                self.name(),
                self.guest_kind()
            ))
            .into());
        }
        let fits = self
            .export_signature("__guest_call")
            .is_some_and(|s| s.params == [Abi::I32, Abi::I32] && s.results == [Abi::I32]);
        if !fits {
            return Err(WasgoError::BadArguments(format!(
                "`{}` exports `__guest_call` with another type than the waPC protocol's (i32, i32) -> i32: rebuild it with a waPC guest SDK",
                self.name()
            ))
            .into());
        }
        let (op, data) = (operation.as_bytes().to_vec(), payload.to_vec());
        let (ok, response, error) = self.enter(operation, move |store, instance| {
            wapc::invoke_in(store, instance, op, data)
        })?;
        // As the reference hosts read it: an error the guest sent fails the call whatever
        // `__guest_call` returned (wapc-go), and any other value than 0 is success (wapc-rs).
        if ok != 0 && error.is_none() {
            return Ok(response.unwrap_or_default());
        }
        // The guest's text, as the game prints and keeps it: one line (hidden characters
        // escaped) of at most `GUEST_ERROR_SHOWN` bytes (a 1 MiB error was printed whole, with
        // its own line breaks, at every call).
        Err(InvokeError::Guest {
            operation: crate::text::shown(operation, GUEST_ERROR_SHOWN),
            message: error
                .map(|e| crate::text::shown(&String::from_utf8_lossy(&e), GUEST_ERROR_SHOWN))
                .unwrap_or_else(|| "the guest reported failure without a message".into()),
        })
    }
}
