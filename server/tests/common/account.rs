//! Accounts over real HTTP: JSON requests as the web client makes them
//! (same-site `Origin`, `Content-Type: application/json`), and sockets
//! that carry a session cookie.

use reqwest::StatusCode;
use serde_json::Value;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{TestServer, WAIT, Ws};

/// A password zxcvbn rates strong, for tests that are not about passwords.
pub const PASSWORD: &str = "correct horse battery staple 42";

/// What an API request answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    /// The session cookie it set (`name=value`), if any.
    pub cookie: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The `code` of a refusal.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

/// `method path` with a JSON `body`, as a page of this server sends it,
/// with `cookie` (`name=value`) if given.
pub async fn api(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    cookie: Option<&str>,
) -> Answer {
    let site = server.addr.to_string();
    api_at(&site, method, path, body, cookie).await
}

/// [`api`] as a page at `site` (`host:port`, the server's) sends it.
pub async fn api_at(
    site: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    cookie: Option<&str>,
) -> Answer {
    let mut request = client()
        .request(method, format!("http://{site}{path}"))
        .header("origin", format!("http://{site}"));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    answer(request.send().await.expect("the request is answered")).await
}

/// Reads an answer: status, JSON body (or `null`), session cookie.
pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("natter_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        body,
        cookie,
        headers,
    }
}

pub async fn post(server: &TestServer, path: &str, body: Value, cookie: Option<&str>) -> Answer {
    api(server, reqwest::Method::POST, path, Some(body), cookie).await
}

/// Signs `name` up with `password`; returns the session cookie.
pub async fn sign_up(server: &TestServer, name: &str, password: &str) -> String {
    let body = serde_json::json!({ "name": name, "password": password });
    let answer = post(server, "/api/sign-up", body, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.cookie.expect("a session cookie")
}

/// Signs `name` in; returns the session cookie.
pub async fn sign_in(server: &TestServer, name: &str, password: &str) -> String {
    let body = serde_json::json!({ "name": name, "password": password });
    let answer = post(server, "/api/sign-in", body, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.cookie.expect("a session cookie")
}

/// A chat socket with `cookie`, from a page of this server.
pub async fn connect_with_cookie(server: &TestServer, cookie: &str) -> Ws {
    connect_with_cookie_at(server.addr, cookie).await
}

/// A chat socket with `cookie` to the server at `addr`, from a page of it.
pub async fn connect_with_cookie_at(addr: std::net::SocketAddr, cookie: &str) -> Ws {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert("cookie", cookie.parse().unwrap());
    headers.insert("origin", format!("http://{addr}").parse().unwrap());
    let (ws, _) = tokio::time::timeout(WAIT, connect_async(request))
        .await
        .expect("handshake in time")
        .expect("handshake");
    ws
}

/// A server this test started as a process, by its address.
pub struct Remote(pub std::net::SocketAddr);

impl Remote {
    /// `POST path` with a JSON `body`, from a page of this server.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        let request = client()
            .post(format!("http://{}{path}", self.0))
            .header("origin", format!("http://{}", self.0))
            .header("content-type", "application/json")
            .body(body.to_string());
        answer(request.send().await.expect("the request is answered")).await
    }
}
