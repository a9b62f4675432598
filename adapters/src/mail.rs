//! The lettre adapters of the [`Mailer`] port: one `.eml` file per message (embedded default),
//! or SMTP.

use std::path::PathBuf;
use std::time::Duration;

use clientele_kernel::mail::{Mail, Mailer};
use clientele_kernel::{AppError, AppResult, TenantId};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

fn message(from: &Mailbox, mail: &Mail) -> AppResult<Message> {
    let to: Mailbox = mail.to.parse().map_err(|e| AppError::internal(format!("bad recipient: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(AppError::internal)
}

/// Parses the configured sender, e.g. `Clientele <no-reply@example.com>`.
pub fn parse_sender(from: &str) -> AppResult<Mailbox> {
    from.parse().map_err(|e| AppError::internal(format!("mail.from `{from}` is not an address: {e}")))
}

/// Writes every message as `<uuid>.eml` into a directory: the embedded default, and a way to
/// read what would have been sent.
pub struct FileMailer {
    from: Mailbox,
    transport: AsyncFileTransport<Tokio1Executor>,
    dir: PathBuf,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: Mailbox) -> AppResult<Self> {
        std::fs::create_dir_all(&dir).map_err(AppError::internal)?;
        Ok(Self { from, transport: AsyncFileTransport::new(&dir), dir })
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    async fn send(&self, tenant: TenantId, mail: &Mail) -> AppResult<()> {
        let id = self.transport.send(message(&self.from, mail)?).await.map_err(AppError::internal)?;
        tracing::info!(%tenant, file = %id, "mail written");
        Ok(())
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or network.
    None,
    /// Upgrade with STARTTLS, refusing servers that do not offer it.
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

/// Where and how to reach the SMTP server.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
}

/// Sends through an SMTP server with a small connection pool.
pub struct SmtpMailer {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    pub fn new(config: &SmtpConfig, from: Mailbox) -> AppResult<Self> {
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(TlsParameters::new(config.host.clone()).map_err(AppError::internal)?),
            SmtpTls::Tls => Tls::Wrapper(TlsParameters::new(config.host.clone()).map_err(AppError::internal)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some(username) = &config.username {
            let password = config.password.clone().unwrap_or_default();
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Self { from, transport: builder.build() })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, tenant: TenantId, mail: &Mail) -> AppResult<()> {
        let response = self.transport.send(message(&self.from, mail)?).await.map_err(AppError::internal)?;
        tracing::info!(%tenant, code = %response.code(), "mail sent");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_mailer_writes_one_eml_per_message() {
        let dir = std::env::temp_dir().join(format!("clientele-mail-{}", std::process::id()));
        let mailer = FileMailer::new(dir.clone(), parse_sender("Clientele <no-reply@example.com>").unwrap()).unwrap();
        let mail = Mail { to: "ada@example.com".into(), subject: "Hello".into(), body: "Bonjour à vous".into() };
        mailer.send(TenantId(uuid::Uuid::nil()), &mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(eml.contains("To: ada@example.com") && eml.contains("Subject: Hello"), "{eml}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_senders_are_refused() {
        assert!(parse_sender("not an address").is_err());
    }
}
