//! The host functions of level-2 HTTP, `wasgo.http_request` and `wasgo.http_body`: they read
//! the mod's memory, check the request and hand it to the [`HttpHost`](crate::http::HttpHost)
//! on the main thread; the rules and the per-instance table are in [`http`](crate::http).

use crate::error::KilledTrap;
use crate::guest;
use crate::http::{
    HttpCall, HttpMethod, Lookup, TooBusy, MAX_IN_FLIGHT, MAX_KEPT, MAX_REQUEST_BODY_BYTES,
    MAX_REQUEST_BYTES_IN_FLIGHT,
};
use crate::permissions::Permission;
use crate::state::InstanceState;
use std::sync::Arc;
use wasgo_catalog::ErrorCode;
use wasmtime::Caller;

/// `wasgo.http_request(url, method, body) -> id`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn request(
    c: &mut Caller<'_, InstanceState>,
    up: i32,
    ul: i32,
    mp: i32,
    ml: i32,
    bp: i32,
    bl: i32,
) -> wasmtime::Result<i32> {
    const F: &str = "wasgo.http_request";
    // The declared lengths are checked before anything is read out of the mod's memory.
    if let Some(message) = sizes_refused(
        F,
        ul as u32 as usize,
        ml as u32 as usize,
        bl as u32 as usize,
    ) {
        return Ok(c
            .data_mut()
            .fail(ErrorCode::InvalidArgument.code(), message));
    }
    let url = guest::read_str(c, F, up, ul)?;
    let method = guest::read_str(c, F, mp, ml)?;
    let body = guest::read_bytes(c, F, bp, bl)?;
    let state = c.data_mut();
    match start(state, F, url, &method, body)? {
        Ok(id) => Ok(id),
        Err((code, message)) => Ok(state.fail(code, message)),
    }
}

/// The longest method name a request may give (`DELETE` is 6).
const MAX_METHOD_BYTES: usize = 16;

/// Why a request whose URL, method and body have these lengths is refused (-3), if it is:
/// asked with the lengths a mod declares, before its bytes are read, and again of what reaches
/// [`start`] by any other way (a Go-js `godot.httpRequest`).
fn sizes_refused(function: &str, url: usize, method: usize, body: usize) -> Option<String> {
    let max_url = crate::urls::MAX_URL_BYTES;
    if url > max_url {
        Some(format!(
            "`{function}`: a URL may be at most {max_url} bytes, not {url}"
        ))
    } else if method > MAX_METHOD_BYTES {
        Some(format!(
            "`{function}`: a method is one of GET, POST, PUT, PATCH, DELETE, not {method} bytes"
        ))
    } else if body > MAX_REQUEST_BODY_BYTES {
        Some(format!(
            "`{function}`: a request body may be at most {MAX_REQUEST_BODY_BYTES} bytes, not {body}"
        ))
    } else {
        None
    }
}

