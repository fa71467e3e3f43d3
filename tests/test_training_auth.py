"""The training routes need both guarantees: the request came through CloudFront (so WAF's
per-client limits counted it) and its caller is a user of the stack's Cognito pool. One Lambda authorizer,
lambda_jobs/authorizer/app.py, checks both; here it is run on tokens signed with keys these tests make
(with `cryptography`, independent of the authorizer's own standard-library RSA), and the template is held to
routing every public route through the origin-secret check."""

import base64
import json
import time

import pytest
from api_helpers import ROOT, load_handler
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from templates import RESOURCES, TRAINING, TRAINING_STACK
from test_template_limits import API, SECRET, sam_routes

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"
CLIENT = "webappclient123"
ORIGIN = "s3cret-from-secrets-manager"
USER = "3f1c2d4e-1111-4222-8333-123456789abc"
NOW = int(time.time())  # tokens are made against the real clock the handler reads


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url(numbers.e.to_bytes(3, "big"))}


@pytest.fixture(scope="module")
def keys():
    return {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kid in ("pool", "other")}


def sign(key, header: dict, claims: dict) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def claims(**changes) -> dict:
    base = {"sub": USER, "iss": ISSUER, "aud": CLIENT, "token_use": "id", "exp": NOW + 3600, "iat": NOW - 60,
            "auth_time": NOW - 60, "email": "someone@example.com"}
    return {name: value for name, value in {**base, **changes}.items() if value is not None}


def token(keys, kid="pool", key=None, alg="RS256", **changes) -> str:
    return sign(key or keys[kid], {"kid": kid, "alg": alg}, claims(**changes))


@pytest.fixture
def authorizer(keys, monkeypatch):
    """The deployed handler, with the environment the template gives it and the pool's JWKS on a stub."""
    module = load_handler("lambda_jobs/authorizer")
    fetched = []

    def fetch(url):
        fetched.append(url)
        return {"keys": [jwk(keys["pool"], "pool")]}

    monkeypatch.setenv("ORIGIN_SECRET", ORIGIN)
    monkeypatch.setenv("USER_POOL_ISSUER", ISSUER)
    monkeypatch.setenv("USER_POOL_CLIENT_ID", CLIENT)
    monkeypatch.setattr(module, "fetch_jwks", fetch)
    module.fetched = fetched
    return module


def authorize(module, authorization=None, origin=ORIGIN, bearer=True) -> dict:
    headers = {"content-type": "application/json"}
    if origin is not None:
        headers["x-origin-verify"] = origin
    if authorization is not None:
        headers["authorization"] = f"Bearer {authorization}" if bearer else authorization
    event = {"version": "2.0", "type": "REQUEST", "routeKey": "POST /styles", "headers": headers,
             "requestContext": {"requestId": "r"}}
    return module.handler(event, None)


def test_a_valid_token_through_cloudfront_passes_with_its_sub(authorizer, keys):
    assert authorize(authorizer, token(keys)) == {"isAuthorized": True, "context": {"sub": USER}}
    assert authorizer.fetched == [f"{ISSUER}/.well-known/jwks.json"]  # the pool's own keys, fetched once
    access = token(keys, token_use="access", aud=None, client_id=CLIENT)  # an access token names its client so
    assert authorize(authorizer, access, bearer=False)["isAuthorized"] is True
    assert authorizer.fetched == [f"{ISSUER}/.well-known/jwks.json"]


@pytest.mark.parametrize("origin", [None, "", "s3cret-from-secrets-manage", ORIGIN + "X", ORIGIN.upper()])
def test_without_cloudfronts_secret_a_valid_token_is_refused_before_any_key_is_fetched(authorizer, keys, origin):
    assert authorize(authorizer, token(keys), origin=origin) == {"isAuthorized": False}
    assert authorizer.fetched == []


