"""The authentication backend behind ID-porten's callback: code → tokens → the portal's user."""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from hmsportal.idporten import provider
from hmsportal.idporten.tokens import LoginRefused, RefusalReason, id_token_verify
from hmsportal.models import User
from hmsportal.services import user_for_person
from registry import selectors as registry_selectors
from registry.facts import RegisterUnavailable

logger = logging.getLogger(__name__)


class IdPortenBackend(OIDCAuthenticationBackend):
    """Logs in the person whose fødselsnummer or D-number the validated ID token carries.

    The library's own token checks are replaced by hmsportal.idporten.tokens, and its
    endpoints by the provider's discovery document; users are matched on the `pid` claim,
    never on e-mail (ID-porten has none) or `sub` (pairwise per client).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library's constructor reads fixed endpoints from settings; ours come from the
        # discovery document when a login happens, so the backend loads without them.
        self.UserModel = User
        self.OIDC_RP_CLIENT_ID = settings.IDPORTEN_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.IDPORTEN_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = "RS256"

    def authenticate(self, request: Any, **kwargs: Any) -> User | None:
        # Only the callback view passes the nonce: any other authenticate() (the admin's
        # password login, say) must not send a code from its query string to ID-porten.
        if request is None or "nonce" not in kwargs or not provider.configured():
            return None
        return super().authenticate(request, **kwargs)

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            response = requests.post(
                provider.metadata().token_endpoint,
                data=payload,
                timeout=settings.IDPORTEN_TIMEOUT_SECONDS,
            )
        except (requests.RequestException, provider.ProviderUnavailable) as error:
            raise LoginRefused(RefusalReason.PROVIDER_UNAVAILABLE, str(error)) from error
        if response.status_code != 200:
            raise LoginRefused(
                RefusalReason.PROVIDER_ERROR,
                f"token endpoint answered {response.status_code}: {response.text[:200]}",
            )
        try:
            body = response.json()
        except ValueError as error:
            raise LoginRefused(
                RefusalReason.PROVIDER_ERROR, "token response is not JSON"
            ) from error
        if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            raise LoginRefused(RefusalReason.PROVIDER_ERROR, "token response has no id_token")
        return body

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        proof = id_token_verify(token, nonce=kwargs.get("nonce"))
        return {**proof.claims, "pid": proof.national_id}

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        # No userinfo request: ID-porten gives no name, e-mail or phone (IDPORTEN.md). The
        # name comes from Folkeregisteret.
        national_id = payload["pid"]
        return user_for_person(national_id=national_id, full_name=self._name(national_id))

    @staticmethod
    def _name(national_id: str) -> str:
        """The person's name in Folkeregisteret, or "" when it cannot be had right now.

        ID-porten has proved who the person is; the name is for display, so a register that
        does not answer does not stop the login (the next login fills the name in).
        """
        try:
            person = registry_selectors.person_get(national_id=national_id)
        except RegisterUnavailable as error:
            logger.warning("Folkeregisteret did not answer at login: %s", error)
            return ""
        return person.full_name if person else ""
