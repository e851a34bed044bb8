"""The sections of a proposal, as data, and the pure functions that check and summarise them.

Each section is one JSON document (``ProposalSection.content``). ``clean_section`` turns what the editor
sends into that document and refuses what is malformed; ``missing_items`` says what a complete proposal
still lacks; ``refresh_derived`` copies the facts officers filter on into tags and columns; ``snapshot``
gives the whole proposal as plain values for display, PDFs and diffs.

What a draft may hold
---------------------
A draft may be *incomplete*: blank fields and missing rows are always saved, so partial work is never
refused. A draft may not hold *malformed* values (a unit cost of "abc" or "-5", a site outside the
country, an unknown Red List code): such a save is refused as a whole, with one message per field path
(``{"lines-2-unit_cost": "Budget line 3: unit cost must be a number like 1500.50"}``), and nothing
stored changes. The applicant's typing is not lost meanwhile: the form keeps it on the page, the editor's
script keeps it in the browser's storage until the server confirms a save, and a form posted without
JavaScript is shown again with the typed values and the messages. Storing bad text instead would let
budget totals and officers' filters be computed from garbage.

Rules that relate a field to another section or to the call (a milestone outside the project period, a
budget year after the project ends, word limits) never block a save: they are listed by ``missing_items``
and block only submission, so that changing one field never makes another one unsaveable.

Stored form
-----------
Strings are trimmed. Money is an integer of minor units (``unit_cost_minor``, ``cofinancing_minor``);
the editor sends decimal text (``unit_cost``: "1500.50"), converted with ``Money.from_decimal``, never via
float. Quantities, baselines and targets are normalised decimal strings; years and time shares are ints;
latitude and longitude are numbers with at most 6 decimals; dates are ISO strings. ``clean_section``
accepts the stored form as well, so cleaning stored content gives it back unchanged.
"""

import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from fundapp.core.money import Money, minor_unit_exponent
from fundapp.extensions import db
from fundapp.reference.models import ReferenceItem, Vocabulary

# -- the sections -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: object
    help: object = ""
    #: Word limits of the section's long text fields: {field name: words}.
    word_limits: dict = field(default_factory=dict)


SECTIONS = [
    SectionSpec(
        "summary",
        _l("Summary"),
        _l(
            "What the project will do, where, and for which species, "
            "in words a newspaper reader would follow."
        ),
        {"summary": 300},
    ),
    SectionSpec(
        "problem",
        _l("Problem and objectives"),
        _l("The conservation problem the project addresses, and what it sets out to change."),
        {"problem": 800, "objectives": 400},
    ),
    SectionSpec(
        "logframe",
        _l("Logical framework"),
        _l(
            "Objectives, the outputs that achieve them and the activities that produce the outputs; "
            "indicators with a baseline and a target. Pick a standard indicator where one fits: "
            "the fund adds them up across all its grants."
        ),
    ),
    SectionSpec(
        "sites",
        _l("Sites"),
        _l(
            "Where the work happens. Latitude and longitude in decimal degrees, "
            "e.g. 43.65 and 51.17 for Aktau."
        ),
    ),
    SectionSpec(
        "species", _l("Species"), _l("The species the project helps, with their IUCN Red List category.")
    ),
    SectionSpec(
        "threats",
        _l("Threats and actions"),
        _l(
            "The direct threats the project reduces and the conservation actions it takes "
            "(IUCN-CMP classifications)."
        ),
    ),
    SectionSpec(
        "gbf_targets",
        _l("Global Biodiversity Framework targets"),
        _l("The Kunming-Montreal targets the project contributes to."),
    ),
    SectionSpec("timeline", _l("Timeline"), _l("Project start and end, and the milestones in between.")),
    SectionSpec("team", _l("Team"), _l("The people who will do the work and the share of their time.")),
    SectionSpec(
        "risks",
        _l("Risks and safeguards"),
        _l("What could go wrong and how you would respond; environmental and social safeguards."),
    ),
    SectionSpec(
        "budget",
        _l("Budget"),
        _l(
            "One line per cost. Amounts in the call's currency, e.g. 1500.50; co-financing is the part "
            "of a line paid from other sources."
        ),
    ),
]
SECTIONS_BY_KEY = {spec.key: spec for spec in SECTIONS}
SECTION_KEYS = [spec.key for spec in SECTIONS]

BUDGET_CATEGORIES = {
    "staff": _l("Staff"),
    "travel": _l("Travel"),
    "equipment": _l("Equipment"),
    "fieldwork": _l("Fieldwork"),
    "subgrants": _l("Sub-grants"),
    "training": _l("Training"),
    "communications": _l("Communications"),
    "overheads": _l("Overheads"),
    "other": _l("Other"),
}

LIKELIHOODS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}

#: Environmental and social safeguards questions; a "yes" needs an explanation.
SAFEGUARDS = {
    "resettlement": _l(
        "Will the project lead to involuntary resettlement or restrict people's access to "
        "land or natural resources they use?"
    ),
    "indigenous_peoples": _l("Will indigenous peoples or local communities be affected?"),
    "protected_areas": _l("Will the project work inside protected areas?"),
    "pesticides": _l("Will the project use pesticides or other hazardous chemicals?"),
    "cultural_heritage": _l("Could the project affect cultural heritage sites?"),
    "labour_risks": _l(
        "Does the work involve hazardous conditions for workers or volunteers "
        "(e.g. at sea, in mountains, in winter)?"
    ),
}
YES_NO = {"yes": _l("Yes"), "no": _l("No")}

#: Budget years run from 1 to this; a project lasts at most as many years.
MAX_PROJECT_YEARS = 5
#: A repeating group holds at most this many rows (a guard against runaway input, not a rule of the fund).
MAX_ROWS = 200
SHORT_TEXT = 300
LONG_TEXT = 20_000
#: No budget line may exceed this many minor units (a guard against typos of extra zeros, ~1e12 KZT).
MAX_LINE_MINOR = 10**14
MAX_QUANTITY = Decimal(1_000_000)


def section_spec(key):
    return SECTIONS_BY_KEY.get(key)


def word_count(text):
    """Words as the editor counts them: runs of non-space characters."""
    return len((text or "").split())


# -- the country's border -----------------------------------------------------------------------------

