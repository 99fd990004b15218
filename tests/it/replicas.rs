//! Several replicas on one PostgreSQL database: what one acknowledges, every other sees, and
//! uniqueness holds across them because the database enforces it.

use std::sync::Arc;

use netplane::proto::yandex::cloud::vpc::v1 as vpb;

use crate::fixtures::{FOLDER, response};
use crate::harness::{Server, data_dir, postgres_database};
use crate::hw::{Hw, PROJECT, tcp};

#[tokio::test]
async fn two_replicas_on_one_postgres_share_state_and_uniqueness() {
    let url = postgres_database("two_replicas");
    let (a, b) = (Server::start_with(data_dir(), &url, "inline"), Server::start_with(data_dir(), &url, "inline"));

    // A network created through one replica is read through the other.
    let created = a
        .clients()
        .await
        .networks
        .create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "shared".into(), ..Default::default() })
        .await
        .expect("create")
        .into_inner();
    let network: vpb::Network = response(&created, "yandex.cloud.vpc.v1.Network");
    let read = b.clients().await.networks.get(vpb::GetNetworkRequest { network_id: network.id.clone() }).await.expect("get").into_inner();
    assert_eq!(read.name, "shared");
    let taken = b
        .clients()
        .await
        .networks
        .create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "shared".into(), ..Default::default() })
        .await
        .expect_err("names are unique per folder across replicas");
    assert_eq!(taken.code(), tonic::Code::AlreadyExists);

    // Conflicting DNAT rules sent to both replicas at once: exactly one wins.
    let (hw_a, hw_b) = (Arc::new(Hw::new(&a.rest, PROJECT, None)), Arc::new(Hw::new(&b.rest, PROJECT, None)));
    let t = hw_a.topology(11, 24).await;
    let attempts: Vec<_> = (0..12u16)
        .map(|i| {
            let hw = if i % 2 == 0 { hw_a.clone() } else { hw_b.clone() };
            let t = t.clone();
            tokio::spawn(async move { hw.dnat(&t, &t.transit_ip_id, tcp(&format!("10.11.1.{}", 10 + i), 80, 443)).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        let answer = attempt.await.expect("task");
        statuses.push((answer.status, answer.code().to_string()));
    }
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|(s, c)| *s == 201 || (*s == 409 && c == "NAT.1309")), "{statuses:?}");
    let listed = hw_b.get(&format!("{}?transit_ip_id={}", hw_b.nat("dnat-rules"), t.transit_ip_id)).await;
    assert_eq!(listed.body["page_info"]["current_count"], 1);
    assert!(a.stop().await.success(), "a replica on PostgreSQL shuts down cleanly");
    assert!(b.stop().await.success());
}
