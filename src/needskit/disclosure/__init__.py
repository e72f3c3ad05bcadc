"""Disclosure control: small-number rule sets and sharing levels.

Partners pool counts (police crimes, GP registers, council services) into one profile. Before
anything leaves as a publishable output two gates apply:

* **small numbers** are controlled by a named rule set (:data:`RULE_SETS`, :func:`apply_rules`),
  with every suppression and rounding written to an audit log;
* **sharing levels** are respected: each dataset is ``open``, ``partner`` or ``restricted`` and each
  output is for the ``public``, for ``partner`` organisations or ``internal``
  (:func:`check_sharing`, :func:`filter_for_audience`, :func:`publication_marking`).

The published frame never carries the exact count: ``value_published`` is text, ``"*"`` for a
withheld figure, and a ``suppressed`` flag says the same thing, so a withheld cell cannot be read
as a zero or as missing data. Definitions: ``methods.md``, "Small-number disclosure control".

Modules: :mod:`.rules` (rule sets, primary suppression, rounding, :func:`describe_rule`),
:mod:`.suppression` (:func:`apply_rules` and its audit log), :mod:`.tables` (totals and the
lines cells lie on), :mod:`.secondary` (secondary suppression and bridge repair),
:mod:`.percentages` (:func:`published_percentages`), :mod:`.sharing` (sharing levels and
audiences).
"""

from needskit.disclosure.percentages import published_percentages
from needskit.disclosure.rules import RULE_SETS, SUPPRESSED, RuleSet, describe_rule
from needskit.disclosure.sharing import (
    AUDIENCES,
    SHARING_LEVELS,
    check_sharing,
    filter_for_audience,
    publication_marking,
)
from needskit.disclosure.suppression import apply_rules

__all__ = [
    "RuleSet",
    "RULE_SETS",
    "SHARING_LEVELS",
    "AUDIENCES",
    "SUPPRESSED",
    "apply_rules",
    "describe_rule",
    "published_percentages",
    "check_sharing",
    "filter_for_audience",
    "publication_marking",
]
