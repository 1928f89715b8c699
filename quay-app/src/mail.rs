//! Mail over SMTP (`MAIL_SERVER`), through `lettre`: the registry's `MailSender`.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use quay_core::ports::{Mail, MailSender};
use quay_core::secret::Secret;

use crate::error::AppError;

/// Where and how mail is sent, with Quay's keys' meaning.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// The SMTP server's host (`MAIL_SERVER`).
    pub server: String,
    /// Its port (`MAIL_PORT`, 587).
    pub port: u16,
    /// Whether the connection must be upgraded with STARTTLS (`MAIL_USE_TLS`).
    pub starttls: bool,
    /// Who signs in, with which password (`MAIL_USERNAME`, `MAIL_PASSWORD`).
    pub credentials: Option<(String, Secret)>,
    /// The sender of every mail (`MAIL_DEFAULT_SENDER`).
    pub sender: String,
}

/// Sends mail through one SMTP server, connections pooled.
pub(crate) struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    sender: Mailbox,
}

impl SmtpMailer {
    /// A mailer as `settings` say, each exchange giving up after `timeout`.
    pub(crate) fn new(settings: &MailSettings, timeout: Duration) -> Result<Self, AppError> {
        let mut builder = if settings.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.server)
                .map_err(|error| AppError::Unavailable(format!("MAIL_SERVER: {error}")))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.server)
        };
        builder = builder.port(settings.port).timeout(Some(timeout));
        if let Some((username, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                password.expose().to_string(),
            ));
        }
        let sender = settings.sender.parse().map_err(|_| {
            AppError::Unavailable(format!(
                "MAIL_DEFAULT_SENDER `{}` is not an e-mail address",
                settings.sender
            ))
        })?;
        Ok(Self {
            transport: builder.build(),
            sender,
        })
    }
}

#[async_trait]
impl MailSender for SmtpMailer {
    async fn send(&self, mail: &Mail) -> quay_core::Result<()> {
        let to: Mailbox = mail.to.parse().map_err(|_| {
            quay_core::Error::InvalidRequest(format!("`{}` is not an e-mail address", mail.to))
        })?;
        let message = Message::builder()
            .from(self.sender.clone())
            .to(to)
            .subject(mail.subject.as_str())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|error| quay_core::Error::Internal(error.into()))?;
        self.transport.send(message).await.map_err(|error| {
            quay_core::Error::Internal(
                AppError::Request(format!("the mail server did not take the mail: {error}")).into(),
            )
        })?;
        Ok(())
    }
}
