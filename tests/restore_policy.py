"""A policy whose request rule tokenizes e-mails with ``restore: true``, its key from the environment:
the proxy and ext_proc tests of token restoration share it (``monkeypatch.setenv(KEY_ENV, KEY_HEX)``)."""

KEY_ENV, KEY_HEX = "VEIL_TEST_TOKENS", bytes(range(64)).hex()
RESTORE_POLICY = f"""\
version: 1
keys:
  tokens: {{env: {KEY_ENV}}}
rules:
  - id: prompts
    match: {{direction: request}}
    scan:
      detectors: [EMAIL]
      action: {{type: tokenize, key: tokens, restore: true}}
"""
