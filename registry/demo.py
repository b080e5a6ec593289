"""Demo data for the embedded registry, in the dataset format of docs/registry-dataset.md.

Deterministic: identities (organisation numbers, identity numbers, names) come from a
random.Random with a fixed seed, so seeding again gives the same people and firms. Dates are
relative to `today` so that new hires stay new and permits stay about to expire; they are
drawn with one rng.random() call each, so the identities never depend on the day.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any

from registry.identifiers import national_id_with_check_digits, orgnr_with_check_digit
from registry.selectors import KEY_ROLE_CODES

DEMO_SEED = 20260101
SYNTHETIC_SEED = 78200

MALE_FIRST_NAMES = (
    "Ole", "Lars", "Jan", "Per", "Kjell", "Bjørn", "Arne", "Knut", "Svein", "Thomas",
    "Hans", "Geir", "Tor", "Morten", "Jon", "Espen", "Erik", "Anders", "Martin", "Magnus",
    "Jonas", "Sindre", "Henrik", "Kristian", "Eirik", "Håkon", "Vegard", "Øyvind", "Stian",
    "Trond", "Rune", "Audun", "Sigurd", "Emil", "Mathias", "Fredrik", "Aksel", "Even",
)  # fmt: skip
FEMALE_FIRST_NAMES = (
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Hilde",
    "Nina", "Ida", "Silje", "Ingeborg", "Nora", "Emma", "Sara", "Maria", "Thea", "Camilla",
    "Kristin", "Tone", "Hanne", "Solveig", "Randi", "Guro", "Marte", "Synnøve", "Åse",
)  # fmt: skip
LAST_NAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen",
    "Lund", "Sørensen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen",
    "Eide", "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen", "Mathisen", "Lie",
    "Amundsen", "Rasmussen", "Lunde", "Solheim", "Berge", "Moe", "Nygård", "Bakke", "Myhre",
    "Aas", "Holm", "Sæther", "Vik", "Fossum", "Ødegård", "Haugland", "Brekke", "Tveit",
)  # fmt: skip
# Workers of the Lithuanian business and EEA workers on D-numbers.
BALTIC_NAMES = (
    ("Tomas", "Kazlauskas"), ("Mindaugas", "Petrauskas"), ("Darius", "Jankauskas"),
    ("Andrius", "Stankevičius"), ("Žygimantas", "Vasiliauskas"), ("Rolandas", "Žukauskas"),
)  # fmt: skip
POLISH_NAMES = (("Piotr", "Nowak"), ("Tomasz", "Wiśniewski"), ("Katarzyna", "Wójcik"))

ADDRESSES = (
    ("Torggata 5", "0181", "Oslo"),
    ("Strandgaten 18", "5013", "Bergen"),
    ("Olav Tryggvasons gate 24", "7011", "Trondheim"),
    ("Løkkeveien 2", "4008", "Stavanger"),
    ("Storgata 88", "9008", "Tromsø"),
    ("Dronningens gate 10", "8006", "Bodø"),
    ("Markens gate 30", "4611", "Kristiansand"),
    ("Nedre Storgate 12", "3015", "Drammen"),
    ("Fjellhamarveien 40", "1472", "Fjellhamar"),
    ("Brobekkveien 80", "0582", "Oslo"),
    ("Sandviksveien 4", "5035", "Bergen"),
    ("Industriveien 7", "1481", "Hagan"),
    ("Kongsgårdmoen 3", "3611", "Kongsberg"),
    ("Vestre Rosten 81", "7072", "Heimdal"),
)
TRADES = ("Bygg", "Byggservice", "Tømrer", "Mur og Puss", "Elektro", "Rør", "Maling", "Anlegg")
CONSTRUCTION_CODES = ("41.200", "42.110", "43.210", "43.220", "43.320", "43.330", "43.910")
CLEANING_CODE = "81.210"
STAFFING_CODE = "78.200"


@dataclass
class _Generator:
    """Builds the three dataset sections, handing out unique identifiers and names."""

    rng: random.Random
    today: datetime.date
    unique_names: bool = True
    organisations: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    employments: list[dict[str, Any]] = field(default_factory=list)
    _orgnrs: set[str] = field(default_factory=set)
    _national_ids: set[str] = field(default_factory=set)
    _names: set[tuple[str, str]] = field(default_factory=set)

    def days_ago(self, low: int, high: int) -> datetime.date:
        return self.today - datetime.timedelta(days=low + int(self.rng.random() * (high - low)))

    def in_days(self, days: int) -> datetime.date:
        return self.today + datetime.timedelta(days=days)

    def orgnr(self) -> str:
        while True:
            candidate = orgnr_with_check_digit(f"9{self.rng.randrange(10**7):07d}")
            if candidate is not None and candidate not in self._orgnrs:
                self._orgnrs.add(candidate)
                return candidate

    def birth_date(self, *, earliest: int = 1960, latest: int = 2003) -> datetime.date:
        # Of working age whatever the day; the years bound the draw, not the call count.
        first = datetime.date(earliest, 1, 1)
        span = (datetime.date(latest, 12, 31) - first).days
        return first + datetime.timedelta(days=int(self.rng.random() * span))

    def national_id(
        self,
        born: datetime.date,
        *,
        male: bool,
        d_number: bool = False,
        scheme_2032_base: int = 11,
    ) -> str:
        # A D-number adds 4 to the first digit of the day; individual numbers 000-499 mean
        # born 1900-1999 and 500-999 born 2000-2039; an odd third digit means a man.
        day = born.day + (40 if d_number else 0)
        prefix = f"{day:02d}{born.month:02d}{born.year % 100:02d}"
        low, high = (0, 500) if born.year < 2000 else (500, 1000)
        while True:
            individual = self.rng.randrange(low, high)
            if individual % 2 != int(male):
                individual ^= 1
            candidate = national_id_with_check_digits(
                f"{prefix}{individual:03d}", scheme_2032_base=scheme_2032_base
            )
            if candidate is not None and candidate not in self._national_ids:
                self._national_ids.add(candidate)
                return candidate

    def name(self, male: bool) -> tuple[str, str]:
        first_names = MALE_FIRST_NAMES if male else FEMALE_FIRST_NAMES
        while True:
            name = (self.rng.choice(first_names), self.rng.choice(LAST_NAMES))
            if not self.unique_names or name not in self._names:
                self._names.add(name)
                return name

    def person(
        self,
        *,
        name: tuple[str, str] | None = None,
        male: bool | None = None,
        d_number: bool = False,
        d_number_inactive_since: datetime.date | None = None,
        scheme_2032_base: int = 11,
        eea_citizen: bool = True,
        permit_until: datetime.date | None = None,
        senior: bool = False,
    ) -> str:
        if male is None:
            male = self.rng.random() < 0.5
        if name is None:
            name = self.name(male)
        else:
            self._names.add(name)
        # Those who run a firm were born early enough to have founded it.
        born = self.birth_date(latest=1980) if senior else self.birth_date()
        national_id = self.national_id(
            born, male=male, d_number=d_number, scheme_2032_base=scheme_2032_base
        )
        entry: dict[str, Any] = {
            "id": national_id,
            "first_name": name[0],
            "last_name": name[1],
            # Derived from the number, except under the 2032 scheme where it cannot be.
            "birth_date": born.isoformat() if scheme_2032_base != 11 else None,
            "d_number_active": d_number_inactive_since is None,
            "eea_citizen": eea_citizen,
            "permit_until": permit_until.isoformat() if permit_until else None,
        }
        if d_number_inactive_since is not None:
            entry["d_number_inactive_since"] = d_number_inactive_since.isoformat()
        self.persons.append(entry)
        return national_id

    def unit(
        self,
        *,
        name: str,
        form: str,
        industry_code: str,
        address: tuple[str, str, str],
        registered_on: datetime.date,
        parent: str | None = None,
        roles: tuple[tuple[str, str], ...] = (),
        vat_registered: bool = True,
        cleaning_approved: bool | str | None = None,
        staffing_approved: bool | None = None,
        bankrupt: bool = False,
        under_liquidation: bool = False,
        deleted_on: datetime.date | None = None,
    ) -> str:
        orgnr = self.orgnr()
        street, postcode, city = address
        self.organisations.append(
            {
                "orgnr": orgnr,
                "parent_orgnr": parent,
                "name": name,
                "form": form,
                "registered_on": registered_on.isoformat(),
                "deleted_on": deleted_on.isoformat() if deleted_on else None,
                "bankrupt": bankrupt,
                "under_liquidation": under_liquidation,
                "under_forced_dissolution": False,
                "vat_registered": vat_registered,
                "cleaning_approved": cleaning_approved,
                "staffing_approved": staffing_approved,
                "industry_code": industry_code,
                "address": {"street": street, "postcode": postcode, "city": city},
                "roles": [{"person": person, "role": code} for person, code in roles],
            }
        )
        return orgnr

    def employ(
        self,
        orgnr: str,
        person: str,
        *,
        start: datetime.date,
        end: datetime.date | None = None,
        hired_out: bool = False,
    ) -> None:
        self.employments.append(
            {
                "orgnr": orgnr,
                "person": person,
                "start": start.isoformat(),
                "end": end.isoformat() if end else None,
                "hired_out": hired_out,
            }
        )

    def staff(
        self,
        orgnr: str,
        count: int,
        *,
        male_share: float = 0.85,
        hired_out: bool = False,
        longest_days: int = 2900,
        eea_citizen: bool = True,
    ) -> list[str]:
        """Employ count new people at the unit, with starts spread over the past years."""
        hired = []
        for _ in range(count):
            person = self.person(male=self.rng.random() < male_share, eea_citizen=eea_citizen)
            self.employ(orgnr, person, start=self.days_ago(30, longest_days), hired_out=hired_out)
            hired.append(person)
        return hired

    def dataset(self) -> dict[str, Any]:
        return {
            "organisations": self.organisations,
            "persons": self.persons,
            "employments": self.employments,
        }


def demo_dataset(today: datetime.date) -> dict[str, Any]:
    """About fifteen firms and eighty people showing every case the rules engine knows."""
    rng = random.Random(DEMO_SEED)  # noqa: S311 - demo data, not secrets
    g = _Generator(rng=rng, today=today)
    # The people who act for the firms (key roles), by name so the demo login is memorable.
    ingrid = g.person(name=("Ingrid", "Bakken"), male=False, senior=True)
    geir = g.person(name=("Geir", "Solberg"), male=True, senior=True)
    ole = g.person(name=("Ole", "Haugen"), male=True, senior=True)
    per = g.person(name=("Per", "Hansen"), male=True, senior=True)
    marit = g.person(name=("Marit", "Lunde"), male=False, senior=True)
    knut = g.person(name=("Knut", "Strand"), male=True, senior=True)
    hilde = g.person(name=("Hilde", "Moen"), male=False, senior=True)
    tone = g.person(name=("Tone", "Eide"), male=False, senior=True)
    silje = g.person(name=("Silje", "Berge"), male=False, senior=True)
    kari = g.person(name=("Kari", "Nilsen"), male=False, senior=True)
    anders = g.person(name=("Anders", "Lie"), male=True, senior=True)
    morten = g.person(name=("Morten", "Dahl"), male=True, senior=True)
    lars = g.person(name=("Lars", "Nygård"), male=True, senior=True)
    espen = g.person(name=("Espen", "Halvorsen"), male=True, senior=True)
    long_ago = g.days_ago(2000, 3000)

    # A construction group whose employees are registered on three sub-units.
    nordbygg = g.unit(
        name="Nordbygg AS",
        form="AS",
        industry_code="41.200",
        address=ADDRESSES[0],
        registered_on=datetime.date(2004, 3, 15),
        roles=((ingrid, "DAGL"), (geir, "LEDE")),
    )
    branches = {}
    for label, address in (
        ("Oslo", ADDRESSES[9]),
        ("Bergen", ADDRESSES[10]),
        ("Trondheim", ADDRESSES[13]),
    ):
        branches[label] = g.unit(
            name=f"Nordbygg AS avd. {label}",
            form="BEDR",
            industry_code="41.200",
            address=address,
            registered_on=datetime.date(2004, 3, 15),
            parent=nordbygg,
        )
    g.employ(branches["Oslo"], ingrid, start=long_ago)
    g.staff(branches["Oslo"], 5)
    g.staff(branches["Bergen"], 4)
    g.staff(branches["Trondheim"], 4)
    # Two who left, a new hire within 30 days and one who starts later.
    g.employ(branches["Oslo"], g.person(), start=g.days_ago(700, 1500), end=g.days_ago(55, 65))
    g.employ(branches["Bergen"], g.person(), start=g.days_ago(900, 1800), end=g.days_ago(380, 420))
    g.employ(branches["Oslo"], g.person(male=True), start=g.in_days(10))
    g.employ(branches["Bergen"], g.person(male=False), start=g.in_days(45))
    # An EEA worker on an active D-number.
    g.employ(
        branches["Trondheim"],
        g.person(name=POLISH_NAMES[0], male=True, d_number=True),
        start=g.days_ago(100, 400),
    )

    fjellhamar = g.unit(
        name="Fjellhamar Tak og Fasade AS",
        form="AS",
        industry_code="43.910",
        address=ADDRESSES[8],
        registered_on=datetime.date(2011, 9, 1),
        roles=((geir, "DAGL"),),
    )
    g.employ(fjellhamar, geir, start=long_ago)
    g.staff(fjellhamar, 5)

    elektro = g.unit(
        name="Elektro Øst AS",
        form="AS",
        industry_code="43.210",
        address=ADDRESSES[11],
        registered_on=datetime.date(2016, 5, 20),
        roles=((espen, "DAGL"), (ingrid, "MEDL")),
    )
    g.employ(elektro, espen, start=long_ago)
    g.staff(elektro, 4)
    # A number under the 2032 scheme (first check digit from 12 minus the weighted sum).
    g.employ(elektro, g.person(male=False, scheme_2032_base=12), start=g.days_ago(60, 300))

    # Sole proprietorships: one under the VAT threshold (allowed for an ENK).
    haugen = g.unit(
        name="Haugen Snekkerservice Ole Haugen",
        form="ENK",
        industry_code="43.320",
        address=ADDRESSES[12],
        registered_on=datetime.date(2019, 2, 1),
        roles=((ole, "INNH"),),
        vat_registered=False,
    )
    g.staff(haugen, 1, longest_days=700)
    hansen = g.unit(
        name="Rørlegger Per Hansen",
        form="ENK",
        industry_code="43.220",
        address=ADDRESSES[6],
        registered_on=datetime.date(2008, 6, 10),
        roles=((per, "INNH"),),
    )
    g.staff(hansen, 2)

    vestland = g.unit(
        name="Vestland Grunnarbeid AS",
        form="AS",
        industry_code="42.110",
        address=ADDRESSES[1],
        registered_on=datetime.date(2013, 1, 7),
        roles=((marit, "DAGL"),),
        bankrupt=True,
    )
    g.employ(vestland, marit, start=long_ago)
    g.staff(vestland, 4)

    deleted_on = g.days_ago(110, 130)
    gammel_mur = g.unit(
        name="Gammel Mur AS",
        form="AS",
        industry_code="43.330",
        address=ADDRESSES[7],
        registered_on=datetime.date(1998, 4, 2),
        roles=((knut, "DAGL"),),
        deleted_on=deleted_on,
    )
    ended = deleted_on - datetime.timedelta(days=14)
    g.employ(gammel_mur, knut, start=long_ago, end=ended)
    for _ in range(3):
        g.employ(gammel_mur, g.person(male=True), start=g.days_ago(400, 2500), end=ended)

    # Cleaning: approved, not approved, application pending, approved without employees.
    glans = g.unit(
        name="Glans Renhold AS",
        form="AS",
        industry_code=CLEANING_CODE,
        address=ADDRESSES[3],
        registered_on=datetime.date(2012, 11, 12),
        roles=((hilde, "DAGL"), (ingrid, "LEDE")),
        cleaning_approved="approved_with_employees",
    )
    g.employ(glans, hilde, start=long_ago)
    g.staff(glans, 5, male_share=0.3)
    # From outside the EEA, on a residence permit that ends in a few months.
    g.employ(
        glans,
        g.person(
            name=("Maricel", "Santos"),
            male=False,
            eea_citizen=False,
            permit_until=g.today + datetime.timedelta(days=100),
        ),
        start=g.days_ago(200, 400),
    )
    skinnende = g.unit(
        name="Skinnende Rent AS",
        form="AS",
        industry_code=CLEANING_CODE,
        address=ADDRESSES[2],
        registered_on=datetime.date(2017, 8, 30),
        roles=((tone, "DAGL"),),
        cleaning_approved=False,
    )
    g.employ(skinnende, tone, start=long_ago)
    g.staff(skinnende, 3, male_share=0.3)
    ny_start = g.unit(
        name="Ny Start Renhold AS",
        form="AS",
        industry_code=CLEANING_CODE,
        address=ADDRESSES[5],
        registered_on=g.days_ago(150, 200),
        roles=((silje, "DAGL"),),
        cleaning_approved="application_pending",
    )
    g.employ(ny_start, silje, start=g.days_ago(100, 140))
    g.staff(ny_start, 2, male_share=0.3, longest_days=90)
    g.unit(
        name="Kari Nilsen Renhold",
        form="ENK",
        industry_code=CLEANING_CODE,
        address=ADDRESSES[4],
        registered_on=datetime.date(2020, 4, 14),
        roles=((kari, "INNH"),),
        vat_registered=False,
        cleaning_approved="approved_without_employees",
    )

    # Staffing businesses: one approved, one not.
    bemanning = g.unit(
        name="Bemanning Nord AS",
        form="AS",
        industry_code=STAFFING_CODE,
        address=ADDRESSES[4],
        registered_on=datetime.date(2014, 10, 1),
        roles=((anders, "DAGL"), (ingrid, "LEDE")),
        staffing_approved=True,
    )
    g.employ(bemanning, anders, start=long_ago)
    g.staff(bemanning, 6, hired_out=True)
    kvikk = g.unit(
        name="Kvikk Bemanning AS",
        form="AS",
        industry_code=STAFFING_CODE,
        address=ADDRESSES[0],
        registered_on=datetime.date(2021, 3, 3),
        roles=((morten, "DAGL"),),
        staffing_approved=False,
    )
    g.employ(kvikk, morten, start=g.days_ago(600, 1000))
    g.staff(kvikk, 3, hired_out=True, longest_days=900)

    # A foreign (Lithuanian) business with its Norwegian representative and D-number workers.
    baltic = g.unit(
        name="Baltic Statyba UAB NUF",
        form="NUF",
        industry_code="41.200",
        address=ADDRESSES[10],
        registered_on=datetime.date(2022, 2, 15),
        roles=((lars, "REPR"),),
    )
    for index, name in enumerate(BALTIC_NAMES[:5]):
        inactive_since = g.days_ago(40, 50) if index == 4 else None
        worker = g.person(
            name=name, male=True, d_number=True, d_number_inactive_since=inactive_since
        )
        g.employ(baltic, worker, start=g.days_ago(90, 600))
    return g.dataset()


def synthetic_dataset(today: datetime.date, *, size: int) -> dict[str, Any]:
    """size organisations with about five employees each, for benchmarks.

    Every twentieth unit is a sub-unit of the main unit before it; every main unit has a
    DAGL or INNH among its employees. Some units clean (with every Renholdsregisteret
    status), some are staffing businesses, some employments have ended or start later.
    """
    rng = random.Random(SYNTHETIC_SEED)  # noqa: S311 - demo data, not secrets
    g = _Generator(rng=rng, today=today, unique_names=False)
    cleaning_statuses = (
        "approved_with_employees",
        "approved_without_employees",
        "application_pending",
        "card_order_pending",
        "not_approved",
    )
    main: tuple[str, str] | None = None  # (orgnr, name) of the last main unit
    for index in range(size):
        address = g.rng.choice(ADDRESSES)
        registered_on = datetime.date(1990, 1, 1) + datetime.timedelta(days=g.rng.randrange(10000))
        if main is not None and index % 20 == 19:
            orgnr = g.unit(
                name=f"{main[1]} avd. {address[2]}"[:300],
                form="BEDR",
                industry_code=CONSTRUCTION_CODES[0],
                address=address,
                registered_on=registered_on,
                parent=main[0],
            )
            g.staff(orgnr, 3 + g.rng.randrange(5))
            continue
        employees = [g.person(male=g.rng.random() < 0.8) for _ in range(3 + g.rng.randrange(5))]
        form = "ENK" if index % 10 == 3 else "AS"
        industry_code = g.rng.choice(CONSTRUCTION_CODES)
        cleaning: str | None = None
        staffing: bool | None = None
        if index % 8 == 0:
            industry_code = CLEANING_CODE
            cleaning = cleaning_statuses[(index // 8) % len(cleaning_statuses)]
        elif index % 25 == 5:
            industry_code = STAFFING_CODE
            staffing = index % 50 != 5
        name = f"{g.rng.choice(LAST_NAMES)} {g.rng.choice(TRADES)} {form}"
        orgnr = g.unit(
            name=name,
            form=form,
            industry_code=industry_code,
            address=address,
            registered_on=registered_on,
            roles=((employees[0], "INNH" if form == "ENK" else "DAGL"),),
            vat_registered=not (form == "ENK" and index % 20 == 3),
            cleaning_approved=cleaning,
            staffing_approved=staffing,
            bankrupt=index % 97 == 7,
        )
        main = (orgnr, name)
        for position, person in enumerate(employees):
            roll = g.rng.random()
            if position > 0 and roll < 0.05:
                g.employ(orgnr, person, start=g.days_ago(400, 2000), end=g.days_ago(1, 300))
            elif position > 0 and roll < 0.08:
                g.employ(orgnr, person, start=g.in_days(1 + int(roll * 600)))
            else:
                g.employ(orgnr, person, start=g.days_ago(1, 3000), hired_out=staffing is not None)
    return g.dataset()


@dataclass(frozen=True)
class KeyRoleHolder:
    """A person who may act for units through a key role: whom the demo login can be."""

    national_id: str
    full_name: str
    organisations: tuple[tuple[str, str, str], ...]  # (name, orgnr, role code)


def key_role_holders(dataset: dict[str, Any]) -> list[KeyRoleHolder]:
    """Everyone in the dataset holding a key role (KEY_ROLE_CODES), sorted by name."""
    names = {p["id"]: (p["last_name"], p["first_name"]) for p in dataset.get("persons", [])}
    held: dict[str, list[tuple[str, str, str]]] = {}
    for unit in dataset.get("organisations", []):
        for role in unit["roles"]:
            if role["role"] in KEY_ROLE_CODES:
                held.setdefault(role["person"], []).append(
                    (unit["name"], unit["orgnr"], role["role"])
                )
    holders = [
        KeyRoleHolder(
            national_id=national_id,
            full_name=" ".join(reversed(names.get(national_id, (national_id, "")))).strip(),
            organisations=tuple(units),
        )
        for national_id, units in held.items()
    ]
    return sorted(holders, key=lambda h: (names.get(h.national_id, ("", "")), h.national_id))
