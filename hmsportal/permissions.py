"""Who may act for which organisation: the one place every view asks.

A person may order and administer cards for an employer when Enhetsregisteret shows them in
a key role there (DAGL, LEDE, INNH, REPR …) or when someone gave them a delegation that is in
force. Both cover the main unit and its sub-units. An organisation the user may not act for
answers 404, the same as one that does not exist, so organisation numbers cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from hmsportal import outage
from hmsportal.models import User
from orders import selectors as order_selectors
from orders.delegations import granting_delegation
from orders.models import Delegation
from registry import selectors as registry_selectors
from registry.facts import OrganisationFacts, RegisterUnavailable
from registry.identifiers import is_valid_orgnr

P = ParamSpec("P")
# A view returns a response: a page, or a stream (exports).
R = TypeVar("R", bound=HttpResponseBase)


def organisations_for(user: User) -> list[OrganisationFacts]:
    """The employers (main units) the user may act for, by name."""
    if not user.is_authenticated or not user.national_id:
        return []
    orgnrs = set(registry_selectors.organisations_where_key_role(national_id=user.national_id))
    orgnrs |= set(
        order_selectors.delegated_orgnrs(national_id=user.national_id, on=timezone.localdate())
    )
    units = registry_selectors.organisations_get(orgnrs=orgnrs)
    mains = {units[o].main_orgnr for o in orgnrs if o in units}
    missing = mains - set(units)
    if missing:
        units |= registry_selectors.organisations_get(orgnrs=missing)
    return sorted((units[o] for o in mains if o in units), key=lambda u: u.name)


def employer_for(user: User, orgnr: str) -> OrganisationFacts | None:
    """The main unit the user may act for through orgnr (a main or sub-unit), or None."""
    for employer in organisations_for(user):
        if employer.orgnr == orgnr:
            return employer
    unit = registry_selectors.organisation_get(orgnr=orgnr)
    if unit is not None and unit.parent_orgnr:
        return employer_for(user, unit.parent_orgnr)
    return None


def employer_required(
    view: Callable[Concatenate[HttpRequest, OrganisationFacts, P], R],
) -> Callable[..., R | HttpResponse]:
    """Resolve the URL's orgnr to an employer the user may act for (else 404) and pass it on."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, orgnr: str, *args: Any, **kwargs: Any) -> R | HttpResponse:
        if not is_valid_orgnr(orgnr) or not isinstance(request.user, User):
            raise Http404("No such organisation.")
        try:
            employer = employer_for(request.user, orgnr)
        except RegisterUnavailable as error:
            return outage.register_unavailable(request, error)
        if employer is None:
            raise Http404("No such organisation, or no access to it.")
        return view(request, employer, *args, **kwargs)

    return wrapper


def is_key_role_holder(user: User, employer: OrganisationFacts) -> bool:
    """Whether Enhetsregisteret shows the user in a key role at the employer (DOMAIN.md)."""
    if not user.national_id:
        return False
    return employer.orgnr in registry_selectors.organisations_where_key_role(
        national_id=user.national_id
    )


def delegating_grant(user: User, employer: OrganisationFacts) -> Delegation | None:
    """The user's own grant that lets them give access further (when they hold no key role)."""
    if not user.national_id:
        return None
    return granting_delegation(national_id=user.national_id, orgnr=employer.orgnr)


def can_delegate(user: User, employer: OrganisationFacts) -> bool:
    """Key-role holders may give others access (DOMAIN.md), and so may a delegate whose own
    grant says they may give further (never more than that grant: orders.delegations)."""
    return is_key_role_holder(user, employer) or delegating_grant(user, employer) is not None
