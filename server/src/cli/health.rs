//! `natter health`: asks the server on this machine for `GET /readyz`, for
//! a container's health check or a supervisor's, with no tool beside the
//! binary (an image built `FROM scratch` has no shell and no curl).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use hyper_util::rt::TokioIo;

use super::CliError;

/// Longest wait for the whole answer: a health check that hangs is a
/// failed one.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Most of the answer's body kept for the message: `/readyz` says why in
/// one line.
const MAX_BODY: usize = 4_096;

/// Asks the server listening on `bind` whether it is ready; prints its
/// answer and succeeds on `200`, fails with the reason otherwise.
pub(super) async fn check(bind: SocketAddr, output: &mut dyn Write) -> Result<(), CliError> {
    let at = reachable(bind);
    let unhealthy = |why: String| CliError::Unhealthy { at, why };
    let (status, body) = tokio::time::timeout(TIMEOUT, ask(at))
        .await
        .map_err(|_| unhealthy(format!("no answer within {} s", TIMEOUT.as_secs())))?
        .map_err(unhealthy)?;
    let body = body.trim();
    if status != 200 {
        return Err(unhealthy(format!("{status} {body}")));
    }
    writeln!(output, "{body}").map_err(CliError::Stdout)
}

/// Where to reach a server bound to `bind`: an unspecified address
/// (`0.0.0.0`, `[::]`) accepts on loopback too, which is asked instead.
fn reachable(bind: SocketAddr) -> SocketAddr {
    match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, bind.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, bind.port()).into(),
        _ => bind,
    }
}

/// `GET /readyz` at `at`: the status code and the start of the body.
async fn ask(at: SocketAddr) -> Result<(u16, String), String> {
    let stream = tokio::net::TcpStream::connect(at)
        .await
        .map_err(|err| format!("cannot connect: {err}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| err.to_string())?;
    tokio::spawn(connection);
    let request = Request::get("/readyz")
        .header(header::HOST, at.to_string())
        .body(Body::empty())
        .map_err(|err| err.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|err| err.to_string())?;
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(Body::new(response.into_body()), MAX_BODY)
        .await
        .map_err(|err| err.to_string())?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_asked_on_loopback() {
        let at = |text: &str| reachable(text.parse().unwrap()).to_string();
        assert_eq!(at("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(at("[::]:9000"), "[::1]:9000");
        assert_eq!(at("192.0.2.7:80"), "192.0.2.7:80");
    }

    #[tokio::test]
    async fn nothing_listening_is_unhealthy() {
        // A port just bound and released: nothing listens there.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = free.local_addr().unwrap();
        drop(free);
        let mut out = Vec::new();
        let err = check(addr, &mut out).await.unwrap_err();
        assert!(err.to_string().contains("cannot connect"), "{err}");
        assert!(out.is_empty());
    }
}
