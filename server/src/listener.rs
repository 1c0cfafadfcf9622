//! The listening socket as the HTTP server sees it: every accepted
//! connection must finish its request head within [`limits::HANDSHAKE`],
//! or it is dropped. Without this a client could open thousands of
//! connections and send their headers a byte a minute (slowloris), each
//! holding a file descriptor forever.
//!
//! The deadline ends with the server's first write (the response to the
//! first request, e.g. `101 Switching Protocols`), after which the session's
//! own timeouts apply. Accepted sockets also get `TCP_NODELAY`: chat frames
//! are small and must not wait for Nagle's algorithm.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::Sleep;

use crate::limits;

/// Connections the kernel may hold for the server before it accepts them
/// (capped by `net.core.somaxconn`). With the usual 1,024, a crowd coming
/// back at once overflows it, and the kernel drops their first packets:
/// those clients wait a second before trying again.
pub const BACKLOG: u32 = 4096;

/// Listens on `addr` with a [`BACKLOG`] for connection storms.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // Like the standard library: a restarted server may listen again at
    // once while its old connections wait out TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// A TCP listener whose connections must complete their handshake in time.
pub struct Guarded {
    inner: TcpListener,
}

impl Guarded {
    pub fn new(inner: TcpListener) -> Self {
        Guarded { inner }
    }
}

/// The peer's address, for `ConnectInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

impl Listener for Guarded {
    type Io = Deadlined;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    // Only a latency setting; a failure changes nothing else.
                    let _ = stream.set_nodelay(true);
                    return (Deadlined::new(stream, limits::HANDSHAKE), addr);
                }
                // Out of file descriptors or a connection reset while
                // queued: log, breathe, go on accepting.
                Err(err) => {
                    tracing::warn!(%err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl Connected<IncomingStream<'_, Guarded>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Guarded>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A TCP stream that fails its reads once its handshake deadline passes
/// without the server having written anything.
pub struct Deadlined {
    io: TcpStream,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl Deadlined {
    fn new(io: TcpStream, within: Duration) -> Self {
        Deadlined {
            io,
            deadline: Some(Box::pin(tokio::time::sleep(within))),
        }
    }
}

impl AsyncRead for Deadlined {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(deadline) = &mut self.deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request head did not arrive in time",
            )));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Deadlined {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.deadline = None;
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.deadline = None;
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
