"""The built-in policy, used when no policy is given (``builtin:strict``). Secure by default.

It covers both directions: credentials in headers, cookies and query
parameters, every field whose name says it holds personal data, and every
built-in detector over every string value. Narrow it by writing your own
policy (``veil apply --policy``); see README "Narrowing the default", or pick
another built-in profile (``builtin:app``, ``builtin:egress``, ``builtin:logs``:
:mod:`veil.rules.profiles`).
"""

DEFAULT_POLICY_YAML = """\
version: 1
rules:
  - id: default-credentials
    headers:
      - {name: authorization, action: redact}
      - {name: proxy-authorization, action: redact}
      - {name: x-api-key, action: redact}
      - {name: api-key, action: redact}
      - {name: x-auth-token, action: redact}
      - {name: x-access-token, action: redact}
      - {name: x-csrf-token, action: redact}
      - {name: x-xsrf-token, action: redact}
      - {name: "x-*-token", action: redact}
      - {name: "x-*-key", action: redact}
      - {name: "x-*-secret", action: redact}
    cookies:
      - {name: "*", action: redact}
    query:
      - {name: access_token, action: redact}
      - {name: refresh_token, action: redact}
      - {name: id_token, action: redact}
      - {name: token, action: redact}
      - {name: api_key, action: redact}
      - {name: apikey, action: redact}
      - {name: key, action: redact}
      - {name: secret, action: redact}
      - {name: client_secret, action: redact}
      - {name: password, action: redact}
      - {name: passwd, action: redact}
      - {name: signature, action: redact}
      - {name: sig, action: redact}
      - {name: auth, action: redact}
      - {name: code, action: redact}
      - {name: "x-amz-signature", action: redact}
      - {name: "x-amz-credential", action: redact}
      - {name: "x-amz-security-token", action: redact}
  - id: default-field-names
    classify:
      action: redact
  - id: default-detectors
    scan:
      # Every built-in detector except URL: plain URLs are rarely personal, and
      # redacting them whole would hide the e-mail or token inside from review.
      detectors: [PRIVATE_KEY, JWT, API_KEY, AWS_ACCESS_KEY, AWS_SECRET_KEY, BEARER_TOKEN,
                  URL_CREDENTIALS, SECRET, EMAIL, IBAN, CREDIT_CARD, US_SSN, US_ITIN, UK_NINO, US_PASSPORT,
                  DATE_OF_BIRTH, IP_ADDRESS, MAC_ADDRESS, PHONE]
      action: redact
"""