@pytest.mark.parametrize("case", [
    "no token", "not a jwt", "bad signature", "another key", "payload changed", "alg none", "alg HS256",
    "expired", "no exp", "exp as text", "not yet valid", "another pool", "another client", "access token aud",
    "refresh token_use", "no token_use", "no sub", "unknown kid", "huge"])
def test_the_secret_with_a_bad_token_is_refused(authorizer, keys, case):
    good = token(keys)
    head, body, signature = good.split(".")
    other_pool = ISSUER.replace("Pool", "Other")
    tokens = {
        "no token": None,
        "not a jwt": "abc.def",
        "bad signature": f"{head}.{body}.{signature[:-4]}AAAA",
        "another key": token(keys, key=keys["other"]),  # signed by a key the pool does not publish, its kid
        "payload changed": f"{head}.{b64url(json.dumps(claims(sub='someone-else')).encode())}.{signature}",
        "alg none": f"{b64url(json.dumps({'kid': 'pool', 'alg': 'none'}).encode())}.{body}.",
        "alg HS256": token(keys, alg="HS256"),
        "expired": token(keys, exp=NOW),
        "no exp": token(keys, exp=None),
        "exp as text": token(keys, exp=str(NOW + 3600)),
        "not yet valid": token(keys, nbf=NOW + 86_400, exp=NOW + 2 * 86_400),  # far ahead of a long suite
        "another pool": token(keys, iss=other_pool),
        "another client": token(keys, aud="anotherclient"),
        "access token aud": token(keys, token_use="access"),  # access tokens carry client_id, not aud
        "refresh token_use": token(keys, token_use="refresh"),
        "no token_use": token(keys, token_use=None),
        "no sub": token(keys, sub=None),
        "unknown kid": token(keys, kid="other"),
        "huge": token(keys, padding_claim="x" * 20_000),
    }
    assert authorize(authorizer, tokens[case]) == {"isAuthorized": False}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("case", ["nested payload, bad signature", "nested payload, signed by the pool",
                                  "nested header", "long header", "payload not JSON, signed by the pool"])
def test_a_hostile_token_is_a_deny_never_an_error(authorizer, keys, case):
    """The payload is read only after its signature verifies, and whatever fails is a Deny: an exception would
    make API Gateway answer 500."""
    head = b64url(json.dumps({"kid": "pool", "alg": "RS256"}).encode())
    deep = b64url(nested(4_000))  # deeper than json's recursion limit, within the token's size limit

    def signed(header: str, payload: str) -> str:
        signature = keys["pool"].sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{payload}.{b64url(signature)}"

    tokens = {
        "nested payload, bad signature": f"{head}.{deep}.{b64url(b'x' * 256)}",
        "nested payload, signed by the pool": signed(head, deep),
        "nested header": f"{b64url(nested(3_000))}.{b64url(json.dumps(claims()).encode())}.AAAA",
        "long header": signed(b64url(json.dumps({"kid": "pool", "alg": "RS256", "x": "y" * 2_000}).encode()),
                              b64url(json.dumps(claims()).encode())),
        "payload not JSON, signed by the pool": signed(head, b64url(b"\xff{not json")),
    }
    assert authorize(authorizer, tokens[case]) == {"isAuthorized": False}


def test_an_unexpected_error_while_checking_is_a_deny(authorizer, keys, monkeypatch):
    def broken(*args):
        raise MemoryError("whatever it is")

    monkeypatch.setattr(authorizer, "rsa_sha256_verifies", broken)
    assert authorize(authorizer, token(keys)) == {"isAuthorized": False}


def test_a_token_of_another_pool_signed_by_that_pools_key_is_refused(authorizer, keys, monkeypatch):
    """Both pools' keys are published (a shared JWKS, or a key rotation): the issuer still decides."""
    monkeypatch.setattr(authorizer, "fetch_jwks", lambda url: {"keys": [jwk(keys["pool"], "pool"),
                                                                        jwk(keys["other"], "other")]})
    other = token(keys, kid="other", iss=ISSUER.replace("Pool", "Other"))
    assert authorize(authorizer, other) == {"isAuthorized": False}
    assert authorize(authorizer, token(keys, kid="other"))["isAuthorized"] is True  # the same key, our issuer


