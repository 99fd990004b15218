//! How much of a client's own input an error may carry back. An error quotes the value it refuses
//! so that a person can see what was wrong, but a value may be megabytes long: quoted whole, it
//! made a gRPC error's trailers too large for grpc-core clients (which then report
//! RESOURCE_EXHAUSTED instead of the real error) and a REST error larger than the request. So a
//! quoted value is cut to its first characters and its length, and every text an error puts on
//! the wire is capped, which keeps any error well under 8 KiB.

use std::borrow::Cow;

/// Characters of a refused value an error quotes.
const QUOTED_CHARS: usize = 64;

/// The longest error message on the wire, in characters.
pub const MAX_MESSAGE_CHARS: usize = 512;
/// The longest field path and description of one field violation, in characters.
pub const MAX_FIELD_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// Field violations sent in one error; the message says how many there were in all.
pub const MAX_VIOLATIONS: usize = 8;

/// A client's value as an error quotes it: whole if short, else its start and its length.
pub fn echo(value: &str) -> Cow<'_, str> {
    cut(value, QUOTED_CHARS)
}

/// `text` cut to at most `max` characters (and a note of its length).
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}… ({} characters)", &text[..end], text.chars().count())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(echo("net-1"), "net-1");
        assert_eq!(echo(&"a".repeat(64)), "a".repeat(64));
    }

    #[test]
    fn long_values_are_cut_to_their_start_and_length() {
        let long = "x".repeat(5000);
        let quoted = echo(&long);
        assert_eq!(quoted, format!("{}… (5000 characters)", "x".repeat(64)));
        assert!(quoted.len() < 100);
    }

    #[test]
    fn cutting_respects_characters_not_bytes() {
        assert_eq!(cut("ééééé", 3), "ééé… (5 characters)");
        assert_eq!(cut("", 3), "");
    }
}
