//! The web client: how big its release bundle is, as built and as served
//! compressed, and how long a browser with a cold cache takes from
//! navigation to an open chat socket.

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder};
use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::target::Target;

/// The mark the page sets when its chat socket opens (see `index.html` and
/// the client's `ws::SOCKET_OPEN_MARK`).
const SOCKET_OPEN_MARK: &str = "natter:socket-open";
/// The mark the client sets once the app runs with its socket open (the
/// client's `chat::CHAT_READY_MARK`).
const CHAT_READY_MARK: &str = "natter:chat-ready";

#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    pub files: Vec<File>,
    pub total: Sizes,
    /// Time from navigation start to the socket's `open`, cold cache, ms.
    pub socket_open_ms: Vec<f64>,
    pub socket_open_median_ms: f64,
    /// Time from navigation start until the app runs with its socket open,
    /// in the same page loads, ms.
    pub chat_ready_ms: Vec<f64>,
    pub chat_ready_median_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct File {
    pub name: String,
    pub sizes: Sizes,
}

/// Bytes of one file (or the sum): raw, at gzip's level 9 and brotli's
/// quality 11, and as the server sends it to a browser that accepts each
/// (gzip by Zopfli, when `cargo xtask` built the bundle).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Sizes {
    pub raw: u64,
    pub gzip_level_9: u64,
    pub brotli_quality_11: u64,
    pub served_gzip: u64,
    pub served_brotli: u64,
}

impl Sizes {
    fn add(&mut self, other: &Sizes) {
        self.raw += other.raw;
        self.gzip_level_9 += other.gzip_level_9;
        self.brotli_quality_11 += other.brotli_quality_11;
        self.served_gzip += other.served_gzip;
        self.served_brotli += other.served_brotli;
    }
}

pub async fn measure(
    natter: &Path,
    dist: &Path,
    chromedriver: &Path,
    out: &Path,
    loads: usize,
    bar: &ProgressBar,
) -> Result<Bundle> {
    bar.set_message("client bundle: sizes");
    let server = Target::natter(natter)
        .start(&out.join("natter-bundle.log"))
        .await?;
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let mut files = Vec::new();
    let mut total = Sizes::default();
    let mut entries: Vec<_> = std::fs::read_dir(dist)
        .with_context(|| format!("cannot read {}", dist.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("wasm" | "js" | "css")
            )
        })
        .collect();
    entries.sort();
    if entries.is_empty() {
        bail!("no wasm, js or css files in {}", dist.display());
    }
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .context("file name")?
            .to_owned();
        let bytes = std::fs::read(&path)?;
        let url = format!("{base}/{name}");
        let sizes = Sizes {
            raw: bytes.len() as u64,
            gzip_level_9: gzip(&bytes)?,
            brotli_quality_11: brotli(&bytes)?,
            served_gzip: served(&http, &url, "gzip").await?,
            served_brotli: served(&http, &url, "br").await?,
        };
        total.add(&sizes);
        files.push(File { name, sizes });
    }

    let driver = Driver::start(chromedriver).await?;
    let mut socket_open_ms = Vec::with_capacity(loads);
    let mut chat_ready_ms = Vec::with_capacity(loads);
    bar.set_length(loads as u64);
    bar.set_position(0);
    for _ in 0..loads {
        bar.set_message("client bundle: navigation to socket open");
        let browser = driver.session().await?;
        let took = time_to_marks(&browser, &format!("{base}/")).await;
        let _ = browser.close().await;
        let (open, ready) = took?;
        socket_open_ms.push(open);
        chat_ready_ms.push(ready);
        bar.inc(1);
    }
    server.stop().await;
    Ok(Bundle {
        files,
        total,
        socket_open_median_ms: median(&socket_open_ms),
        socket_open_ms,
        chat_ready_median_ms: median(&chat_ready_ms),
        chat_ready_ms,
    })
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn gzip(bytes: &[u8]) -> Result<u64> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len() as u64)
}

fn brotli(bytes: &[u8]) -> Result<u64> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out.len() as u64)
}

