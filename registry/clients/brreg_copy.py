"""Enhetsregisteret from hmsportal's local copy, with the open API behind it.

business_register() hands this adapter out in the http setup while the copy is current
(registry.unit_copy.unit_copy_current: both bulk files loaded lately and the change feed
read lately, from before the files were made). Organisation lookups, the nightly re-check's
questions, are then local queries; units the copy does not have or the change feed marked as
changed are asked of the API and the answer is written back. Sub-units and roles are not in
the bulk files' scope of use here and always come from the API.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

# The module, not its names: registry.unit_copy imports registry.clients.brreg, which may be
# what started the import of this package.
from registry import unit_copy
from registry.clients.brreg import BrregBusinessRegister
from registry.facts import OrganisationFacts, RoleFacts
from registry.identifiers import is_valid_orgnr


class CopiedBusinessRegister:
    """Organisations from the local copy of Enhetsregisteret; the rest from its API."""

    def __init__(self, api: BrregBusinessRegister | None = None) -> None:
        self.api = api or BrregBusinessRegister()

    def organisations(self, orgnrs: Iterable[str]) -> dict[str, OrganisationFacts]:
        wanted = {o for o in set(orgnrs) if is_valid_orgnr(o) and len(o) == 9}
        found = unit_copy.unit_copy_facts(orgnrs=wanted)
        missing = wanted - found.keys()
        if missing:
            asked_at = timezone.now()
            # RegisterUnavailable propagates as from the API adapter: nothing is written.
            asked = self.api.organisations(missing)
            unit_copy.unit_copy_write(
                units={orgnr: asked.get(orgnr) for orgnr in missing}, asked_at=asked_at
            )
            found.update(asked)
        return found

    def sub_units(self, main_orgnr: str) -> list[OrganisationFacts]:
        return self.api.sub_units(main_orgnr)

    def roles(self, orgnr: str) -> list[RoleFacts]:
        return self.api.roles(orgnr)

    def organisations_with_role(self, national_id: str, codes: Iterable[str]) -> list[str]:
        return self.api.organisations_with_role(national_id, codes)
