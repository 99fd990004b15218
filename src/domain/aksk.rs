//! Huawei Cloud's AK/SK request signature, `SDK-HMAC-SHA256`, as the official SDKs compute it:
//! the canonical request, the string to sign, the HMAC, the `Authorization` header, and the
//! 15-minute clock window of `X-Sdk-Date`. Pure: the secret and the clock are passed in.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

use super::clock::Timestamp;

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// How far `X-Sdk-Date` may be from the server clock.
pub const CLOCK_WINDOW_MICROS: i64 = 15 * 60 * 1_000_000;

/// Everything but the unreserved characters of RFC 3986 is encoded (`~` is kept).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A request as the server received it (path and query still percent-encoded).
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// Header names in any case; values as sent.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The parts of an `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub access: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Why a signature was not accepted; every one is APIGW.0301 to the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    MalformedAuthorization(String),
    MissingDate,
    MalformedDate(String),
    OutsideClockWindow,
    MissingSignedHeader(String),
    WrongSignature,
}

impl Refusal {
    pub fn describe(&self) -> String {
        match self {
            Refusal::MalformedAuthorization(why) => format!("malformed Authorization header: {why}"),
            Refusal::MissingDate => "missing X-Sdk-Date header".into(),
            Refusal::MalformedDate(d) => format!("X-Sdk-Date {d:?} is not YYYYMMDDTHHMMSSZ"),
            Refusal::OutsideClockWindow => "X-Sdk-Date is more than 15 minutes away from the server clock".into(),
            Refusal::MissingSignedHeader(h) => format!("signed header {h} is missing"),
            Refusal::WrongSignature => "verify aksk signature fail".into(),
        }
    }
}

pub fn parse_authorization(value: &str) -> Result<Authorization, Refusal> {
    let bad = |why: &str| Refusal::MalformedAuthorization(why.to_string());
    let rest = value.strip_prefix(ALGORITHM).ok_or_else(|| bad("expected SDK-HMAC-SHA256"))?.trim_start();
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, v) = part.trim().split_once('=').ok_or_else(|| bad("expected key=value parts"))?;
        match key {
            "Access" => access = Some(v.to_string()),
            "SignedHeaders" => signed = Some(v.split(';').map(str::to_ascii_lowercase).collect::<Vec<_>>()),
            "Signature" => signature = Some(v.to_ascii_lowercase()),
            _ => {}
        }
    }
    let signed_headers = signed.filter(|s| !s.is_empty()).ok_or_else(|| bad("no SignedHeaders"))?;
    // The SDKs always sign the host: a signature without it could be replayed against any host.
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(bad("SignedHeaders must include host"));
    }
    Ok(Authorization {
        access: access.filter(|a| !a.is_empty()).ok_or_else(|| bad("no Access"))?,
        signed_headers,
        signature: signature.filter(|s| !s.is_empty()).ok_or_else(|| bad("no Signature"))?,
    })
}

