//! The state registries through an HTTP gateway (the interdepartmental exchange's adapter in a
//! real deployment). The contract is in `docs/registries.md`: one `POST` of JSON per check, the
//! verdict as JSON back, every request signed with the portal's key so the gateway can tell the
//! portal from anyone else on its network.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{InnVerdict, PassportVerdict, PersonQuery, Registries, RegistryError, SnilsVerdict};
use crate::{BoxFuture, kernel::config::RegistriesConfig};

/// Header with the request's Unix time in seconds (part of what is signed, so a captured request
/// cannot be replayed later than the gateway allows).
pub const TIMESTAMP_HEADER: &str = "x-uslugi-timestamp";
/// Header with `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub const SIGNATURE_HEADER: &str = "x-uslugi-signature";

/// The adapter.
pub struct HttpRegistries {
    client: reqwest::Client,
    base: String,
    key: SecretString,
    retries: u32,
}

impl std::fmt::Debug for HttpRegistries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRegistries")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl HttpRegistries {
    /// Builds the adapter from `[registries]`.
    ///
    /// # Errors
    /// When the URL or the key is missing, or the HTTP client cannot be built.
    pub fn new(config: &RegistriesConfig) -> Result<HttpRegistries, String> {
        let base = config
            .url
            .clone()
            .ok_or("[registries] url is not set")?
            .trim_end_matches('/')
            .to_owned();
        let key = config
            .signing_key
            .clone()
            .ok_or("[registries] signing_key is not set")?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms.max(1)))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(HttpRegistries {
            client,
            base,
            key,
            retries: config.retries,
        })
    }

    /// `v1=<hex>` for a body sent at `timestamp`.
    pub fn signature(key: &str, timestamp: i64, body: &[u8]) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
            return String::new();
        };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("v1={hex}")
    }

    /// Posts `body` to `path` and reads the answer, retrying what is worth retrying. One
    /// request id for every try, so the gateway can answer a repeat from its log.
    async fn call<Q: Serialize, A: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &Q,
    ) -> Result<A, RegistryError> {
        let body = serde_json::to_vec(body)
            .map_err(|e| RegistryError::Unavailable(format!("request: {e}")))?;
        let request_id = uuid::Uuid::new_v4().to_string();
        let url = format!("{}{path}", self.base);
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt.min(5))).await;
            }
            let timestamp = crate::now_ms() / 1000;
            let sent = self
                .client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("x-request-id", &request_id)
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(
                    SIGNATURE_HEADER,
                    Self::signature(self.key.expose_secret(), timestamp, &body),
                )
                .body(body.clone())
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = if e.is_timeout() {
                        format!("{path}: timeout")
                    } else {
                        format!("{path}: unreachable")
                    };
                    continue;
                }
            };
            let status = resp.status();
            if status.is_success() {
                return resp
                    .json::<A>()
                    .await
                    .map_err(|e| RegistryError::Unavailable(format!("{path}: bad answer: {e}")));
            }
            last = format!("{path}: answered {status}");
            if !(status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408) {
                // A refusal of the request itself: repeating it would get the same answer.
                break;
            }
        }
        Err(RegistryError::Unavailable(last))
    }
}

#[derive(Serialize)]
struct Person<'a> {
    last_name: &'a str,
    first_name: &'a str,
    middle_name: Option<&'a str>,
    birth_date: &'a str,
}

impl<'a> Person<'a> {
    fn of(q: &'a PersonQuery) -> Person<'a> {
        Person {
            last_name: &q.last_name,
            first_name: &q.first_name,
            middle_name: q.middle_name.as_deref(),
            birth_date: &q.birth_date,
        }
    }
}

#[derive(Serialize)]
struct PassportAsk<'a> {
    person: Person<'a>,
    series: &'a str,
    number: &'a str,
    issued_on: &'a str,
    division_code: &'a str,
}

#[derive(Serialize)]
struct SnilsAsk<'a> {
    person: Person<'a>,
    snils: &'a str,
}

#[derive(Serialize)]
struct InnAsk<'a> {
    person: Person<'a>,
    series: &'a str,
    number: &'a str,
    inn: Option<&'a str>,
}

#[derive(Deserialize)]
struct Answer {
    verdict: String,
    #[serde(default)]
    inn: Option<String>,
}

fn unknown(registry: &str, verdict: &str) -> RegistryError {
    RegistryError::Unavailable(format!("{registry}: unknown verdict {verdict:?}"))
}

