"""Locust load suites that hold veil's redaction overhead to latency budgets.

Run ``python -m loadtests`` (or ``veil loadtest``) from a veil checkout; see
loadtests/README.md. Not part of the installed ``veil`` package.
"""
