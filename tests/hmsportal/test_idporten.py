"""Login with ID-porten against a local OpenID provider on 127.0.0.1 (idporten_provider.py).

The provider is real HTTP and checks what ID-porten checks; the portal's side is not patched.
Each of the portal's checks on the ID token has a test with a token forged to fail it.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from django.apps import apps as django_apps
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from hmsportal.models import User
from registry.datasets import registry_dataset_load
from tests.datasets import OWNER, WORKER, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.hmsportal.idporten_provider import CLIENT_ID, DELETE, new_key
from tests.registry.servers import closed_port_url

pytestmark = pytest.mark.django_db


def log_in(client: Client, *, start: str = "/login/idporten/"):
    """The browser's round trip: the portal → ID-porten → the portal's callback."""
    started = client.get(start)
    assert started.status_code == 302, started.content[:300]
    at_idporten = requests.get(started["Location"], allow_redirects=False, timeout=5)
    assert at_idporten.status_code == 302, at_idporten.text
    callback = urlsplit(at_idporten.headers["Location"])
    return client.get(callback.path, dict(parse_qsl(callback.query)))


def logged_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


# --- the flow -----------------------------------------------------------------------------


def test_the_authorization_request_carries_state_nonce_pkce_and_the_level(client, idporten):
    response = client.get("/login/idporten/")
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{idporten.issuer}/authorize"
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query["response_type"] == "code"
    assert query["scope"] == "openid"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://testserver/login/idporten/callback/"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256
    assert query["acr_values"] == "idporten-loa-substantial"
    assert query["ui_locales"] == "nb"
    english = client.get("/login/idporten/", HTTP_ACCEPT_LANGUAGE="en")
    assert parse_qs(urlsplit(english["Location"]).query)["ui_locales"] == ["en"]


def test_a_person_logs_in_and_is_named_from_folkeregisteret(client, idporten):
    response = log_in(client)
    assert response.status_code == 302
    assert response["Location"] == "/login/done/"
    user = logged_in_user(client)
    assert user is not None and user.national_id == OWNER
    assert user.full_name == "Kari Nordmann"
    assert OWNER not in user.username  # the username shows in logs and the admin
    # The token request proved PKCE: the provider refuses a verifier that does not match.
    assert idporten.token_requests[-1]["code_verifier"]
    assert client.get("/orders/").status_code == 200
    # A second login is the same user, not a new one.
    client.logout()
    log_in(client)
    assert User.objects.filter(national_id=OWNER).count() == 1


def test_the_next_page_is_kept_through_the_login(client, idporten):
    UserFactory(national_id=OWNER)  # she has logged in before and confirmed her address
    response = log_in(client, start="/login/idporten/?next=/orders/914778271/")
    assert response["Location"] == "/login/done/?next=%2Forders%2F914778271%2F"
    assert client.get(response["Location"])["Location"] == "/orders/914778271/"
    other = Client()
    outside = log_in(other, start="/login/idporten/?next=https://evil.example/")
    assert outside["Location"] == "/login/done/"
    assert other.get("/login/done/?next=https://evil.example/")["Location"] == "/orders/"


def test_the_provider_is_read_from_discovery_once_and_cached(client, idporten):
    log_in(client)
    log_in(Client())
    assert len(idporten.server.hits("/.well-known/openid-configuration")) == 1
    assert len(idporten.server.hits("/jwks")) == 1


def test_a_high_level_login_is_accepted_where_substantial_is_required(client, idporten):
    idporten.acr = "idporten-loa-high"
    log_in(client)
    assert logged_in_user(client) is not None


def test_a_new_signing_key_is_looked_up_once(client, idporten):
    log_in(client)
    idporten.rotate_key()
    second = Client()
    log_in(second)
    assert logged_in_user(second) is not None
    assert len(idporten.server.hits("/jwks")) == 2


# --- refusals: each check on the ID token has a forged token that fails it ------------------


def assert_refused(client: Client, response, reason: str, caplog) -> None:
    assert response.status_code == 403, response.content[:500]
    assert f'data-reason="{reason}"' in response.content.decode()
    assert "Du ble ikke logget inn" in response.content.decode()
    assert logged_in_user(client) is None
    assert not User.objects.filter(national_id=OWNER).exists()
    refusals = [r for r in caplog.records if "login refused" in r.getMessage()]
    assert refusals and refusals[-1].getMessage().split(": ")[1].startswith(reason)
    assert all(OWNER not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        pytest.param({"claim_overrides": {"aud": "another-client"}}, "audience", id="audience"),
        pytest.param({"claim_overrides": {"iss": "https://evil.example"}}, "issuer", id="issuer"),
        pytest.param(
            {"claim_overrides": {"aud": [CLIENT_ID, "another-client"]}},
            "audience",
            id="several-audiences-no-azp",
        ),
        pytest.param({"claim_overrides": {"nonce": "replayed-nonce"}}, "nonce", id="nonce"),
        pytest.param({"claim_overrides": {"nonce": DELETE}}, "malformed", id="no-nonce"),
        pytest.param(
            {"claim_overrides": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3700}},
            "expired",
            id="expired",
        ),
        pytest.param(
            {"claim_overrides": {"iat": int(time.time()) + 3600}}, "issued_at", id="iat-future"
        ),
        pytest.param(
            {"claim_overrides": {"iat": int(time.time()) - 3600}}, "issued_at", id="iat-old"
        ),
        pytest.param({"acr": "idporten-loa-low"}, "acr", id="acr-low"),
        pytest.param({"acr": "Level3"}, "acr", id="acr-unknown"),
        pytest.param({"claim_overrides": {"pid": DELETE}}, "malformed", id="no-pid"),
        pytest.param({"claim_overrides": {"pid": "15108695089"}}, "person", id="bad-pid"),
        pytest.param({"signing_key": new_key()}, "signature", id="wrong-key"),
        pytest.param({"header_overrides": {"kid": "unknown"}}, "unknown_key", id="unknown-kid"),
        pytest.param({"hmac_secret": b"x" * 32}, "algorithm", id="hs256"),
    ],
)
def test_a_forged_id_token_is_refused(client, idporten, caplog, forgery, reason):
    for name, value in forgery.items():
        setattr(idporten, name, value)
    with caplog.at_level(logging.WARNING):
        response = log_in(client)
    assert_refused(client, response, reason, caplog)


def test_an_unknown_kid_makes_the_portal_read_the_key_set_again_only_once(client, idporten):
    log_in(Client())  # the key set is cached now
    idporten.header_overrides = {"kid": "never-published"}
    response = log_in(client)
    assert response.status_code == 403
    assert len(idporten.server.hits("/jwks")) == 2


def test_substantial_is_refused_where_high_is_required(client, idporten, settings, caplog):
    settings.IDPORTEN_ACR_VALUES = "idporten-loa-high"
    started = client.get("/login/idporten/")
    assert "acr_values=idporten-loa-high" in started["Location"]
    with caplog.at_level(logging.WARNING):
        response = log_in(client)
    assert_refused(client, response, "acr", caplog)
    assert "BankID, Buypass eller Commfides" in response.content.decode()


def test_a_replayed_callback_does_not_log_anyone_in(client, idporten, caplog):
    started = client.get("/login/idporten/")
    at_idporten = requests.get(started["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(at_idporten.headers["Location"])
    params = dict(parse_qsl(callback.query))
    client.get(callback.path, params)
    client.logout()
    other = Client()
    with caplog.at_level(logging.WARNING):
        replayed = other.get(callback.path, params)
    assert replayed.status_code == 403
    assert 'data-reason="state"' in replayed.content.decode()
    assert logged_in_user(other) is None


def test_a_callback_replayed_in_the_same_session_is_refused(client, idporten):
    started = client.get("/login/idporten/")
    at_idporten = requests.get(started["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(at_idporten.headers["Location"])
    params = dict(parse_qsl(callback.query))
    client.get(callback.path, params)
    client.logout()
    client.get("/login/idporten/")  # another login under way: the old state is not among it
    replayed = client.get(callback.path, params)
    assert replayed.status_code == 403
    assert 'data-reason="state"' in replayed.content.decode()
    assert logged_in_user(client) is None
    assert len(idporten.token_requests) == 1  # the used code was never sent again


def test_the_admin_login_never_sends_a_code_to_idporten(client, idporten):
    response = client.post(
        "/admin/login/?code=attacker-chosen&state=x", {"username": "kari", "password": "wrong"}
    )
    assert response.status_code == 200
    assert idporten.token_requests == []


def test_a_next_that_is_not_a_path_is_ignored(client, idporten):
    UserFactory(national_id=OWNER)
    log_in(client, start="/login/idporten/?next=orders")
    assert client.get("/login/done/?next=orders")["Location"] == "/orders/"
    assert client.get("/login/done/?next=//evil.example/")["Location"] == "/orders/"


def test_cancelling_at_idporten_says_so(client, idporten):
    idporten.cancel = True
    response = log_in(client)
    assert response.status_code == 403
    assert "Du avbrøt innloggingen" in response.content.decode()
    assert logged_in_user(client) is None


def test_the_refusal_page_speaks_english_on_request(client, idporten):
    idporten.cancel = True
    client.cookies["django_language"] = "en"
    response = log_in(client)
    assert "You cancelled the login at ID-porten." in response.content.decode()
    assert 'lang="en"' in response.content.decode()


def test_idporten_not_answering_is_a_clear_page(client, idporten, settings):
    settings.IDPORTEN_ISSUER = closed_port_url()
    response = client.get("/login/idporten/")
    assert response.status_code == 503
    assert "ID-porten svarer ikke" in response.content.decode()


def test_a_discovery_document_naming_another_issuer_is_not_trusted(client, idporten, settings):
    settings.IDPORTEN_ISSUER = idporten.issuer + "/other"
    idporten.server.add(
        "/other/.well-known/openid-configuration",
        responder=lambda request: idporten._discovery(request),
    )
    response = client.get("/login/idporten/")
    assert response.status_code == 503


def test_without_configuration_there_is_no_idporten_login(client, settings):
    settings.IDPORTEN_ISSUER = ""
    assert client.get("/login/idporten/").status_code == 404
    assert client.get("/login/idporten/callback/?code=x&state=y").status_code == 404


# --- logout and sessions --------------------------------------------------------------------


def end_session_form(response) -> tuple[str, dict[str, str]]:
    """The form the logout page POSTs to ID-porten: its action and hidden fields."""
    html = response.content.decode()
    (action,) = re.findall(r'<form method="post" action="([^"]+)" data-submit-on-load>', html)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    return action, fields


def test_logout_ends_the_idporten_session_too(client, idporten):
    log_in(client)
    id_token = idporten.id_tokens[-1]
    response = client.post("/logout/")
    assert response.status_code == 200
    assert logged_in_user(client) is None
    action, fields = end_session_form(response)
    assert action == f"{idporten.issuer}/endsession"
    assert fields == {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": "http://testserver/logout/done/",
    }
    # The ID token (and the identity number in it) never goes into a URL.
    assert "submit-on-load.js" in response.content.decode()
    # The only page whose form may post to another site, and only to ID-porten's origin.
    policy = response["Content-Security-Policy"]
    issuer_origin = "/".join(idporten.issuer.split("/")[:3])
    assert f"form-action 'self' {issuer_origin};" in f"{policy};"
    back = requests.post(action, data=fields, allow_redirects=False, timeout=5)
    assert back.headers["Location"] == "http://testserver/logout/done/"
    assert idporten.end_sessions[-1]["method"] == "POST"
    done = client.get("/logout/done/")
    assert "Du er logget ut av HMS-kortportalen og av ID-porten." in done.content.decode()
    # The next login asks ID-porten again (it would log the last person in silently otherwise).
    assert client.get("/orders/").status_code == 302


def test_logging_in_over_another_session_still_ends_idporten_at_logout(client, idporten):
    UserFactory(username="other", national_id=None, full_name="Noen Andre")
    client.force_login(User.objects.get(username="other"))
    log_in(client)
    assert logged_in_user(client).national_id == OWNER
    _action, fields = end_session_form(client.post("/logout/"))
    assert fields["id_token_hint"] == idporten.id_tokens[-1]


def test_a_development_login_logs_out_of_the_portal_only(client, settings):
    settings.DEV_LOGIN_ENABLED = True
    registry_dataset_load(dataset=small_dataset())
    client.post("/login/dev/", {"national_id": OWNER})
    response = client.post("/logout/")
    assert response["Location"] == "/logout/done/?from=portal"
    page = client.get(response["Location"]).content.decode()
    assert "Du er logget ut av HMS-kortportalen." in page and "og av ID-porten" not in page


def test_idporten_not_answering_at_logout_still_logs_out_and_says_so(client, idporten, settings):
    log_in(client)
    cache.clear()
    settings.IDPORTEN_ISSUER = closed_port_url()
    response = client.post("/logout/")
    assert response["Location"] == "/logout/done/?idporten=unavailable"
    assert logged_in_user(client) is None
    assert "Lukk nettleseren" in client.get(response["Location"]).content.decode()


def test_logout_is_a_post(client, idporten):
    log_in(client)
    assert client.get("/logout/").status_code == 405
    assert logged_in_user(client) is not None


def test_a_session_ends_when_the_browser_closes_and_after_idle_time(client, idporten, settings):
    log_in(client)
    response = client.get("/orders/")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]  # gone when the browser closes
    session = Session.objects.get(session_key=client.session.session_key)
    idle = (session.expire_date - timezone.now()).total_seconds()
    assert 29 * 60 < idle <= 30 * 60
    # Idle past the limit: the session is gone, and the person must log in again.
    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() - timezone.timedelta(seconds=1)
    )
    assert client.get("/orders/").status_code == 302


# --- where a login lands ----------------------------------------------------------------


def test_the_first_login_asks_for_an_e_mail_address(client, idporten):
    log_in(client)
    landing = client.get("/login/done/")
    assert landing["Location"] == "/account/contact/?next=%2Forders%2F"


def test_a_person_who_acts_for_no_organisation_starts_on_their_own_cards(client, idporten):
    idporten.pid = WORKER
    UserFactory(username="ola", national_id=WORKER, full_name="Ola Snekker")
    log_in(client)
    assert client.get("/login/done/")["Location"] == "/my-cards/"


def test_the_language_chosen_before_login_is_remembered_and_comes_back(client, idporten):
    UserFactory(national_id=OWNER, language="nb")
    client.cookies["django_language"] = "en"
    log_in(client)
    client.get("/login/done/")
    assert User.objects.get(national_id=OWNER).language == "en"
    # On another browser, with no choice made there, the remembered language is put back.
    other = Client()
    log_in(other)
    landing = other.get("/login/done/")
    assert landing.cookies["django_language"].value == "en"


def test_several_audiences_are_accepted_when_the_token_was_issued_to_the_portal(client, idporten):
    idporten.claim_overrides = {"aud": [CLIENT_ID, "another-client"], "azp": CLIENT_ID}
    log_in(client)
    assert logged_in_user(client) is not None


def test_a_deactivated_account_is_told_so_and_not_logged_in(client, idporten):
    UserFactory(national_id=OWNER, is_active=False)
    response = log_in(client)
    assert response.status_code == 403
    assert 'data-reason="blocked"' in response.content.decode()
    assert logged_in_user(client) is None


def test_old_usernames_that_held_the_identity_number_become_opaque():
    migration = importlib.import_module("hmsportal.migrations.0003_opaque_usernames")
    User.objects.create(username=f"id-{OWNER}", national_id=OWNER)
    User.objects.create(username="kortkontoret", is_staff=True)
    migration.opaque_usernames(django_apps, None)
    assert User.objects.get(national_id=OWNER).username.startswith("person-")
    assert User.objects.filter(username="kortkontoret").exists()
