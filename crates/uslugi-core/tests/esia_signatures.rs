//! ESIA `client_secret` signatures: GOST R 34.10-2012 signatures made by OpenSSL's GOST engine
//! (Debian `libengine-gost-openssl`, installed by the test command) and RSA CMS made by the
//! `openssl smime` that ESIA client libraries call, verified against the registered certificate.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::{path::PathBuf, process::Command};

use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD},
};
use uslugi_core::sso::esia::signature::{self, ClientKey};

fn hex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// Signatures made once by the Debian GOST engine over "hello esia" (fixtures: the engine's
/// certificate and its `openssl dgst -md_gost12_… -sign` output, `s ‖ r`).
#[test]
fn engine_made_gost_signatures_verify() {
    for (cert, sig) in [
        (
            include_bytes!("fixtures/gost256.crt").as_slice(),
            "1d891aea65e62c7e45db005d32515e21ca4505adedf3e9841a1a3f84eeedc9582b65c353f0ecccf39742009411f9ba3d9c815fcbc502817bbeeb6b47e5f0aa23",
        ),
        (
            include_bytes!("fixtures/gost512.crt").as_slice(),
            "6b3b17bf140518d6ad0f0596cf9ddc22eedce1955ff9ab970363d4f72da54680f454b2564cc8ed9eb73755ef8e6d75b5a4e92a9a2a7c4682aac2784719680ec9454279189b9c4ab1503cc1fb422fc8d6d19493fae1f6a01cac2074ca65f64266ccbccc4287710cd6e30639d0a75fd642ba4c93d8810fdd48119cfb10ff9de709",
        ),
    ] {
        let cert = signature::parse_certificate(cert).unwrap();
        assert!(matches!(cert.key, ClientKey::Gost(_)));
        let sig = hex(sig);
        for encoded in [STANDARD.encode(&sig), URL_SAFE_NO_PAD.encode(&sig)] {
            assert!(signature::verify(&cert, b"hello esia", &encoded));
        }
        assert!(!signature::verify(
            &cert,
            b"hello esia!",
            &STANDARD.encode(&sig)
        ));
        let mut bad = sig.clone();
        bad[5] ^= 1;
        assert!(!signature::verify(
            &cert,
            b"hello esia",
            &STANDARD.encode(&bad)
        ));
        assert!(!signature::verify(
            &cert,
            b"hello esia",
            "not base64 at all!"
        ));
    }
    // Streebog-256 of the DER, as ESIA's client_certificate_hash.
    let cert = signature::parse_certificate(include_bytes!("fixtures/gost256.crt")).unwrap();
    assert_eq!(signature::certificate_hash(&cert.der).len(), 64);
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn workdir() -> Dir {
    let d = std::env::temp_dir().join(format!("uslugi-esia-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn openssl(dir: &Dir, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .current_dir(&dir.0)
        .args(args)
        .output()
        .expect("openssl (the test command installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A key and self-signed certificate: `rsa` or a GOST engine algorithm with a parameter set.
fn key_and_cert(dir: &Dir, name: &str, alg: &[&str]) -> signature::ClientCertificate {
    let key = format!("{name}.key");
    let crt = format!("{name}.crt");
    let mut args = vec!["genpkey"];
    args.extend_from_slice(alg);
    args.extend_from_slice(&["-out", &key]);
    openssl(dir, &args);
    let mut req = vec![
        "req",
        "-x509",
        "-new",
        "-key",
        &key,
        "-subj",
        "/CN=Сервис/O=Test",
        "-days",
        "30",
        "-out",
        &crt,
    ];
    if alg.contains(&"gost") {
        req.extend_from_slice(&["-engine", "gost"]);
    }
    openssl(dir, &req);
    signature::parse_certificate(&std::fs::read(dir.0.join(&crt)).unwrap()).unwrap()
}

#[test]
fn openssl_smime_rsa_signatures_verify_in_every_form() {
    let dir = workdir();
    let cert = key_and_cert(
        &dir,
        "rsa",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let other = key_and_cert(
        &dir,
        "other",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let message =
        "openid fullname2026.11.23 12:00:00 +0000TESTSYS0f4f2c1e-6d1b-4b7a-9c51-2b0a3c4d5e6f";
    std::fs::write(dir.0.join("msg.txt"), message).unwrap();
    let base = [
        "smime", "-sign", "-md", "sha256", "-in", "msg.txt", "-signer", "rsa.crt", "-inkey",
        "rsa.key", "-outform", "DER", "-binary",
    ];
    for extra in [
        &[][..],
        &["-nodetach"][..],
        &["-noattr"][..],
        &["-nodetach", "-noattr"][..],
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let cms = openssl(&dir, &args);
        for encoded in [
            URL_SAFE.encode(&cms),
            URL_SAFE_NO_PAD.encode(&cms),
            STANDARD.encode(&cms),
        ] {
            assert!(
                signature::verify(&cert, message.as_bytes(), &encoded),
                "{extra:?}"
            );
        }
        assert!(
            !signature::verify(
                &cert,
                format!("{message}x").as_bytes(),
                &STANDARD.encode(&cms)
            ),
            "another message {extra:?}"
        );
        assert!(
            !signature::verify(&other, message.as_bytes(), &STANDARD.encode(&cms)),
            "a foreign certificate {extra:?}"
        );
    }
    // Two signers, even both real, are refused: one signature check per request.
    let two = openssl(
        &dir,
        &[
            "cms",
            "-sign",
            "-md",
            "sha256",
            "-in",
            "msg.txt",
            "-signer",
            "rsa.crt",
            "-inkey",
            "rsa.key",
            "-signer",
            "other.crt",
            "-inkey",
            "other.key",
            "-outform",
            "DER",
            "-binary",
        ],
    );
    assert!(!signature::verify(
        &cert,
        message.as_bytes(),
        &STANDARD.encode(&two)
    ));
    // A raw RSA signature too.
    let raw = openssl(&dir, &["dgst", "-sha256", "-sign", "rsa.key", "msg.txt"]);
    assert!(signature::verify(
        &cert,
        message.as_bytes(),
        &STANDARD.encode(&raw)
    ));
}

#[test]
fn openssl_gost_engine_signatures_verify_for_every_parameter_set() {
    let dir = workdir();
    let message = "TESTSYSopenid fullname2026.11.23 12:00:00 +03000f4f2c1e-6d1b-4b7a-9c51-2b0a3c4d5e6fhttps://service.example.ru/cb";
    std::fs::write(dir.0.join("msg.txt"), message).unwrap();
    for (name, alg, params, md) in [
        ("g256a", "gost2012_256", "paramset:A", "md_gost12_256"),
        ("g256tca", "gost2012_256", "paramset:TCA", "md_gost12_256"),
        ("g512a", "gost2012_512", "paramset:A", "md_gost12_512"),
        ("g512b", "gost2012_512", "paramset:B", "md_gost12_512"),
        ("g512c", "gost2012_512", "paramset:C", "md_gost12_512"),
    ] {
        let cert = key_and_cert(
            &dir,
            name,
            &["-engine", "gost", "-algorithm", alg, "-pkeyopt", params],
        );
        let key = format!("{name}.key");
        let crt = format!("{name}.crt");
        let raw = openssl(
            &dir,
            &[
                "dgst",
                "-engine",
                "gost",
                &format!("-{md}"),
                "-sign",
                &key,
                "msg.txt",
            ],
        );
        assert!(
            signature::verify(&cert, message.as_bytes(), &URL_SAFE_NO_PAD.encode(&raw)),
            "{name} raw"
        );
        assert!(
            !signature::verify(&cert, b"another", &STANDARD.encode(&raw)),
            "{name} raw, another message"
        );
        let cms = openssl(
            &dir,
            &[
                "smime", "-sign", "-engine", "gost", "-md", md, "-in", "msg.txt", "-signer", &crt,
                "-inkey", &key, "-outform", "DER", "-binary",
            ],
        );
        assert!(
            signature::verify(&cert, message.as_bytes(), &URL_SAFE.encode(&cms)),
            "{name} CMS"
        );
        assert!(
            !signature::verify(&cert, b"another", &URL_SAFE.encode(&cms)),
            "{name} CMS, another message"
        );
    }
}

/// The registered certificate's validity is read from it, so that an expired one (or one not
/// yet valid) signs nothing.
#[test]
fn a_certificate_is_valid_only_within_its_dates() {
    let cert = signature::parse_certificate(include_bytes!("fixtures/gost256.crt")).unwrap();
    // The fixture's own dates, as `openssl x509 -noout -dates` prints them: 23.11.2026 17:35:51
    // to 03.12.2026 17:35:51 UTC.
    assert_eq!((cert.not_before, cert.not_after), (1795455351, 1796319351));
    assert!(cert.valid_at(cert.not_before));
    assert!(cert.valid_at(cert.not_after));
    assert!(!cert.valid_at(cert.not_before - 1));
    assert!(!cert.valid_at(cert.not_after + 1));
}
