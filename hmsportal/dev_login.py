"""Who the development login offers (DEBUG only): one of every kind of user, in words.

Key-role holders with their roles spelled out, people holding a delegation, cardholders and
the back office's staff, so that each journey can be tried in the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from cards import selectors as card_selectors
from hmsportal.models import User
from hmsportal.services import user_for_person
from orders import selectors as order_selectors
from registry import selectors as registry_selectors
from registry.models import Role

_LISTED_PER_GROUP = 20


@dataclass(frozen=True)
class DemoPerson:
    name: str
    what: str
    national_id: str = ""
    staff_username: str = ""


@dataclass
class DemoGroup:
    title: str
    people: list[DemoPerson] = field(default_factory=list)


def _role_words(code: str) -> str:
    return str(Role.Code(code).label) if code in Role.Code.values else code


def demo_people() -> list[DemoGroup]:
    """The demo's people, grouped by what they can do."""
    holders = DemoGroup(_("Owners and people with a role in the organisation"))
    for person in registry_selectors.key_role_holders()[:_LISTED_PER_GROUP]:
        roles = " · ".join(
            f"{_role_words(role.code)}, {role.organisation.name}" for role in person.roles.all()
        )
        holders.people.append(
            DemoPerson(name=person.full_name, what=roles, national_id=person.national_id)
        )
    delegates = DemoGroup(_("People given access by an organisation"))
    delegations = order_selectors.delegations_in_force(on=timezone.localdate())
    employers = registry_selectors.organisations_get(orgnrs={d.employer_orgnr for d in delegations})
    for delegation in delegations[:_LISTED_PER_GROUP]:
        employer = employers.get(delegation.employer_orgnr)
        delegates.people.append(
            DemoPerson(
                name=delegation.grantee_name or delegation.grantee_national_id[:6],
                what=_("Access for %(employer)s")
                % {"employer": employer.name if employer else delegation.employer_orgnr},
                national_id=delegation.grantee_national_id,
            )
        )
    cardholders = DemoGroup(_("Cardholders"))
    for national_id, name, employer_name in card_selectors.card_holders_sample(
        limit=_LISTED_PER_GROUP
    ):
        cardholders.people.append(
            DemoPerson(
                name=name,
                what=_("HMS card from %(employer)s") % {"employer": employer_name},
                national_id=national_id,
            )
        )
    staff = DemoGroup(_("The card office's staff"))
    for user in User.objects.filter(is_staff=True, is_active=True).order_by("username"):
        staff.people.append(
            DemoPerson(
                name=user.full_name or user.username,
                what=_("Print queue, batches and registers"),
                staff_username=user.username,
            )
        )
    return [group for group in (holders, delegates, cardholders, staff) if group.people]


def demo_user(*, national_id: str, staff_username: str) -> User | None:
    """The user behind a choice on the development login page, or None if it is not offered."""
    if staff_username:
        if "\x00" in staff_username:  # PostgreSQL refuses it in a query; no username has it
            return None
        return User.objects.filter(username=staff_username, is_staff=True, is_active=True).first()
    for group in demo_people():
        for person in group.people:
            if national_id and person.national_id == national_id:
                found = registry_selectors.person_get(national_id=national_id)
                return user_for_person(
                    national_id=national_id, full_name=found.full_name if found else person.name
                )
    return None
