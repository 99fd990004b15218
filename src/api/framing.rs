//! gRPC length-prefixed message framing, for the layers that read or write a unary call's body
//! themselves (the REST gateway and the guard).

use bytes::{BufMut, Bytes, BytesMut};

/// One uncompressed frame holding `message`.
pub fn frame(message: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.put_u8(0);
    frame.put_u32(message.len() as u32);
    frame.put_slice(message);
    frame.freeze()
}

/// The message of a body that starts with one uncompressed, complete frame.
pub fn unary(body: &[u8]) -> Option<&[u8]> {
    let (header, rest) = body.split_at_checked(5)?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    (header[0] == 0).then(|| rest.get(..len)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let framed = frame(b"abc");
        assert_eq!(&framed[..], b"\0\0\0\0\x03abc");
        assert_eq!(unary(&framed), Some(&b"abc"[..]));
    }

    #[test]
    fn only_plain_complete_frames_are_read() {
        assert_eq!(unary(b"\x01\0\0\0\x02ab"), None, "compressed");
        assert_eq!(unary(b"\0\0\0\0\x05ab"), None, "truncated");
        assert_eq!(unary(b"\0\0"), None);
        assert_eq!(unary(b""), None);
    }
}
