//! Frames that are not requests (binary frames, WebSocket pings) count
//! against the connection's limits like requests do (issue 34, item 10).

mod common;

use common::{WAIT, next_frame, spawn_app};
use futures_util::SinkExt;
use natter_shared::close_code;
use tokio_tungstenite::tungstenite::Message;

/// Sends `frames` copies of `frame` at once; returns the close code the
/// server ends with and how many text replies came before it.
async fn flood(frame: Message, frames: usize) -> (u16, usize) {
    let server = spawn_app().await;
    let (mut ws, _) = server.arrive().await;
    for _ in 0..frames {
        // The server may close before all are sent.
        if ws.feed(frame.clone()).await.is_err() {
            break;
        }
    }
    let _ = ws.flush().await;
    let mut replies = 0;
    let code = tokio::time::timeout(WAIT, async {
        loop {
            match next_frame(&mut ws).await {
                Message::Close(Some(close)) => return u16::from(close.code),
                Message::Text(_) => replies += 1,
                _ => {}
            }
        }
    })
    .await
    .expect("closed in time");
    (code, replies)
}

#[tokio::test]
async fn binary_frames_are_refused_and_close_the_connection_when_repeated() {
    let (code, replies) = flood(Message::binary(vec![0u8]), 200).await;
    assert_eq!(code, close_code::POLICY);
    // One `error` per strike of the budget (20 at once), not one per frame.
    assert!(replies <= 25, "{replies} replies");
}

#[tokio::test]
async fn a_ping_flood_closes_the_connection() {
    let (code, _) = flood(Message::Ping(Default::default()), 200).await;
    assert_eq!(code, close_code::POLICY);
}
