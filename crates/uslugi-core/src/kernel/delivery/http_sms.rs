//! SMS through an HTTP gateway: one POST per message, body from a configurable template.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{DeliveryError, Message, SmsSender};
use crate::{BoxFuture, kernel::config::HttpSmsConfig};

/// Adapter that posts each SMS to a gateway URL.
#[derive(Clone)]
pub struct HttpSmsGateway {
    client: reqwest::Client,
    config: HttpSmsConfig,
}

impl std::fmt::Debug for HttpSmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSmsGateway").finish_non_exhaustive()
    }
}

impl HttpSmsGateway {
    /// Builds the client.
    pub fn new(config: HttpSmsConfig) -> Result<HttpSmsGateway, DeliveryError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .build()
            .map_err(|e| DeliveryError::Permanent(format!("HTTP client: {e}")))?;
        Ok(HttpSmsGateway { client, config })
    }

    /// The request body for a message.
    pub fn render_body(&self, msg: &Message) -> String {
        let json = self.config.content_type.contains("json");
        let esc = |s: &str| if json { json_escape(s) } else { form_escape(s) };
        self.config
            .body_template
            .replace("{to}", &esc(&msg.to))
            .replace("{text}", &esc(&msg.body))
    }

    async fn deliver(&self, msg: &Message) -> Result<(), DeliveryError> {
        let mut req = self
            .client
            .post(&self.config.url)
            .header(reqwest::header::CONTENT_TYPE, &self.config.content_type)
            .body(self.render_body(msg));
        if let Some(token) = &self.config.bearer_token {
            req = req.bearer_auth(token.expose_secret());
        }
        let resp = req.send().await.map_err(|e| {
            DeliveryError::Temporary(if e.is_timeout() {
                "SMS gateway timeout".into()
            } else {
                "SMS gateway unreachable".into()
            })
        })?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(DeliveryError::Temporary(format!(
                "SMS gateway answered {status}"
            )))
        } else {
            Err(DeliveryError::Permanent(format!(
                "SMS gateway answered {status}"
            )))
        }
    }
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

fn form_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl SmsSender for HttpSmsGateway {
    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(self.deliver(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::delivery::Channel;

    fn gateway(template: &str, content_type: &str) -> HttpSmsGateway {
        HttpSmsGateway::new(HttpSmsConfig {
            url: "http://127.0.0.1:9/".into(),
            body_template: template.into(),
            content_type: content_type.into(),
            bearer_token: None,
            timeout_secs: 1,
        })
        .unwrap()
    }

    fn msg(body: &str) -> Message {
        Message {
            channel: Channel::Sms,
            to: "+79123456789".into(),
            subject: String::new(),
            body: body.into(),
        }
    }

    #[test]
    fn json_template_escapes_quotes_and_newlines() {
        let g = gateway(r#"{"to":"{to}","text":"{text}"}"#, "application/json");
        let body = g.render_body(&msg("Код \"123456\"\nникому"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["to"], "+79123456789");
        assert_eq!(v["text"], "Код \"123456\"\nникому");
    }

    #[test]
    fn form_template_percent_encodes() {
        let g = gateway("phone={to}&msg={text}", "application/x-www-form-urlencoded");
        assert_eq!(
            g.render_body(&msg("a b&c")),
            "phone=%2B79123456789&msg=a+b%26c"
        );
    }
}