#: Kazakhstan's border as (longitude, latitude), simplified from Natural Earth 1:110m (public domain),
#: with the coastline replaced by an approximation of the Kazakh sector of the northern and middle Caspian,
#: so that marine sites (seal haul-outs, the marine reserve on the shelf) count as inside. A fund in another
#: country sets COUNTRY_BOUNDARY in its config to its own list of (longitude, latitude) pairs.
KAZAKHSTAN_BOUNDARY = (
    (70.96, 42.27),
    (70.39, 42.08),
    (69.07, 41.38),
    (68.63, 40.67),
    (68.26, 40.66),
    (67.99, 41.14),
    (66.71, 41.17),
    (66.51, 41.99),
    (66.02, 41.99),
    (66.10, 43.00),
    (64.90, 43.73),
    (63.19, 43.65),
    (62.01, 43.50),
    (61.06, 44.41),
    (60.24, 44.78),
    (58.69, 45.50),
    (58.50, 45.59),
    (55.93, 45.00),
    (55.97, 41.31),
    (55.46, 41.26),
    (54.76, 42.04),
    (54.08, 42.32),
    (52.94, 42.12),
    (52.50, 41.78),
    # The Caspian: the sea boundary with Turkmenistan, Azerbaijan and Russia (approximate median lines).
    (51.60, 41.75),
    (50.10, 42.55),
    (49.50, 43.40),
    (49.00, 44.50),
    (49.20, 45.50),
    (49.10, 46.40),
    (48.59, 46.56),
    (48.69, 47.08),
    (48.06, 47.74),
    (47.32, 47.72),
    (46.47, 48.39),
    (47.04, 49.15),
    (46.75, 49.36),
    (47.55, 50.45),
    (48.58, 49.87),
    (48.70, 50.61),
    (50.77, 51.69),
    (52.33, 51.72),
    (54.53, 51.03),
    (55.72, 50.62),
    (56.78, 51.04),
    (58.36, 51.06),
    (59.64, 50.55),
    (59.93, 50.84),
    (61.34, 50.80),
    (61.59, 51.27),
    (59.97, 51.96),
    (60.93, 52.45),
    (60.74, 52.72),
    (61.70, 52.98),
    (60.98, 53.66),
    (61.44, 54.01),
    (65.18, 54.35),
    (65.67, 54.60),
    (68.17, 54.97),
    (69.07, 55.39),
    (70.87, 55.17),
    (71.18, 54.13),
    (72.22, 54.38),
    (73.51, 54.04),
    (73.43, 53.49),
    (74.38, 53.55),
    (76.89, 54.49),
    (76.53, 54.18),
    (77.80, 53.40),
    (80.04, 50.86),
    (80.57, 51.39),
    (81.95, 50.81),
    (83.38, 51.07),
    (83.94, 50.89),
    (84.42, 50.31),
    (85.12, 50.12),
    (85.54, 49.69),
    (86.83, 49.83),
    (87.36, 49.21),
    (86.60, 48.55),
    (85.77, 48.46),
    (85.72, 47.45),
    (85.16, 47.00),
    (83.18, 47.33),
    (82.46, 45.54),
    (81.95, 45.32),
    (79.97, 44.92),
    (80.87, 43.18),
    (80.18, 42.92),
    (80.26, 42.35),
    (79.64, 42.50),
    (79.14, 42.86),
    (77.66, 42.96),
    (76.00, 42.99),
    (75.64, 42.88),
    (74.21, 43.30),
    (73.65, 43.09),
    (73.49, 42.50),
    (71.84, 42.85),
    (71.19, 42.70),
)


def _boundary():
    if has_app_context() and current_app.config.get("COUNTRY_BOUNDARY"):
        return current_app.config["COUNTRY_BOUNDARY"]
    return KAZAKHSTAN_BOUNDARY


def point_in_polygon(longitude, latitude, polygon):
    """Ray casting: whether the point lies inside the polygon of (longitude, latitude) vertices."""
    inside = False
    count = len(polygon)
    for i in range(count):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % count]
        if (y1 > latitude) != (y2 > latitude):
            crossing = x1 + (latitude - y1) * (x2 - x1) / (y2 - y1)
            if longitude < crossing:
                inside = not inside
    return inside


def in_country(latitude, longitude):
    """Whether a point (decimal degrees) lies within the fund's country (its sea sector included)."""
    return point_in_polygon(float(longitude), float(latitude), _boundary())


def _country_name():
    # The country is named by its code's region list; messages say "the country" for any other fund.
    country = current_app.config.get("FUND_COUNTRY", "KZ") if has_app_context() else "KZ"
    return _("Kazakhstan") if country == "KZ" else _("the country")


# -- reading numbers ----------------------------------------------------------------------------------

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")


class _NotANumber(ValueError):
    pass


def parse_decimal(value):
    """A Decimal from what a person typed: "1500.50", "1 500,50", "1,500.50"; ints as they are.

    Floats are refused (their decimal value is not what was typed); so are exponents, NaN and infinity.
    Raises ``_NotANumber`` (a ValueError). Blank input is the caller's business.
    """
    if isinstance(value, (bool, float)):
        raise _NotANumber(value)
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str):
        raise _NotANumber(value)
    text = _SPACES.sub("", value.strip())
    if "," in text and "." in text:
        text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        raise _NotANumber(value)
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise _NotANumber(value) from None


def _decimal_places(number):
    exponent = number.as_tuple().exponent
    return max(0, -exponent)


def _normalised(number):
    """A decimal as plain text without superfluous zeros: 2.50 -> "2.5", 10 -> "10"."""
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _is_blank_row(value):
    if isinstance(value, dict):
        return all(_is_blank_row(v) for v in value.values())
    if isinstance(value, list):
        return all(_is_blank_row(v) for v in value)
    return _blank(value)


