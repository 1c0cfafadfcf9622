//! The listening socket as the HTTP server sees it: every accepted
//! connection must finish its request head within `limits::HANDSHAKE`,
//! or it is dropped. Without this a client could open thousands of
//! connections and send their headers a byte a minute (slowloris), each
//! holding a file descriptor forever.
//!
//! The deadline ends with the server's first write (the response to the
//! first request, e.g. `101 Switching Protocols`), after which the session's
//! own timeouts apply (and for later requests on a keep-alive connection,
//! HTTP's, see `crate::serve`). Accepted sockets also get `TCP_NODELAY`:
//! chat frames are small and must not wait for Nagle's algorithm.
//!
//! Every accepted connection holds a `Slot` in the `Tally` of open
//! connections until its socket closes, whatever it became; one the tally
//! has no room for is closed at once, before anything is read.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::Sleep;

use crate::address::{Slot, Tally};
use crate::limits;

/// Connections the kernel may hold for the server before it accepts them
/// (capped by `net.core.somaxconn`). With the usual 1,024, a crowd coming
/// back at once overflows it, and the kernel drops their first packets:
/// those clients wait a second before trying again.
pub(crate) const BACKLOG: u32 = 4096;

/// Listens on `addr` with a `BACKLOG` for connection storms.
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

/// A TCP listener whose connections must complete their handshake in time
/// and fit in the tally of open connections.
pub(crate) struct Guarded {
    inner: TcpListener,
    tally: Arc<Tally>,
}

/// The peer's address, for `ConnectInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

impl Guarded {
    pub(crate) fn new(inner: TcpListener, tally: Arc<Tally>) -> Self {
        Guarded { inner, tally }
    }

    /// The next connection the tally has room for; others are closed.
    pub(crate) async fn accept(&mut self) -> (Deadlined, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => match self.tally.open(addr.ip()) {
                    Ok(slot) => {
                        // Only a latency setting; a failure changes nothing else.
                        let _ = stream.set_nodelay(true);
                        return (Deadlined::new(stream, slot, limits::HANDSHAKE), addr);
                    }
                    // Dropping the stream closes it. Not logged: a crowd
                    // from one address would be a flood of lines.
                    Err(crowded) => {
                        metrics::counter!("natter_connections_refused_total",
                            "reason" => crowded.reason())
                        .increment(1);
                        tracing::debug!(peer = %addr, %crowded, "connection closed at once");
                    }
                },
                // Out of file descriptors or a connection reset while
                // queued: log, breathe, go on accepting.
                Err(err) => {
                    tracing::warn!(%err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// A TCP stream that fails its reads once its handshake deadline passes
/// without the server having written anything.
pub(crate) struct Deadlined {
    io: TcpStream,
    deadline: Option<Pin<Box<Sleep>>>,
    /// Counts this connection as open until the socket is dropped.
    _slot: Slot,
}

impl Deadlined {
    fn new(io: TcpStream, slot: Slot, within: Duration) -> Self {
        Deadlined {
            io,
            deadline: Some(Box::pin(tokio::time::sleep(within))),
            _slot: slot,
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