impl Registries for HttpRegistries {
    fn check_passport<'a>(
        &'a self,
        q: &'a PersonQuery,
    ) -> BoxFuture<'a, Result<PassportVerdict, RegistryError>> {
        Box::pin(async move {
            let a: Answer = self
                .call(
                    "/passport",
                    &PassportAsk {
                        person: Person::of(q),
                        series: &q.passport_series,
                        number: &q.passport_number,
                        issued_on: &q.passport_issued_on,
                        division_code: &q.division_code,
                    },
                )
                .await?;
            match a.verdict.as_str() {
                "valid" => Ok(PassportVerdict::Valid),
                "not_found" => Ok(PassportVerdict::NotFound),
                "invalid" => Ok(PassportVerdict::Invalid),
                "expired" => Ok(PassportVerdict::Expired),
                "mismatch" => Ok(PassportVerdict::Mismatch),
                other => Err(unknown("passport", other)),
            }
        })
    }

    fn check_snils<'a>(
        &'a self,
        q: &'a PersonQuery,
    ) -> BoxFuture<'a, Result<SnilsVerdict, RegistryError>> {
        Box::pin(async move {
            let a: Answer = self
                .call(
                    "/snils",
                    &SnilsAsk {
                        person: Person::of(q),
                        snils: &q.snils,
                    },
                )
                .await?;
            match a.verdict.as_str() {
                "valid" => Ok(SnilsVerdict::Valid),
                "not_found" => Ok(SnilsVerdict::NotFound),
                "mismatch" => Ok(SnilsVerdict::Mismatch),
                other => Err(unknown("snils", other)),
            }
        })
    }

    fn check_inn<'a>(
        &'a self,
        q: &'a PersonQuery,
    ) -> BoxFuture<'a, Result<InnVerdict, RegistryError>> {
        Box::pin(async move {
            let a: Answer = self
                .call(
                    "/inn",
                    &InnAsk {
                        person: Person::of(q),
                        series: &q.passport_series,
                        number: &q.passport_number,
                        inn: q.inn.as_deref(),
                    },
                )
                .await?;
            match (a.verdict.as_str(), a.inn) {
                ("valid", _) => Ok(InnVerdict::Valid),
                ("mismatch", _) => Ok(InnVerdict::Mismatch),
                ("found", Some(inn))
                    if inn.len() == 12 && inn.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Ok(InnVerdict::Found(inn))
                }
                ("unknown", _) => Ok(InnVerdict::Unknown),
                (other, _) => Err(unknown("inn", other)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use axum::{
        Json, Router,
        body::Bytes,
        http::{HeaderMap, StatusCode},
        routing::post,
    };

    use super::*;

    const KEY: &str = "registry-test-key";

    fn query(inn: Option<&str>) -> PersonQuery {
        PersonQuery {
            last_name: "Смирнова".into(),
            first_name: "Анна".into(),
            middle_name: None,
            birth_date: "01.02.1990".into(),
            passport_series: "4510".into(),
            passport_number: "123456".into(),
            passport_issued_on: "05.03.2010".into(),
            division_code: "770-001".into(),
            snils: "11223344595".into(),
            inn: inn.map(str::to_owned),
        }
    }

    /// A gateway that checks the signature and answers by the passport number's last digit;
    /// the first `fail_first` calls get 503.
    async fn gateway(fail_first: usize, delay_ms: u64) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let handler = move |path: &'static str| {
            let seen = Arc::clone(&seen);
            move |headers: HeaderMap, body: Bytes| {
                let seen = Arc::clone(&seen);
                async move {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    let ts: i64 = headers[TIMESTAMP_HEADER].to_str().unwrap().parse().unwrap();
                    let sig = headers[SIGNATURE_HEADER].to_str().unwrap();
                    if sig != HttpRegistries::signature(KEY, ts, &body) {
                        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({})));
                    }
                    if n < fail_first {
                        return (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({})));
                    }
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    assert_eq!(v["person"]["last_name"], "Смирнова");
                    let answer = match path {
                        "passport" => serde_json::json!({"verdict": "expired"}),
                        "snils" => serde_json::json!({"verdict": "mismatch"}),
                        _ if v["inn"].is_null() => {
                            serde_json::json!({"verdict": "found", "inn": "500100732259"})
                        }
                        _ => serde_json::json!({"verdict": "maybe"}),
                    };
                    (StatusCode::OK, Json(answer))
                }
            }
        };
        let app = Router::new()
            .route("/v1/passport", post(handler("passport")))
            .route("/v1/snils", post(handler("snils")))
            .route("/v1/inn", post(handler("inn")));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, calls)
    }

    fn adapter(url: &str, key: &str, timeout_ms: u64) -> HttpRegistries {
        HttpRegistries::new(&RegistriesConfig {
            adapter: crate::kernel::config::RegistriesAdapter::Http,
            url: Some(url.to_owned()),
            signing_key: Some(SecretString::from(key.to_owned())),
            timeout_ms,
            retries: 2,
            ..RegistriesConfig::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn verdicts_come_back_from_a_signed_request() {
        let (url, _) = gateway(0, 0).await;
        let r = adapter(&url, KEY, 2000);
        assert_eq!(
            r.check_passport(&query(None)).await.unwrap(),
            PassportVerdict::Expired
        );
        assert_eq!(
            r.check_snils(&query(None)).await.unwrap(),
            SnilsVerdict::Mismatch
        );
        assert_eq!(
            r.check_inn(&query(None)).await.unwrap(),
            InnVerdict::Found("500100732259".into())
        );
        // A verdict outside the contract is an error, never a guess.
        assert!(r.check_inn(&query(Some("500100732259"))).await.is_err());
    }

    #[tokio::test]
    async fn a_wrong_key_is_refused_and_not_retried() {
        let (url, calls) = gateway(0, 0).await;
        let r = adapter(&url, "another-key", 2000);
        let e = r.check_passport(&query(None)).await.unwrap_err();
        assert!(e.to_string().contains("401"), "{e}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn unavailable_answers_are_retried_and_slow_ones_time_out() {
        let (url, calls) = gateway(2, 0).await;
        let r = adapter(&url, KEY, 2000);
        assert_eq!(
            r.check_snils(&query(None)).await.unwrap(),
            SnilsVerdict::Mismatch
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let (url, calls) = gateway(0, 1500).await;
        let r = adapter(&url, KEY, 100);
        let e = r.check_snils(&query(None)).await.unwrap_err();
        assert!(e.to_string().contains("timeout"), "{e}");
        assert_eq!(calls.load(Ordering::SeqCst), 3, "one try and two retries");
    }
}
