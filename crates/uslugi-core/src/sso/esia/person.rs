//! ESIA's person REST API (`/rs/prns/{oid}`, `/ctts`, `/addrs`, `/docs`, `?embed=(elements)`):
//! the data the person consented to, in ESIA's JSON shapes — dates `dd.MM.yyyy`, SNILS
//! `000-000-000 00`, collections as `{"stateFacts": ["hasSize"], "size": n, "elements": […]}`.

use serde_json::{Value, json};
use uslugi_store::{now_ms, sso::oidc as store};

use crate::{
    identity::accounts::{self, Contact},
    identity::profile::{self, PersonalData, ProfileState},
    identity::registration::Ctx,
};

/// Which part of the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `/rs/prns/{oid}`.
    Root,
    /// `/ctts`.
    Contacts,
    /// `/addrs`.
    Addresses,
    /// `/docs`.
    Documents,
}

/// Why the API refuses.
#[derive(Debug, thiserror::Error)]
pub enum PersonError {
    /// No live token.
    #[error("invalid_token")]
    Unauthorized,
    /// The token is for another person or lacks the scope.
    #[error("insufficient_scope")]
    Forbidden,
    /// Storage or decryption.
    #[error("{0}")]
    Internal(String),
}

fn internal(e: impl std::fmt::Display) -> PersonError {
    PersonError::Internal(e.to_string())
}

/// SNILS as ESIA writes it: `000-000-000 00`.
pub fn snils_esia(digits: &str) -> String {
    if digits.len() != 11 {
        return digits.to_owned();
    }
    format!(
        "{}-{}-{} {}",
        &digits[0..3],
        &digits[3..6],
        &digits[6..9],
        &digits[9..11]
    )
}

/// A phone as ESIA writes it: `+7(912)0001201`.
fn phone_esia(e164: &str) -> String {
    match e164.strip_prefix("+7") {
        Some(rest) if rest.len() == 10 => format!("+7({}){}", &rest[..3], &rest[3..]),
        _ => e164.to_owned(),
    }
}

fn collection(base: &str, elements: Vec<Value>, embed: bool) -> Value {
    let items: Vec<Value> = if embed {
        elements
    } else {
        elements
            .iter()
            .map(|e| json!(format!("{base}/{}", e["id"])))
            .collect()
    };
    json!({ "stateFacts": ["hasSize"], "size": items.len(), "eTag": format!("{:x}", items.len()), "elements": items })
}

/// One element of a collection (`/rs/prns/{oid}/ctts/{id}`), as the collection links to it.
pub async fn element(
    ctx: Ctx<'_>,
    bearer: &str,
    oid: &str,
    part: Part,
    id: u64,
) -> Result<Option<Value>, PersonError> {
    let all = read(ctx, bearer, oid, part, true).await?;
    Ok(all["elements"]
        .as_array()
        .and_then(|e| e.iter().find(|v| v["id"].as_u64() == Some(id)).cloned()))
}

/// The person's data for a bearer token: only the token's own person, only consented parts.
pub async fn read(
    ctx: Ctx<'_>,
    bearer: &str,
    oid: &str,
    part: Part,
    embed: bool,
) -> Result<Value, PersonError> {
    let token = store::live_token(
        ctx.db,
        &crate::sso::oidc::flow::hash_of(ctx, "oauth-token", bearer),
        "access",
        now_ms(),
    )
    .await
    .map_err(internal)?
    .ok_or(PersonError::Unauthorized)?;
    let account_id = token.account_id.ok_or(PersonError::Forbidden)?;
    let own = super::oid_of(ctx.db, account_id).await.map_err(internal)?;
    if own.is_none() || oid.parse::<u64>().ok() != own {
        return Err(PersonError::Forbidden);
    }
    let scopes: Vec<&str> = token.scopes.split(' ').collect();
    let has = |s: &str| scopes.contains(&s);
    let account = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .map_err(internal)?
        .filter(|a| a.active)
        .ok_or(PersonError::Unauthorized)?;
    let verified: Option<PersonalData> = match profile::state(ctx.db, ctx.keys, account_id)
        .await
        .map_err(internal)?
    {
        ProfileState::Verified(d) => Some(d),
        _ => None,
    };
    let base = format!("{}/rs/prns/{oid}", crate::sso::oidc::issuer(ctx.config));
    match part {
        Part::Root => {
            if !(has("fullname") || has("openid")) {
                return Err(PersonError::Forbidden);
            }
            let mut out = json!({
                "stateFacts": ["EntityRoot"],
                "eTag": format!("{:x}", account.level as u8),
                "status": "REGISTERED",
                "verifying": false,
                "trusted": account.level == uslugi_domain::AccountLevel::Confirmed,
                "citizenship": "RUS",
            });
            if has("fullname") {
                out["firstName"] = json!(account.name.first);
                out["lastName"] = json!(account.name.last);
                if let Some(m) = &account.name.middle {
                    out["middleName"] = json!(m);
                }
            }
            if let Some(d) = &verified {
                if has("birthdate") {
                    out["birthDate"] = json!(d.birth_date);
                }
                // A scope of its own, as at ESIA: the date of birth does not give the place away.
                if has("birthplace") {
                    out["birthPlace"] = json!(d.birth_place);
                }
                if has("gender") {
                    out["gender"] = json!(if d.sex == "female" { "F" } else { "M" });
                }
                if has("snils") {
                    out["snils"] = json!(snils_esia(&d.snils));
                }
                if has("inn")
                    && let Some(inn) = &d.inn
                {
                    out["inn"] = json!(inn);
                }
            }
            Ok(out)
        }
        Part::Contacts => {
            let (phones, emails) = (
                has("mobile") || has("contacts"),
                has("email") || has("contacts"),
            );
            if !(phones || emails) {
                return Err(PersonError::Forbidden);
            }
            let elements = account
                .contacts
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let (kind, value) = match c {
                        Contact::Phone(p) if phones => ("MBT", phone_esia(p.as_e164())),
                        Contact::Email(e) if emails => ("EML", e.as_str().to_owned()),
                        _ => return None,
                    };
                    Some(json!({ "stateFacts": ["Identifiable"], "id": i + 1, "type": kind, "vrfStu": "VERIFIED", "value": value }))
                })
                .collect();
            Ok(collection(&format!("{base}/ctts"), elements, embed))
        }
        Part::Addresses => {
            if !has("addresses") {
                return Err(PersonError::Forbidden);
            }
            let elements = verified
                .iter()
                .map(|d| json!({ "stateFacts": ["Identifiable"], "id": 1, "type": "PRG", "addressStr": d.address, "countryId": "RUS" }))
                .collect();
            Ok(collection(&format!("{base}/addrs"), elements, embed))
        }
        Part::Documents => {
            if !has("id_doc") {
                return Err(PersonError::Forbidden);
            }
            let elements = verified
                .iter()
                .map(|d| {
                    json!({
                        "stateFacts": ["Identifiable"], "id": 1, "type": "RF_PASSPORT", "vrfStu": "VERIFIED",
                        "series": d.passport.series, "number": d.passport.number,
                        "issueDate": d.passport.issued_on, "issueId": d.passport.division_code,
                        "issuedBy": d.passport.issuer,
                    })
                })
                .collect();
            Ok(collection(&format!("{base}/docs"), elements, embed))
        }
    }
}
