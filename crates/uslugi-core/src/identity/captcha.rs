//! The captcha asked at sign-in after repeated failures, as a port ([`Captcha`]) with two
//! adapters:
//!
//! - [`BuiltinCaptcha`]: a short arithmetic question in Russian words. It is text, so a screen
//!   reader reads it, it works without JavaScript and involves no third party — and a script
//!   answers it, so production mode refuses it unless explicitly allowed. For development.
//! - [`SmartCaptcha`]: Yandex SmartCaptcha. The page shows its widget; the token it puts in the
//!   form is checked with the service's server-side validation API.
//!
//! Either only slows scripted guessing down together with the database-held growing waits.

use std::{sync::Arc, time::Duration};

use secrecy::{ExposeSecret, SecretString};

use crate::{
    BoxFuture,
    kernel::config::{CaptchaConfig, CaptchaProvider},
};

/// What the person is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// The built-in question; the caller keeps `answer` (in the session) for [`Captcha::verify`].
    Question(Challenge),
    /// An external widget: the page loads `script` and shows the widget for `site_key`.
    Widget {
        /// The service's client key.
        site_key: String,
        /// The widget script's URL.
        script: String,
    },
}

/// Port: a captcha service.
pub trait Captcha: Send + Sync + std::fmt::Debug {
    /// A new challenge.
    fn ask(&self) -> Ask;
    /// Whether `given` passes: `expected` is what the caller kept from [`Ask::Question`] (empty
    /// for a widget), `client_ip` the person's address (the service weighs it).
    fn verify<'a>(
        &'a self,
        expected: &'a str,
        given: &'a str,
        client_ip: &'a str,
    ) -> BoxFuture<'a, bool>;
}

/// The adapter `[captcha]` names.
///
/// # Errors
/// When SmartCaptcha is named without its keys, or its HTTP client cannot be built.
pub fn from_config(config: &CaptchaConfig) -> Result<Arc<dyn Captcha>, String> {
    match config.provider {
        CaptchaProvider::Builtin => Ok(Arc::new(BuiltinCaptcha)),
        CaptchaProvider::SmartCaptcha => Ok(Arc::new(SmartCaptcha::new(config)?)),
    }
}

/// The built-in question.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinCaptcha;

impl Captcha for BuiltinCaptcha {
    fn ask(&self) -> Ask {
        Ask::Question(challenge())
    }

    fn verify<'a>(
        &'a self,
        expected: &'a str,
        given: &'a str,
        _client_ip: &'a str,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move { check(expected, given) })
    }
}

/// Yandex SmartCaptcha: `POST validate_url` with `secret`, `token` and `ip` (form-encoded); the
/// answer is JSON `{"status": "ok" | "failed", "message": …}`.
pub struct SmartCaptcha {
    client: reqwest::Client,
    site_key: String,
    server_key: SecretString,
    validate_url: String,
    script_url: String,
}

impl std::fmt::Debug for SmartCaptcha {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmartCaptcha")
            .field("site_key", &self.site_key)
            .finish_non_exhaustive()
    }
}

impl SmartCaptcha {
    /// Builds the adapter.
    ///
    /// # Errors
    /// When a key is missing or the HTTP client cannot be built.
    pub fn new(config: &CaptchaConfig) -> Result<SmartCaptcha, String> {
        Ok(SmartCaptcha {
            client: reqwest::Client::builder()
                .timeout(Duration::from_millis(config.timeout_ms.max(1)))
                .build()
                .map_err(|e| format!("HTTP client: {e}"))?,
            site_key: config
                .site_key
                .clone()
                .ok_or("[captcha] site_key is not set")?,
            server_key: config
                .server_key
                .clone()
                .ok_or("[captcha] server_key is not set")?,
            validate_url: config.validate_url.clone(),
            script_url: config.script_url.clone(),
        })
    }
}

#[derive(serde::Deserialize)]
struct Validation {
    status: String,
}

impl Captcha for SmartCaptcha {
    fn ask(&self) -> Ask {
        Ask::Widget {
            site_key: self.site_key.clone(),
            script: self.script_url.clone(),
        }
    }

    fn verify<'a>(
        &'a self,
        _expected: &'a str,
        given: &'a str,
        client_ip: &'a str,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let token = given.trim();
            if token.is_empty() || token.len() > 4096 {
                return false;
            }
            let sent = self
                .client
                .post(&self.validate_url)
                .form(&[
                    ("secret", self.server_key.expose_secret()),
                    ("token", token),
                    ("ip", client_ip),
                ])
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => match r.json::<Validation>().await {
                    Ok(v) => v.status == "ok",
                    Err(_) => false,
                },
                // The service's own advice: when it cannot answer, let the person through rather
                // than lock everyone out; the growing waits after failures still hold.
                Ok(r) => {
                    tracing::warn!(status = %r.status(), "SmartCaptcha validation unavailable; passing");
                    true
                }
                Err(e) => {
                    tracing::warn!(
                        timeout = e.is_timeout(),
                        "SmartCaptcha unreachable; passing"
                    );
                    true
                }
            }
        })
    }
}

