//! What the server logs around calls. At the default level (info) a write that succeeds writes
//! no line: a line per write cost a system call and a tenth of the call's instructions. An error line names the
//! call's request id at any level, and at debug every call and accepted operation is logged with
//! its ids.

use std::time::{Duration, Instant};

use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use serde_json::json;
use tonic::Code;

use crate::admin::Admin;
use crate::fixtures::FOLDER;
use crate::harness::Server;

/// A network create carrying the caller's `x-request-id`.
fn create_network(name: &str, request_id: &str) -> tonic::Request<vpb::CreateNetworkRequest> {
    let mut request = tonic::Request::new(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: name.into(), ..Default::default() });
    request.metadata_mut().insert("x-request-id", request_id.parse().expect("ascii"));
    request
}

/// The first line of the server's log holding every one of `needles`, waiting for it to arrive
/// (the log is read from the server's stdout by a thread of its own).
async fn logged_line(server: &Server, needles: &[&str]) -> String {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let found = server.log().lock().unwrap().iter().find(|line| needles.iter().all(|n| line.contains(n))).cloned();
        match found {
            Some(line) => return line,
            None if Instant::now() > until => panic!("no line with {needles:?} in:\n{}", server.log().lock().unwrap().join("\n")),
            None => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

#[tokio::test]
async fn at_the_default_level_calls_write_no_line_and_an_error_names_its_request() {
    let server = Server::start_logging("info");
    let c = server.clients().await;
    assert!(c.networks.clone().create(create_network("quiet", "quiet-write-1")).await.expect("create").into_inner().done);
    let rule = json!({"method": "yandex.cloud.vpc.v1.NetworkService/Create", "error": {"code": "INTERNAL", "message": "scripted"}});
    Admin::new(&server).fault(rule).await;
    let failed = c.networks.clone().create(create_network("loud", "loud-write-2")).await.expect_err("the rule fails it");
    assert_eq!(failed.code(), Code::Internal, "{failed:?}");

    let error = logged_line(&server, &["internal error"]).await;
    assert!(error.contains("loud-write-2"), "the error line names its request: {error}");
    // One stream: whatever the first call wrote came before the error's line.
    let log = server.log().lock().unwrap().clone();
    let per_call = log.iter().filter(|l| l.contains("quiet-write-1") || l.contains("operation accepted") || l.contains("served")).count();
    assert_eq!(per_call, 0, "{}", log.join("\n"));
}

#[tokio::test]
async fn at_debug_each_call_and_accepted_operation_is_logged_with_its_ids() {
    // The tests' own level: info, and debug for netplane.
    let server = Server::start("inline");
    let c = server.clients().await;
    assert!(c.networks.clone().create(create_network("chatty", "chatty-write-1")).await.expect("create").into_inner().done);
    let accepted = logged_line(&server, &["operation accepted", "chatty-write-1"]).await;
    assert!(accepted.contains("server_request_id=") && accepted.contains("server_trace_id="), "{accepted}");
    logged_line(&server, &["served", "chatty-write-1", "path=/yandex.cloud.vpc.v1.NetworkService/Create"]).await;
}