# -- cleaning -----------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Cleaner:
    """Collects field errors (keyed by the editor's field names) while a section is cleaned."""

    def __init__(self, currency):
        self.currency = currency
        self.errors = {}
        self._codes = {}

    def error(self, path, message):
        self.errors.setdefault(path, str(message))

    # structure

    def mapping(self, value, path):
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(
                path or "content", _("%(what)s must be a set of fields.", what=path or _("The section"))
            )
            return {}
        return value

    def rows(self, value, path, what):
        """The non-blank rows of a repeating group, with their position in the input."""
        if value is None or value == "":
            return []
        if isinstance(value, dict) and all(str(k).isdigit() for k in value):
            value = [value[k] for k in sorted(value, key=int)]
        if not isinstance(value, list):
            self.error(path, _("%(what)s must be a list.", what=what))
            return []
        if len(value) > MAX_ROWS:
            self.error(path, _("%(what)s: at most %(n)d rows.", what=what, n=MAX_ROWS))
            return []
        rows = []
        for index, row in enumerate(value):
            if _is_blank_row(row):
                continue
            if not isinstance(row, dict):
                self.error(f"{path}-{index}", _("%(what)s must be a list of rows.", what=what))
                continue
            rows.append((index, row))
        return rows

    # values

    def text(self, value, path, label, *, max_chars=SHORT_TEXT):
        if value is None:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.error(path, _("%(label)s must be text.", label=label))
            return ""
        value = _CONTROL.sub("", value).strip()
        if len(value) > max_chars:
            self.error(path, _("%(label)s is too long: at most %(n)d characters.", label=label, n=max_chars))
        return value

    def long_text(self, value, path, label):
        value = self.text(value, path, label, max_chars=LONG_TEXT)
        return value.replace("\r\n", "\n")

    def codes_of(self, vocabulary):
        if vocabulary not in self._codes:
            self._codes[vocabulary] = set(
                db.session.scalars(
                    select(ReferenceItem.code).where(
                        ReferenceItem.vocabulary == vocabulary.value, ReferenceItem.is_active.is_(True)
                    )
                )
            )
        return self._codes[vocabulary]

    def code(self, value, path, label, vocabulary):
        value = self.text(value, path, label, max_chars=40)
        if value and value not in self.codes_of(vocabulary):
            self.error(
                path,
                _(
                    "%(label)s: “%(code)s” is not in the list; choose one of the options.",
                    label=label,
                    code=value,
                ),
            )
            return ""
        return value

    def choice(self, value, path, label, choices):
        value = self.text(value, path, label, max_chars=40)
        if value and value not in choices:
            self.error(path, _("%(label)s: “%(code)s” is not one of the options.", label=label, code=value))
            return ""
        return value

    def code_list(self, value, path, label, vocabulary):
        if value is None or value == "":
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(path, _("%(label)s must be a list of codes.", label=label))
            return []
        known = self.codes_of(vocabulary)
        unknown = [v for v in value if v.strip() and v.strip() not in known]
        if unknown:
            self.error(
                path, _("%(label)s: %(codes)s not in the list.", label=label, codes=", ".join(unknown))
            )
            return []
        result = []
        for v in value:
            v = v.strip()
            if v and v not in result:
                result.append(v)
        return result

    def number(
        self,
        value,
        path,
        label,
        *,
        example="12.5",
        places=None,
        minimum=None,
        positive=False,
        maximum=None,
        allow_float=False,
    ):
        """A non-negative decimal; returns the Decimal or None (blank or refused)."""
        if _blank(value):
            return None
        if allow_float and isinstance(value, float) and math.isfinite(value):
            value = repr(value)  # coordinates only: the shortest text that reads back as this float
        try:
            number = parse_decimal(value)
        except _NotANumber:
            self.error(path, _("%(label)s must be a number like %(example)s.", label=label, example=example))
            return None
        if positive and number <= 0:
            self.error(path, _("%(label)s must be more than 0.", label=label))
            return None
        if minimum is not None and number < minimum:
            self.error(
                path,
                _("%(label)s cannot be negative.", label=label)
                if minimum == 0
                else _("%(label)s must be at least %(n)s.", label=label, n=minimum),
            )
            return None
        if maximum is not None and number > maximum:
            self.error(path, _("%(label)s must be at most %(n)s.", label=label, n=_normalised(maximum)))
            return None
        if places is not None and _decimal_places(number) > places:
            self.error(
                path,
                ngettext(
                    "%(label)s can have at most %(num)d decimal place.",
                    "%(label)s can have at most %(num)d decimal places.",
                    places,
                    label=label,
                ),
            )
            return None
        return number

    def whole(self, value, path, label, low, high):
        if _blank(value):
            return None
        try:
            number = parse_decimal(value)
        except _NotANumber:
            number = None
        if number is None or number != number.to_integral_value() or not low <= number <= high:
            self.error(
                path,
                _(
                    "%(label)s must be a whole number from %(low)d to %(high)d.",
                    label=label,
                    low=low,
                    high=high,
                ),
            )
            return None
        return int(number)

    def amount(self, value, minor_value, path, label):
        """Minor units from decimal text (``value``) or, failing that, stored minor units."""
        if _blank(value):
            if isinstance(minor_value, int) and not isinstance(minor_value, bool):
                value = Money(minor_value, self.currency).amount
            else:
                return None
        example = "1500.50" if minor_unit_exponent(self.currency) else "1500"
        places = minor_unit_exponent(self.currency)
        if isinstance(value, Decimal):
            number = value
        else:
            try:
                number = parse_decimal(value)
            except _NotANumber:
                self.error(
                    path, _("%(label)s must be a number like %(example)s.", label=label, example=example)
                )
                return None
        if number < 0:
            self.error(path, _("%(label)s cannot be negative.", label=label))
            return None
        if _decimal_places(number) > places:
            self.error(
                path,
                ngettext(
                    "%(label)s can have at most %(num)d decimal place.",
                    "%(label)s can have at most %(num)d decimal places.",
                    places,
                    label=label,
                )
                if places
                else _("%(label)s must be a whole amount.", label=label),
            )
            return None
        minor = Money.from_decimal(number, self.currency).minor
        if minor > MAX_LINE_MINOR:
            self.error(path, _("%(label)s is too large.", label=label))
            return None
        return minor

    def day(self, value, path, label):
        value = self.text(value, path, label, max_chars=20)
        if not value:
            return ""
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            self.error(path, _("%(label)s must be a date like 2026-09-01.", label=label))
            return ""


def _clean_summary(c, raw):
    return {"summary": c.long_text(raw.get("summary"), "summary", _("Summary"))}


def _clean_problem(c, raw):
    return {
        "problem": c.long_text(raw.get("problem"), "problem", _("Problem statement")),
        "objectives": c.long_text(raw.get("objectives"), "objectives", _("Objectives")),
    }


def _clean_logframe(c, raw):
    objectives = []
    for i, objective in c.rows(raw.get("objectives"), "objectives", _("Objectives")):
        o_path = f"objectives-{i}"
        o_label = _("Objective %(n)d", n=i + 1)
        outputs = []
        for j, output in c.rows(objective.get("outputs"), f"{o_path}-outputs", _("Outputs")):
            p_path = f"{o_path}-outputs-{j}"
            p_label = _("Output %(n)s", n=f"{i + 1}.{j + 1}")
            activities = []
            for k, activity in c.rows(output.get("activities"), f"{p_path}-activities", _("Activities")):
                a_path = f"{p_path}-activities-{k}"
                a_label = _("Activity %(n)s", n=f"{i + 1}.{j + 1}.{k + 1}")
                activities.append(
                    {"text": c.text(activity.get("text"), f"{a_path}-text", a_label, max_chars=1000)}
                )
            outputs.append(
                {
                    "text": c.text(output.get("text"), f"{p_path}-text", p_label, max_chars=1000),
                    "activities": activities,
                }
            )
        objectives.append(
            {
                "text": c.text(objective.get("text"), f"{o_path}-text", o_label, max_chars=1000),
                "outputs": outputs,
            }
        )
    indicators = []
    for i, row in c.rows(raw.get("indicators"), "indicators", _("Indicators")):
        path = f"indicators-{i}"
        label = _("Indicator %(n)d", n=i + 1)
        indicators.append(
            {
                "code": c.code(
                    row.get("code"),
                    f"{path}-code",
                    _("%(row)s: standard indicator", row=label),
                    Vocabulary.STANDARD_INDICATOR,
                ),
                "name": c.text(row.get("name"), f"{path}-name", _("%(row)s: name", row=label)),
                "unit": c.text(row.get("unit"), f"{path}-unit", _("%(row)s: unit", row=label), max_chars=60),
                "baseline": _opt(
                    c.number(
                        row.get("baseline"), f"{path}-baseline", _("%(row)s: baseline", row=label), minimum=0
                    )
                ),
                "target": _opt(
                    c.number(row.get("target"), f"{path}-target", _("%(row)s: target", row=label), minimum=0)
                ),
                "verification": c.text(
                    row.get("verification"),
                    f"{path}-verification",
                    _("%(row)s: means of verification", row=label),
                    max_chars=1000,
                ),
            }
        )
    return {"objectives": objectives, "indicators": indicators}


