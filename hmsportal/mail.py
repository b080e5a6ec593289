"""E-mail to a person, in the language they chose: the one way the portal sends mail.

Each message is two templates, `<prefix>_subject.txt` (one line) and `<prefix>_body.txt`,
rendered inside translation.override(user.language) so {% translate %} and lazy texts follow
the recipient, not whoever's request or task happens to send it. Templates start with
{% autoescape off %}: this is plain text, and "Berg & Sønn AS" must not become "&amp;".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from hmsportal.models import User


def mail_person(
    *,
    user: User,
    template_prefix: str,
    context: dict[str, Any],
    to: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> bool:
    """Send the message to the person's confirmed address (or `to`); False when there is none.

    `to` is for the one message that must reach an address not yet confirmed: the link that
    confirms it. `attachments` are (file name, content, media type), e.g. a PDF.
    """
    recipient = to if to is not None else user.confirmed_email
    if not recipient:
        return False
    context = {"user": user, **context}
    with translation.override(user.language):
        subject_text = render_to_string(f"{template_prefix}_subject.txt", context)
        body = render_to_string(f"{template_prefix}_body.txt", context)
    # A header cannot hold a line break: the subject is the template's text on one line.
    subject = " ".join(subject_text.split())
    message = EmailMessage(subject=subject, body=str(body), to=[recipient])
    for filename, content, media_type in attachments:
        message.attach(filename, content, media_type)
    message.send()
    return True