def test_keys_are_refetched_for_an_unknown_kid_at_most_every_5_minutes_and_a_failed_fetch_refuses(keys):
    module = load_handler("lambda_jobs/authorizer")
    clock, published, calls = [NOW], [], []

    def fetch(url):
        calls.append(url)
        if not published:
            raise OSError("unreachable")
        return {"keys": published}

    verifier = module.Verifier(ORIGIN, ISSUER, CLIENT, fetch=fetch, clock=lambda: clock[0])
    event = {"headers": {"x-origin-verify": ORIGIN, "authorization": f"Bearer {token(keys)}"}}
    assert verifier.authorize(event) == {"isAuthorized": False} and len(calls) == 1  # fail closed
    published.append(jwk(keys["other"], "other"))
    assert verifier.authorize(event) == {"isAuthorized": False} and len(calls) == 2  # retried: no "pool" key
    published.append(jwk(keys["pool"], "pool"))
    assert verifier.authorize(event) == {"isAuthorized": False} and len(calls) == 2  # not within 5 minutes
    clock[0] += 300
    event["headers"]["authorization"] = f"Bearer {token(keys, exp=NOW + 3600)}"
    assert verifier.authorize(event)["isAuthorized"] is True and len(calls) == 3  # the rotated key


def test_weak_or_foreign_keys_in_the_jwks_are_ignored(keys):
    module = load_handler("lambda_jobs/authorizer")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    published = [jwk(small, "small"), {**jwk(keys["pool"], "ec"), "kty": "EC"},
                 {**jwk(keys["pool"], "enc"), "use": "enc"}, {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
                 jwk(keys["pool"], "pool")]
    assert list(module.rsa_keys({"keys": published})) == ["pool"]


def test_the_verifier_agrees_with_cryptography_on_pkcs1_signatures(keys):
    module = load_handler("lambda_jobs/authorizer")
    numbers = keys["pool"].public_key().public_numbers()
    message = b"header.payload"
    signature = keys["pool"].sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert module.rsa_sha256_verifies(numbers.n, numbers.e, message, signature)
    assert not module.rsa_sha256_verifies(numbers.n, numbers.e, message + b"!", signature)
    assert not module.rsa_sha256_verifies(numbers.n, numbers.e, message, signature[1:])
    assert not module.rsa_sha256_verifies(numbers.n, numbers.e, message, b"\x00" + signature[1:])
    pss = keys["pool"].sign(message, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    assert not module.rsa_sha256_verifies(numbers.n, numbers.e, message, pss)
    sha1 = keys["pool"].sign(message, padding.PKCS1v15(), hashes.SHA1())
    assert not module.rsa_sha256_verifies(numbers.n, numbers.e, message, sha1)


# ------------------------------------------------------------------------------------------ the template
def test_the_training_routes_go_through_the_authorizer_that_checks_both():
    routes = {r["Properties"]["RouteKey"]: r for r in TRAINING["Resources"].values()
              if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert set(routes) == {"POST /styles", "ANY /styles/{id}", "ANY /jobs", "ANY /jobs/{id}", "ANY /jobs/{id}/model",
                           "ANY /jobs/{id}/finish"}
    assert TRAINING_STACK["Condition"] == "TrainingOn"  # the stack that makes them, and all below
    for route in routes.values():
        assert route in TRAINING["Resources"].values()
        assert route["Properties"]["AuthorizationType"] == "CUSTOM"
        assert route["Properties"]["AuthorizerId"] == {"Ref": "JobsAuthorizer"}
    authorizer = RESOURCES["JobsAuthorizer"]["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST" and authorizer["ApiId"] == {"Ref": "StyleApi"}
    assert "${JobsAuthorizerFunction.Arn}" in authorizer["AuthorizerUri"]["Fn::Sub"]
    assert authorizer["AuthorizerPayloadFormatVersion"] == "2.0" and authorizer["EnableSimpleResponses"] is True
    # a missing header is API Gateway's 401 without a call; no cached answer outlives a token's expiry
    assert authorizer["IdentitySource"] == ["$request.header.x-origin-verify", "$request.header.Authorization"]
    assert authorizer["AuthorizerResultTtlInSeconds"] == 0
    function = RESOURCES["JobsAuthorizerFunction"]
    assert function is TRAINING["Resources"]["JobsAuthorizerFunction"]
    assert function["Properties"]["CodeUri"] == "../lambda_jobs/authorizer/"  # relative to stacks/training.yaml
    env = function["Properties"]["Environment"]["Variables"]
    assert env == {"ORIGIN_SECRET": SECRET,  # the value CloudFront sends and FromCloudFront checks
                   "USER_POOL_ISSUER": {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"},
                   "USER_POOL_CLIENT_ID": {"Ref": "UserPoolClient"}}
    permission = RESOURCES["JobsAuthorizerInvokePermission"]
    assert permission is TRAINING["Resources"]["JobsAuthorizerInvokePermission"]
    assert permission["Properties"]["FunctionName"] == {"Ref": "JobsAuthorizerFunction"}
    assert permission["Properties"]["SourceArn"]["Fn::Sub"].endswith(":${StyleApi}/authorizers/${JobsAuthorizer}")
    assert not [name for name, r in RESOURCES.items() if r["Type"] == "AWS::ApiGatewayV2::Authorizer"
                and r["Properties"]["AuthorizerType"] == "JWT"]  # a JWT authorizer cannot see the secret


def origin_checking_authorizers() -> set[str]:
    """The raw authorizers whose function is given CloudFront's secret and whose identity includes its header."""
    found = set()
    for name, resource in RESOURCES.items():
        if resource["Type"] == "AWS::ApiGatewayV2::Authorizer":
            properties = resource["Properties"]
            function = properties["AuthorizerUri"]["Fn::Sub"].split("${")[-1].split(".Arn}")[0]
            env = RESOURCES[function]["Properties"]["Environment"]["Variables"]
            if env.get("ORIGIN_SECRET") == SECRET and "$request.header.x-origin-verify" in properties["IdentitySource"]:
                found.add(name)
    return found


def test_every_public_route_is_protected_by_the_origin_secret_check():
    # the routes SAM makes from the functions' events all take the default authorizer, FromCloudFront
    auth = API["Auth"]
    assert auth["Authorizers"][auth["DefaultAuthorizer"]]["FunctionArn"] == {"Fn::GetAtt": "OriginVerifyFunction.Arn"}
    assert RESOURCES["OriginVerifyFunction"]["Properties"]["Environment"]["Variables"]["ORIGIN_SECRET"] == SECRET
    assert sam_routes()
    for name, resource in RESOURCES.items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            assert "Auth" not in event["Properties"], name
    # a raw route does not get the API's default authorizer: each must name one that checks the secret
    checking = origin_checking_authorizers()
    raw = [r for r in RESOURCES.values() if r["Type"] == "AWS::ApiGatewayV2::Route"]
    assert raw
    for route in raw:
        assert route["Properties"]["AuthorizationType"] == "CUSTOM", route["Properties"]["RouteKey"]
        assert route["Properties"]["AuthorizerId"]["Ref"] in checking, route["Properties"]["RouteKey"]
    assert not [r for r in RESOURCES.values() if r["Type"] in ("AWS::ApiGatewayV2::Api", "AWS::Serverless::Api")]


def test_the_authorizers_function_builds_from_the_standard_library_alone():
    import ast
    import sys

    source = (ROOT / "lambda_jobs" / "authorizer" / "app.py").read_text()
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported and imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
    assert not (ROOT / "lambda_jobs" / "authorizer" / "requirements.txt").exists()
