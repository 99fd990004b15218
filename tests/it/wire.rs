//! What the server writes on the wire around the messages, read back by an independent HTTP/2
//! implementation (the h2 package's HPACK decoder).

use crate::harness::{Server, run_python};

/// The three id headers of every answer are new on every call, so they go out as never-indexed
/// literals: indexed, each answer would insert three entries into both sides' HPACK tables and
/// evict older ones, for nothing a later answer could reuse. The caller's own id is still echoed.
#[tokio::test]
async fn per_call_ids_are_never_indexed_and_the_callers_id_is_echoed() {
    let server = Server::start("inline");
    let out = run_python("hpack_request_ids.py", &[&server.addr]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "two answers with three id headers each:\n{out}");
    for (stream, request_id) in [(1, "hpack-0"), (3, "hpack-1")] {
        assert!(lines.contains(&format!("stream {stream} x-request-id {request_id} never-indexed").as_str()), "{out}");
        for name in ["x-server-request-id", "x-server-trace-id"] {
            let prefix = format!("stream {stream} {name} ");
            let line = lines.iter().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {name} on stream {stream}:\n{out}"));
            assert!(line.ends_with(" never-indexed"), "{line}");
        }
    }
}
