//! The `client_secret` of ESIA requests: a signature, by the client's registered certificate, of
//! the request's parameters concatenated. Accepted as a CMS `SignedData` (detached or attached,
//! with or without signed attributes) or as a raw signature, in base64 or base64url. RSA (PKCS#1
//! v1.5, SHA-256) and GOST R 34.10-2012 (256 and 512, Streebog) keys.

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
};
use cms::{content_info::ContentInfo, signed_data::SignedData};
use der::{Decode, Encode, asn1::ObjectIdentifier as Oid};
use sha2::{Digest, Sha256};
use streebog::{Streebog256, Streebog512};
use x509_cert::Certificate;

use super::gost;

const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const GOST_2012_256: Oid = Oid::new_unwrap("1.2.643.7.1.1.1.1");
const GOST_2012_512: Oid = Oid::new_unwrap("1.2.643.7.1.1.1.2");
const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const STREEBOG_256: Oid = Oid::new_unwrap("1.2.643.7.1.1.2.2");
const STREEBOG_512: Oid = Oid::new_unwrap("1.2.643.7.1.1.2.3");

/// The key of a registered client certificate.
#[derive(Debug, Clone)]
pub enum ClientKey {
    /// RSA: the PKCS#1 `RSAPublicKey`.
    Rsa(Vec<u8>),
    /// GOST R 34.10-2012 with 256-bit (Streebog-256) or 512-bit (Streebog-512) keys.
    Gost(gost::PublicKey),
}

/// A client's registered certificate.
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// Its key.
    pub key: ClientKey,
    /// Valid from, Unix seconds.
    pub not_before: i64,
    /// Valid until, Unix seconds.
    pub not_after: i64,
}

impl ClientCertificate {
    /// Whether the certificate is within its validity period at `unix` seconds.
    pub fn valid_at(&self, unix: i64) -> bool {
        self.not_before <= unix && unix <= self.not_after
    }
}

/// Reads a certificate (PEM or DER). Errors are for the administrator who registers it.
pub fn parse_certificate(bytes: &[u8]) -> Result<ClientCertificate, String> {
    let der = match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN CERTIFICATE-----") => {
            let body: String = text
                .lines()
                .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
                .skip(1)
                .take_while(|l| !l.starts_with("-----END"))
                .collect();
            STANDARD
                .decode(body.trim())
                .map_err(|e| format!("bad PEM: {e}"))?
        }
        _ => bytes.to_vec(),
    };
    let cert = Certificate::from_der(&der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let validity = cert.tbs_certificate().validity();
    let unix = |t: x509_cert::time::Time| {
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    };
    let (not_before, not_after) = (unix(validity.not_before), unix(validity.not_after));
    let spki = cert.tbs_certificate().subject_public_key_info();
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or("the public key is not whole bytes")?;
    let alg = spki.algorithm.oid;
    let key = if alg == RSA_ENCRYPTION {
        ClientKey::Rsa(raw.to_vec())
    } else if alg == GOST_2012_256 || alg == GOST_2012_512 {
        let params = spki
            .algorithm
            .parameters
            .as_ref()
            .ok_or("GOST key without parameters")?;
        // GostR3410-2012-PublicKeyParameters ::= SEQUENCE { publicKeyParamSet OID, digestParamSet OID OPTIONAL }
        let seq: Vec<der::Any> = params
            .decode_as()
            .map_err(|e| format!("GOST parameters: {e}"))?;
        let set: Oid = seq
            .first()
            .ok_or("GOST parameters are empty")?
            .decode_as()
            .map_err(|e| format!("GOST parameter set: {e}"))?;
        let curve = gost::curve_by_oid(&set.to_string())
            .ok_or_else(|| format!("unsupported GOST parameter set {set}"))?;
        // The key is an OCTET STRING inside the BIT STRING.
        let point = der::asn1::OctetString::from_der(raw).map_err(|e| format!("GOST key: {e}"))?;
        let key = gost::PublicKey::from_le_bytes(curve, point.as_bytes())
            .ok_or("the GOST public key is not on its curve")?;
        ClientKey::Gost(key)
    } else {
        return Err(format!("unsupported key algorithm {alg}"));
    };
    Ok(ClientCertificate {
        der,
        key,
        not_before,
        not_after,
    })
}

/// `client_certificate_hash`: hex Streebog-256 of the certificate's DER.
pub fn certificate_hash(der: &[u8]) -> String {
    crate::kernel::crypto::hex(&Streebog256::digest(der))
}

/// Decodes base64 in either alphabet, padded or not. Query strings turn `+` into a space when the
/// client did not escape it, so spaces are read as `+`.
pub fn decode_any(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().replace(' ', "+");
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(&text).ok())
}

/// Verifies `client_secret` over `message` with the client's certificate.
pub fn verify(cert: &ClientCertificate, message: &[u8], client_secret: &str) -> bool {
    let Some(bytes) = decode_any(client_secret) else {
        return false;
    };
    match ContentInfo::from_der(&bytes) {
        Ok(ci) if ci.content_type == SIGNED_DATA => verify_cms(cert, message, &ci),
        Ok(_) => false,
        Err(_) => verify_raw(&cert.key, message, &bytes),
    }
}

/// A raw signature over `data`.
fn verify_raw(key: &ClientKey, data: &[u8], signature: &[u8]) -> bool {
    match key {
        ClientKey::Rsa(public) => UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
            .verify(data, signature)
            .is_ok(),
        ClientKey::Gost(public) => {
            let digest = if public.curve.order_len() > 32 {
                Streebog512::digest(data).to_vec()
            } else {
                Streebog256::digest(data).to_vec()
            };
            public.verify(&digest, signature)
        }
    }
}

fn digest_with(alg: &Oid, data: &[u8]) -> Option<Vec<u8>> {
    Some(if *alg == SHA256 {
        Sha256::digest(data).to_vec()
    } else if *alg == STREEBOG_256 {
        Streebog256::digest(data).to_vec()
    } else if *alg == STREEBOG_512 {
        Streebog512::digest(data).to_vec()
    } else {
        return None;
    })
}

/// A CMS `SignedData`: the content (attached, or the message when detached) must be the message;
/// with signed attributes, their `messageDigest` must be the content's digest and the signature
/// covers the attributes' DER.
fn verify_cms(cert: &ClientCertificate, message: &[u8], ci: &ContentInfo) -> bool {
    let Ok(sd) = ci.content.decode_as::<SignedData>() else {
        return false;
    };
    if let Some(content) = &sd.encap_content_info.econtent {
        let Ok(octets) = content.decode_as::<der::asn1::OctetString>() else {
            return false;
        };
        if octets.as_bytes() != message {
            return false;
        }
    }
    // Exactly one signer: each costs a signature check, and a message with many would be a
    // cheap way to burn the portal's CPU.
    let [si] = sd.signer_infos.0.as_slice() else {
        return false;
    };
    let signature = si.signature.as_bytes();
    match &si.signed_attrs {
        None => verify_raw(&cert.key, message, signature),
        Some(attrs) => {
            let Some(digest) = digest_with(&si.digest_alg.oid, message) else {
                return false;
            };
            let matches = attrs.iter().any(|a| {
                a.oid == MESSAGE_DIGEST
                    && a.values.iter().any(|v| {
                        v.decode_as::<der::asn1::OctetString>()
                            .is_ok_and(|o| o.as_bytes() == digest.as_slice())
                    })
            });
            matches
                && attrs
                    .to_der()
                    .is_ok_and(|signed: Vec<u8>| verify_raw(&cert.key, &signed, signature))
        }
    }
}
