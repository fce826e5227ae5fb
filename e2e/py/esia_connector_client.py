"""An ESIA integration written with PyPI `esia-connector` 0.16, pointed at the portal: only the
base URL and the certificates differ from a Gosuslugi setup. The library signs with
`openssl smime` (RSA, detached CMS), checks the ID token with the portal's public key (PyJWT:
signature, audience, issuer), reads the person's oid from it and calls the person API.

Usage: esia_connector_client.py start|finish '<json arguments>' — prints JSON.
"""

import json
import os
import sys
import tempfile
import urllib.request

import jwt
from cryptography.hazmat.primitives import serialization
from esia_connector.client import EsiaAuth, EsiaSettings


def portal_key_file(base):
    """The portal's RS256 public key as a PEM file: what an integration is given as the ESIA key."""
    jwks = json.load(urllib.request.urlopen(base + "/oauth2/jwks"))
    rsa = next(k for k in jwks["keys"] if k["kty"] == "RSA")
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(rsa))
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    fd, path = tempfile.mkstemp(suffix=".pem")
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return path


def auth(args, check_key=None):
    return EsiaAuth(
        EsiaSettings(
            esia_client_id=args["client_id"],
            redirect_uri=args["redirect_uri"],
            certificate_file=args["certificate"],
            private_key_file=args["key"],
            esia_service_url=args["base"],
            esia_scope=args["scope"],
            esia_token_check_key=check_key,
        )
    )


def main():
    command, args = sys.argv[1], json.loads(sys.argv[2])
    if command == "start":
        out = {"url": auth(args).get_auth_url()}
    elif command == "finish":
        key = portal_key_file(args["base"])
        try:
            connector = auth(args, key).complete_authorization(args["code"], args["state"])
        finally:
            os.unlink(key)
        out = {
            "oid": connector.oid,
            "main": connector.get_person_main_info(),
            "contacts": connector.get_person_contacts(),
            "documents": connector.get_person_documents(),
            "addresses": connector.get_person_addresses(),
        }
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
