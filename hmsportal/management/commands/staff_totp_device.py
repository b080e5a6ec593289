"""Set up the second factor (an authenticator app, TOTP) of a back-office staff user."""

from __future__ import annotations

import io
from typing import Any

import qrcode
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hmsportal.models import User
from hmsportal.services import NotStaff, SecondFactorExists, staff_totp_device_create


class Command(BaseCommand):
    help = (
        "Create the authenticator app (TOTP device) a staff user logs in to the back office "
        "with, and print its otpauth:// address and QR code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The staff user's username.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace the user's authenticator app (a lost phone); the old codes stop working.",
        )
        parser.add_argument(
            "--light-background",
            action="store_true",
            help="Print the QR code for a terminal with dark text on a light background.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        try:
            device = staff_totp_device_create(user=user, replace=options["replace"])
        except NotStaff:
            raise CommandError(
                f"{username!r} is not staff. Only the card producer's staff log in to the back "
                "office; make them staff in the admin first (Staff status)."
            ) from None
        except SecondFactorExists:
            raise CommandError(
                f"{username!r} already has an authenticator app. Run the command again with "
                "--replace to make a new one; the old one then stops working."
            ) from None
        url = device.config_url
        code = qrcode.QRCode(border=2)
        code.add_data(url)
        drawing = io.StringIO()
        # Block characters are drawn in the terminal's text colour: on the usual dark
        # background the code must be inverted to scan.
        code.print_ascii(out=drawing, invert=not options["light_background"])
        self.stdout.write(
            f"Authenticator app set up for {username}.\n"
            "Scan the QR code with an authenticator app (such as Microsoft Authenticator or "
            "Google Authenticator), or add this address to it:\n\n"
            f"{url}\n\n{drawing.getvalue()}\n"
            "Then log in at /admin/ with the username, the password and the six-digit code the "
            "app shows. Keep the address secret: anyone with it can make the codes."
        )
