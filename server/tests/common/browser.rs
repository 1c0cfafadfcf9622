//! Helpers for the browser tests: chromedriver, a fresh Chromium per page,
//! and waits that watch the page (MutationObserver) instead of polling.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::TestServer;

pub const INPUT: &str = "[data-testid=message-input]";
pub const STATUS_OPEN: &str = "[data-testid=status][data-state=open]";
pub const READY_OPEN: &str = "[data-testid=ready-state][data-state=open]";

/// The page's path, as the address bar shows it.
pub async fn path(page: &Client) -> String {
    page.execute("return location.pathname", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits, inside the page, until the script expression `condition` holds,
/// re-checking on every change to the page; fails after 10 s.
pub async fn wait_until(page: &Client, condition: &str) {
    wait_until_within(page, condition, 10).await;
}

/// [`wait_until`], failing after `secs` seconds.
pub async fn wait_until_within(page: &Client, condition: &str, secs: u64) {
    let ms = secs * 1000;
    let script = format!(
        "const done = arguments[0];
         const holds = () => {{ try {{ return Boolean({condition}); }} catch (e) {{ return false; }} }};
         if (holds()) return done(true);
         const timer = setTimeout(() => {{ observer.disconnect(); done(false); }}, {ms});
         const observer = new MutationObserver(() => {{
             if (holds()) {{ observer.disconnect(); clearTimeout(timer); done(true); }}
         }});
         observer.observe(document.documentElement,
             {{ subtree: true, childList: true, characterData: true, attributes: true }});
         document.addEventListener('scroll', () => {{
             if (holds()) {{ observer.disconnect(); clearTimeout(timer); done(true); }}
         }}, {{ capture: true }});"
    );
    let held = wait_script(page, &script, vec![]).await;
    assert_eq!(
        held,
        Value::Bool(true),
        "{condition} did not hold within {secs} s"
    );
}

/// Runs a script that waits in the page. A page that navigates away
/// meanwhile (a form that sends, a sign-out that reloads) cuts the script
/// off, which WebDriver reports as a script timeout: then it runs again
/// in the page that loaded, a few times at most.
async fn wait_script(page: &Client, script: &str, args: Vec<Value>) -> Value {
    for _ in 0..3 {
        match page.execute_async(script, args.clone()).await {
            Ok(value) => return value,
            Err(err) if err.is_script_timeout() => continue,
            Err(err) => panic!("wait script runs: {err}"),
        }
    }
    panic!("the page navigated away three times while a wait script ran");
}

/// A Chrome DevTools Protocol command, sent through chromedriver.
#[derive(Debug)]
pub struct Cdp {
    pub cmd: &'static str,
    pub params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// A chromedriver process on a port of its choosing.
pub struct Driver {
    url: String,
    _process: Child,
    profiles: tempfile::TempDir,
}

impl Driver {
    /// Starts chromedriver, or explains why the browser tests are skipped.
    pub async fn start() -> Option<Driver> {
        let required = std::env::var_os("NATTER_REQUIRE_BROWSER").is_some();
        let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = tool("CHROMIUM", "/usr/bin/chromium");
        let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/index.html");
        let missing: Vec<String> = [
            (&chromedriver, "chromedriver"),
            (&chromium, "chromium"),
            (&bundle, "the client bundle (trunk build)"),
        ]
        .iter()
        .filter(|(path, _)| !path.exists())
        .map(|(path, what)| format!("{what} at {}", path.display()))
        .collect();
        if !missing.is_empty() {
            let why = missing.join(", ");
            assert!(
                !required,
                "NATTER_REQUIRE_BROWSER is set but these are missing: {why}"
            );
            eprintln!(
                "SKIPPED browser test: missing {why}; `cargo xtask test` installs and builds them"
            );
            return None;
        }
        // chromedriver now and then exits at start when many start at once
        // on a loaded machine: try a few times.
        for _ in 0..3 {
            if let Some((process, port)) = launch(&chromedriver).await {
                return Some(Driver {
                    url: format!("http://127.0.0.1:{port}"),
                    _process: process,
                    profiles: tempfile::tempdir().expect("temp dir"),
                });
            }
        }
        panic!("chromedriver exited before it was ready, three times");
    }

    /// A new browser with a fresh profile and extra Chromium flags.
    pub async fn session_with(&self, extra: &[&str]) -> Client {
        let profile = tempfile::tempdir_in(self.profiles.path())
            .expect("profile dir")
            .keep();
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=900,600",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let args: Vec<&str> = args.iter().copied().chain(extra.iter().copied()).collect();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": tool("CHROMIUM", "/usr/bin/chromium"), "args": args }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a browser session")
    }
}

/// Starts chromedriver on a port of its choosing; `None` if it exits
/// before it says it is ready.
async fn launch(chromedriver: &Path) -> Option<(Child, String)> {
    let mut process = Command::new(chromedriver)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let stdout = process.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let ready = async {
        while let Some(line) = lines.next_line().await.expect("read chromedriver output") {
            if let Some(port) = line.split("started successfully on port ").nth(1) {
                return Some(port.trim_end_matches('.').to_owned());
            }
        }
        None
    };
    let port = tokio::time::timeout(super::WAIT, ready)
        .await
        .expect("chromedriver ready in time")?;
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Some((process, port))
}

pub fn tool(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Opens `path` in a new browser (with extra Chromium `flags`) and waits
/// until the page's socket is open.
pub async fn open(driver: &Driver, server: &TestServer, path: &str, flags: &[&str]) -> Client {
    let page = driver.session_with(flags).await;
    page.goto(&server.url(path)).await.unwrap();
    let ready = if path == "/echo" {
        READY_OPEN
    } else {
        STATUS_OPEN
    };
    wait_for(&page, ready, "").await;
    page
}

/// Clicks the element `selector` names. The view may replace it between
/// finding and clicking it; then the new one is found and clicked.
pub async fn click(page: &Client, selector: &str) {
    for _ in 0..20 {
        let clicked = match page.find(Locator::Css(selector)).await {
            Ok(element) => element.click().await,
            Err(err) => Err(err),
        };
        match clicked {
            Ok(()) => return,
            Err(err) if err.is_stale_element_reference() => continue,
            Err(err) => panic!("clicking {selector}: {err}"),
        }
    }
    panic!("{selector} was replaced 20 times in a row while being clicked");
}

/// Picks the language `tag` with the page's switch, as a person would.
pub async fn choose_language(page: &Client, tag: &str) {
    page.execute(
        "const s = document.querySelector('[data-testid=lang-switch]');
         s.value = arguments[0];
         s.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(tag)],
    )
    .await
    .unwrap();
}

pub fn enter() -> String {
    char::from(Key::Enter).to_string()
}

pub async fn type_into(page: &Client, selector: &str, keys: &str) {
    let input = page.find(Locator::Css(selector)).await.unwrap();
    input.send_keys(keys).await.unwrap();
}

/// Waits, inside the page, until an element matching `selector` shows
/// `text` (a MutationObserver, not polling); fails after 10 s.
pub async fn wait_for(page: &Client, selector: &str, text: &str) {
    let script = "
        const [selector, text, done] = arguments;
        const found = () => [...document.querySelectorAll(selector)]
            .some(e => e.innerText.includes(text));
        if (found()) return done(true);
        const timer = setTimeout(() => { observer.disconnect(); done(false); }, 10000);
        const observer = new MutationObserver(() => {
            if (found()) { observer.disconnect(); clearTimeout(timer); done(true); }
        });
        observer.observe(document.documentElement,
            { subtree: true, childList: true, characterData: true, attributes: true });";
    let found = wait_script(page, script, vec![json!(selector), json!(text)]).await;
    if found != Value::Bool(true) {
        let shown = page
            .execute("return document.querySelector('main').outerHTML", vec![])
            .await
            .unwrap_or_default();
        panic!("no {selector} showing {text:?} within 10 s; the page holds:\n{shown}");
    }
}

pub async fn save_screenshot(page: &Client, name: &str) {
    let png = page.screenshot().await.expect("screenshot");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{name}.png")), &png).expect("write screenshot");
    if std::env::var_os("NATTER_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&docs).expect("docs screenshot dir");
        std::fs::write(docs.join(format!("{name}.png")), &png).expect("write docs screenshot");
    }
}
