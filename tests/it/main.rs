//! One integration test binary: every test starts the real server and uses real clients.

mod access;
mod admin;
mod console;
mod crash;
mod disks;
mod drain;
mod fixtures;
mod grpcurl;
mod hardening;
mod harness;
mod huawei;
mod huawei_rules;
mod huawei_tags_ports;
mod hw;
mod instances;
mod limits;
mod networking;
mod official_sdk;
mod operations;
mod rawh2;
mod replicas;
mod rest;
mod restart;
mod routing;
mod upgrade;
mod vpc;
