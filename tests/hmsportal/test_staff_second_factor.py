"""The back office's second factor: staff log in at the admin login with a password and a
TOTP code (django-otp) when STAFF_SECOND_FACTOR_REQUIRED is on, as it is outside DEBUG."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image
from pyzbar.pyzbar import decode

from hmsportal.models import User
from hmsportal.services import staff_totp_device_create

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-staff-password-for-tests"
QUEUE = reverse("cards:print_queue")
REGISTERS = reverse("registry:register_status")
ADMIN = reverse("admin:index")
ADMIN_LOGIN = reverse("admin:login")
BACK_OFFICE = [QUEUE, REGISTERS]


@pytest.fixture
def second_factor_on(settings) -> None:
    settings.STAFF_SECOND_FACTOR_REQUIRED = True


@pytest.fixture
def staff() -> User:
    return User.objects.create_user(username="card-office", password=PASSWORD, is_staff=True)


@pytest.fixture
def device(staff) -> TOTPDevice:
    return staff_totp_device_create(user=staff)


def code_now(device: TOTPDevice, *, drift: int = 0) -> str:
    """The code the person's authenticator app shows now."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{value:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """A code that matches none of the steps the device accepts around now."""
    accepted = {code_now(device, drift=drift) for drift in range(-3, 4)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def admin_login(client, *, code: str, next_url: str = QUEUE, password: str = PASSWORD):
    return client.post(
        f"{ADMIN_LOGIN}?next={next_url}",
        {"username": "card-office", "password": password, "otp_token": code, "next": next_url},
    )


def test_the_test_settings_have_the_second_factor_off_as_in_debug(settings) -> None:
    # pytest-django turns DEBUG off at run time, but settings.py computed the switch from the
    # environment's DEBUG (on by default) at import: the other back-office tests rely on it.
    assert settings.STAFF_SECOND_FACTOR_REQUIRED is False


# --- Second factor required ----------------------------------------------------------------


def test_staff_without_an_authenticator_get_no_back_office_but_are_told_how(
    client, staff, second_factor_on
) -> None:
    client.force_login(staff)
    for url in BACK_OFFICE:
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 403, url
        assert 'data-outcome="second_factor_missing"' in html
        assert "Du trenger en ekstra innloggingskode" in html
        assert "python manage.py staff_totp_device card-office" in html
        assert 'class="portal-header"' in html  # the portal's layout
        assert "Utskriftskø</h1>" not in html and "Registre</h1>" not in html

    # The admin is closed too: its login page says the same instead of asking for a code.
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"].startswith(ADMIN_LOGIN)
    response = client.get(response["Location"])
    assert response.status_code == 403
    assert 'data-outcome="second_factor_missing"' in response.content.decode()


def test_staff_with_an_authenticator_but_no_code_this_session_go_to_the_admin_login(
    client, staff, device, second_factor_on
) -> None:
    client.force_login(staff)
    for url in BACK_OFFICE:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{ADMIN_LOGIN}?next={url}"
    assert client.get(ADMIN)["Location"].startswith(ADMIN_LOGIN)
    # The login form asks for the code.
    login_page = client.get(f"{ADMIN_LOGIN}?next={QUEUE}").content.decode()
    assert 'name="otp_token"' in login_page
    assert "Kode fra autentiseringsappen" in login_page


def test_password_and_the_right_code_open_the_back_office(
    client, staff, device, second_factor_on
) -> None:
    response = admin_login(client, code=code_now(device))
    assert response.status_code == 302
    assert response["Location"] == QUEUE
    for url in BACK_OFFICE:
        assert client.get(url).status_code == 200, url
    assert client.get(ADMIN).status_code == 200


def test_a_wrong_code_is_refused(client, staff, device, second_factor_on) -> None:
    response = admin_login(client, code=wrong_code(device))
    assert response.status_code == 200
    assert "Koden er feil eller for gammel" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(QUEUE)["Location"].startswith(reverse("login"))
    assert client.get(ADMIN)["Location"].startswith(ADMIN_LOGIN)


def test_a_password_without_a_code_is_refused(client, staff, device, second_factor_on) -> None:
    response = admin_login(client, code="")
    assert response.status_code == 200
    assert "Skriv inn koden som autentiseringsappen viser" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_right_code_with_a_wrong_password_is_refused(
    client, staff, device, second_factor_on
) -> None:
    response = admin_login(client, code=code_now(device), password="not-the-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get(QUEUE).status_code == 302


def test_another_users_code_does_not_open_this_account(
    client, staff, device, second_factor_on
) -> None:
    other = User.objects.create_user(username="other-office", is_staff=True)
    other_device = staff_totp_device_create(user=other)
    accepted = {code_now(device, drift=drift) for drift in range(-3, 4)}
    other_code = code_now(other_device)
    if other_code in accepted:  # one chance in a few hundred thousand
        other_code = wrong_code(device)
    response = client.post(
        ADMIN_LOGIN,
        {
            "username": "card-office",
            "password": PASSWORD,
            "otp_token": other_code,
            "otp_device": other_device.persistent_id,
        },
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_replacing_the_authenticator_ends_sessions_verified_with_the_old_one(
    client, staff, device, second_factor_on
) -> None:
    admin_login(client, code=code_now(device))
    assert client.get(QUEUE).status_code == 200
    call_command("staff_totp_device", "card-office", "--replace", stdout=io.StringIO())
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith(ADMIN_LOGIN)


def test_people_who_are_not_staff_still_get_the_staff_only_page(client, second_factor_on) -> None:
    worker = User.objects.create_user(username="worker", national_id="01019012345")
    client.force_login(worker)
    response = client.get(QUEUE)
    assert response.status_code == 403
    assert "Denne siden er for de ansatte hos kortprodusenten" in response.content.decode()


# --- Second factor off (DEBUG, the demo) ---------------------------------------------------


def test_without_the_second_factor_staff_reach_the_back_office_with_a_session_alone(
    client, staff, settings
) -> None:
    settings.STAFF_SECOND_FACTOR_REQUIRED = False
    client.force_login(staff)
    for url in BACK_OFFICE:
        assert client.get(url).status_code == 200, url
    assert client.get(ADMIN).status_code == 200


def test_without_the_second_factor_the_admin_login_asks_for_a_password_only(
    client, staff, settings
) -> None:
    settings.STAFF_SECOND_FACTOR_REQUIRED = False
    assert 'name="otp_token"' not in client.get(ADMIN_LOGIN).content.decode()
    response = client.post(
        f"{ADMIN_LOGIN}?next={QUEUE}",
        {"username": "card-office", "password": PASSWORD, "next": QUEUE},
    )
    assert response.status_code == 302
    assert client.get(QUEUE).status_code == 200


# --- The command ---------------------------------------------------------------------------


def qr_text(ascii_code: str) -> str:
    """Decode a QR code printed by qrcode's print_ascii (inverted, for a dark terminal)."""
    rows: list[list[bool]] = []  # True: a lit (light) module
    for line in ascii_code.splitlines():
        rows.append([char in "▀█" for char in line])
        rows.append([char in "▄█" for char in line])
    width = max(len(row) for row in rows)
    scale, quiet = 8, 4
    image = Image.new("L", ((width + 2 * quiet) * scale, (len(rows) + 2 * quiet) * scale), 255)
    for y, row in enumerate(rows):
        for x, lit in enumerate(row):
            if not lit:
                box = ((x + quiet) * scale, (y + quiet) * scale)
                image.paste(0, (*box, box[0] + scale, box[1] + scale))
    decoded = decode(image)
    assert decoded, "no QR code found in the command's output"
    return decoded[0].data.decode()


def test_the_command_makes_a_confirmed_device_and_prints_its_address_and_qr_code(staff) -> None:
    out = io.StringIO()
    call_command("staff_totp_device", "card-office", stdout=out)
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed
    printed = out.getvalue()
    url = device.config_url
    assert url.startswith("otpauth://totp/HMS-kortportalen%3Acard-office?secret=")
    assert url in printed
    qr_lines = [line for line in printed.splitlines() if set(line) & set("▀▄█")]
    assert len(qr_lines) > 10
    assert qr_text("\n".join(qr_lines)) == url


def test_the_command_replaces_a_device_only_when_told(staff, device) -> None:
    with pytest.raises(CommandError, match="already has an authenticator app"):
        call_command("staff_totp_device", "card-office", stdout=io.StringIO())
    assert list(TOTPDevice.objects.filter(user=staff)) == [device]

    call_command("staff_totp_device", "card-office", "--replace", stdout=io.StringIO())
    replacement = TOTPDevice.objects.get(user=staff)
    assert replacement.pk != device.pk
    assert replacement.key != device.key
    assert replacement.confirmed


def test_the_command_refuses_people_who_are_not_staff() -> None:
    User.objects.create_user(username="worker", national_id="01019012345")
    with pytest.raises(CommandError, match="'worker' is not staff"):
        call_command("staff_totp_device", "worker", stdout=io.StringIO())
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        call_command("staff_totp_device", "nobody", stdout=io.StringIO())
    assert not TOTPDevice.objects.exists()
