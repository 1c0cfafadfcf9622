//! `/ws/echo` returns every frame unchanged.

mod common;

use common::{Ws, expect_close, next_frame, send_raw, spawn_app};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn echoes_text_and_binary_byte_for_byte() {
    let server = spawn_app().await;
    let mut ws = server.connect("/ws/echo").await;
    let binary: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let frames = [
        Message::text("hello"),
        Message::text("你好, мир, 🌍 — \"quoted\" <b>not bold</b>"),
        Message::text(""),
        Message::binary(binary),
        Message::binary(Vec::new()),
        Message::text("{\"type\":\"say\"} is just text here"),
    ];
    for frame in frames {
        send_raw(&mut ws, frame.clone()).await;
        assert_eq!(next_frame(&mut ws).await, frame);
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_with_1009() {
    let server = spawn_app().await;
    let mut ws = server.connect("/ws/echo").await;
    send_raw(&mut ws, Message::binary(vec![0u8; 2 * 1024 * 1024])).await;
    assert_eq!(u16::from(expect_close(&mut ws).await.code), 1009);
    // The route still works for the next client.
    let mut next = server.connect("/ws/echo").await;
    send_raw(&mut next, Message::text("again")).await;
    assert_eq!(next_frame(&mut next).await, Message::text("again"));
    server.stop().await.unwrap();
}

/// A client that closes with 1000 gets the server's close reply, on both
/// routes: without it browsers report an abnormal closure (1006).
#[tokio::test]
async fn a_client_close_is_answered_on_both_routes() {
    let server = spawn_app().await;
    for path in ["/ws", "/ws/echo"] {
        let mut ws: Ws = server.connect(path).await;
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        };
        ws.send(Message::Close(Some(frame))).await.unwrap();
        assert_eq!(u16::from(expect_close(&mut ws).await.code), 1000, "{path}");
    }
    server.stop().await.unwrap();
}