/// Bytes on the wire for `url` when the browser accepts only `encoding`.
/// Natter readies its bundle compressed at its strongest settings in the
/// background after it starts, and compresses on the fly until then;
/// compressed files come with a length once they are sent from memory, so
/// this waits for that (up to 30 s).
async fn served(http: &reqwest::Client, url: &str, encoding: &str) -> Result<u64> {
    let mut response = get(http, url, encoding).await?;
    for _ in 0..60 {
        if response.content_length().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        response = get(http, url, encoding).await?;
    }
    let used = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_owned();
    let body = response.bytes().await?;
    if used != encoding {
        bail!("{url} was sent as {used}, not {encoding}");
    }
    Ok(body.len() as u64)
}

/// Waits until Natter serves its client's wasm file compressed from memory
/// (see [`served`]): the compression (or its check) at start is done.
/// A server built without the bundle (its library, in the bench's own
/// tests) answers 503 and has nothing to pack.
pub async fn until_packed(server: std::net::SocketAddr) -> Result<()> {
    let http = reqwest::Client::new();
    let page = http
        .get(format!("http://{server}/"))
        .header("accept-encoding", "identity")
        .send()
        .await?;
    if page.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
        return Ok(());
    }
    let page = page.error_for_status()?.text().await?;
    let Some(end) = page.find("_bg.wasm") else {
        bail!("the page names no wasm file")
    };
    let start = page[..end].rfind(['"', '\'', '/']).map_or(0, |i| i + 1);
    let wasm = format!("http://{server}/{}_bg.wasm", &page[start..end]);
    served(&http, &wasm, "br").await.map(|_| ())
}

async fn get(http: &reqwest::Client, url: &str, encoding: &str) -> Result<reqwest::Response> {
    Ok(http
        .get(url)
        .header("accept-encoding", encoding)
        .send()
        .await?
        .error_for_status()?)
}

/// Opens `url` in a browser and reads, from the page's User Timing entries,
/// when its socket opened and when the app was ready (milliseconds after
/// navigation started).
async fn time_to_marks(browser: &Client, url: &str) -> Result<(f64, f64)> {
    browser.goto(url).await?;
    let open = time_to_mark(browser, SOCKET_OPEN_MARK).await?;
    let ready = time_to_mark(browser, CHAT_READY_MARK).await?;
    Ok((open, ready))
}

/// When the page set the User Timing mark `name`, waiting for it.
async fn time_to_mark(browser: &Client, name: &str) -> Result<f64> {
    let script = r#"
        const [name, done] = arguments;
        const found = performance.getEntriesByName(name);
        if (found.length > 0) { done(found[0].startTime); return; }
        new PerformanceObserver((list, observer) => {
            const mark = list.getEntriesByName(name)[0];
            if (mark) { observer.disconnect(); done(mark.startTime); }
        }).observe({ type: "mark", buffered: true });
    "#;
    let value = tokio::time::timeout(
        Duration::from_secs(20),
        browser.execute_async(script, vec![json!(name)]),
    )
    .await
    .with_context(|| format!("no {name} mark within 20 s"))??;
    value
        .as_f64()
        .with_context(|| format!("the {name} mark has no time"))
}

/// A chromedriver on a port of its choosing, and fresh browser profiles.
struct Driver {
    url: String,
    _process: tokio::process::Child,
    profiles: tempfile::TempDir,
}

impl Driver {
    async fn start(chromedriver: &Path) -> Result<Driver> {
        let mut process = Command::new(chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", chromedriver.display()))?;
        let stdout = process.stdout.take().context("piped stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(port) = line.split("started successfully on port ").nth(1) {
                    return anyhow::Ok(port.trim_end_matches('.').to_owned());
                }
            }
            bail!("chromedriver exited before it was ready")
        })
        .await
        .context("chromedriver not ready within 30 s")??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Driver {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
            profiles: tempfile::tempdir()?,
        })
    }

    /// A new headless browser with an empty profile: nothing cached.
    async fn session(&self) -> Result<Client> {
        let profile = tempfile::tempdir_in(self.profiles.path())?.keep();
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("cannot open a browser session")
    }
}
