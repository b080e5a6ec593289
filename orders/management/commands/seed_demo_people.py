"""The demo's other kinds of user: a back-office staff member, a delegation and a cardholder.

Runs after seed_demo (the registry's firms and people), through the same services a person
would use, so that every kind of user can be tried in the development login. Deterministic:
running it again changes nothing.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from PIL import Image

from cards import catalogue
from cards.photos import photo_normalise
from hmsportal.models import User
from hmsportal.services import user_for_person
from orders import selectors, services
from registry import selectors as registry_selectors
from registry.facts import EmployeeListing, OrganisationFacts

STAFF_USERNAME = "kortkontoret"


def _demo_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (827, 1063), (176, 190, 197)).save(buffer, format="JPEG")
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Add the demo's staff member, a delegation and a cardholder (DEBUG only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo_people is for the demo (DEBUG=1) only.")
        staff, created = User.objects.get_or_create(
            username=STAFF_USERNAME,
            defaults={"full_name": "Kortkontoret (demo)", "is_staff": True, "is_superuser": True},
        )
        if created:
            staff.set_unusable_password()
            staff.save(update_fields=["password"])
        self.stdout.write(f"Staff: {staff.full_name} (development login, or /admin/)")
        found = self._employer_with_two_employees()
        if found is None:
            self.stdout.write(
                "No demo firm with a key-role holder and two employees: run seed_demo."
            )
            return
        grantor, employer, (delegate, cardholder) = found
        today = timezone.localdate()
        if employer.orgnr not in selectors.delegated_orgnrs(
            national_id=delegate.employment.national_id, on=today
        ):
            services.delegation_grant(
                actor=grantor,
                employer=employer,
                grantee_national_id=delegate.employment.national_id,
                grantee_name=delegate.full_name,
                valid_from=today,
                valid_until=None,
            )
        self.stdout.write(f"Delegate: {delegate.full_name}, for {employer.name}")
        if cardholder.employment.national_id not in selectors.latest_line_by_person(
            employer_orgnr=employer.orgnr
        ):
            services.order_submit(
                actor=grantor,
                employer=employer,
                employee=cardholder,
                card_type=next(
                    t for t in catalogue.orderable_card_types() if not t.requires_cleaning_approval
                ),
                photo=photo_normalise(_demo_photo()),
                id_document=SimpleUploadedFile(
                    "id.pdf", b"%PDF-1.4\n%demo ID document\n", content_type="application/pdf"
                ),
            )
        self.stdout.write(f"Cardholder: {cardholder.full_name}, card from {employer.name}")

    @staticmethod
    def _employer_with_two_employees() -> (
        tuple[User, OrganisationFacts, tuple[EmployeeListing, EmployeeListing]] | None
    ):
        """The first demo firm with a key-role holder and two employees who hold no role."""
        holders = list(registry_selectors.key_role_holders())
        key_people = {person.national_id for person in holders}
        for person in holders:
            for role in person.roles.all():
                if role.code not in registry_selectors.KEY_ROLE_CODES:
                    continue
                employer = registry_selectors.organisation_get(orgnr=role.organisation.orgnr)
                if employer is None or employer.parent_orgnr:
                    continue
                employees = [
                    e
                    for e in registry_selectors.employees_list(main_orgnr=employer.orgnr)
                    if e.employment.national_id not in key_people
                    and e.employment.start <= timezone.localdate()
                ]
                if len(employees) >= 2:
                    grantor = user_for_person(
                        national_id=person.national_id, full_name=person.full_name
                    )
                    return grantor, employer, (employees[0], employees[1])
        return None
