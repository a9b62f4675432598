//! A real S3 server for the file tests: moto (`moto[server]` from `PyPI`, installed by
//! `scripts/test` into the cached virtualenv), one per test, on a loopback port.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

pub struct S3Server {
    pub endpoint: String,
    _child: Child,
}

fn python() -> String {
    std::env::var("CLIENTELE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("CLIENTELE_TEST_PYTHON is not set: run the tests with scripts/test, which installs moto")
    })
}

impl S3Server {
    /// Starts moto and creates `bucket` in it.
    pub async fn start(bucket: &str) -> Self {
        clientele::install_crypto_provider();
        // Reserve a free port, then hand it to moto (it cannot report one it picked itself).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(python())
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start moto");
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..300 {
            // moto accepts unsigned requests: a plain PUT creates the bucket.
            if let Ok(res) = http.put(format!("{endpoint}/{bucket}")).send().await
                && res.status().is_success()
            {
                return Self { endpoint, _child: child };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto did not start on {endpoint}");
    }
}
