"""The bokmål catalogue is complete (issue 11, point 5): `make test` fails on an untranslated
or fuzzy entry, on a .mo that is older than its .po, and on a string in the code or the
templates that `make messages` has not put in the catalogue yet."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "nb" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{\s*(\w+)\s*\}\}")


def _catalogue() -> polib.POFile:
    return polib.pofile(str(CATALOGUE / "django.po"))


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def test_every_entry_is_translated_and_none_is_fuzzy() -> None:
    catalogue = _catalogue()
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []
    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.obsolete_entries()] == []


def test_translations_keep_the_placeholders() -> None:
    """A placeholder lost or misspelt in bokmål fails at render time, or says the wrong thing."""

    def names(text: str) -> set[tuple[str, str]]:
        return set(PLACEHOLDER.findall(text))

    wrong = []
    for entry in _catalogue().translated_entries():
        if entry.msgid_plural:
            # Bokmål has English's two forms: one, and any other number.
            pairs = [
                (entry.msgid, entry.msgstr_plural[0]),
                (entry.msgid_plural, entry.msgstr_plural[1]),
            ]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        if any(names(source) != names(translation) for source, translation in pairs):
            wrong.append(entry.msgid)
    assert wrong == []


def test_the_compiled_catalogue_matches_the_source() -> None:
    """django.mo is what the portal reads: `make messages` compiles it; a .po edited by hand
    and not compiled leaves the pages in the old words."""
    compiled = {
        _key(entry): entry.msgstr or dict(entry.msgstr_plural)
        for entry in polib.mofile(str(CATALOGUE / "django.mo"))
        if entry.msgid
    }
    source = {
        _key(entry): entry.msgstr or {int(n): text for n, text in entry.msgstr_plural.items()}
        for entry in _catalogue().translated_entries()
    }
    compiled = {
        key: ({int(n): text for n, text in value.items()} if isinstance(value, dict) else value)
        for key, value in compiled.items()
    }
    assert compiled == source


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_every_string_in_the_code_is_in_the_catalogue(tmp_path: Path) -> None:
    """`make messages` on a copy of the sources would add nothing to the catalogue."""
    base = Path(settings.BASE_DIR)
    copy = tmp_path / "hmsportal"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for name in ("cards", "hmsportal", "orders", "registry", "templates", "locale"):
        shutil.copytree(base / name, copy / name, ignore=ignore)
    shutil.copy(base / "manage.py", copy / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "nb", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        # The copy's own locale/ is the one makemessages writes; settings stay the project's.
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "hmsportal.settings",
            "PYTHONPATH": str(copy),
            "HMSPORTAL_VAR_DIR": str(tmp_path / "var"),
        },
    )
    wanted = {_key(entry) for entry in polib.pofile(str(copy / "locale/nb/LC_MESSAGES/django.po"))}
    present = {_key(entry) for entry in _catalogue()}
    assert sorted(wanted - present) == [], "run `make messages` and translate the new entries"
    assert sorted(present - wanted) == [], "run `make messages` to drop the entries no longer used"