def _opt(number):
    return "" if number is None else _normalised(number)


def _clean_sites(c, raw):
    sites = []
    for i, row in c.rows(raw.get("sites"), "sites", _("Sites")):
        path = f"sites-{i}"
        label = _("Site %(n)d", n=i + 1)
        latitude = c.number(
            row.get("latitude"),
            f"{path}-latitude",
            _("%(row)s: latitude", row=label),
            example="43.65",
            minimum=Decimal(-90),
            maximum=Decimal(90),
            allow_float=True,
        )
        longitude = c.number(
            row.get("longitude"),
            f"{path}-longitude",
            _("%(row)s: longitude", row=label),
            example="51.17",
            minimum=Decimal(-180),
            maximum=Decimal(180),
            allow_float=True,
        )
        if latitude is not None and longitude is not None and not in_country(latitude, longitude):
            c.error(
                f"{path}-latitude",
                _(
                    "%(row)s: %(lat)s, %(lon)s lies outside %(country)s. Check the coordinates "
                    "(latitude first, in decimal degrees).",
                    row=label,
                    lat=_normalised(latitude),
                    lon=_normalised(longitude),
                    country=_country_name(),
                ),
            )
        sites.append(
            {
                "region": c.code(
                    row.get("region"), f"{path}-region", _("%(row)s: region", row=label), Vocabulary.REGION
                ),
                "name": c.text(row.get("name"), f"{path}-name", _("%(row)s: name", row=label)),
                "protected_area": c.text(
                    row.get("protected_area"),
                    f"{path}-protected_area",
                    _("%(row)s: protected area", row=label),
                ),
                "pa_category": c.code(
                    row.get("pa_category"),
                    f"{path}-pa_category",
                    _("%(row)s: protected area category", row=label),
                    Vocabulary.PROTECTED_AREA_CATEGORY,
                ),
                "latitude": _coordinate(latitude),
                "longitude": _coordinate(longitude),
            }
        )
    return {"sites": sites}


def _coordinate(number):
    # Six decimals is ~0.1 m: more than any site needs, and what a map reads as a number.
    return None if number is None else float(round(number, 6))


def _clean_species(c, raw):
    species = []
    for i, row in c.rows(raw.get("species"), "species", _("Species")):
        path = f"species-{i}"
        label = _("Species %(n)d", n=i + 1)
        species.append(
            {
                "scientific_name": c.text(
                    row.get("scientific_name"),
                    f"{path}-scientific_name",
                    _("%(row)s: scientific name", row=label),
                    max_chars=200,
                ),
                "common_name": c.text(
                    row.get("common_name"),
                    f"{path}-common_name",
                    _("%(row)s: common name", row=label),
                    max_chars=200,
                ),
                "red_list": c.code(
                    row.get("red_list"),
                    f"{path}-red_list",
                    _("%(row)s: Red List category", row=label),
                    Vocabulary.RED_LIST_CATEGORY,
                ),
            }
        )
    return {"species": species}


def _clean_threats(c, raw):
    return {
        "threats": c.code_list(raw.get("threats"), "threats", _("Threats"), Vocabulary.THREAT),
        "actions": c.code_list(
            raw.get("actions"), "actions", _("Conservation actions"), Vocabulary.CONSERVATION_ACTION
        ),
    }


def _clean_gbf_targets(c, raw):
    return {"targets": c.code_list(raw.get("targets"), "targets", _("Targets"), Vocabulary.GBF_TARGET)}


def _clean_timeline(c, raw):
    start = c.day(raw.get("start"), "start", _("Project start"))
    end = c.day(raw.get("end"), "end", _("Project end"))
    if start and end and end <= start:
        c.error("end", _("The project must end after it starts."))
    milestones = []
    for i, row in c.rows(raw.get("milestones"), "milestones", _("Milestones")):
        path = f"milestones-{i}"
        label = _("Milestone %(n)d", n=i + 1)
        milestones.append(
            {
                "title": c.text(row.get("title"), f"{path}-title", _("%(row)s: title", row=label)),
                "date": c.day(row.get("date"), f"{path}-date", _("%(row)s: date", row=label)),
            }
        )
    return {"start": start, "end": end, "milestones": milestones}


def _clean_team(c, raw):
    members = []
    for i, row in c.rows(raw.get("members"), "members", _("Team")):
        path = f"members-{i}"
        label = _("Team member %(n)d", n=i + 1)
        share = row.get("time_share")
        if isinstance(share, str):
            share = share.strip().removesuffix("%")
        members.append(
            {
                "name": c.text(row.get("name"), f"{path}-name", _("%(row)s: name", row=label), max_chars=200),
                "role": c.text(row.get("role"), f"{path}-role", _("%(row)s: role", row=label), max_chars=200),
                "organisation": c.text(
                    row.get("organisation"), f"{path}-organisation", _("%(row)s: organisation", row=label)
                ),
                "time_share": c.whole(
                    share, f"{path}-time_share", _("%(row)s: time share (%%)", row=label), 1, 100
                ),
            }
        )
    return {"members": members}


def _clean_risks(c, raw):
    risks = []
    for i, row in c.rows(raw.get("risks"), "risks", _("Risks")):
        path = f"risks-{i}"
        label = _("Risk %(n)d", n=i + 1)
        risks.append(
            {
                "risk": c.text(
                    row.get("risk"), f"{path}-risk", _("%(row)s: description", row=label), max_chars=2000
                ),
                "likelihood": c.choice(
                    row.get("likelihood"),
                    f"{path}-likelihood",
                    _("%(row)s: likelihood", row=label),
                    LIKELIHOODS,
                ),
                "mitigation": c.text(
                    row.get("mitigation"),
                    f"{path}-mitigation",
                    _("%(row)s: mitigation", row=label),
                    max_chars=2000,
                ),
            }
        )
    given = c.mapping(raw.get("safeguards"), "safeguards")
    safeguards = {}
    for key, question in SAFEGUARDS.items():
        answer = c.mapping(given.get(key), f"safeguards-{key}")
        safeguards[key] = {
            "answer": c.choice(answer.get("answer"), f"safeguards-{key}-answer", question, YES_NO),
            "explanation": c.text(
                answer.get("explanation"), f"safeguards-{key}-explanation", _("Explanation"), max_chars=2000
            ),
        }
    return {"risks": risks, "safeguards": safeguards}


