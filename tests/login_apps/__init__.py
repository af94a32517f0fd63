"""Three small apps with a login (bearer token and session cookie), one per framework, for the
profile tests in tests/test_login_profiles.py (issue #16). Each runs under a real server; which
built-in profile guards it comes from ``LOGIN_PROFILE`` (see :mod:`tests.login_apps.common`)."""
