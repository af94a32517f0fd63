"""The one policy every adapter runs in the cross-adapter table, written out here rather than taken from
veil's default, so the table's expected bytes depend only on text in this directory.

``max_body_bytes`` is small so the oversize case costs a few kilobytes, not the default's 10 MiB.
"""

POLICY_YAML = """\
version: 1
limits: {max_body_bytes: 4096}
rules:
  - id: credentials
    headers:
      - {name: authorization, action: redact}
    cookies:
      - {name: "*", action: redact}
    query:
      - {name: access_token, action: redact}
      - {name: api_key, action: redact}
  - id: field-names
    classify:
      action: redact
  - id: detectors
    scan:
      detectors: [EMAIL, CREDIT_CARD, US_SSN, PHONE]
      action: redact
"""