def _clean_budget(c, raw):
    lines = []
    for i, row in c.rows(raw.get("lines"), "lines", _("Budget lines")):
        path = f"lines-{i}"
        label = _("Budget line %(n)d", n=i + 1)
        unit_cost = c.amount(
            row.get("unit_cost"),
            row.get("unit_cost_minor"),
            f"{path}-unit_cost",
            _("%(row)s: unit cost", row=label),
        )
        quantity = c.number(
            row.get("quantity"),
            f"{path}-quantity",
            _("%(row)s: quantity", row=label),
            example="2.5",
            places=2,
            positive=True,
            maximum=MAX_QUANTITY,
        )
        cofinancing = c.amount(
            row.get("cofinancing"),
            row.get("cofinancing_minor"),
            f"{path}-cofinancing",
            _("%(row)s: co-financing", row=label),
        )
        line = {
            "category": c.choice(
                row.get("category"), f"{path}-category", _("%(row)s: category", row=label), BUDGET_CATEGORIES
            ),
            "description": c.text(
                row.get("description"),
                f"{path}-description",
                _("%(row)s: description", row=label),
                max_chars=500,
            ),
            "unit": c.text(row.get("unit"), f"{path}-unit", _("%(row)s: unit", row=label), max_chars=60),
            "unit_cost_minor": unit_cost,
            "quantity": _opt(quantity),
            "year": c.whole(
                row.get("year"), f"{path}-year", _("%(row)s: year", row=label), 1, MAX_PROJECT_YEARS
            ),
            "cofinancing_minor": cofinancing,
        }
        if unit_cost is not None and quantity is not None:
            total = line_total(line, c.currency)
            if total.minor > MAX_LINE_MINOR:
                c.error(f"{path}-quantity", _("%(row)s: the line total is too large.", row=label))
            elif cofinancing is not None and cofinancing > total.minor:
                c.error(
                    f"{path}-cofinancing",
                    _(
                        "%(row)s: co-financing cannot be more than the line total (%(total)s).",
                        row=label,
                        total=str(total),
                    ),
                )
        lines.append(line)
    return {"lines": lines}


_CLEANERS = {
    "summary": _clean_summary,
    "problem": _clean_problem,
    "logframe": _clean_logframe,
    "sites": _clean_sites,
    "species": _clean_species,
    "threats": _clean_threats,
    "gbf_targets": _clean_gbf_targets,
    "timeline": _clean_timeline,
    "team": _clean_team,
    "risks": _clean_risks,
    "budget": _clean_budget,
}


def clean_section(key, raw, *, currency):
    """Check and normalise the content of section ``key`` as the editor sends it.

    Returns ``(content, errors)``: ``errors`` maps the editor's field names (``"lines-2-unit_cost"``) to
    a message naming the row and field; when it is not empty the content must not be stored. Blank
    fields and blank rows are fine (a draft may be incomplete); blank rows are dropped.
    """
    if key not in _CLEANERS:
        raise KeyError(key)
    cleaner = _Cleaner(currency)
    raw = cleaner.mapping(raw, "")
    content = _CLEANERS[key](cleaner, raw)
    return content, cleaner.errors


def empty_content(key, *, currency="KZT"):
    """The content of a section nobody has touched yet, in stored form."""
    content, _errors = clean_section(key, {}, currency=currency)
    return content


def editable_content(key, content, *, currency):
    """Stored content as the editor shows it: amounts as decimal text, numbers as text."""
    content = dict(content or {})
    if not content:
        content = empty_content(key, currency=currency)
    if key == "budget":
        content["lines"] = [
            {
                **{k: v for k, v in line.items() if not k.endswith("_minor")},
                "unit_cost": _amount_text(line.get("unit_cost_minor"), currency),
                "cofinancing": _amount_text(line.get("cofinancing_minor"), currency),
                "year": "" if line.get("year") is None else str(line["year"]),
            }
            for line in content.get("lines", [])
        ]
    elif key == "sites":
        content["sites"] = [
            {
                **site,
                "latitude": _number_text(site.get("latitude")),
                "longitude": _number_text(site.get("longitude")),
            }
            for site in content.get("sites", [])
        ]
    elif key == "team":
        content["members"] = [
            {**m, "time_share": "" if m.get("time_share") is None else str(m["time_share"])}
            for m in content.get("members", [])
        ]
    return content


def _amount_text(minor, currency):
    return "" if minor is None else f"{Money(minor, currency).amount:f}"


def _number_text(value):
    if value is None or value == "":
        return ""
    return _normalised(Decimal(str(value)))


# -- budget -------------------------------------------------------------------------------------------


def line_total(line, currency):
    """Unit cost times quantity of a stored budget line (rounded half to even to the minor unit)."""
    if line.get("unit_cost_minor") is None or not line.get("quantity"):
        return Money.zero(currency)
    return Money(line["unit_cost_minor"], currency) * Decimal(line["quantity"])


def budget_totals_of(content, currency):
    """Totals of a stored budget section: total cost, requested from the fund, co-financing."""
    total = requested = cofinancing = Money.zero(currency)
    for line in (content or {}).get("lines", []):
        line_cost = line_total(line, currency)
        co = Money(line.get("cofinancing_minor") or 0, currency)
        total += line_cost
        cofinancing += co
        requested += line_cost - co if co <= line_cost else Money.zero(currency)
    return {"total": total, "requested": requested, "cofinancing": cofinancing}


def preview_line(row, currency):
    """``(total, requested)`` of a budget line as the editor holds it (text amounts), or None if incomplete
    or malformed: for showing line totals on the page without the editor's script."""
    content, errors = clean_section("budget", {"lines": [row]}, currency=currency)
    lines = content["lines"]
    if errors or not lines or lines[0]["unit_cost_minor"] is None or not lines[0]["quantity"]:
        return None
    total = line_total(lines[0], currency)
    return total, total - Money(lines[0]["cofinancing_minor"] or 0, currency)


def budget_totals(proposal):
    """``{"total", "requested", "cofinancing"}`` as Money, from the proposal's budget section."""
    section = proposal.section("budget")
    return budget_totals_of(section.content if section else {}, proposal.currency)


