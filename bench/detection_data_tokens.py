"""Credentials for ``bench/detection.py``: provider token formats, JWTs, PEM keys, assignments.

Each provider entry is written from the provider's published format (docs, changelogs, SDK
sources): prefix, alphabet, length, and the checksum where the format has one (GitHub's and npm's
CRC32 tail in base62, age's bech32). Values are drawn fresh from a seeded ``random.Random``; none
is copied from anyone's tests. ``needs_context`` marks formats with no prefix of their own (a
32-hex Mailgun-style key): those only ever appear under a key name that says what they are, as
they do in real configs.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
UPPER_NUM = string.ascii_uppercase + string.digits


def pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def crc32_base62(payload: str) -> str:
    """GitHub/npm token tail: CRC32 of the random part in base62, left-padded to 6."""
    n = zlib.crc32(payload.encode())
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(6, "0")


def checksummed(prefix: str) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        body = pick(rng, ALNUM, 30)
        return prefix + body + crc32_base62(body)
    return make


# bech32 (BIP 173), as age writes identities: HRP AGE-SECRET-KEY-, 32-byte X25519 scalar, upper case.
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32(hrp: str, data: bytes) -> str:
    acc, bits, words = 0, 0, []
    for b in data:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            words.append((acc >> bits) & 31)
    if bits:
        words.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    mod = _bech32_polymod(expanded + words + [0] * 6) ^ 1
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[w] for w in words + checksum)


def age_identity(rng: random.Random) -> str:
    return bech32("age-secret-key-", rng.randbytes(32)).upper()


def onepassword_service_token(rng: random.Random) -> str:
    claims = {"signInAddress": "my.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256",
              "iterations": 650000, "salt": b64url(rng.randbytes(16))}, "email": f"{pick(rng, string.ascii_lowercase, 13)}@1passwordserviceaccounts.com",
              "srpX": rng.randbytes(32).hex(), "muk": {"alg": "A256GCM", "ext": True, "k": b64url(rng.randbytes(32)),
              "key_ops": ["encrypt", "decrypt"], "kty": "oct", "kid": "mp"}, "secretKey": f"A3-{pick(rng, UPPER_NUM, 6)}-{pick(rng, UPPER_NUM, 6)}-{pick(rng, UPPER_NUM, 5)}-{pick(rng, UPPER_NUM, 5)}-{pick(rng, UPPER_NUM, 5)}-{pick(rng, UPPER_NUM, 5)}",
              "throttleSecret": {"seed": rng.randbytes(32).hex(), "uuid": pick(rng, UPPER_NUM, 26)}, "deviceUuid": pick(rng, string.ascii_lowercase + string.digits, 26)}
    return "ops_" + b64url(json.dumps(claims, separators=(",", ":")).encode())


def discord_bot_token(rng: random.Random) -> str:
    user_id = str(rng.randint(10**17, 10**19 - 1))
    return f"{b64url(user_id.encode())}.{pick(rng, URLSAFE, 6)}.{pick(rng, URLSAFE, 38)}"


def mapbox_secret(rng: random.Random) -> str:
    claims = {"u": pick(rng, string.ascii_lowercase, 8), "a": pick(rng, string.ascii_lowercase + string.digits, 25)}
    return f"sk.{b64url(json.dumps(claims).encode())}.{pick(rng, URLSAFE, 22)}"


@dataclass(frozen=True)
class TokenFormat:
    provider: str
    make: Callable[[random.Random], str]
    env: str  # the variable name people give it in .env files and CI settings
    needs_context: bool = False
    type: str = "API_KEY"


def _fmt(prefix: str, alphabet: str, n: int, suffix: str = "") -> Callable[[random.Random], str]:
    return lambda rng: prefix + pick(rng, alphabet, n) + suffix


T = TokenFormat
CATALOG: tuple[TokenFormat, ...] = (
    T("github-classic-pat", checksummed("ghp_"), "GITHUB_TOKEN"),
    T("github-oauth", checksummed("gho_"), "GH_OAUTH_TOKEN"),
    T("github-user-to-server", checksummed("ghu_"), "GITHUB_USER_TOKEN"),
    T("github-server-to-server", checksummed("ghs_"), "GITHUB_APP_TOKEN"),
    T("github-refresh", checksummed("ghr_"), "GITHUB_REFRESH_TOKEN"),
    T("github-fine-grained-pat", lambda r: f"github_pat_11{pick(r, UPPER_NUM, 20)}_{pick(r, ALNUM, 59)}", "GH_PAT"),
    T("gitlab-pat", _fmt("glpat-", URLSAFE, 20), "GITLAB_TOKEN"),
    T("gitlab-deploy-token", _fmt("gldt-", URLSAFE, 20), "GITLAB_DEPLOY_TOKEN"),
    T("gitlab-runner-token", _fmt("glrt-", URLSAFE, 20), "CI_RUNNER_TOKEN"),
    T("gitlab-pipeline-trigger", _fmt("glptt-", HEX, 40), "GITLAB_TRIGGER_TOKEN"),
    T("gitlab-feed-token", _fmt("glft-", URLSAFE, 20), "GITLAB_FEED_TOKEN"),
    T("slack-bot", lambda r: f"xoxb-{pick(r, string.digits, 11)}-{pick(r, string.digits, 13)}-{pick(r, ALNUM, 24)}", "SLACK_BOT_TOKEN"),
    T("slack-user", lambda r: f"xoxp-{pick(r, string.digits, 11)}-{pick(r, string.digits, 11)}-{pick(r, string.digits, 13)}-{pick(r, HEX, 32)}", "SLACK_USER_TOKEN"),
    T("slack-app", lambda r: f"xapp-1-A{pick(r, UPPER_NUM, 10)}-{pick(r, string.digits, 13)}-{pick(r, HEX, 64)}", "SLACK_APP_TOKEN"),
    T("slack-webhook", lambda r: f"https://hooks.slack.com/services/T{pick(r, UPPER_NUM, 8)}/B{pick(r, UPPER_NUM, 10)}/{pick(r, ALNUM, 24)}", "SLACK_WEBHOOK_URL"),
    T("stripe-secret-live", _fmt("sk_live_", ALNUM, 99), "STRIPE_SECRET_KEY"),
    T("stripe-secret-test", _fmt("sk_test_", ALNUM, 24), "STRIPE_API_KEY"),
    T("stripe-restricted", _fmt("rk_live_", ALNUM, 99), "STRIPE_RESTRICTED_KEY"),
    T("stripe-webhook-secret", _fmt("whsec_", ALNUM, 32), "STRIPE_WEBHOOK_SECRET"),
    T("openai-legacy", lambda r: f"sk-{pick(r, ALNUM, 20)}T3BlbkFJ{pick(r, ALNUM, 20)}", "OPENAI_API_KEY"),
    T("openai-project", lambda r: f"sk-proj-{pick(r, URLSAFE, 74)}T3BlbkFJ{pick(r, URLSAFE, 74)}", "OPENAI_API_KEY"),
    T("openai-service-account", lambda r: f"sk-svcacct-{pick(r, URLSAFE, 74)}T3BlbkFJ{pick(r, URLSAFE, 74)}", "OPENAI_KEY"),
    T("openai-admin", lambda r: f"sk-admin-{pick(r, URLSAFE, 74)}T3BlbkFJ{pick(r, URLSAFE, 74)}", "OPENAI_ADMIN_KEY"),
    T("anthropic-api", lambda r: f"sk-ant-api03-{pick(r, URLSAFE, 93)}AA", "ANTHROPIC_API_KEY"),
    T("anthropic-admin", lambda r: f"sk-ant-admin01-{pick(r, URLSAFE, 93)}AA", "ANTHROPIC_ADMIN_KEY"),
    T("aws-access-key-id", lambda r: "AKIA" + pick(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), "AWS_ACCESS_KEY_ID", type="AWS_ACCESS_KEY"),
    T("aws-temporary-key-id", lambda r: "ASIA" + pick(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), "AWS_ACCESS_KEY_ID", type="AWS_ACCESS_KEY"),
    T("aws-secret-access-key", _fmt("", B64, 40), "AWS_SECRET_ACCESS_KEY", needs_context=True, type="AWS_SECRET_KEY"),
    T("google-api-key", _fmt("AIza", URLSAFE, 35), "GOOGLE_API_KEY"),
    T("google-oauth-client-secret", _fmt("GOCSPX-", URLSAFE, 28), "GOOGLE_CLIENT_SECRET"),
    T("google-oauth-access-token", _fmt("ya29.", URLSAFE, 150), "GOOGLE_ACCESS_TOKEN"),
    T("google-oauth-refresh-token", lambda r: f"1//0{pick(r, URLSAFE, 99)}", "GOOGLE_REFRESH_TOKEN", needs_context=True),
    T("firebase-fcm-server-key", lambda r: f"AAAA{pick(r, URLSAFE, 7)}:APA91b{pick(r, URLSAFE, 134)}", "FCM_SERVER_KEY"),
    T("twilio-api-key-sid", _fmt("SK", HEX, 32), "TWILIO_API_KEY"),
    T("twilio-auth-token", _fmt("", HEX, 32), "TWILIO_AUTH_TOKEN", needs_context=True),
    T("sendgrid", lambda r: f"SG.{pick(r, URLSAFE, 22)}.{pick(r, URLSAFE, 43)}", "SENDGRID_API_KEY"),
    T("npm-access-token", checksummed("npm_"), "NPM_TOKEN"),
    T("pypi-upload-token", lambda r: "pypi-AgEIcHlwaS5vcmc" + pick(r, URLSAFE, 150), "PYPI_API_TOKEN"),
    T("1password-service-account", onepassword_service_token, "OP_SERVICE_ACCOUNT_TOKEN"),
    T("1password-secret-key", lambda r: f"A3-{pick(r, UPPER_NUM, 6)}-{pick(r, UPPER_NUM, 6)}-{pick(r, UPPER_NUM, 5)}-{pick(r, UPPER_NUM, 5)}-{pick(r, UPPER_NUM, 5)}-{pick(r, UPPER_NUM, 5)}", "OP_SECRET_KEY"),
    T("age-identity", age_identity, "SOPS_AGE_KEY"),
    T("vault-service-token", lambda r: "hvs.CAESI" + pick(r, URLSAFE, 86), "VAULT_TOKEN"),
    T("vault-batch-token", lambda r: "hvb.AAAAAQ" + pick(r, URLSAFE, 128), "VAULT_TOKEN"),
    T("vault-recovery-token", _fmt("hvr.", ALNUM, 24), "VAULT_RECOVERY_TOKEN"),
    T("vault-legacy-token", _fmt("s.", ALNUM, 24), "VAULT_TOKEN", needs_context=True),
    T("doppler-personal", _fmt("dp.pt.", ALNUM, 43), "DOPPLER_TOKEN"),
    T("doppler-service", lambda r: f"dp.st.{r.choice(('dev', 'prd', 'stg', 'ci'))}.{pick(r, ALNUM, 43)}", "DOPPLER_TOKEN"),
    T("doppler-service-account", _fmt("dp.sa.", ALNUM, 43), "DOPPLER_TOKEN"),
    T("doppler-cli", _fmt("dp.ct.", ALNUM, 43), "DOPPLER_CLI_TOKEN"),
    T("doppler-scim", _fmt("dp.scim.", ALNUM, 43), "DOPPLER_SCIM_TOKEN"),
    T("shopify-access-token", _fmt("shpat_", HEX, 32), "SHOPIFY_ACCESS_TOKEN"),
    T("shopify-custom-app", _fmt("shpca_", HEX, 32), "SHOPIFY_TOKEN"),
    T("shopify-private-app", _fmt("shppa_", HEX, 32), "SHOPIFY_PASSWORD"),
    T("shopify-shared-secret", _fmt("shpss_", HEX, 32), "SHOPIFY_API_SECRET"),
    T("huggingface", _fmt("hf_", string.ascii_letters, 34), "HF_TOKEN"),
    T("databricks", _fmt("dapi", HEX, 32), "DATABRICKS_TOKEN"),
    T("digitalocean-pat", _fmt("dop_v1_", HEX, 64), "DIGITALOCEAN_TOKEN"),
    T("digitalocean-oauth", _fmt("doo_v1_", HEX, 64), "DO_OAUTH_TOKEN"),
    T("linear", _fmt("lin_api_", ALNUM, 40), "LINEAR_API_KEY"),
    T("postman", lambda r: f"PMAK-{pick(r, HEX, 24)}-{pick(r, HEX, 34)}", "POSTMAN_API_KEY"),
    T("pulumi", _fmt("pul-", HEX, 40), "PULUMI_ACCESS_TOKEN"),
    T("grafana-service-account", lambda r: f"glsa_{pick(r, ALNUM, 32)}_{pick(r, HEX, 8)}", "GRAFANA_TOKEN"),
    T("atlassian-api-token", lambda r: f"ATATT3xFfGF0{pick(r, URLSAFE, 170)}={pick(r, HEX.upper(), 8)}", "JIRA_API_TOKEN"),
    T("mailgun", _fmt("key-", HEX, 32), "MAILGUN_API_KEY"),
    T("mailchimp", lambda r: f"{pick(r, HEX, 32)}-us{r.randint(1, 21)}", "MAILCHIMP_API_KEY"),
    T("square-access-token", _fmt("EAAA", URLSAFE, 60), "SQUARE_ACCESS_TOKEN"),
    T("square-oauth-secret", _fmt("sq0csp-", URLSAFE, 43), "SQUARE_APP_SECRET"),
    T("telegram-bot", lambda r: f"{r.randint(10**8, 10**10 - 1)}:AA{pick(r, URLSAFE, 33)}", "TELEGRAM_BOT_TOKEN"),
    T("discord-bot", discord_bot_token, "DISCORD_TOKEN"),
    T("discord-webhook", lambda r: f"https://discord.com/api/webhooks/{r.randint(10**17, 10**19 - 1)}/{pick(r, URLSAFE, 68)}", "DISCORD_WEBHOOK_URL"),
    T("dropbox", _fmt("sl.B", URLSAFE, 134), "DROPBOX_ACCESS_TOKEN"),
    T("terraform-cloud", lambda r: f"{pick(r, ALNUM, 14)}.atlasv1.{pick(r, ALNUM, 67)}", "TFE_TOKEN"),
    T("netlify", _fmt("nfp_", ALNUM, 36), "NETLIFY_AUTH_TOKEN"),
    T("supabase", _fmt("sbp_", HEX, 40), "SUPABASE_ACCESS_TOKEN"),
    T("planetscale", _fmt("pscale_tkn_", URLSAFE, 43), "PLANETSCALE_SERVICE_TOKEN"),
    T("sentry-user-token", _fmt("sntryu_", HEX, 64), "SENTRY_AUTH_TOKEN"),
    T("airtable-pat", lambda r: f"pat{pick(r, ALNUM, 14)}.{pick(r, HEX, 64)}", "AIRTABLE_API_KEY"),
    T("notion", _fmt("ntn_", ALNUM, 46), "NOTION_TOKEN"),
    T("groq", _fmt("gsk_", ALNUM, 52), "GROQ_API_KEY"),
    T("replicate", _fmt("r8_", ALNUM, 37), "REPLICATE_API_TOKEN"),
    T("perplexity", _fmt("pplx-", ALNUM, 48), "PERPLEXITY_API_KEY"),
    T("xai", _fmt("xai-", ALNUM, 80), "XAI_API_KEY"),
    T("openrouter", _fmt("sk-or-v1-", HEX, 64), "OPENROUTER_API_KEY"),
    T("langsmith", lambda r: f"lsv2_pt_{pick(r, HEX, 32)}_{pick(r, HEX, 10)}", "LANGSMITH_API_KEY"),
    T("pinecone", lambda r: f"pcsk_{pick(r, ALNUM, 5)}_{pick(r, ALNUM, 58)}", "PINECONE_API_KEY"),
    T("docker-hub-pat", _fmt("dckr_pat_", URLSAFE, 27), "DOCKERHUB_TOKEN"),
    T("rubygems", _fmt("rubygems_", HEX, 48), "GEM_HOST_API_KEY"),
    T("new-relic-user-key", _fmt("NRAK-", UPPER_NUM, 27), "NEW_RELIC_API_KEY"),
    T("buildkite", _fmt("bkua_", HEX, 40), "BUILDKITE_API_TOKEN"),
    T("circleci-pat", lambda r: f"CCIPAT_{pick(r, ALNUM, 22)}_{pick(r, HEX, 40)}", "CIRCLECI_TOKEN"),
    T("sourcegraph", lambda r: f"sgp_{pick(r, HEX, 16)}_{pick(r, HEX, 40)}", "SRC_ACCESS_TOKEN"),
    T("figma", _fmt("figd_", URLSAFE, 40), "FIGMA_TOKEN"),
    T("contentful", _fmt("CFPAT-", URLSAFE, 43), "CONTENTFUL_MANAGEMENT_TOKEN"),
    T("resend", lambda r: f"re_{pick(r, ALNUM, 8)}_{pick(r, ALNUM, 24)}", "RESEND_API_KEY"),
    T("brevo", lambda r: f"xkeysib-{pick(r, HEX, 64)}-{pick(r, ALNUM, 16)}", "BREVO_API_KEY"),
    T("tailscale-auth-key", lambda r: f"tskey-auth-{pick(r, ALNUM, 12)}CNTRL-{pick(r, ALNUM, 33)}", "TS_AUTHKEY"),
    T("alibaba-access-key-id", _fmt("LTAI", ALNUM, 20), "ALIBABA_CLOUD_ACCESS_KEY_ID"),
    T("heroku", _fmt("HRKU-AA", URLSAFE, 58), "HEROKU_API_KEY"),
    T("mapbox-secret", mapbox_secret, "MAPBOX_SECRET_TOKEN"),
    T("shippo", _fmt("shippo_live_", HEX, 40), "SHIPPO_API_TOKEN"),
    T("flutterwave", lambda r: f"FLWSECK-{pick(r, HEX, 32)}-X", "FLW_SECRET_KEY"),
    T("easypost", _fmt("EZAK", ALNUM, 54), "EASYPOST_API_KEY"),
    T("duffel", _fmt("duffel_live_", URLSAFE, 43), "DUFFEL_ACCESS_TOKEN"),
    T("dynatrace", lambda r: f"dt0c01.{pick(r, UPPER_NUM, 24)}.{pick(r, UPPER_NUM, 64)}", "DT_API_TOKEN"),
    T("prefect", _fmt("pnu_", ALNUM, 36), "PREFECT_API_KEY"),
    T("readme", _fmt("rdme_", ALNUM, 70), "README_API_KEY"),
    T("openshift", _fmt("sha256~", URLSAFE, 43), "OPENSHIFT_TOKEN"),
    T("octopus-deploy", _fmt("API-", UPPER_NUM, 26), "OCTOPUS_API_KEY"),
    T("scalingo", _fmt("tk-us-", URLSAFE, 48), "SCALINGO_API_TOKEN"),
    T("clojars", _fmt("CLOJARS_", HEX, 60), "CLOJARS_TOKEN"),
    T("bitbucket-app-password", _fmt("ATBB", ALNUM, 32), "BITBUCKET_APP_PASSWORD"),
    T("azure-ad-client-secret", lambda r: f"{pick(r, ALNUM, 3)}8Q~{pick(r, ALNUM + '_.~-', 31)}", "AZURE_CLIENT_SECRET"),
    T("jfrog-api-key", _fmt("AKCp", ALNUM, 69), "ARTIFACTORY_API_KEY"),
    T("cerebras", _fmt("csk-", ALNUM, 48), "CEREBRAS_API_KEY"),
    T("elevenlabs", _fmt("sk_", HEX, 48), "ELEVENLABS_API_KEY"),
    T("langfuse-secret", lambda r: f"sk-lf-{pick(r, HEX, 8)}-{pick(r, HEX, 4)}-{pick(r, HEX, 4)}-{pick(r, HEX, 4)}-{pick(r, HEX, 12)}", "LANGFUSE_SECRET_KEY"),
    T("mistral", _fmt("", ALNUM, 32), "MISTRAL_API_KEY", needs_context=True),
    T("cohere", _fmt("", ALNUM, 40), "COHERE_API_KEY", needs_context=True),
    T("datadog-api-key", _fmt("", HEX, 32), "DD_API_KEY", needs_context=True),
    T("wandb", _fmt("", HEX, 40), "WANDB_API_KEY", needs_context=True),
    T("azure-devops-pat", _fmt("", "abcdefghijklmnopqrstuvwxyz234567", 52), "AZURE_DEVOPS_EXT_PAT", needs_context=True),
)
"""Provider token formats, one entry per documented kind of credential."""


# -- JWTs: varied headers (RFC 7515/7519, JWS algs of RFC 7518 and 8037, OIDC id tokens) --------
JWT_HEADERS = (
    {"alg": "HS256", "typ": "JWT"},
    {"typ": "JWT", "alg": "RS256", "kid": "KID"},
    {"alg": "ES256", "kid": "KID"},
    {"alg": "EdDSA", "crv": "Ed25519", "typ": "JWT"},
    {"kid": "KID", "alg": "PS512", "x5t": "X5T"},
    {"alg": "RS384", "typ": "at+jwt", "kid": "KID"},
    {"alg": "HS512"},
    {"alg": "none", "typ": "JWT"},
    {"cty": "JWT", "alg": "ES384", "typ": "JOSE"},
)
SIGNATURE_BYTES = {"HS256": 32, "HS512": 64, "RS256": 256, "RS384": 256, "PS512": 512, "ES256": 64, "ES384": 96, "EdDSA": 64, "none": 0}


def jwt(rng: random.Random) -> tuple[str, str]:
    header = dict(rng.choice(JWT_HEADERS))
    for k, v in header.items():
        if v == "KID":
            header[k] = pick(rng, URLSAFE, rng.choice((16, 22, 40)))
        elif v == "X5T":
            header[k] = b64url(rng.randbytes(20))
    now = rng.randint(1_600_000_000, 1_800_000_000)
    claims: dict[str, object] = {"sub": str(rng.randint(10**5, 10**9)), "iat": now, "exp": now + 3600}
    if rng.random() < 0.5:
        claims |= {"iss": rng.choice(("https://accounts.google.com", "https://login.microsoftonline.com/common/v2.0", "https://auth.example.io/")),
                   "aud": pick(rng, ALNUM, 12), "scope": "openid profile email"}
    if rng.random() < 0.3:
        claims["email_verified"] = True
    if rng.random() < 0.3:
        claims["https://hasura.io/jwt/claims"] = {"x-hasura-default-role": "user", "x-hasura-user-id": str(rng.randint(1, 10**6))}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    r = rng.random()
    if r < 0.08:  # JWE compact, as NextAuth/Auth.js session cookies are: dir + A256GCM, empty key part
        head = b64url(json.dumps({"alg": "dir", "enc": "A256GCM"}, separators=(",", ":")).encode())
        return f"{head}..{b64url(rng.randbytes(12))}.{b64url(rng.randbytes(rng.randint(200, 600)))}.{b64url(rng.randbytes(16))}", "jwe-dir"
    sig = b64url(rng.randbytes(SIGNATURE_BYTES[str(header["alg"])]))
    if r < 0.16:  # a header serialised with indentation (some JOSE libraries), so not "eyJ"
        return f"{b64url(json.dumps(header, indent=2).encode())}.{payload}.{sig}", "header-indented"
    order = json.dumps(header, separators=(",", ":")) if r < 0.75 else json.dumps(header)
    return f"{b64url(order.encode())}.{payload}.{sig}", f"alg-{header['alg']}"


# -- PEM private keys (RFC 7468 labels; OpenSSH's own armour) -------------------------------------
PEM_LABELS = ("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
              "DSA PRIVATE KEY", "PGP PRIVATE KEY BLOCK")


def pem_private_key(rng: random.Random, newline: str = "\n") -> tuple[str, str]:
    label = rng.choice(PEM_LABELS)
    size = {"EC PRIVATE KEY": 121, "OPENSSH PRIVATE KEY": 399, "DSA PRIVATE KEY": 448}.get(label, rng.choice((1190, 1217, 633)))
    body = base64.b64encode(rng.randbytes(size)).decode()
    lines = [body[i:i + (70 if label == "OPENSSH PRIVATE KEY" else 64)] for i in range(0, len(body), 64)]
    if label == "PGP PRIVATE KEY BLOCK":
        lines = ["", *lines, "=" + pick(rng, B64, 4)]
    return f"-----BEGIN {label}-----{newline}{newline.join(lines)}{newline}-----END {label}-----", label.lower().replace(" ", "-")


# -- generic credentials: what people put after DB_PASSWORD= ----------------------------------------
SECRET_KEYS_ENV = ("DB_PASSWORD", "POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "REDIS_PASSWORD", "SECRET_KEY",
                   "DJANGO_SECRET_KEY", "JWT_SECRET", "SESSION_SECRET", "CLIENT_SECRET", "ENCRYPTION_KEY",
                   "SMTP_PASSWORD", "API_KEY", "AUTH_TOKEN", "ACCESS_TOKEN", "WEBHOOK_SECRET", "SIGNING_KEY",
                   "RABBITMQ_DEFAULT_PASS", "APP_KEY", "NEXTAUTH_SECRET", "MONGO_INITDB_ROOT_PASSWORD")
SECRET_KEYS_CFG = ("password", "passwd", "api_key", "apiKey", "secret", "client_secret", "auth_token", "token",
                   "private_token", "access_key", "secret_key", "webhook_secret", "db_password", "clientSecret")


def generic_secret(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(("random-symbols", "hex32", "hex64", "base64", "django", "urlsafe", "human", "passphrase"))
    if kind == "random-symbols":
        return pick(rng, ALNUM + "!#$%^*_-", rng.randint(16, 32)), kind
    if kind == "hex32":
        return pick(rng, HEX, 32), kind
    if kind == "hex64":
        return pick(rng, HEX, 64), kind
    if kind == "base64":
        return base64.b64encode(rng.randbytes(rng.choice((24, 32, 48)))).decode(), kind
    if kind == "django":
        return "django-insecure-" + pick(rng, string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)", 50), kind
    if kind == "urlsafe":
        return b64url(rng.randbytes(32)), kind
    if kind == "human":
        return rng.choice(("Summer", "Winter", "Dragon", "Monkey", "Sunshine", "Password", "Welcome")) + str(rng.randint(1970, 2026)) + rng.choice("!@#$?*"), kind
    words = ("correct", "horse", "battery", "staple", "orbit", "violet", "canyon", "pepper", "lantern", "glacier")
    return "-".join(rng.sample(words, 4)) + str(rng.randint(1, 99)), kind


def opaque_bearer(rng: random.Random) -> tuple[str, str]:
    """An access token with no vendor shape (an OAuth server's random string)."""
    return rng.choice((pick(rng, URLSAFE, 43), pick(rng, ALNUM, 40), pick(rng, HEX, 64), b64url(rng.randbytes(48)))), "opaque"