/// `YYYYMMDDTHHMMSSZ` as a timestamp.
pub fn parse_sdk_date(date: &str) -> Result<Timestamp, Refusal> {
    let bad = || Refusal::MalformedDate(date.to_string());
    let b = date.as_bytes();
    // ASCII first: the fields below are cut by byte offsets, which must not split a character.
    if !date.is_ascii() || b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(bad());
    }
    let iso = format!("{}-{}-{}T{}:{}:{}Z", &date[0..4], &date[4..6], &date[6..8], &date[9..11], &date[11..13], &date[13..15]);
    humantime::parse_rfc3339(&iso).map(Timestamp::from).map_err(|_| bad())
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, ENCODE).to_string()
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fn header<'a>(request: &'a Request<'_>, name: &str) -> Option<&'a str> {
    request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The canonical request: method, URI (each segment encoded, ending in `/`), sorted query,
/// signed headers, their names, and the body's SHA-256.
pub fn canonical_request(request: &Request<'_>, signed_headers: &[String]) -> Result<String, Refusal> {
    // As the SDKs do: the whole path decoded first, then split on `/` (so an encoded `%2F` inside
    // a segment splits it), each piece encoded again.
    let mut uri: String = decode(request.path).split('/').filter(|s| !s.is_empty()).map(|s| format!("/{}", encode(s))).collect();
    uri.push('/');
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(request.query.as_bytes()).map(|(k, v)| (encode(&k), encode(&v))).collect();
    pairs.sort();
    let query = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut names: Vec<String> = signed_headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    names.sort();
    let mut headers = String::new();
    for name in &names {
        let value = header(request, name).ok_or_else(|| Refusal::MissingSignedHeader(name.clone()))?;
        headers.push_str(&format!("{name}:{}\n", value.trim()));
    }
    let body = format!("{:x}", Sha256::digest(request.body));
    Ok(format!("{}\n{uri}\n{query}\n{headers}\n{}\n{body}", request.method.to_ascii_uppercase(), names.join(";")))
}

/// The hex signature of `request` under `secret`, as the SDK computes it.
pub fn sign(secret: &str, request: &Request<'_>, signed_headers: &[String], sdk_date: &str) -> Result<String, Refusal> {
    let canonical = canonical_request(request, signed_headers)?;
    let to_sign = format!("{ALGORITHM}\n{sdk_date}\n{:x}", Sha256::digest(canonical.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| Refusal::WrongSignature)?;
    mac.update(to_sign.as_bytes());
    Ok(format!("{:x}", mac.finalize().into_bytes()))
}

/// Checks a request's signature and date against `secret` at `now`.
pub fn verify(secret: &str, request: &Request<'_>, authorization: &Authorization, now: Timestamp) -> Result<(), Refusal> {
    let date = header(request, "x-sdk-date").ok_or(Refusal::MissingDate)?;
    let at = parse_sdk_date(date)?;
    if (at.0 - now.0).abs() > CLOCK_WINDOW_MICROS {
        return Err(Refusal::OutsideClockWindow);
    }
    let expected = sign(secret, request, &authorization.signed_headers, date)?;
    // Compare in constant time, as an HMAC check should.
    let matches = expected.len() == authorization.signature.len()
        && expected.bytes().zip(authorization.signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if matches { Ok(()) } else { Err(Refusal::WrongSignature) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROJECT: &str = "0123456789abcdef0123456789abcdef";
    const SIGNATURE: &str = "a084a4912ebb4842ca77cebe0b16102d23e3405d92daacc5cce947a108a58a18";

    fn headers() -> Vec<(String, String)> {
        [
            ("Content-Type", "application/json"),
            ("Host", "127.0.0.1:34611"),
            (
                "User-Agent",
                "huaweicloud-usdk-python/3.0; os/Linux##1_SMP_PREEMPT_DYNAMIC_@0#x86_64 python/3.11.7 impl/CPython; app/1dfa2f06-949d-485d-a9d9-b9e41ae94130",
            ),
            ("X-Project-Id", PROJECT),
            ("X-Sdk-Date", "20261122T023204Z"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
    }

    fn path() -> String {
        format!("/v3/{PROJECT}/private-nat/dnat-rules/5c9d1b4e-0000-4000-8000-000000000001")
    }

    fn authorization() -> Authorization {
        let value = format!(
            "SDK-HMAC-SHA256 Access=AKTESTAK, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature={SIGNATURE}"
        );
        parse_authorization(&value).unwrap()
    }

    fn now() -> Timestamp {
        parse_sdk_date("20261122T023204Z").unwrap()
    }

    #[test]
    fn the_published_test_vector_verifies() {
        let (headers, path) = (headers(), path());
        let request = Request { method: "GET", path: &path, query: "", headers: &headers, body: b"" };
        let auth = authorization();
        assert_eq!(auth.access, "AKTESTAK");
        assert_eq!(sign("SKSECRET", &request, &auth.signed_headers, "20261122T023204Z").unwrap(), SIGNATURE);
        assert_eq!(verify("SKSECRET", &request, &auth, now()), Ok(()));
    }

    #[test]
    fn any_tampering_is_refused() {
        let (headers, path) = (headers(), path());
        let auth = authorization();
        let base = Request { method: "GET", path: &path, query: "", headers: &headers, body: b"" };
        let other_path = path.replace("0001", "0002");
        let mut other_header = headers.clone();
        other_header[3].1 = "ffffffffffffffffffffffffffffffff".into();
        let mut other_date = headers.clone();
        other_date[4].1 = "20261122T023205Z".into();
        let cases = [
            ("method", Request { method: "DELETE", ..base.clone() }),
            ("path", Request { path: &other_path, ..base.clone() }),
            ("query", Request { query: "limit=1", ..base.clone() }),
            ("header", Request { headers: &other_header, ..base.clone() }),
            ("body", Request { body: b"{}", ..base.clone() }),
            ("date", Request { headers: &other_date, ..base.clone() }),
        ];
        for (what, request) in cases {
            assert_eq!(verify("SKSECRET", &request, &auth, now()), Err(Refusal::WrongSignature), "{what}");
        }
        assert_eq!(verify("OTHERSECRET", &base, &auth, now()), Err(Refusal::WrongSignature), "secret");
    }

    #[test]
    fn the_clock_window_is_fifteen_minutes() {
        let (headers, path) = (headers(), path());
        let request = Request { method: "GET", path: &path, query: "", headers: &headers, body: b"" };
        let minute = 60 * 1_000_000;
        assert_eq!(verify("SKSECRET", &request, &authorization(), Timestamp(now().0 + 15 * minute)), Ok(()));
        assert_eq!(verify("SKSECRET", &request, &authorization(), Timestamp(now().0 + 16 * minute)), Err(Refusal::OutsideClockWindow));
        assert_eq!(verify("SKSECRET", &request, &authorization(), Timestamp(now().0 - 16 * minute)), Err(Refusal::OutsideClockWindow));
        let undated: Vec<_> = headers.iter().filter(|(n, _)| n != "X-Sdk-Date").cloned().collect();
        assert_eq!(verify("SKSECRET", &Request { headers: &undated, ..request }, &authorization(), now()), Err(Refusal::MissingDate));
    }

    #[test]
    fn canonical_form_details() {
        let headers = vec![("Host".to_string(), "h".to_string()), ("X-Sdk-Date".to_string(), "20261122T023204Z".to_string())];
        let request = Request { method: "get", path: "/v3/a b~c/x", query: "b=2&a=%2F&a=1", headers: &headers, body: b"" };
        let canonical = canonical_request(&request, &["x-sdk-date".into(), "host".into()]).unwrap();
        let lines: Vec<&str> = canonical.split('\n').collect();
        assert_eq!(lines[0], "GET");
        assert_eq!(lines[1], "/v3/a%20b~c/x/", "segments encoded, ~ kept, trailing slash");
        assert_eq!(lines[2], "a=%2F&a=1&b=2", "sorted by key then value");
        assert_eq!(&lines[3..5], ["host:h", "x-sdk-date:20261122T023204Z"]);
        assert_eq!(lines[6], "host;x-sdk-date");
        assert_eq!(canonical_request(&request, &["x-project-id".into()]), Err(Refusal::MissingSignedHeader("x-project-id".into())));
        // An encoded slash splits its segment, as the SDKs sign it (they unquote, then split).
        let tag = Request { path: "/v3/p1/private-nat-gateways/g/tags/a%20b%2F%C3%A7", query: "", ..request };
        let canonical = canonical_request(&tag, &["host".into()]).unwrap();
        assert_eq!(canonical.split('\n').nth(1), Some("/v3/p1/private-nat-gateways/g/tags/a%20b/%C3%A7/"));
    }

    #[test]
    fn malformed_authorization_headers_are_refused() {
        for bad in [
            "",
            "Bearer x",
            "SDK-HMAC-SHA256 ",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host",
            "SDK-HMAC-SHA256 Access=a Signature=b",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=x-sdk-date;x-project-id, Signature=b",
        ] {
            assert!(parse_authorization(bad).is_err(), "{bad:?}");
        }
        assert!(parse_sdk_date("2026-11-22T02:32:04Z").is_err());
        assert!(parse_sdk_date("20261322T023204Z").is_err());
    }
}