# -- completeness -------------------------------------------------------------------------------------


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def project_years(content):
    """How many budget years the timeline's project period spans, or None without both dates."""
    start, end = (content or {}).get("start"), (content or {}).get("end")
    if not start or not end:
        return None
    start, end = date.fromisoformat(start), date.fromisoformat(end)
    years = 0
    while _add_years(start, years) <= end:
        years += 1
    return years


def _words_over(spec, content, items):
    for name, limit in spec.word_limits.items():
        words = word_count(content.get(name))
        if words > limit:
            items.append(
                _(
                    "%(section)s: %(field)s has %(words)d words; the limit is %(limit)d.",
                    section=spec.title,
                    field=FIELD_LABELS[spec.key][name],
                    words=words,
                    limit=limit,
                )
            )


FIELD_LABELS = {
    "summary": {"summary": _l("the summary")},
    "problem": {"problem": _l("the problem statement"), "objectives": _l("the objectives")},
}


def _missing_in(key, content, proposal):
    spec = SECTIONS_BY_KEY[key]
    title = spec.title
    items = []

    def need(condition, message):
        if not condition:
            items.append(message)

    if key == "summary":
        need(content.get("summary"), _("%(section)s: write the summary.", section=title))
    elif key == "problem":
        need(content.get("problem"), _("%(section)s: describe the problem.", section=title))
        need(content.get("objectives"), _("%(section)s: state the objectives.", section=title))
    elif key == "logframe":
        objectives = content.get("objectives", [])
        need(objectives, _("%(section)s: add at least one objective.", section=title))
        for i, objective in enumerate(objectives, 1):
            need(objective.get("text"), _("%(section)s: objective %(n)d has no text.", section=title, n=i))
            need(
                objective.get("outputs"),
                _("%(section)s: objective %(n)d needs at least one output.", section=title, n=i),
            )
            for j, output in enumerate(objective.get("outputs", []), 1):
                n = f"{i}.{j}"
                need(output.get("text"), _("%(section)s: output %(n)s has no text.", section=title, n=n))
                need(
                    output.get("activities"),
                    _("%(section)s: output %(n)s needs at least one activity.", section=title, n=n),
                )
                for k, activity in enumerate(output.get("activities", []), 1):
                    need(
                        activity.get("text"),
                        _("%(section)s: activity %(n)s has no text.", section=title, n=f"{n}.{k}"),
                    )
        indicators = content.get("indicators", [])
        need(indicators, _("%(section)s: add at least one indicator.", section=title))
        for i, indicator in enumerate(indicators, 1):
            name = _("indicator %(n)d", n=i)
            need(
                indicator.get("code") or indicator.get("name"),
                _("%(section)s: %(row)s needs a name or a standard indicator.", section=title, row=name),
            )
            for part, label in (
                ("unit", _("a unit")),
                ("baseline", _("a baseline")),
                ("target", _("a target")),
                ("verification", _("a means of verification")),
            ):
                need(
                    indicator.get(part),
                    _("%(section)s: %(row)s needs %(part)s.", section=title, row=name, part=label),
                )
    elif key == "sites":
        sites = content.get("sites", [])
        need(sites, _("%(section)s: add at least one site.", section=title))
        for i, site in enumerate(sites, 1):
            row = _("site %(n)d", n=i)
            for part, label in (("region", _("a region")), ("name", _("a name"))):
                need(
                    site.get(part),
                    _("%(section)s: %(row)s needs %(part)s.", section=title, row=row, part=label),
                )
            need(
                site.get("latitude") is not None and site.get("longitude") is not None,
                _("%(section)s: %(row)s needs a latitude and a longitude.", section=title, row=row),
            )
            need(
                not site.get("pa_category") or site.get("protected_area"),
                _(
                    "%(section)s: %(row)s has a protected area category but no protected area name.",
                    section=title,
                    row=row,
                ),
            )
    elif key == "species":
        species = content.get("species", [])
        need(species, _("%(section)s: add at least one species.", section=title))
        for i, row in enumerate(species, 1):
            name = _("species %(n)d", n=i)
            need(
                row.get("scientific_name"),
                _("%(section)s: %(row)s needs a scientific name.", section=title, row=name),
            )
            need(
                row.get("red_list"),
                _("%(section)s: %(row)s needs a Red List category.", section=title, row=name),
            )
    elif key == "threats":
        need(content.get("threats"), _("%(section)s: choose at least one threat.", section=title))
        need(
            content.get("actions"), _("%(section)s: choose at least one conservation action.", section=title)
        )
    elif key == "gbf_targets":
        need(content.get("targets"), _("%(section)s: choose at least one target.", section=title))
    elif key == "timeline":
        need(content.get("start"), _("%(section)s: give the project start date.", section=title))
        need(content.get("end"), _("%(section)s: give the project end date.", section=title))
        years = project_years(content)
        if years is not None and years > MAX_PROJECT_YEARS:
            items.append(
                _("%(section)s: a project may last at most %(n)d years.", section=title, n=MAX_PROJECT_YEARS)
            )
        milestones = content.get("milestones", [])
        need(milestones, _("%(section)s: add at least one milestone.", section=title))
        for i, milestone in enumerate(milestones, 1):
            row = _("milestone %(n)d", n=i)
            need(milestone.get("title"), _("%(section)s: %(row)s needs a title.", section=title, row=row))
            need(milestone.get("date"), _("%(section)s: %(row)s needs a date.", section=title, row=row))
            when = milestone.get("date")
            if (
                when
                and content.get("start")
                and content.get("end")
                and not (content["start"] <= when <= content["end"])
            ):
                items.append(
                    _(
                        "%(section)s: %(row)s (%(date)s) falls outside the project period.",
                        section=title,
                        row=row,
                        date=when,
                    )
                )
    elif key == "team":
        members = content.get("members", [])
        need(members, _("%(section)s: add at least one team member.", section=title))
        for i, member in enumerate(members, 1):
            row = _("team member %(n)d", n=i)
            need(member.get("name"), _("%(section)s: %(row)s needs a name.", section=title, row=row))
            need(member.get("role"), _("%(section)s: %(row)s needs a role.", section=title, row=row))
            need(
                member.get("time_share") is not None,
                _("%(section)s: %(row)s needs a time share.", section=title, row=row),
            )
    elif key == "risks":
        risks = content.get("risks", [])
        need(risks, _("%(section)s: add at least one risk.", section=title))
        for i, risk in enumerate(risks, 1):
            row = _("risk %(n)d", n=i)
            for part, label in (
                ("risk", _("a description")),
                ("likelihood", _("a likelihood")),
                ("mitigation", _("a mitigation")),
            ):
                need(
                    risk.get(part),
                    _("%(section)s: %(row)s needs %(part)s.", section=title, row=row, part=label),
                )
        safeguards = content.get("safeguards", {})
        for sg_key, question in SAFEGUARDS.items():
            answer = safeguards.get(sg_key, {})
            need(
                answer.get("answer"),
                _("%(section)s: answer “%(question)s”", section=title, question=question),
            )
            need(
                answer.get("answer") != "yes" or answer.get("explanation"),
                _("%(section)s: explain your “yes” to “%(question)s”", section=title, question=question),
            )
    elif key == "budget":
        lines = content.get("lines", [])
        need(lines, _("%(section)s: add at least one budget line.", section=title))
        years = project_years(_content(proposal, "timeline")) if proposal is not None else None
        for i, line in enumerate(lines, 1):
            row = _("line %(n)d", n=i)
            for part, label in (
                ("category", _("a category")),
                ("description", _("a description")),
                ("unit", _("a unit")),
                ("quantity", _("a quantity")),
            ):
                need(
                    line.get(part),
                    _("%(section)s: %(row)s needs %(part)s.", section=title, row=row, part=label),
                )
            need(
                line.get("unit_cost_minor") is not None,
                _("%(section)s: %(row)s needs a unit cost.", section=title, row=row),
            )
            need(
                line.get("year") is not None, _("%(section)s: %(row)s needs a year.", section=title, row=row)
            )
            if years is not None and line.get("year") is not None and line["year"] > years:
                items.append(
                    _(
                        "%(section)s: %(row)s is in year %(year)d, but the project lasts %(years)d.",
                        section=title,
                        row=row,
                        year=line["year"],
                        years=years,
                    )
                )
        if (
            lines
            and budget_totals_of(content, proposal.currency if proposal else "KZT")["requested"].minor <= 0
        ):
            items.append(_("%(section)s: the amount requested from the fund is zero.", section=title))
    _words_over(spec, content, items)
    return items


