//! Whitelisted HTTP (level 2, behind the `network` permission); the request table lives in
//! [`crate::http`].

use super::generated::HttpFunctions;
use super::{Caller, Host};

impl HttpFunctions for Host {
    fn http_request(
        c: &mut Caller<'_>,
        url_ptr: i32,
        url_len: i32,
        method_ptr: i32,
        method_len: i32,
        body_ptr: i32,
        body_len: i32,
    ) -> wasmtime::Result<i32> {
        crate::http_calls::request(
            c, url_ptr, url_len, method_ptr, method_len, body_ptr, body_len,
        )
    }

    fn http_body(c: &mut Caller<'_>, id: i32, out_ptr: i32, out_cap: i32) -> wasmtime::Result<i32> {
        crate::http_calls::body(c, id, out_ptr, out_cap)
    }
}