const WORDS: [&str; 10] = [
    "ноль",
    "один",
    "два",
    "три",
    "четыре",
    "пять",
    "шесть",
    "семь",
    "восемь",
    "девять",
];

/// A question and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// «Сколько будет семь плюс четыре?»
    pub question: String,
    /// «11».
    pub answer: String,
}

fn random_below(n: u32) -> u32 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 3 % n.max(1);
    }
    u32::from_le_bytes(b) % n.max(1)
}

/// A new random question.
pub fn challenge() -> Challenge {
    let a = random_below(9) + 1;
    let b = random_below(9) + 1;
    let (question, answer) = if random_below(2) == 0 || a < b {
        (
            format!(
                "Сколько будет {} плюс {}?",
                WORDS[a as usize], WORDS[b as usize]
            ),
            a + b,
        )
    } else {
        (
            format!(
                "Сколько будет {} минус {}?",
                WORDS[a as usize], WORDS[b as usize]
            ),
            a - b,
        )
    };
    Challenge {
        question,
        answer: answer.to_string(),
    }
}

/// Whether `given` answers the challenge (digits; spaces ignored).
pub fn check(expected: &str, given: &str) -> bool {
    let g: String = given.chars().filter(|c| !c.is_whitespace()).collect();
    !expected.is_empty() && g == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fake_yandex(status: u16) -> String {
        use axum::{Form, Json, Router, http::StatusCode, routing::post};
        let app = Router::new().route(
            "/validate",
            post(
                move |Form(f): Form<std::collections::HashMap<String, String>>| async move {
                    let ok = f.get("secret").map(String::as_str) == Some("server-key")
                        && f.get("token").map(String::as_str) == Some("good-token")
                        && f.get("ip").map(String::as_str) == Some("203.0.113.5");
                    (
                        StatusCode::from_u16(status).unwrap(),
                        Json(serde_json::json!({
                            "status": if ok { "ok" } else { "failed" },
                            "message": if ok { "" } else { "Token invalid or expired." },
                        })),
                    )
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/validate", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    fn smart(url: &str) -> SmartCaptcha {
        SmartCaptcha::new(&CaptchaConfig {
            provider: CaptchaProvider::SmartCaptcha,
            site_key: Some("site-key".into()),
            server_key: Some(SecretString::from("server-key")),
            validate_url: url.to_owned(),
            ..CaptchaConfig::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn smartcaptcha_tokens_are_checked_with_the_service() {
        let c = smart(&fake_yandex(200).await);
        assert!(matches!(c.ask(), Ask::Widget { site_key, .. } if site_key == "site-key"));
        assert!(c.verify("", "good-token", "203.0.113.5").await);
        assert!(!c.verify("", "forged-token", "203.0.113.5").await);
        assert!(
            !c.verify("", "good-token", "198.51.100.7").await,
            "the address is sent"
        );
        assert!(!c.verify("", "", "203.0.113.5").await, "no token, no call");
    }

    #[tokio::test]
    async fn smartcaptcha_that_cannot_answer_lets_the_person_through() {
        let c = smart(&fake_yandex(500).await);
        assert!(c.verify("", "forged-token", "203.0.113.5").await);
    }

    #[tokio::test]
    async fn the_builtin_adapter_checks_the_kept_answer() {
        let Ask::Question(q) = BuiltinCaptcha.ask() else {
            panic!("a question")
        };
        assert!(BuiltinCaptcha.verify(&q.answer, &q.answer, "").await);
        assert!(!BuiltinCaptcha.verify(&q.answer, "999", "").await);
    }

    #[test]
    fn questions_are_in_words_and_answers_are_right() {
        for _ in 0..200 {
            let c = challenge();
            assert!(c.question.starts_with("Сколько будет "));
            assert!(
                !c.question.chars().any(|ch| ch.is_ascii_digit()),
                "{}",
                c.question
            );
            let words: Vec<&str> = c.question.trim_end_matches('?').split(' ').collect();
            let n = |w: &str| WORDS.iter().position(|x| *x == w).unwrap() as i64;
            let (a, op, b) = (n(words[2]), words[3], n(words[4]));
            let expected = if op == "плюс" { a + b } else { a - b };
            assert!(expected >= 0);
            assert_eq!(c.answer, expected.to_string());
        }
    }

    #[test]
    fn answers_are_checked_exactly() {
        assert!(check("11", " 11 "));
        assert!(!check("11", "12"));
        assert!(!check("", ""));
    }
}