def _content(proposal, key):
    section = proposal.section(key)
    return (section.content if section is not None else None) or {}


def section_missing(proposal, key):
    """What section ``key`` of ``proposal`` still lacks for submission, as sentences."""
    return _missing_in(key, _content(proposal, key), proposal)


def general_missing(proposal):
    """What the proposal lacks outside its sections: title, theme, eligibility answers."""
    items = []
    call = proposal.call
    if not (proposal.title or "").strip():
        items.append(_("Give the proposal a title."))
    if not proposal.theme:
        items.append(_("Choose the proposal's theme."))
    elif call.themes and proposal.theme not in call.themes:
        items.append(_("The theme you chose is not one of this call's themes; choose another."))
    answers = proposal.eligibility_answers or {}
    for question in call.questions:
        answer = answers.get(str(question.id))
        if answer is None:
            items.append(_("Answer the eligibility question “%(question)s”", question=question.text))
        elif question.disqualifying_answer is not None and answer == question.disqualifying_answer:
            items.append(
                question.explanation
                or _("Your answer to “%(question)s” makes the proposal ineligible.", question=question.text)
            )
    return items


def missing_items(proposal):
    """Everything the proposal still lacks for submission, as sentences a person can act on.

    Budget rules that depend on the call (minimum, maximum, co-financing share) and required attachments
    are checked by the submission rules, not here.
    """
    items = general_missing(proposal)
    for key in SECTION_KEYS:
        items.extend(section_missing(proposal, key))
    return items


# -- derived data -------------------------------------------------------------------------------------


def derived_tags(proposal):
    """The (kind, code) facts officers filter on, from the stored sections."""
    tags = set()
    for site in _content(proposal, "sites").get("sites", []):
        if site.get("region"):
            tags.add(("region", site["region"]))
    for row in _content(proposal, "species").get("species", []):
        if row.get("red_list"):
            tags.add(("red_list", row["red_list"]))
        if row.get("scientific_name"):
            tags.add(("species", row["scientific_name"][:200]))
    threats = _content(proposal, "threats")
    tags.update(("threat", code) for code in threats.get("threats", []))
    tags.update(("action", code) for code in threats.get("actions", []))
    tags.update(("gbf_target", code) for code in _content(proposal, "gbf_targets").get("targets", []))
    return tags


def refresh_derived(session, proposal):
    """Bring the proposal's tags and budget totals in line with its sections (never commits)."""
    from fundapp.applications.models import ProposalTag

    wanted = derived_tags(proposal)
    current = {(tag.kind, tag.code): tag for tag in proposal.tags}
    for key, tag in current.items():
        if key not in wanted:
            proposal.tags.remove(tag)
    for kind, code in sorted(wanted - current.keys()):
        proposal.tags.append(ProposalTag(kind=kind, code=code))
    totals = budget_totals(proposal)
    proposal.requested_minor = totals["requested"].minor
    proposal.cofinancing_minor = totals["cofinancing"].minor
    session.flush()


# -- snapshot -----------------------------------------------------------------------------------------


def _labels(vocabulary, codes):
    if not codes:
        return {}
    items = db.session.scalars(
        select(ReferenceItem).where(
            ReferenceItem.vocabulary == vocabulary.value, ReferenceItem.code.in_(codes)
        )
    )
    return {item.code: item.label for item in items}


def _money_json(money):
    from flask_babel import get_locale

    locale = str(get_locale() or "en") if has_app_context() else "en"
    return {"minor": money.minor, "currency": money.currency, "text": money.format(locale)}


def _text_block(label, value):
    return {"type": "text", "label": str(label), "value": value or ""}


def _table_block(label, columns, rows):
    return {
        "type": "table",
        "label": str(label),
        "columns": [str(c) for c in columns],
        "rows": [["" if cell is None else str(cell) for cell in row] for row in rows],
    }


def _list_block(label, items):
    return {"type": "list", "label": str(label), "items": [str(item) for item in items]}


def _coded(code, labels):
    return f"{code} {labels[code]}" if code in labels else (code or "")


