"""The training routes' authorizer (an HTTP API Lambda authorizer: payload 2.0, simple responses).

An HTTP API route takes one authorizer, and the training routes need two checks, so this one makes both:
1. the request came through CloudFront, and so through WAF's per-client limits: its x-origin-verify header
   is the secret CloudFront adds (the same check as the API's default authorizer, OriginVerifyFunction);
2. the caller is a user of the stack's Cognito user pool: `Authorization: Bearer <ID or access token>`,
   an RS256 JWT whose signature verifies against one of the pool's published keys (its JWKS), whose issuer
   is the pool, whose audience (ID token) or client_id (access token) is the web app's client, whose
   token_use says which of the two it is, and which has not expired.

Admitted, the response's context carries the token's `sub`: the jobs function reads it from
requestContext.authorizer.lambda.sub. Refused, API Gateway answers 403 (401 when a header is missing).

Standard library only (the python3.12 runtime has no `cryptography`): an RSASSA-PKCS1-v1_5 signature is
checked as RFC 8017 (8.2.2) says, by building the expected encoded message and comparing it whole, never by
parsing the decrypted block, which is what makes hand-made verifiers forgeable.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import time
import urllib.request

MAX_TOKEN_CHARS = 16_384  # Cognito's tokens are a few kB; a longer one is refused before any work
MAX_HEADER_CHARS = 1_024  # a Cognito header is {"kid": ..., "alg": "RS256"}: the only part read unverified
MIN_MODULUS_BITS = 2048
JWKS_REFRESH_S = 300  # an unknown `kid` refetches the keys (a rotation), at most this often
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")  # RFC 8017 9.2, note 1
B64URL = re.compile(r"[A-Za-z0-9_-]*")
AUDIENCE_CLAIM = {"id": "aud", "access": "client_id"}  # token_use -> the claim that names the client


class Refused(Exception):
    """Why a request is refused (logged; the caller sees only API Gateway's 403)."""


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or not B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise Refused("malformed base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def json_object(data: bytes, part: str) -> dict:
    """A token part's JSON object, or Refused (RecursionError: a nesting deeper than the parser's stack)."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise Refused(f"the {part} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(f"the {part} is not a JSON object")
    return value


def b64url_int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


def rsa_sha256_verifies(modulus: int, exponent: int, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 with SHA-256 (JWS "RS256")."""
    size = (modulus.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    value = int.from_bytes(signature, "big")
    if value >= modulus:
        return False
    digest = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    return hmac.compare_digest(pow(value, exponent, modulus).to_bytes(size, "big"), expected)


def rsa_keys(jwks: dict) -> dict[str, tuple[int, int]]:
    """kid -> (n, e) for the JWKS's RSA signing keys of at least 2048 bits."""
    keys = {}
    for key in jwks.get("keys") or []:
        if not isinstance(key, dict) or key.get("kty") != "RSA" or key.get("alg", "RS256") != "RS256" \
                or key.get("use", "sig") != "sig" or not isinstance(key.get("kid"), str):
            continue
        try:
            modulus, exponent = b64url_int(key["n"]), b64url_int(key["e"])
        except (KeyError, Refused):
            continue
        if modulus.bit_length() >= MIN_MODULUS_BITS and exponent >= 3 and exponent % 2:
            keys[key["kid"]] = (modulus, exponent)
    return keys


def fetch_jwks(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (an https URL of our own pool)
        return json.loads(response.read(1_000_000))


class Verifier:
    """The two checks, with the pool's keys fetched once and kept while the function stays warm."""

    def __init__(self, secret: str, issuer: str, client_id: str, fetch, clock=time.time):
        self.secret, self.issuer, self.client_id = secret.encode(), issuer, client_id
        self.fetch, self.clock = fetch, clock
        self.keys: dict[str, tuple[int, int]] = {}
        self.fetched_at = None

    def key(self, kid) -> tuple[int, int]:
        if not isinstance(kid, str):
            raise Refused("no kid")
        if kid not in self.keys and (self.fetched_at is None or self.clock() - self.fetched_at >= JWKS_REFRESH_S):
            try:
                jwks = self.fetch(f"{self.issuer}/.well-known/jwks.json")
            except (OSError, ValueError) as error:  # fail closed, and try again on the next request
                raise Refused(f"the user pool's keys could not be fetched: {type(error).__name__}") from None
            self.keys, self.fetched_at = rsa_keys(jwks if isinstance(jwks, dict) else {}), self.clock()
        if kid not in self.keys:
            raise Refused("no key of the user pool has this kid")
        return self.keys[kid]

    def check_origin(self, headers: dict) -> None:
        given = headers.get("x-origin-verify", "")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), self.secret):
            raise Refused("not through CloudFront: x-origin-verify is missing or wrong")

    def claims(self, authorization) -> dict:
        """The verified claims of the request's token, or Refused."""
        if not isinstance(authorization, str):
            raise Refused("no token")
        token = authorization[7:] if authorization[:7].lower() == "bearer " else authorization
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise Refused("not a JWS in compact form")
        header_part, payload_part, signature_part = token.split(".")
        # Only the small header is read before the signature is checked (it names the key and the algorithm):
        # the payload is anyone's text until then, and parsing it first let a deeply nested one crash us.
        if len(header_part) > MAX_HEADER_CHARS:
            raise Refused("header too long")
        header = json_object(b64url_decode(header_part), "header")
        if header.get("alg") != "RS256":  # never "none", never HS256 keyed with the public key
            raise Refused(f"alg {header.get('alg')!r} is not RS256")
        modulus, exponent = self.key(header.get("kid"))
        if not rsa_sha256_verifies(modulus, exponent, f"{header_part}.{payload_part}".encode(),
                                   b64url_decode(signature_part)):
            raise Refused("bad signature")
        claims = json_object(b64url_decode(payload_part), "payload")
        self.check_claims(claims)
        return claims

    def check_claims(self, claims: dict) -> None:
        if claims.get("iss") != self.issuer:
            raise Refused("issued by another user pool")
        audience_claim = AUDIENCE_CLAIM.get(claims.get("token_use"))
        if audience_claim is None:
            raise Refused("token_use is neither id nor access")
        if claims.get(audience_claim) != self.client_id:
            raise Refused(f"{audience_claim} is another client")
        expires, now = claims.get("exp"), self.clock()
        if isinstance(expires, bool) or not isinstance(expires, (int, float)) or now >= expires:
            raise Refused("expired, or no exp")
        not_before = claims.get("nbf", now)
        if isinstance(not_before, bool) or not isinstance(not_before, (int, float)) or now < not_before:
            raise Refused("not valid yet")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Refused("no sub")

    def authorize(self, event: dict) -> dict:
        headers = event.get("headers") or {}  # payload 2.0: header names are lower-cased
        try:
            self.check_origin(headers)  # first: no key fetch, no parsing for a caller who skipped CloudFront
            claims = self.claims(headers.get("authorization"))
        except Exception as refused:  # noqa: BLE001 - fail closed: an error of ours is a Deny (403), never a 500
            reason = str(refused) if isinstance(refused, Refused) else f"error: {type(refused).__name__}"
            print(json.dumps({"message": "refused", "reason": reason,
                              "route": event.get("routeKey"), "requestId": (event.get("requestContext") or {})
                              .get("requestId")}))
            return {"isAuthorized": False}
        return {"isAuthorized": True, "context": {"sub": claims["sub"]}}


_verifier = {}


def handler(event, context):
    if "verifier" not in _verifier:
        issuer = os.environ["USER_POOL_ISSUER"]
        _verifier["verifier"] = Verifier(os.environ["ORIGIN_SECRET"], issuer, os.environ["USER_POOL_CLIENT_ID"],
                                         fetch=fetch_jwks)
    return _verifier["verifier"].authorize(event)
