//! The official Python SDK (`yandexcloud`): its descriptors must equal ours, and its generated
//! stubs must work against the server unchanged.

use crate::harness::{Server, run_python};

#[test]
fn our_contract_equals_the_official_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("netplane.fds");
    std::fs::write(&path, netplane::proto::FILE_DESCRIPTOR_SET).unwrap();
    let out = run_python("contract_parity.py", &[path.to_str().unwrap()]);
    assert!(out.contains("contract parity: OK"), "{out}");
}

#[test]
fn official_stubs_create_network_subnet_and_instance() {
    let server = Server::start("delay=20ms");
    let out = run_python("sdk_flow.py", &[&server.addr]);
    assert!(out.contains("sdk flow: OK"), "{out}");
}

#[test]
fn official_stubs_run_the_seed_flow() {
    let server = Server::start("delay=20ms");
    let out = run_python("seed_flow.py", &[&server.addr]);
    assert!(out.contains("seed flow: OK"), "{out}");
}