def section_blocks(key, content, currency):
    """The content of one section as display blocks with labels resolved (plain JSON)."""
    content = content or {}
    if key == "summary":
        return [_text_block(_("Summary"), content.get("summary"))]
    if key == "problem":
        return [
            _text_block(_("Problem statement"), content.get("problem")),
            _text_block(_("Objectives"), content.get("objectives")),
        ]
    if key == "logframe":
        outline = [
            {
                "text": _("Objective %(n)d: %(text)s", n=i, text=o.get("text", "")),
                "children": [
                    {
                        "text": _("Output %(n)s: %(text)s", n=f"{i}.{j}", text=p.get("text", "")),
                        "children": [
                            {
                                "text": _(
                                    "Activity %(n)s: %(text)s", n=f"{i}.{j}.{k}", text=a.get("text", "")
                                ),
                                "children": [],
                            }
                            for k, a in enumerate(p.get("activities", []), 1)
                        ],
                    }
                    for j, p in enumerate(o.get("outputs", []), 1)
                ],
            }
            for i, o in enumerate(content.get("objectives", []), 1)
        ]
        indicators = content.get("indicators", [])
        labels = _labels(Vocabulary.STANDARD_INDICATOR, [r["code"] for r in indicators if r.get("code")])
        return [
            {"type": "outline", "label": str(_("Objectives, outputs and activities")), "items": outline},
            _table_block(
                _("Indicators"),
                [_("Indicator"), _("Unit"), _("Baseline"), _("Target"), _("Means of verification")],
                [
                    [
                        " / ".join(filter(None, [labels.get(r.get("code"), r.get("code")), r.get("name")])),
                        r.get("unit"),
                        r.get("baseline"),
                        r.get("target"),
                        r.get("verification"),
                    ]
                    for r in indicators
                ],
            ),
        ]
    if key == "sites":
        sites = content.get("sites", [])
        regions = _labels(Vocabulary.REGION, [s["region"] for s in sites if s.get("region")])
        categories = _labels(
            Vocabulary.PROTECTED_AREA_CATEGORY, [s["pa_category"] for s in sites if s.get("pa_category")]
        )
        return [
            _table_block(
                _("Sites"),
                [_("Name"), _("Region"), _("Protected area"), _("Latitude"), _("Longitude")],
                [
                    [
                        s.get("name"),
                        regions.get(s.get("region"), s.get("region")),
                        " · ".join(
                            filter(None, [s.get("protected_area"), _coded(s.get("pa_category"), categories)])
                        ),
                        _number_text(s.get("latitude")),
                        _number_text(s.get("longitude")),
                    ]
                    for s in sites
                ],
            )
        ]
    if key == "species":
        species = content.get("species", [])
        categories = _labels(
            Vocabulary.RED_LIST_CATEGORY, [s["red_list"] for s in species if s.get("red_list")]
        )
        return [
            _table_block(
                _("Species"),
                [_("Scientific name"), _("Common name"), _("IUCN Red List")],
                [
                    [s.get("scientific_name"), s.get("common_name"), _coded(s.get("red_list"), categories)]
                    for s in species
                ],
            )
        ]
    if key == "threats":
        threats = _labels(Vocabulary.THREAT, content.get("threats", []))
        actions = _labels(Vocabulary.CONSERVATION_ACTION, content.get("actions", []))
        return [
            _list_block(_("Threats"), [_coded(c, threats) for c in content.get("threats", [])]),
            _list_block(_("Conservation actions"), [_coded(c, actions) for c in content.get("actions", [])]),
        ]
    if key == "gbf_targets":
        targets = _labels(Vocabulary.GBF_TARGET, content.get("targets", []))
        return [
            _list_block(
                _("Targets"),
                [
                    _("Target %(code)s: %(label)s", code=c, label=targets.get(c, ""))
                    for c in content.get("targets", [])
                ],
            )
        ]
    if key == "timeline":
        return [
            _table_block(
                _("Project period"), [_("Start"), _("End")], [[content.get("start"), content.get("end")]]
            ),
            _table_block(
                _("Milestones"),
                [_("Date"), _("Milestone")],
                [[m.get("date"), m.get("title")] for m in content.get("milestones", [])],
            ),
        ]
    if key == "team":
        return [
            _table_block(
                _("Team"),
                [_("Name"), _("Role"), _("Organisation"), _("Time share (%)")],
                [
                    [m.get("name"), m.get("role"), m.get("organisation"), m.get("time_share")]
                    for m in content.get("members", [])
                ],
            )
        ]
    if key == "risks":
        safeguards = content.get("safeguards", {})
        return [
            _table_block(
                _("Risks"),
                [_("Risk"), _("Likelihood"), _("Mitigation")],
                [
                    [r.get("risk"), LIKELIHOODS.get(r.get("likelihood"), ""), r.get("mitigation")]
                    for r in content.get("risks", [])
                ],
            ),
            _table_block(
                _("Safeguards"),
                [_("Question"), _("Answer"), _("Explanation")],
                [
                    [
                        question,
                        YES_NO.get(safeguards.get(k, {}).get("answer"), ""),
                        safeguards.get(k, {}).get("explanation"),
                    ]
                    for k, question in SAFEGUARDS.items()
                ],
            ),
        ]
    if key == "budget":
        lines = content.get("lines", [])
        totals = budget_totals_of(content, currency)

        def amount(minor):
            return "" if minor is None else str(Money(minor, currency))

        return [
            _table_block(
                _("Budget lines"),
                [
                    _("Year"),
                    _("Category"),
                    _("Description"),
                    _("Unit"),
                    _("Unit cost"),
                    _("Quantity"),
                    _("Total"),
                    _("Co-financing"),
                    _("Requested"),
                ],
                [
                    [
                        line.get("year"),
                        BUDGET_CATEGORIES.get(line.get("category"), ""),
                        line.get("description"),
                        line.get("unit"),
                        amount(line.get("unit_cost_minor")),
                        line.get("quantity"),
                        str(line_total(line, currency)),
                        amount(line.get("cofinancing_minor")),
                        str(line_total(line, currency) - Money(line.get("cofinancing_minor") or 0, currency)),
                    ]
                    for line in lines
                ],
            ),
            _table_block(
                _("Totals"),
                [_("Total cost"), _("Co-financing"), _("Requested from the fund")],
                [[str(totals["total"]), str(totals["cofinancing"]), str(totals["requested"])]],
            ),
        ]
    return []


def snapshot(proposal):
    """The whole proposal as plain JSON values, labels resolved: for display, PDFs and version diffs.

    ``sections`` holds, per section, its stored ``content`` (for diffs) and display ``blocks`` (for
    templates/applications/_snapshot.html).
    """
    totals = budget_totals(proposal)
    theme_labels = _labels(Vocabulary.THEME, [proposal.theme] if proposal.theme else [])
    return {
        "reference": proposal.reference,
        "title": proposal.title,
        "call": {"reference": proposal.call.reference, "title": proposal.call.title},
        "organisation": {
            "name_en": proposal.organisation.name_en,
            "name_ru": proposal.organisation.name_ru,
            "name_kk": proposal.organisation.name_kk,
        },
        "stage": proposal.stage.value,
        "theme": {
            "code": proposal.theme or "",
            "label": theme_labels.get(proposal.theme, proposal.theme or ""),
        },
        "currency": proposal.currency,
        "totals": {name: _money_json(value) for name, value in totals.items()},
        "sections": [
            {
                "key": spec.key,
                "title": str(spec.title),
                "version": section.version if (section := proposal.section(spec.key)) is not None else 0,
                "content": (section.content if section is not None else None) or {},
                "blocks": section_blocks(
                    spec.key, section.content if section is not None else {}, proposal.currency
                ),
            }
            for spec in SECTIONS
        ],
    }
