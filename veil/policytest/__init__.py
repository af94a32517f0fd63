"""``veil test POLICY CASES.yaml``: a policy's own test cases, run the way code's tests run.

:mod:`veil.policytest.cases` reads the cases file (positions of every field, as the
policy loader keeps them); :mod:`veil.policytest.runner` runs each case through the
compiled policy and names each mismatch by case and ``file:line:col``.
"""
