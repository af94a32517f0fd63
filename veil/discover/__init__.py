"""``veil discover``: which fields of real traffic carry personal data that no rule covers.

Reads samples (:mod:`veil.discover.samples`), surveys them with a detect-everything
plan and the input policy (:mod:`veil.discover.survey`), and proposes rules for
what is uncovered as an addition to the policy's own text (:mod:`veil.discover.patch`).
Reports and patches hold routes, paths, types and counts, never values.
"""
