//! The real binary, killed with `kill -9` in the middle of traffic, twice:
//! clients that follow the protocol's delivery contract (device ids,
//! message ids, resume with `since`, resend until acknowledged) end up with
//! exactly the store's history of every room: no gaps, no duplicates, the
//! same order, and every acknowledged message in it.

mod common;

use common::contract::{self, WRITERS};

const MESSAGES: u64 = 10_000;

#[tokio::test]
async fn kill_9_twice_loses_nothing_acknowledged_and_no_view_differs() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let addr = common::free_addr();
    let mut server = contract::start(addr, &db, &[]).await;
    // Create the rooms before the writers start.
    common::create_rooms(addr, &contract::ROOMS).await;

    let (peers, acks, set_target) = contract::spawn_peers(WRITERS, MESSAGES, &[addr]);
    // Kill the server twice mid-stream, restarting it at once each time.
    for at in [MESSAGES / 4, MESSAGES * 3 / 5] {
        contract::acked(&acks, at).await;
        contract::kill_9(&mut server).await;
        server = contract::start(addr, &db, &[]).await;
    }
    contract::acked(&acks, MESSAGES).await;
    contract::check(addr, peers, set_target, MESSAGES).await;
    server.kill().await.unwrap();
}
