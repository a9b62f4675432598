//! A real headless Chromium driven over `WebDriver` (Debian's chromium and chromium-driver,
//! installed by `.ci/run`): the chromedriver process, a browser on a fresh profile, and the waits
//! and clicks every browser test needs. Used by the GraphiQL and the console tests.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// A chromedriver on a free loopback port, ended with the test.
pub struct Driver {
    _process: tokio::process::Child,
    url: String,
}

impl Driver {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let binary = std::env::var("CLIENTELE_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let process = tokio::process::Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{binary}: {e} (install Debian's chromium and chromium-driver, as .ci/run does)")
            });
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Self { _process: process, url };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not listen on {port}");
    }

    /// A headless Chromium on the profile directory `profile`, `width` × `height` pixels.
    pub async fn browser_sized(&self, profile: &std::path::Path, width: u32, height: u32) -> Client {
        let binary = std::env::var("CLIENTELE_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "binary": binary, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.display()),
            ] }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector).capabilities(caps).connect(&self.url).await.unwrap()
    }

    pub async fn browser(&self, profile: &std::path::Path) -> Client {
        self.browser_sized(profile, 1400, 900).await
    }
}

/// Waits up to 20 s for `script` (a JS function body) to return a truthy value; returns it. On
/// a timeout the page's screenshot goes to `/tmp/clientele-browser-failure.png`.
pub async fn until(browser: &Client, what: &str, script: &str) -> Value {
    for _ in 0..200 {
        let value = browser.execute(script, vec![]).await.unwrap();
        if !matches!(&value, Value::Null | Value::Bool(false)) && value != json!("") {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = std::fs::write("/tmp/clientele-browser-failure.png", browser.screenshot().await.unwrap_or_default());
    let url = browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
    panic!("timed out waiting for {what} at {url} (screenshot: /tmp/clientele-browser-failure.png)");
}

/// Clicks the element `css` finds, as a user would; a page that re-renders may make a found
/// element stale: found again then.
pub async fn click(browser: &Client, css: &str) {
    for _ in 0..20 {
        match browser.find(Locator::Css(css)).await {
            Ok(element) if element.click().await.is_ok() => return,
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("could not click {css}");
}
