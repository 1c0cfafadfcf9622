//! Plain HTTP/1.1 over a raw TCP socket, for tests about what a connection
//! may hold: keep-alive requests, and when the server hangs up.

use std::net::{IpAddr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::WAIT;

/// A keep-alive `GET /healthz`.
pub const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: natter\r\n\r\n";

/// A connection to `server` from the local address `from`.
pub async fn connect_from(from: IpAddr, server: SocketAddr) -> TcpStream {
    let socket = if from.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    tokio::time::timeout(WAIT, socket.connect(server))
        .await
        .expect("connected in time")
        .unwrap()
}

/// Sends `GET /healthz` on `tcp` and reads its whole answer, `200 ok`,
/// leaving the connection open.
pub async fn healthz(tcp: &mut TcpStream) {
    tcp.write_all(HEALTHZ).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    // The body is `ok`, last after the head.
    while !got.ends_with(b"\r\n\r\nok") {
        let n = tokio::time::timeout(WAIT, tcp.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 200"), "{got:?}");
}

/// Reads from `tcp` until the server closes it (within [`WAIT`]); what it
/// sent meanwhile.
pub async fn until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(WAIT, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closed the connection in time");
    got
}
