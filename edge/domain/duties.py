"""Segregation of duties: who may approve a count, who records the samples of an incoming inspection, and which
nonconformance dispositions need a second person's signature. The site's policy (the site file's ``policy``
section, takt.config) is carried in the commands it decides, so the domain stays pure.

A command that carries no policy (``duties=None``: the unit tests' plants, and callers written before the policy)
is decided as before it existed; the node's routes always carry the site's policy, whose defaults are these:

- **counts**: a count whose variance waits for approval (the warehouse section's ``count_approval_pct``) is approved
  by a supervisor, and never by the person who counted it, whatever their roles; no role's own count is booked at
  once (before, a supervisor's was: a large correction with no second person).
- **incoming samples**: recorded by quality inspectors and receiving staff (warehouse), who are trained to the
  supplier's drawing; not by operators, supervisors or device accounts.
- **dispositions**: use as is releases nonconforming material into production (an ISO 9001 8.7 concession): it
  needs a second quality signature; the first is recorded as the proposal, and another quality user's signature of
  the same disposition closes the NCR. Scrap, rework and return to supplier take one signature.
"""
from __future__ import annotations

from dataclasses import dataclass, field

COUNT_APPROVERS: frozenset[str] = frozenset({"supervisor"})
INCOMING_SAMPLE_ROLES: frozenset[str] = frozenset({"quality", "warehouse"})
SECOND_SIGNATURE_DISPOSITIONS: frozenset[str] = frozenset({"use_as_is"})
DISPOSITION_SIGNERS: frozenset[str] = frozenset({"quality"})


@dataclass(frozen=True, slots=True)
class DutyPolicy:
    """The site's segregation of duties (see the module's text for what each default means and why)."""

    # Roles that approve a count waiting for approval (never its counter).
    count_approvers: frozenset[str] = COUNT_APPROVERS
    # Roles whose own counts are booked at once however large their variance (none: all wait for a second person).
    counts_booked_at_once: frozenset[str] = field(default_factory=frozenset)
    # Roles that record the samples of an incoming inspection.
    incoming_sample_roles: frozenset[str] = INCOMING_SAMPLE_ROLES
    # Dispositions that need a second person's signature, and the roles that may give either signature.
    second_signature: frozenset[str] = SECOND_SIGNATURE_DISPOSITIONS
    disposition_signers: frozenset[str] = DISPOSITION_SIGNERS
