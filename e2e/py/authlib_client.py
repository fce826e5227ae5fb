"""A service that signs people in through the portal with PyPI `authlib`, as a Python web
application would: discovery, an authorization URL with PKCE and a nonce, the code exchange with
a client secret, ID-token validation (signature from the JWKS, iss, aud, nonce, at_hash) and
userinfo. All of it is authlib's own code; this file only wires it up without a web framework.

Usage: authlib_client.py start|finish '<json arguments>' — prints JSON.
"""

import json
import sys

from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session


class NoStore:
    """Framework hooks: this command-line service keeps no tokens between runs."""

    def update_token(self, *args, **kwargs):
        pass


class Service(OAuth2Mixin, OpenIDMixin, BaseApp):
    client_cls = OAuth2Session


def service(args):
    return Service(
        NoStore(),
        client_id=args["client_id"],
        client_secret=args["client_secret"],
        server_metadata_url=args["issuer"] + "/.well-known/openid-configuration",
        client_kwargs={"scope": args["scope"], "code_challenge_method": "S256"},
    )


def main():
    command, args = sys.argv[1], json.loads(sys.argv[2])
    app = service(args)
    if command == "start":
        out = app.create_authorization_url(redirect_uri=args["redirect_uri"])
    elif command == "finish":
        token = app.fetch_access_token(
            redirect_uri=args["redirect_uri"],
            authorization_response=args["callback"],
            state=args["state"],
            code_verifier=args["code_verifier"],
        )
        claims = app.parse_id_token(token, nonce=args["nonce"])
        info = app.userinfo(token=token)
        out = {"claims": dict(claims), "userinfo": dict(info), "scope": token.get("scope")}
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
