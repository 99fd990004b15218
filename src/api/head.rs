//! Limits on a request's head (its URL and headers), checked before anything else reads it, so
//! that the refusal comes in the dialect of the API the path belongs to. The HTTP layers below
//! have hard limits of their own, set above these (`listener::connection`): only a request past
//! those (a URL over 64 KiB, HTTP/1.1 headers over about 400 KiB or 200 fields, HTTP/2 headers
//! over 64 KiB) gets the transport's bare status instead.

use http::Request;

use crate::error::TransportError;

/// The longest URL (path and query) accepted.
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// The most header fields, and their size counted as HTTP/2 does (name, value and 32 bytes each).
pub const MAX_HEADER_FIELDS: usize = 100;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuses a head past the limits.
pub fn check<B>(req: &Request<B>) -> Result<(), TransportError> {
    let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri > MAX_URI_BYTES {
        return Err(TransportError::UriTooLong { limit: MAX_URI_BYTES });
    }
    let fields = req.headers().len();
    let bytes: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 32).sum();
    if fields > MAX_HEADER_FIELDS || bytes > MAX_HEADER_BYTES {
        return Err(TransportError::HeadersTooLarge { fields: MAX_HEADER_FIELDS, bytes: MAX_HEADER_BYTES });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_within_the_limits_pass_and_larger_ones_are_refused() {
        let ok = Request::get("/vpc/v1/networks?folderId=f").header("authorization", "Bearer t").body(()).unwrap();
        assert!(check(&ok).is_ok());
        let long = Request::get(format!("/vpc/v1/networks?x={}", "a".repeat(MAX_URI_BYTES))).body(()).unwrap();
        assert!(matches!(check(&long), Err(TransportError::UriTooLong { .. })));
        let mut many = Request::get("/").body(()).unwrap();
        for i in 0..=MAX_HEADER_FIELDS {
            many.headers_mut().insert(http::HeaderName::try_from(format!("x-h{i}")).unwrap(), "v".parse().unwrap());
        }
        assert!(matches!(check(&many), Err(TransportError::HeadersTooLarge { .. })));
        let big = Request::get("/").header("x-big", "v".repeat(MAX_HEADER_BYTES)).body(()).unwrap();
        assert!(matches!(check(&big), Err(TransportError::HeadersTooLarge { .. })));
    }
}
