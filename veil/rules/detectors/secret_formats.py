"""The catalog of vendor token formats behind the API_KEY detector.

One :class:`SecretFormat` per format: the literal prefix the validator
dispatches on, the RE2 fragment the engine scans for (greedy over the
format's own characters, so a token glued to a longer run of them is one
candidate and fails its length check, while '_' or any other character ends
it), the exact shape the whole token must have, a checksum where the
format carries one, and where the format is published. Formats with no literal
prefix (Telegram, Discord, Mailchimp, Terraform Cloud, Azure AD) have an empty
``prefix`` and rely on their shape alone.

Only formats a provider publishes (documentation, SDK source, announcement or
its secret-scanning partner listing) belong here; an unprefixed 32-character
key is no format. To add one: append a row, add its example and near-miss to
tests/rules/detectors/test_secret_formats.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from veil.rules.detectors.secret_checksums import BASE62, BASE62_LOWER_FIRST, bech32_valid, crc32_base62_tail


@dataclass(frozen=True, slots=True)
class SecretFormat:
    """One provider's token format.

    ``scan`` is an RE2 fragment starting with ``prefix`` (escaped); ``shape`` a
    Python regex the whole candidate must match in full; ``checksum``, when
    set, must accept the candidate too. ``source`` says where the format is
    published.
    """

    name: str
    prefix: str
    scan: str
    shape: str
    source: str
    checksum: Callable[[str], bool] | None = None
    mixed_classes: bool = False
    """The body must mix upper case, lower case and digits (prefixes that prose also starts with)."""
    trigger: str = ""
    """For a format without a literal prefix: an RE2 part of every match that starts no run of its own
    (``-us[0-9]`` of a Mailchimp key), for :func:`scan_trigger`."""


def _token(
    name: str,
    prefix: str,
    alphabet: str,
    low: int,
    high: int | None = None,
    *,
    source: str,
    checksum: Callable[[str], bool] | None = None,
    mixed_classes: bool = False,
) -> SecretFormat:
    """``prefix`` + ``low``..``high`` characters of ``alphabet`` (a regex class body)."""
    upper = high if high is not None else low
    return SecretFormat(
        name=name,
        prefix=prefix,
        # Greedy over the format's own alphabet: a longer run of it is one candidate and fails the
        # length check, and a character outside it ends the token (``ghp_..._k1``, ``rubygems_<hex>x``).
        scan=f"{re.escape(prefix)}[{alphabet}]{{{low},}}",
        shape=f"{re.escape(prefix)}[{alphabet}]{{{low},{upper}}}",
        source=source,
        checksum=checksum,
        mixed_classes=mixed_classes,
    )


def _shaped(
    name: str, prefix: str, scan: str, shape: str, *, source: str, checksum: Callable[[str], bool] | None = None,
    trigger: str = "",
) -> SecretFormat:
    """A format whose structure (dots, dashes, fixed parts) needs its own patterns.

    A scan ending in a counted run of letters and digits (``[A-Za-z0-9]{24,34}``) takes the whole
    run of that class (``{24,}``): a longer run is one candidate and fails the shape, and a
    character outside the class ends the token, '_' too (``xoxb-..._k1``). Other scans get a
    trailing ``\\b`` (unless they end in ``=`` or a group), or take one '_' or '-' glued after
    them: a last part must not stop inside a longer word, and :func:`api_key.is_api_key` finds a
    key before a separator (``FLWSECK-...-X_tok_A_k1_b``).
    """
    counted = _LAST_RUN.search(scan)
    if counted is not None:
        scan = scan[: counted.start("count")] + "{" + counted.group("low") + ",}"
    elif not scan.endswith(("=", ")")):
        scan += r"(?:\b|[_\-])"
    return SecretFormat(name=name, prefix=prefix, scan=scan, shape=shape, source=source, checksum=checksum, trigger=trigger)


# A last run of letters and digits, '_' and '-' (then what is glued after a key, ``_tok_A_k1_b``,
# is part of the run, and :func:`api_key.is_api_key` finds the key before a separator; a fixed
# count with a '\b' after it found nothing there). Where its class holds '.' or '~', the word
# boundary lets it end before a sentence's '.' (``...Q~abc.``), as a greedy run would not.
_LAST_RUN = re.compile(r"\[(?:A-Z|a-z|a-f|A-F|0-9|_|\\-)+\](?P<count>\{(?P<low>[0-9]+)(?:,[0-9]*)?\})\Z")


_GITHUB = "https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/"
_GITHUB_CRC = partial(crc32_base62_tail, prefix_length=4)
_NPM_CRC = partial(crc32_base62_tail, prefix_length=4, alphabets=(BASE62, BASE62_LOWER_FIRST))
_GITLAB = "https://docs.gitlab.com/ee/security/tokens/#token-prefixes"
_SLACK = "https://api.slack.com/authentication/token-types"
_STRIPE = "https://docs.stripe.com/keys"
_DOPPLER = "https://docs.doppler.com/docs/auth-token-formats"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_B64URL = "A-Za-z0-9_\\-"
_B64 = "A-Za-z0-9+/"

FORMATS: tuple[SecretFormat, ...] = (
    # --- source hosting and package registries
    _token("GitHub personal access token (classic)", "ghp_", "A-Za-z0-9", 36, source=_GITHUB, checksum=_GITHUB_CRC),
    _token("GitHub OAuth access token", "gho_", "A-Za-z0-9", 36, source=_GITHUB, checksum=_GITHUB_CRC),
    _token("GitHub App user-to-server token", "ghu_", "A-Za-z0-9", 36, source=_GITHUB, checksum=_GITHUB_CRC),
    _token("GitHub App installation token", "ghs_", "A-Za-z0-9", 36, source=_GITHUB, checksum=_GITHUB_CRC),
    _token("GitHub refresh token", "ghr_", "A-Za-z0-9", 36, 255, source=_GITHUB),
    _shaped(
        "GitHub fine-grained personal access token", "github_pat_",
        r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9_\-]{59,}", r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
        source="https://github.blog/2022-10-18-introducing-fine-grained-personal-access-tokens-for-github/",
    ),
    _shaped(
        "GitLab personal/project/group access token", "glpat-",
        r"glpat-[A-Za-z0-9_\-]{20,}(?:\.[0-9a-z]{2}\.[0-9a-z]{7,12})?",
        r"glpat-[A-Za-z0-9_\-]{20,64}(?:\.[0-9a-z]{2}\.[0-9a-z]{7,12})?", source=_GITLAB,
    ),
    _token("GitLab deploy token", "gldt-", _B64URL, 20, 64, source=_GITLAB),
    _token("GitLab runner authentication token", "glrt-", _B64URL, 20, 64, source=_GITLAB),
    _token("GitLab CI/CD job token", "glcbt-", _B64URL, 20, 80, source=_GITLAB),
    _token("GitLab pipeline trigger token", "glptt-", _B64URL, 20, 64, source=_GITLAB),
    _token("GitLab feed token", "glft-", _B64URL, 20, 64, source=_GITLAB),
    _token("GitLab incoming mail token", "glimt-", _B64URL, 20, 64, source=_GITLAB),
    _token("GitLab agent for Kubernetes token", "glagent-", _B64URL, 50, 100, source=_GITLAB),
    _token("GitLab OAuth application secret", "gloas-", _B64URL, 64, 80, source=_GITLAB),
    _token("GitLab SCIM token", "glsoat-", _B64URL, 20, 64, source=_GITLAB),
    _token("GitLab feature flags client token", "glffct-", _B64URL, 20, 64, source=_GITLAB),
    _token("GitLab runner registration token", "GR1348941", _B64URL, 20, 64, source=_GITLAB),
    _token("Bitbucket app password", "ATBB", "A-Za-z0-9", 32, 64,
           source="https://support.atlassian.com/bitbucket-cloud/docs/app-passwords/"),
    _token("npm access token", "npm_", "A-Za-z0-9", 36, source="https://github.blog/2021-09-23-announcing-npms-new-access-token-format/", checksum=_NPM_CRC),
    _token("PyPI API token", "pypi-AgEIcHlwaS5vcmc", _B64URL, 50, 400,
           source="https://pypi.org/help/#apitoken (macaroon whose base64 starts with the pypi.org location)"),
    _token("RubyGems API key", "rubygems_", "a-f0-9", 48, source="https://guides.rubygems.org/api-key-scopes/"),
    _token("NuGet API key", "oy2", "a-z0-9", 43, source="https://learn.microsoft.com/nuget/nuget-org/scoped-api-keys"),
    _token("Clojars deploy token", "CLOJARS_", "a-z0-9", 60, source="https://github.com/clojars/clojars-web/wiki/Deploy-Tokens"),
    _token("crates.io API token", "cio", "A-Za-z0-9", 32, source="https://crates.io/settings/tokens (token format in rust-lang/crates.io src/util/token.rs)"),
    _token("Docker Hub personal access token", "dckr_pat_", _B64URL, 27, 64,
           source="https://docs.docker.com/security/for-developers/access-tokens/"),
    _token("Docker Hub organization access token", "dckr_oat_", _B64URL, 27, 64,
           source="https://docs.docker.com/security/for-admins/access-tokens/"),
    _token("JFrog API key", "AKCp", "A-Za-z0-9", 69, source="https://jfrog.com/help/r/jfrog-platform-administration-documentation/api-key"),
    _token("JFrog reference token", "cmVmdGtu", "A-Za-z0-9", 56,
           source="https://jfrog.com/help/r/jfrog-platform-administration-documentation/access-tokens (base64 of 'reftkn')"),
    # --- chat and collaboration
    _shaped("Slack bot token", "xoxb-", r"xoxb-[0-9]{8,13}-[0-9]{8,14}-[A-Za-z0-9]{24,34}",
            r"xoxb-[0-9]{8,13}-[0-9]{8,14}-[A-Za-z0-9]{24,34}", source=_SLACK),
    _shaped("Slack user token", "xoxp-", r"xoxp-[0-9]{8,13}-[0-9]{8,13}-[0-9]{8,13}-[a-f0-9]{32}",
            r"xoxp-[0-9]{8,13}-[0-9]{8,13}-[0-9]{8,13}-[a-f0-9]{32}", source=_SLACK),
    _shaped("Slack workspace/legacy token", "xox", r"xox[aors]-[0-9]+-[A-Za-z0-9\-]{10,}",
            r"xox[aors]-[0-9]{1,13}-[A-Za-z0-9\-]{10,250}", source=_SLACK),
    _shaped("Slack refresh/configuration token", "xoxe", r"xoxe(?:\.xox[bp])?-[0-9]-[A-Za-z0-9]{40,}",
            r"xoxe(?:\.xox[bp])?-[0-9]-[A-Za-z0-9]{40,250}", source="https://api.slack.com/authentication/rotation"),
    _shaped("Slack app-level token", "xapp-", r"xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-f0-9]{32,64}",
            r"xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-f0-9]{32,64}", source=_SLACK),
    _shaped("Slack incoming webhook URL", "hooks.slack.com/",
            r"hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]{8,12}/[AB][A-Z0-9]{8,12}/[A-Za-z0-9]{24,}",
            r"hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]{8,12}/[AB][A-Z0-9]{8,12}/[A-Za-z0-9]{24,64}",
            source="https://api.slack.com/messaging/webhooks"),
    _shaped("Discord webhook URL", "discord",
            r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,}",
            r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,80}",
            source="https://discord.com/developers/docs/resources/webhook"),
    _shaped("Discord bot token", "", r"[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}",
            r"[MNO][A-Za-z0-9]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}",
            source="https://discord.com/developers/docs/reference#authentication (base64 user id . timestamp . HMAC)",
            trigger=r"\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27}"),
    _shaped("Telegram bot token", "", r"[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}", r"[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}",
            source="https://core.telegram.org/bots/api#authorizing-your-bot", trigger="[0-9]:AA"),
    _token("Atlassian API token", "ATATT3", "A-Za-z0-9_\\-=", 150, 250,
           source="https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/"),
    _token("Linear API key", "lin_api_", "A-Za-z0-9", 40, source="https://linear.app/developers/graphql#personal-api-keys"),
    _token("Linear OAuth token", "lin_oauth_", "a-f0-9", 64, source="https://linear.app/developers/oauth-2-0-authentication"),
    _token("Notion internal integration secret (legacy)", "secret_", "A-Za-z0-9", 43, mixed_classes=True,
           source="https://developers.notion.com/docs/authorization#internal-integration-auth-flow-set-up"),
    _token("Notion integration token", "ntn_", "A-Za-z0-9", 46, source="https://developers.notion.com/docs/authorization"),
    _shaped("Airtable personal access token", "pat", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}",
            source="https://airtable.com/developers/web/guides/personal-access-tokens"),
    _shaped("Asana personal access token", "", r"[12]/[0-9]{10,20}(?:/[0-9]{10,20})?:[a-f0-9]{32}",
            r"[12]/[0-9]{10,20}(?:/[0-9]{10,20})?:[a-f0-9]{32}", source="https://developers.asana.com/docs/personal-access-token",
            trigger="[0-9]:[a-f0-9]{32}"),
    _token("Figma personal access token", "figd_", _B64URL, 40, 64, source="https://www.figma.com/developers/api#access-tokens"),
    _token("Contentful personal access token", "CFPAT-", _B64URL, 43, source="https://www.contentful.com/developers/docs/references/authentication/"),
    _token("Typeform personal token", "tfp_", "A-Za-z0-9_\\-=.", 40, 80, source="https://www.typeform.com/developers/get-started/personal-access-token/"),
    _shaped("ClickUp personal token", "pk_", r"pk_[0-9]{5,12}_[A-Z0-9]{32}", r"pk_[0-9]{5,12}_[A-Z0-9]{32}",
            source="https://clickup.com/api/developer-portal/authentication/#personal-token"),
    _shaped("HubSpot private app token", "pat-", rf"pat-(?:na|eu|ap)[0-9]-{_UUID}", rf"pat-(?:na|eu|ap)[0-9]-{_UUID}",
            source="https://developers.hubspot.com/docs/api/private-apps"),
    _token("Frame.io developer token", "fio-u-", "A-Za-z0-9_\\-=", 64, source="https://developer.frame.io/docs/getting-started/authentication"),
    _shaped("Dropbox short-lived access token", "sl.", r"sl\.(?:u\.)?[A-Za-z0-9_\-]{130,}", r"sl\.(?:u\.)?[A-Za-z0-9_\-]{130,1400}",
            source="https://developers.dropbox.com/oauth-guide"),
    # --- payments and commerce
    _token("Stripe secret key (live)", "sk_live_", "A-Za-z0-9", 24, 247, source=_STRIPE),
    _token("Stripe secret key (test)", "sk_test_", "A-Za-z0-9", 24, 247, source=_STRIPE),
    _token("Stripe restricted key (live)", "rk_live_", "A-Za-z0-9", 24, 247, source=_STRIPE),
    _token("Stripe restricted key (test)", "rk_test_", "A-Za-z0-9", 24, 247, source=_STRIPE),
    _token("Stripe publishable key (live)", "pk_live_", "A-Za-z0-9", 24, 247, source=_STRIPE),
    _token("Stripe webhook signing secret", "whsec_", _B64, 32, 64, source="https://docs.stripe.com/webhooks#verify-official-libraries"),
    _token("Square access token", "EAAA", _B64URL, 60, 64, source="https://developer.squareup.com/docs/build-basics/access-tokens"),
    _token("Square OAuth access token (legacy)", "sq0atp-", _B64URL, 22, source="https://developer.squareup.com/docs/oauth-api/overview"),
    _token("Square application secret", "sq0csp-", _B64URL, 43, source="https://developer.squareup.com/docs/oauth-api/overview"),
    _shaped("PayPal Braintree access token", "access_token$",
            r"access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}",
            r"access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}",
            source="https://developer.paypal.com/braintree/docs/guides/extend/oauth/access-tokens"),
    _token("Shopify admin API access token", "shpat_", "a-fA-F0-9", 32, source="https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens"),
    _token("Shopify custom app access token", "shpca_", "a-fA-F0-9", 32, source="https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens"),
    _token("Shopify private app password", "shppa_", "a-fA-F0-9", 32, source="https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens"),
    _token("Shopify shared secret", "shpss_", "a-fA-F0-9", 32, source="https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens"),
    _token("Shippo live API token", "shippo_live_", "a-f0-9", 40, source="https://docs.goshippo.com/docs/guides_general/authentication/"),
    _token("Shippo test API token", "shippo_test_", "a-f0-9", 40, source="https://docs.goshippo.com/docs/guides_general/authentication/"),
    _token("Duffel live access token", "duffel_live_", _B64URL, 43, source="https://duffel.com/docs/api/overview/making-requests/authentication"),
    _token("Duffel test access token", "duffel_test_", _B64URL, 43, source="https://duffel.com/docs/api/overview/making-requests/authentication"),
    _token("EasyPost production API key", "EZAK", "a-f0-9", 54, source="https://docs.easypost.com/docs/authentication"),
    _token("EasyPost test API key", "EZTK", "a-f0-9", 54, source="https://docs.easypost.com/docs/authentication"),
    _shaped("Flutterwave secret key", "FLWSECK", r"FLWSECK(?:_TEST)?-[a-f0-9]{32}-X", r"FLWSECK(?:_TEST)?-[a-f0-9]{32}-X",
            source="https://developer.flutterwave.com/docs/integration-guides/authentication"),
    _token("Razorpay live key id", "rzp_live_", "A-Za-z0-9", 14, source="https://razorpay.com/docs/api/authentication/"),
    # --- messaging and e-mail
    _shaped("Twilio API key SID", "SK", r"SK[0-9a-fA-F]{32}", r"SK[0-9a-f]{32}", source="https://www.twilio.com/docs/iam/api-keys"),
    _shaped("Twilio account SID", "AC", r"AC[0-9a-fA-F]{32}", r"AC[0-9a-f]{32}", source="https://www.twilio.com/docs/iam/api/account"),
    _shaped("SendGrid API key", "SG.", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",
            source="https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys"),
    _token("Mailgun API key (legacy)", "key-", "a-f0-9", 32, source="https://documentation.mailgun.com/docs/mailgun/api-reference/authentication/"),
    _shaped("Mailchimp API key", "", r"[0-9a-f]{32}-us[0-9]{1,2}", r"[0-9a-f]{32}-us[0-9]{1,2}",
            source="https://mailchimp.com/developer/marketing/guides/quick-start/#generate-your-api-key", trigger="-us[0-9]"),
    _shaped("Brevo (Sendinblue) API key", "xkeysib-", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}",
            source="https://developers.brevo.com/docs/getting-started"),
    # --- AI providers
    _token("OpenAI project key", "sk-proj-", _B64URL, 40, 200, source="https://platform.openai.com/docs/api-reference/authentication"),
    _token("OpenAI service account key", "sk-svcacct-", _B64URL, 40, 200, source="https://platform.openai.com/docs/api-reference/project-service-accounts"),
    _token("OpenAI admin key", "sk-admin-", _B64URL, 40, 200, source="https://platform.openai.com/docs/api-reference/administration"),
    _token("OpenAI/DeepSeek-style secret key (legacy)", "sk-", _B64URL, 20, 200,
           source="https://platform.openai.com/docs/api-reference/authentication", mixed_classes=True),
    _token("Anthropic API key", "sk-ant-api03-", _B64URL, 32, 120, source="https://docs.anthropic.com/en/api/getting-started#authentication"),
    _token("Anthropic admin key", "sk-ant-admin01-", _B64URL, 32, 120, source="https://docs.anthropic.com/en/api/administration-api"),
    _token("OpenRouter API key", "sk-or-v1-", "a-f0-9", 64, source="https://openrouter.ai/docs/api-reference/authentication"),
    _token("Hugging Face user access token", "hf_", "A-Za-z0-9", 34, 40, source="https://huggingface.co/docs/hub/security-tokens"),
    _token("Hugging Face organization token", "api_org_", "A-Za-z0-9", 34, 40, source="https://huggingface.co/docs/hub/security-tokens"),
    _token("Replicate API token", "r8_", "A-Za-z0-9", 37, source="https://replicate.com/docs/reference/http#authentication"),
    _token("Groq API key", "gsk_", "A-Za-z0-9", 52, source="https://console.groq.com/docs/quickstart"),
    _token("Perplexity API key", "pplx-", "A-Za-z0-9", 48, source="https://docs.perplexity.ai/guides/getting-started"),
    _token("xAI API key", "xai-", "A-Za-z0-9", 80, source="https://docs.x.ai/docs/overview#authentication"),
    _token("Pinecone API key", "pcsk_", _B64URL, 60, 100, source="https://docs.pinecone.io/guides/projects/manage-api-keys"),
    _shaped("LangSmith API key", "lsv2_", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}",
            source="https://docs.smith.langchain.com/administration/how_to_guides/organization_management/create_account_api_key"),
    # --- cloud platforms
    _token("Google API key", "AIza", _B64URL, 35, source="https://cloud.google.com/docs/authentication/api-keys"),
    _token("Google OAuth client secret", "GOCSPX-", _B64URL, 28, source="https://developers.google.com/identity/protocols/oauth2"),
    _token("Google OAuth access token", "ya29.", _B64URL, 30, 2048, source="https://developers.google.com/identity/protocols/oauth2"),
    _shaped("Azure storage account key", "AccountKey=", r"AccountKey=[A-Za-z0-9+/]{86}==", r"AccountKey=[A-Za-z0-9+/]{86}==",
            source="https://learn.microsoft.com/azure/storage/common/storage-configure-connection-string"),
    _shaped("Azure SAS signature", "sig=", r"sig=[A-Za-z0-9%+/]{40,}(?:%3[Dd]|=)", r"sig=(?:[A-Za-z0-9+/]|%2[BbFf]){40,90}(?:%3[Dd]|=)",
            source="https://learn.microsoft.com/rest/api/storageservices/create-service-sas#specify-the-signature"),
    _shaped("Azure AD (Entra ID) client secret", "", r"[A-Za-z0-9_~.\-]{3}[78]Q~[A-Za-z0-9_~.\-]{31,34}",
            r"[A-Za-z0-9_~.\-]{3}[78]Q~[A-Za-z0-9_~.\-]{31,34}",
            source="https://learn.microsoft.com/purview/sit-defn-azure-ad-client-secret", trigger="[78]Q~"),
    _token("DigitalOcean personal access token", "dop_v1_", "a-f0-9", 64, source="https://docs.digitalocean.com/reference/api/create-personal-access-token/"),
    _token("DigitalOcean OAuth token", "doo_v1_", "a-f0-9", 64, source="https://docs.digitalocean.com/reference/api/oauth/"),
    _token("DigitalOcean refresh token", "dor_v1_", "a-f0-9", 64, source="https://docs.digitalocean.com/reference/api/oauth/"),
    _token("Alibaba Cloud AccessKey ID", "LTAI", "A-Za-z0-9", 12, 20, source="https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair"),
    _token("Tencent Cloud SecretId", "AKID", "A-Za-z0-9", 32, 34, source="https://www.tencentcloud.com/document/product/598/32675"),
    _token("Yandex Cloud OAuth token", "y0_", _B64URL, 55, 60, source="https://yandex.cloud/en/docs/iam/concepts/authorization/oauth-token"),
    _token("Yandex Cloud API key", "AQVN", _B64URL, 35, 38, source="https://yandex.cloud/en/docs/iam/concepts/authorization/api-key"),
    _token("Heroku API key", "HRKU-", _B64URL, 40, 80, source="https://devcenter.heroku.com/articles/authentication"),
    _token("Fly.io macaroon token", "fm2_", "A-Za-z0-9+/=_\\-", 100, 4096, source="https://fly.io/docs/security/tokens/"),
    _token("Fly.io macaroon token (v1)", "fm1r_", "A-Za-z0-9+/=_\\-", 100, 4096, source="https://fly.io/docs/security/tokens/"),
    _token("Netlify personal access token", "nfp_", "A-Za-z0-9", 36, 40, source="https://docs.netlify.com/api/get-started/#authentication"),
    _token("Supabase personal access token", "sbp_", "a-f0-9", 40, source="https://supabase.com/docs/reference/api/introduction"),
    _token("Supabase secret API key", "sb_secret_", _B64URL, 30, 64, source="https://supabase.com/docs/guides/api/api-keys"),
    _token("PlanetScale service token", "pscale_tkn_", _B64URL, 32, 64, source="https://planetscale.com/docs/concepts/service-tokens"),
    _token("PlanetScale database password", "pscale_pw_", _B64URL, 32, 64, source="https://planetscale.com/docs/concepts/connection-strings"),
    _token("PlanetScale OAuth token", "pscale_oauth_", _B64URL, 32, 64, source="https://planetscale.com/docs/concepts/oauth"),
    _token("Databricks personal access token", "dapi", "a-f0-9", 32, source="https://docs.databricks.com/en/dev-tools/auth/pat.html"),
    _shaped("Tailscale key", "tskey-", r"tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{10,}-[A-Za-z0-9]{20,}",
            r"tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{10,20}-[A-Za-z0-9]{20,64}",
            source="https://tailscale.com/kb/1085/auth-keys"),
    _token("Render API key", "rnd_", "A-Za-z0-9", 28, 32, source="https://render.com/docs/api#1-create-an-api-key"),
    # --- secrets managers and infrastructure as code
    _token("1Password service account token", "ops_eyJ", "A-Za-z0-9+/=_\\-", 100, 4096,
           source="https://developer.1password.com/docs/service-accounts/security/"),
    _shaped("age secret key", "AGE-SECRET-KEY-1", r"AGE-SECRET-KEY-1[0-9A-Z]{58}", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
            source="https://age-encryption.org/v1 (bech32, HRP AGE-SECRET-KEY-)", checksum=bech32_valid),
    _shaped("Doppler service token", "dp.st.", r"dp\.st\.(?:[a-z0-9\-_]{2,35}\.)?[a-zA-Z0-9]{40,}",
            r"dp\.st\.(?:[a-z0-9\-_]{2,35}\.)?[a-zA-Z0-9]{40,44}", source=_DOPPLER),
    _token("Doppler personal token", "dp.pt.", "a-zA-Z0-9", 40, 44, source=_DOPPLER),
    _token("Doppler CLI token", "dp.ct.", "a-zA-Z0-9", 40, 44, source=_DOPPLER),
    _token("Doppler service account token", "dp.sa.", "a-zA-Z0-9", 40, 44, source=_DOPPLER),
    _token("Doppler SCIM token", "dp.scim.", "a-zA-Z0-9", 40, 44, source=_DOPPLER),
    _token("Doppler audit token", "dp.audit.", "a-zA-Z0-9", 40, 44, source=_DOPPLER),
    _token("HashiCorp Vault service token", "hvs.", _B64URL, 24, 400, source="https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes"),
    _token("HashiCorp Vault batch token", "hvb.", _B64URL, 24, 600, source="https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes"),
    _token("HashiCorp Vault recovery token", "hvr.", _B64URL, 24, 400, source="https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes"),
    _shaped("Terraform Cloud / Enterprise API token", "", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,}",
            r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,90}",
            source="https://developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens",
            trigger=r"\.atlasv1\."),
    _token("Pulumi access token", "pul-", "a-f0-9", 40, source="https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/"),
    _token("Infracost API key", "ico-", "A-Za-z0-9", 32, source="https://www.infracost.io/docs/features/environment_variables/"),
    # --- observability and CI
    _token("Grafana Cloud access policy token", "glc_", "A-Za-z0-9+/=_\\-", 32, 400, source="https://grafana.com/docs/grafana-cloud/account-management/authentication-and-permissions/access-policies/"),
    _shaped("Grafana service account token", "glsa_", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
            source="https://grafana.com/docs/grafana/latest/administration/service-accounts/"),
    _token("New Relic user API key", "NRAK-", "A-Z0-9", 27, source="https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/"),
    _token("New Relic insights insert key", "NRII-", _B64URL, 32, source="https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/"),
    _token("Sentry organization auth token", "sntrys_eyJ", "A-Za-z0-9+/=_", 60, 400, source="https://docs.sentry.io/account/auth-tokens/"),
    _token("Sentry user auth token", "sntryu_", "a-f0-9", 64, source="https://docs.sentry.io/account/auth-tokens/"),
    _shaped("Dynatrace API token", "dt0c01.", r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}", r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}",
            source="https://docs.dynatrace.com/docs/dynatrace-api/basics/dynatrace-api-authentication#token-format"),
    _token("Buildkite agent/API token", "bkua_", "a-f0-9", 40, source="https://buildkite.com/docs/apis/managing-api-tokens"),
    _shaped("CircleCI personal API token", "CCIPAT_", r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}", r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}",
            source="https://circleci.com/docs/managing-api-tokens/"),
    _token("SonarQube user token", "squ_", "a-f0-9", 40, source="https://docs.sonarsource.com/sonarqube/latest/user-guide/user-account/generating-and-using-tokens/"),
    _token("SonarQube project analysis token", "sqp_", "a-f0-9", 40, source="https://docs.sonarsource.com/sonarqube/latest/user-guide/user-account/generating-and-using-tokens/"),
    _token("SonarQube global analysis token", "sqa_", "a-f0-9", 40, source="https://docs.sonarsource.com/sonarqube/latest/user-guide/user-account/generating-and-using-tokens/"),
    _token("Postman API key", "PMAK-", "a-f0-9\\-", 59, source="https://learning.postman.com/docs/developer/postman-api/authentication/"),
    _token("Prefect Cloud API key", "pnu_", "A-Za-z0-9", 36, source="https://docs.prefect.io/v3/manage/cloud/manage-users/api-keys"),
    _token("ReadMe API key", "rdme_", "a-z0-9", 70, source="https://docs.readme.com/main/reference/intro/authentication"),
    _token("Scalingo API token", "tk-us-", _B64URL, 48, source="https://doc.scalingo.com/platform/cli/features#api-token"),
    _token("Sourcegraph access token", "sgp_", "a-f0-9_", 40, 64, source="https://sourcegraph.com/docs/cli/how-tos/creating_an_access_token"),
    _shaped("Harness access token", "", r"(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20}",
            r"(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20}",
            source="https://developer.harness.io/docs/platform/automation/api/add-and-manage-api-keys/"),
    _token("Adafruit IO key", "aio_", "A-Za-z0-9", 28, source="https://io.adafruit.com/api/docs/#authentication"),
    _shaped("Mapbox secret/temporary token", "", r"[st]k\.eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}",
            r"[st]k\.eyJ[A-Za-z0-9_\-]{20,400}\.[A-Za-z0-9_\-]{20,64}", source="https://docs.mapbox.com/accounts/guides/tokens/"),
    _shaped("Mapbox public token", "pk.eyJ", r"pk\.eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}",
            r"pk\.eyJ[A-Za-z0-9_\-]{20,400}\.[A-Za-z0-9_\-]{20,64}", source="https://docs.mapbox.com/accounts/guides/tokens/"),
    _token("Meta (Facebook) access token", "EAA", "A-Za-z0-9", 90, 400, mixed_classes=True, source="https://developers.facebook.com/docs/facebook-login/guides/access-tokens"),
)  # fmt: skip
"""Every format the API_KEY detector knows, in no particular order (dispatch is by longest prefix)."""


# Prefixes that end English words or names (``monkey-``, ``client_secret_``): a word boundary before them.
_WORD_PREFIXES = frozenset({"key-", "secret_"})


def glued_start(fmt: SecretFormat) -> bool:
    """Whether ``fmt``'s prefix alone says where a token starts, so it may follow any character, a
    word too (``tok_A_k1_ghp_...``, ``xsk_live_...``): 4+ characters ending in '_', '-' or '.', as
    no word or number ends. Shorter or bare prefixes (``hf_``, ``AIza``, ``SK``) want a character
    that is no letter or digit before them, '_' included (``tok_A_k1_AIza...``, ``hash_..._hf_...``);
    ``key-`` and ``secret_`` end words (``monkey-``, ``client_secret_``): a word boundary."""
    prefix = fmt.prefix
    return len(prefix) >= 4 and prefix[-1] in "_-." and prefix not in _WORD_PREFIXES


_APART = r"(?:^|[^A-Za-z0-9])"


def _groups() -> tuple[list[SecretFormat], list[SecretFormat], list[SecretFormat]]:
    """The formats by what may precede them: (apart: no letter or digit; a word boundary; anything)."""
    apart = [f for f in FORMATS if not glued_start(f) and f.prefix not in _WORD_PREFIXES]
    worded = [f for f in FORMATS if f.prefix in _WORD_PREFIXES]
    glued = [f for f in FORMATS if glued_start(f)]
    return apart, worded, glued


def _alternation(parts: list[str]) -> str:
    return "(?:" + "|".join(dict.fromkeys(parts)) + ")"


def scan_lead() -> str:
    """What every match of :func:`scan_pattern` starts with: a format's literal prefix where it is
    long enough to be rare in text (4+ characters), else its whole fragment (see
    ``DetectorSpec.lead`` for why the engine wants one): ``SK`` alone starts every ``SKU-...``."""
    return _leads(inner=False)


def scan_trigger() -> str:
    """A part of every match of :func:`scan_pattern` (``DetectorSpec.trigger``), for the passes that only
    pick which strings to scan: :func:`scan_lead`, but a format with no literal prefix gives its
    ``trigger`` instead of its whole fragment. Those fragments start with a counted run (``[0-9a-f]{32}``
    of a Mailchimp key, ``[MNO]`` and 23 to 27 characters of a Discord token) that RE2 follows from every
    character of an id: in the JSON events pass they doubled the cost of text never seen before."""
    return _leads(inner=True)


def _leads(inner: bool) -> str:
    """The alternation of each format's lead by what may precede it; ``inner``: a format with a
    ``trigger`` gives it, after anything, instead."""
    apart, worded, glued = _groups()
    led = [_lead(f) for f in apart if not (inner and f.trigger)]
    triggers = [f.trigger for f in apart if inner and f.trigger]
    return (f"(?:{_APART}{_alternation(led)}|\\b{_alternation([_lead(f) for f in worded])}"
            f"|{_alternation([_lead(f) for f in glued])}" + (f"|{_alternation(triggers)}" if triggers else "") + ")")


def _lead(f: SecretFormat) -> str:
    return re.escape(f.prefix) if len(f.prefix) >= 4 else f.scan


def scan_pattern() -> str:
    """The RE2 alternation of every format's scan fragment, a value group per branch: after a
    character that is no letter or digit (or the text's start), after a word boundary
    (``key-``, ``secret_``), or glued to anything (:func:`glued_start`)."""
    apart, worded, glued = _groups()
    return (f"(?:{_APART}(?P<value>{_alternation([f.scan for f in apart])})"
            f"|\\b(?P<value_worded>{_alternation([f.scan for f in worded])})"
            f"|(?P<value_glued>{_alternation([f.scan for f in glued])}))")
