//! One simulated client: a WebSocket from its own source address, and the
//! few things it says in Natter's protocol or the Node chats' plain text.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use natter_shared::{ClientMsg, MessageText, RoomName, ServerMsg};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::COOKIE;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use crate::people::People;
use crate::target::Kind;

pub type Ws = WebSocketStream<TcpStream>;

/// How many loopback addresses (127.0.0.1 up) connections are spread over,
/// so that no one address runs out of ephemeral ports.
const SOURCES: u32 = 64;

/// The longest any single client step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Each read fills (and first zeroes) the read buffer, and a read that
/// finds nothing does too; tungstenite's default of 128 KiB made zeroing
/// the generator's main cost. 2 KiB holds a batch of a dozen or more
/// frames.
const READ_BUFFER_BYTES: usize = 2 * 1024;

fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES)
}

/// The source address of the `i`th client.
pub fn source(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 1 + (i as u32 % SOURCES) as u8)
}

/// Opens client `i`'s connection and completes the WebSocket handshake.
/// Natter's first message (`welcome`) is left for the caller.
pub async fn connect(kind: Kind, server: SocketAddr, i: usize) -> Result<Ws> {
    connect_from(kind, server, source(i)).await
}

/// Opens a connection from the source address `from` and completes the
/// WebSocket handshake. A refusal keeps its cause for `downcast_ref`: a
/// `std::io::Error` for the TCP connect, a tungstenite `Error::Http` for
/// an HTTP status.
pub async fn connect_from(kind: Kind, server: SocketAddr, from: Ipv4Addr) -> Result<Ws> {
    handshake(kind, server, from, None).await
}

/// [`connect_from`], the handshake carrying `cookie` (`name=value`) when
/// there is one: a signed-in member's session.
async fn handshake(
    kind: Kind,
    server: SocketAddr,
    from: Ipv4Addr,
    cookie: Option<&str>,
) -> Result<Ws> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    let stream = tokio::time::timeout(STEP_TIMEOUT, socket.connect(server))
        .await
        .context("TCP connect timed out")?
        .with_context(|| format!("cannot connect to {server}"))?;
    stream.set_nodelay(true)?;
    let path = if kind.is_natter() { "/ws" } else { "/" };
    let mut request = format!("ws://{server}{path}").into_client_request()?;
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert(COOKIE, HeaderValue::from_str(cookie)?);
    }
    let (ws, _) = tokio::time::timeout(
        STEP_TIMEOUT,
        client_async_with_config(request, stream, Some(config())),
    )
    .await
    .context("WebSocket handshake timed out")?
    .context("WebSocket handshake failed")?;
    Ok(ws)
}

/// Connects client `i` as a guest and, on Natter, puts it in `room`: it
/// is then ready to send and receive. The Node chats have one room for
/// everyone.
pub async fn join(kind: Kind, server: SocketAddr, i: usize, room: &str) -> Result<Ws> {
    join_as(kind, server, i, room, &People::Guests).await
}

/// [`join`] as client `i` of `people`: a guest, or a signed-in member.
pub async fn join_as(
    kind: Kind,
    server: SocketAddr,
    i: usize,
    room: &str,
    people: &People,
) -> Result<Ws> {
    let cookie = people.cookie(i);
    let mut ws = handshake(kind, server, source(i), cookie).await?;
    if cookie.is_some() {
        let welcome = until(&mut ws, |msg| matches!(msg, ServerMsg::Welcome { .. })).await?;
        if !matches!(welcome, ServerMsg::Welcome { role: Some(_), .. }) {
            bail!("client {i} sent its session, and the server took it for a guest");
        }
    }
    if kind.is_natter() {
        let room = RoomName::try_from(room.to_owned())?;
        send_json(
            &mut ws,
            &ClientMsg::Join {
                room,
                since: None,
                private: false,
            },
        )
        .await?;
        until(&mut ws, |msg| matches!(msg, ServerMsg::Entered { .. })).await?;
    }
    Ok(ws)
}

/// The frame that says `text` in `room` (with id `id` on Natter, so the
/// server acknowledges it once stored, as the web client does).
pub fn say(kind: Kind, room: &str, text: String, id: &str) -> Result<Message> {
    if !kind.is_natter() {
        return Ok(Message::text(text));
    }
    let msg = ClientMsg::Say {
        room: RoomName::try_from(room.to_owned())?,
        text: MessageText::try_from(text)?,
        id: Some(id.to_owned().try_into()?),
    };
    Ok(Message::text(serde_json::to_string(&msg)?))
}

pub async fn send_json(ws: &mut Ws, msg: &ClientMsg) -> Result<()> {
    ws.send(Message::text(serde_json::to_string(msg)?))
        .await
        .context("send failed")
}

/// Reads Natter messages until one matches, within [`STEP_TIMEOUT`].
pub async fn until(ws: &mut Ws, wanted: impl Fn(&ServerMsg) -> bool) -> Result<ServerMsg> {
    tokio::time::timeout(STEP_TIMEOUT, async {
        while let Some(frame) = ws.next().await {
            if let Message::Text(text) = frame.context("read failed")? {
                let msg: ServerMsg = serde_json::from_str(text.as_str())
                    .with_context(|| format!("unexpected frame {text}"))?;
                if let ServerMsg::Error { message, .. } = &msg {
                    bail!("the server refused: {message}");
                }
                if wanted(&msg) {
                    return Ok(msg);
                }
            }
        }
        bail!("the server closed the connection")
    })
    .await
    .context("no answer within 30 s")?
}
