"""The site file's ``policy`` section: the site's segregation of duties (edge.domain.duties), which the node's
routes carry in the commands it decides. Left out, the defaults are the ones an auditor accepts: counts approved
by a supervisor who did not count, incoming samples by quality and receiving staff, use as is signed by two
quality users."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from edge.domain import duties
from edge.domain.commands import MEANINGS
from edge.domain.model import Role
from takt.config.section import Section

Disposition = Literal["scrap", "rework", "use_as_is", "return_to_supplier"]
# Decisions the site can require an electronic signature (the PIN again) for, from every user who books them.
SignedDecision = Literal["disposition", "count_decision", "operation_completion", "inspection_plan"]
Meaning = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,31}$")]


class PolicySection(Section):
    """Who may do what to records of others (segregation of duties). The defaults are edge.domain.duties' (a test
    holds them equal)."""

    count_approvers: list[Role] = Field(
        default=["supervisor"], min_length=1,
        description="roles that approve a count waiting for approval; never the person who counted it")
    counts_booked_at_once: list[Role] = Field(
        default=[], description="roles whose own large counts are booked without a second person (none by default)")
    incoming_sample_roles: list[Role] = Field(
        default=["quality", "warehouse"], min_length=1,
        description="roles that record the samples of an incoming inspection")
    second_signature: list[Disposition] = Field(
        default=["use_as_is"],
        description="dispositions that need a second person's signature")
    disposition_signers: list[Role] = Field(
        default=["quality"], min_length=1,
        description="roles that sign a nonconformance disposition (either signature)")

    rework_mode: Literal["operations", "order"] = Field(
        default="operations",
        description="where a rework disposition puts its rework operations unless the quality user chooses: on the "
                    "NCR's work order (operations) or on a rework order with its own routing (order)")

    signature_meanings: list[Meaning] = Field(
        default=list(MEANINGS), min_length=1, max_length=20,
        description="what an electronic signature may mean (21 CFR Part 11 §11.50): lower-case words")
    signatures_required: list[SignedDecision] = Field(
        default=[], description="decisions signed by everyone who books them (the PIN again, also with an API "
                                "token); a disposition at a page is always signed, a verdict of a plan marked "
                                "signed always")

    def duty_policy(self) -> duties.DutyPolicy:
        """The policy as the domain takes it."""
        return duties.DutyPolicy(
            count_approvers=frozenset(self.count_approvers), counts_booked_at_once=frozenset(self.counts_booked_at_once),
            incoming_sample_roles=frozenset(self.incoming_sample_roles), second_signature=frozenset(self.second_signature),
            disposition_signers=frozenset(self.disposition_signers))