/// Checks a request (permission, method, URL whitelist, requests in flight) and hands it to the
/// game's HTTP host on the main thread: its id, or the ABI error code and message. `function`
/// names the caller in messages (`wasgo.http_request`, `godot.httpRequest`).
///
/// # Errors
/// A [`KilledTrap`] when the mod was killed while waiting for the main thread.
pub(crate) fn start(
    state: &mut InstanceState,
    function: &str,
    url: String,
    method: &str,
    body: Vec<u8>,
) -> wasmtime::Result<Result<i32, (i32, String)>> {
    if let Some(message) = sizes_refused(function, url.len(), method.len(), body.len()) {
        return Ok(Err((ErrorCode::InvalidArgument.code(), message)));
    }
    if !state.permissions.has(Permission::Network) {
        // Named as the mod's own kind calls it (a Go-js program has no `wasgo` functions).
        let ask = if function.starts_with("godot.") {
            "godot.requestPermission"
        } else {
            "wasgo.request_permission"
        };
        let message = format!(
            "`{}` has not been granted the `network` permission; call `{ask}(\"network\")` and try again once the game grants it",
            state.name
        );
        return Ok(Err((ErrorCode::PermissionDenied.code(), message)));
    }
    let Some(method) = HttpMethod::parse(method) else {
        // At most MAX_METHOD_BYTES (`sizes_refused`): quoted whole.
        return Ok(Err((
            ErrorCode::InvalidArgument.code(),
            format!(
                "`{function}`: method `{}` is not one of GET, POST, PUT, PATCH, DELETE",
                method.escape_debug()
            ),
        )));
    };
    if !method.has_body() && !body.is_empty() {
        return Ok(Err((
            ErrorCode::InvalidArgument.code(),
            format!(
                "`{function}`: a {} request has no body; pass an empty one",
                method.as_str()
            ),
        )));
    }
    let url = match state.http.config.whitelist.check(&url) {
        Ok(url) => url,
        Err(e) => return Ok(Err((ErrorCode::InvalidArgument.code(), e.0))),
    };
    let id = match state.http.begin(body.len()) {
        Ok(id) => id,
        Err(TooBusy::Requests) => {
            return Ok(Err((
                ErrorCode::Busy.code(),
                format!(
                    "`{}` already has {MAX_IN_FLIGHT} HTTP requests in flight; wait for an answer",
                    state.name
                ),
            )))
        }
        Err(TooBusy::Bytes(bytes)) => {
            return Ok(Err((
                ErrorCode::Busy.code(),
                format!(
                    "`{}` already sends {bytes} bytes of request bodies, and this one's {} would pass the {MAX_REQUEST_BYTES_IN_FLIGHT} its requests may send at once; wait for an answer",
                    state.name,
                    body.len()
                ),
            )))
        }
    };
    let hosts = state.hosts.clone();
    let host = hosts.http.clone();
    let call = HttpCall {
        id,
        key: state.key,
        mod_name: state.name.clone(),
        method,
        url,
        body,
        whitelist: state.http.config.whitelist.clone(),
        max_response_bytes: state.http.config.max_response_bytes,
        table: Arc::downgrade(&state.http),
        permissions: state.permissions.clone(),
    };
    let kill = state.kill.clone();
    let started = hosts
        .bridge
        .run(&kill, move || host.start(call))
        .map_err(|_| wasmtime::Error::new(KilledTrap))?;
    match started {
        Ok(()) => Ok(Ok(id)),
        Err(error) => {
            state.http.abort(id);
            Ok(Err((error.code(), error.into_message())))
        }
    }
}

/// What became of a finished request, for a host that hands it over whole (Go-js): the body,
/// or the ABI error code and message; `None` for an unknown or unfinished id. Consumes it.
pub(crate) fn take_outcome(
    state: &InstanceState,
    id: i32,
) -> Option<Result<Vec<u8>, (i32, String)>> {
    let outcome = match state.http.lookup(id) {
        Lookup::Missing | Lookup::InFlight => return None,
        Lookup::Failed { code, message } => Err((code, message)),
        Lookup::Body(bytes) => Ok(bytes.to_vec()),
    };
    state.http.consume(id);
    Some(outcome)
}

/// `wasgo.http_body(id, out_ptr, out_cap) -> len`.
pub(crate) fn body(
    c: &mut Caller<'_, InstanceState>,
    id: i32,
    out_ptr: i32,
    out_cap: i32,
) -> wasmtime::Result<i32> {
    const F: &str = "wasgo.http_body";
    let lookup = c.data().http.lookup(id);
    match lookup {
        Lookup::Missing => Ok(c.data_mut().fail(
            ErrorCode::NotFound.code(),
            format!("there is no finished HTTP request with id {id} (a body is kept until it has been read whole, and only the last {MAX_KEPT})"),
        )),
        Lookup::InFlight => Ok(c.data_mut().fail(ErrorCode::Busy.code(), format!("HTTP request {id} is still in flight; its answer arrives at the export `http_response`"))),
        Lookup::Failed { code, message } => {
            c.data().http.consume(id);
            Ok(c.data_mut().fail(code, message))
        }
        Lookup::Body(bytes) => {
            let len = guest::write_out(c, F, out_ptr, out_cap, &bytes)?;
            if len <= out_cap {
                c.data().http.consume(id);
            }
            Ok(len)
        }
    }
}
