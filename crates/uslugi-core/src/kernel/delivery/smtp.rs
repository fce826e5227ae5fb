//! E-mail through an SMTP relay (lettre on rustls).

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};
use secrecy::ExposeSecret;

use super::{DeliveryError, EmailSender, Message};
use crate::{
    BoxFuture,
    kernel::config::{SmtpConfig, SmtpTls},
};

/// Adapter that sends e-mail through an SMTP relay.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Builds the transport; fails on a bad sender address or host.
    pub fn new(config: &SmtpConfig) -> Result<SmtpMailer, DeliveryError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| DeliveryError::Permanent(format!("invalid sender address: {e}")))?;
        let builder = match config.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
            }
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|e| DeliveryError::Permanent(format!("SMTP TLS setup: {e}")))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .map_err(|e| DeliveryError::Permanent(format!("SMTP TLS setup: {e}")))?,
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(Duration::from_secs(config.timeout_secs)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
        })
    }

    async fn deliver(&self, msg: &Message) -> Result<(), DeliveryError> {
        let to: Mailbox = msg
            .to
            .parse()
            .map_err(|_| DeliveryError::Permanent("invalid recipient address".into()))?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(msg.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(msg.body.clone())
            .map_err(|e| DeliveryError::Permanent(format!("cannot build the message: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            // lettre's error text can quote the recipient's address back, so only its class is kept.
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(
                "SMTP relay refused the message".into(),
            )),
            Err(e) if e.is_timeout() => Err(DeliveryError::Temporary("SMTP timeout".into())),
            Err(_) => Err(DeliveryError::Temporary("SMTP relay unavailable".into())),
        }
    }
}

impl EmailSender for SmtpMailer {
    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(self.deliver(msg))
    }
}
