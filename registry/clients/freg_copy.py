"""Folkeregisteret, asked only about persons whose last answer no longer holds.

population_register() hands this adapter out in the http setup. While the event feed is
followed (registry/person_copy.py) a person Folkeregisteret has answered about, with no event
since and whose night of the sweep has not come (FOLKEREGISTERET_SWEEP_NIGHTS), is answered from that
last answer; everyone else is asked, and the answer kept. While the feed is not followed,
everyone is asked, as with the plain API adapter.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

# The module, not its names: registry.person_copy imports registry.clients.freg, which may be
# what started the import of this package.
from registry import person_copy
from registry.clients.freg import FolkeregisteretPopulationRegister
from registry.facts import PersonFacts


class FeedFollowingPopulationRegister:
    """Persons from their last answer while Folkeregisteret's feed shows no change."""

    def __init__(self, api: FolkeregisteretPopulationRegister | None = None) -> None:
        self.api = api or FolkeregisteretPopulationRegister()

    def persons(self, national_ids: Iterable[str]) -> dict[str, PersonFacts]:
        wanted = set(national_ids)
        found = person_copy.person_copy_facts(national_ids=wanted)
        missing = wanted - found.keys()
        if missing:
            asked_at = timezone.now()
            # RegisterUnavailable propagates as from the API adapter: nothing is written.
            asked = self.api.persons(missing)
            person_copy.person_copy_write(
                persons={nid: asked.get(nid) for nid in missing}, asked_at=asked_at
            )
            found.update(asked)
        return found
