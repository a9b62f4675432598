//! A real SMTP server for the mail tests: `tests/support/smtp_sink.py` (aiosmtpd, installed by
//! `scripts/test` into a cached virtualenv), one per test, writing each message it receives.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{Backend, TestApp};

/// Generates `<name>::sqlite` and `<name>::postgres` tests running `name(app, sink)` with the
/// server's mail going to a fresh SMTP sink.
#[macro_export]
macro_rules! with_smtp {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (app, sink) = $crate::smtp_sink::smtp_app($crate::common::Backend::Sqlite).await;
                super::$name(app, sink).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let (app, sink) = $crate::smtp_sink::smtp_app($crate::common::Backend::Postgres).await;
                super::$name(app, sink).await;
            }
        }
    )*};
}

/// Generates `<name>::sqlite` and `<name>::postgres` tests running `name(backend)`, for tests
/// that start their server with their own settings.
#[macro_export]
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await;
            }
        }
    )*};
}

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    _child: Child,
}

fn python() -> String {
    std::env::var("CLIENTELE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("CLIENTELE_TEST_PYTHON is not set: run the tests with scripts/test, which installs the SMTP sink")
    })
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::spawn(&[]).await
    }

    /// A sink on a given port (reserved by the test while the server already points at it).
    pub async fn on_port(port: u16) -> Self {
        Self::spawn(&["--port".to_owned(), port.to_string()]).await
    }

    /// A sink that accepts only clients signing in with these credentials.
    pub async fn with_login(user: &str, password: &str) -> Self {
        Self::spawn(&["--user".to_owned(), user.to_owned(), "--password".to_owned(), password.to_owned()]).await
    }

    async fn spawn(extra: &[String]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("support/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg("--dir")
            .arg(dir.path())
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).read_line(&mut line))
            .await
            .expect("the SMTP sink did not start")
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("SMTP sink printed {line:?}"));
        Self { port, dir, _child: child }
    }

    fn files(&self, ext: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        files.sort();
        files
    }

    /// Every message received so far, in arrival order: `{rcpt_tos, from, to, subject, body, login}`.
    pub fn messages(&self) -> Vec<Value> {
        self.files("json").iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
    }

    /// Waits until at least `n` messages arrived (delivery runs after the request returns).
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} messages, got {:?}", self.messages());
    }
}

/// Points the server's mail at `port` over plain SMTP.
pub fn smtp_settings(settings: &mut clientele::Settings, port: u16) {
    settings.mail.transport = clientele::config::MailTransport::Smtp;
    "127.0.0.1".clone_into(&mut settings.mail.smtp_host);
    settings.mail.smtp_port = port;
    settings.mail.smtp_tls = clientele::config::SmtpTlsMode::None;
    "Clientele <no-reply@clientele.test>".clone_into(&mut settings.mail.from);
}

/// A server whose mail goes to a fresh sink.
pub async fn smtp_app(backend: Backend) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = TestApp::start_with(backend, |s| smtp_settings(s, sink.port)).await;
    (app, sink)
}

/// The one-time secret in a mailed link (`…?token=<secret>`).
pub fn link_token(body: &str) -> String {
    let at = body.find("token=").unwrap_or_else(|| panic!("no link in {body}")) + "token=".len();
    body[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
}

/// The first line of a body that holds a link.
pub fn link_line(body: &str) -> &str {
    body.lines().find(|l| l.contains("token=")).unwrap_or_else(|| panic!("no link in {body}")).trim()
}
