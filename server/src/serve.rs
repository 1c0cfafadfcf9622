//! The HTTP server loop: accepts from the [`Guarded`] listener and serves
//! each connection with hyper's HTTP/1, WebSocket upgrades included.
//!
//! `axum::serve` sets no timer, so hyper applies no header-read timeout
//! at all: a keep-alive connection could idle forever, or send its second
//! request head a byte at a time. Here every request head, the first and
//! each one after on a keep-alive connection, must arrive within
//! [`limits::HANDSHAKE`], counted from when the connection is ready for it:
//! that is also the idle keep-alive timeout. A head may take at most
//! [`limits::REQUEST_HEAD_BYTES`] (hyper's default, about 400 KB, let one
//! 400 KB `Origin` through to be refused, and logged, at length).
//!
//! It does not decide who may connect (the listener's tally and
//! [`crate::guard`] do) nor what a request gets (the router does).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::watch;

use crate::limits;
use crate::listener::{Deadlined, Guarded, Peer};

/// Serves `router` on `listener` until `shutdown` completes, then asks
/// every connection to finish its request in progress and waits for them
/// all (the caller bounds that wait).
pub(crate) async fn serve(
    mut listener: Guarded,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop, stopped) = watch::channel(false);
    // Each connection holds a receiver; `closed` resolves when all are gone.
    let (done, open) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        tokio::spawn(connection(
            io,
            peer,
            router.clone(),
            stopped.clone(),
            open.clone(),
        ));
    }
    drop(listener);
    stop.send_replace(true);
    drop(open);
    done.closed().await;
}

/// Serves one connection until it closes, or, once `stop` turns true,
/// until its request in progress is answered.
async fn connection(
    io: Deadlined,
    peer: SocketAddr,
    router: Router,
    mut stop: watch::Receiver<bool>,
    _open: watch::Receiver<()>,
) {
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(Peer(peer)));
        let mut router = router.clone();
        async move {
            let response = tower_service::Service::call(&mut router, request).await;
            Ok::<_, Infallible>(response.unwrap_or_else(|never: Infallible| match never {}))
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits::HANDSHAKE)
        .max_buf_size(limits::REQUEST_HEAD_BYTES);
    let conn = http
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let stopping = async move {
        // An error means the server is gone: stop all the same.
        let _ = stop.wait_for(|stop| *stop).await;
    };
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(err) = ended {
        tracing::trace!(%peer, %err, "connection ended with an error");
    }
}
