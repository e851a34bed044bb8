"""A large, realistic fund in an empty database, for the benchmarks (``fundapp bench seed``).

What it writes, at the default sizes (all of them options, see ``Sizes``):

- staff (admin, two programme officers, two finance officers, a board of seven with its chair), 150
  reviewers, one applicant per organisation (2,500 organisations), and a donor contact with portal access;
- 20 calls over five years: the newest is open (proposals submitted and being screened), the one before
  it closed a few weeks ago and is in review with 2,000 proposals (the ranking benchmark's call), the next
  is waiting for a scheduled board meeting with 60 proposals on its agenda, and the older ones are decided;
- 10,000 proposals with all their sections (taken from the demo's projects, so every page has real
  content), the submitted version's snapshot (one stored PDF per demo project stands in for the
  versions' PDFs), filter tags, screenings and an audit event per change of state;
- 30,000 reviews with their criterion scores (a reviewer's habit plus the proposal's quality plus noise),
  rubrics of four criteria;
- a closed board meeting per decided call with attendance, every item voted on by the members (a few
  declared conflicts), decisions, and 500 grants made from the approvals;
- per grant four tranches and three reports (two progress reports and the final one), in the states the
  dates lead to: early grants closed, later ones active with reports accepted, submitted, sent back or
  overdue and tranches released, approved or due, the newest still waiting for signatures;
- 200 donors (governments, multilaterals, foundations, companies, individuals) in EUR, USD and KZT, with
  pledges and contributions into seven funding pools (one unrestricted, one per theme);
- the ledger that goes with it: a receipt per contribution, a commitment per signed grant, a release per
  paid tranche, each attributed first in, first out to the contributions like the application does
  (``fundapp.donors.allocation``), about 100,000 postings in all; ``fundapp ledger check`` holds.

Rows are built in Python and written with one executemany per table and batch (SQLAlchemy Core), not
through the operations: the operations would take hours for this much. The rules they keep are kept here
by construction, and the tests check the result with the application's own checks (ledger, audit chain).
Nothing here runs in the application itself.
"""

import random
from collections import defaultdict, deque
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from io import BytesIO
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import func, insert, select, text

from fundapp.accounts.identifiers import bin_check_digit
from fundapp.accounts.models import Membership, Organisation, OrganisationType, User, UserRole
from fundapp.accounts.passwords import hash_password
from fundapp.applications.models import (
    Call,
    CallState,
    Proposal,
    ProposalSection,
    ProposalStage,
    ProposalState,
    ProposalTag,
    ProposalVersion,
    Screening,
    ScreeningOutcome,
)
from fundapp.applications.screening import CHECKLIST_KEYS
from fundapp.applications.sections import budget_totals_of, clean_section, derived_tags
from fundapp.applications.sections import snapshot as proposal_snapshot
from fundapp.board.models import (
    AgendaItem,
    Attendance,
    BoardConflict,
    BoardSettings,
    DecisionOutcome,
    Meeting,
    MeetingKind,
    MeetingState,
    Vote,
    VoteChoice,
)
from fundapp.core.audit import GENESIS_HASH, AuditEvent, event_hash
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.disbursements.grants import default_schedule
from fundapp.disbursements.models import (
    AccountKind,
    EntryKind,
    FundingPool,
    Grant,
    GrantReport,
    GrantState,
    JournalEntry,
    LedgerAccount,
    Posting,
    ReportIndicatorValue,
    ReportKind,
    ReportSpendLine,
    ReportState,
    Restriction,
    Tranche,
    TrancheGate,
    TrancheState,
)
from fundapp.donors.models import (
    Allocation,
    Contribution,
    Donor,
    DonorContact,
    DonorKind,
    Pledge,
    PledgeInstalment,
    PledgeState,
)
from fundapp.extensions import db
from fundapp.reference.data import load_reference_data
from fundapp.reference.models import ReferenceItem, Vocabulary
from fundapp.reviews.models import (
    Assignment,
    AssignmentState,
    Criterion,
    CriterionScore,
    Recommendation,
    Review,
    ReviewerProfile,
    Rubric,
)

#: The password of every account the seed creates (a benchmark database holds nothing secret).
BENCH_PASSWORD = "bench-password-2026"  # noqa: S105
BENCH_DOMAIN = "bench.example"
#: The logins the benchmark scripts use, by role.
BENCH_LOGINS = {
    "admin": f"admin@{BENCH_DOMAIN}",
    "programme_officer": f"officer@{BENCH_DOMAIN}",
    "finance_officer": f"finance@{BENCH_DOMAIN}",
    "second_finance_officer": f"finance2@{BENCH_DOMAIN}",
    "board_chair": f"chair@{BENCH_DOMAIN}",
    "donor": f"donor@{BENCH_DOMAIN}",
}
BATCH = 5_000
REVIEW_COMMENT = "A sound project with a clear logframe; the budget for fieldwork is tight."
CONDITIONS = "Submit the permit of the reserve's administration before the first tranche."
NARRATIVE = "Patrols ran as planned; the spring count found more animals than last year."
#: Proposals on the agenda of the scheduled board meeting.
AGENDA_ITEMS = 60
CRITERIA = [
    ("Conservation impact", 3),
    ("Feasibility and team", 2),
    ("Value for money", 2),
    ("Community benefit", 1),
]
#: How many base-currency (KZT) units one unit of each donor currency buys, around which rates vary.
RATES = {"EUR": Decimal("540"), "USD": Decimal("490"), "KZT": Decimal("1")}
DONOR_KINDS = [
    # kind, share of the donors, share of the receipts, share of the money, currencies
    (DonorKind.GOVERNMENT, 0.05, 0.05, 0.35, ["EUR", "USD"]),
    (DonorKind.MULTILATERAL, 0.03, 0.04, 0.20, ["USD", "EUR"]),
    (DonorKind.FOUNDATION, 0.12, 0.11, 0.20, ["EUR", "USD", "KZT"]),
    (DonorKind.COMPANY, 0.20, 0.20, 0.20, ["KZT"]),
    (DonorKind.INDIVIDUAL, 0.60, 0.60, 0.05, ["KZT", "EUR", "USD"]),
]
COUNTRIES = {"EUR": ["DE", "FR", "NL", "FI", "AT"], "USD": ["US", "GB", "CH", "NO", "JP"], "KZT": ["KZ"]}
FIRST_NAMES = ["Aigerim", "Nurlan", "Dana", "Yerlan", "Saule", "Timur", "Anna", "Lukas", "Maria", "John"]
LAST_NAMES = ["Abenova", "Seitkali", "Ivanova", "Muller", "Smith", "Dzhaksybekov", "Larsen", "Petrov"]


_SUBMITTED = [(ProposalState.SUBMITTED, 0)]
_REVIEWED = [
    *_SUBMITTED,
    (ProposalState.ELIGIBLE, 10),
    (ProposalState.IN_REVIEW, 15),
    (ProposalState.REVIEWED, 45),
]
_ON_AGENDA = [*_REVIEWED, (ProposalState.ON_AGENDA, 80)]
#: The states a proposal went through to its state, with the days after its submission (the audit log).
STATE_PATHS = {
    ProposalState.SUBMITTED: _SUBMITTED,
    ProposalState.MORE_INFO_REQUESTED: [*_SUBMITTED, (ProposalState.MORE_INFO_REQUESTED, 10)],
    ProposalState.ELIGIBLE: [*_SUBMITTED, (ProposalState.ELIGIBLE, 10)],
    ProposalState.INELIGIBLE: [*_SUBMITTED, (ProposalState.INELIGIBLE, 10)],
    ProposalState.WITHDRAWN: [*_SUBMITTED, (ProposalState.WITHDRAWN, 12)],
    ProposalState.IN_REVIEW: _REVIEWED[:-1],
    ProposalState.REVIEWED: _REVIEWED,
    ProposalState.ON_AGENDA: _ON_AGENDA,
    **{
        state: [*_ON_AGENDA, (state, 90)]
        for state in (
            ProposalState.APPROVED,
            ProposalState.APPROVED_WITH_CONDITIONS,
            ProposalState.REJECTED,
            ProposalState.DEFERRED,
        )
    },
}


@dataclass(frozen=True)
class Sizes:
    """How big the fund is. ``tranches`` are spread evenly over the grants (four each by default)."""

    proposals: int = 10_000
    calls: int = 20
    reviews: int = 30_000
    grants: int = 500
    tranches: int = 2_000
    donors: int = 200
    postings: int = 100_000
    #: Proposals in the call in review, the one the ranking benchmark ranks.
    ranking_call: int = 2_000
    reviewers: int = 150
    seed: int = 2026

    def problems(self):
        """What is wrong with these sizes, as sentences (empty when they can be seeded)."""
        problems = []
        for field in fields(self):
            if field.name != "seed" and getattr(self, field.name) < 1:
                problems.append(f"{field.name} must be at least 1.")
        if problems:
            return problems
        if self.calls < 4:
            problems.append("calls must be at least 4 (open, in review, waiting for the board, decided).")
        if self.ranking_call > self.proposals // 2:
            problems.append("ranking-call may hold at most half of the proposals.")
        if self.reviewers < 6:
            problems.append("reviewers must be at least 6.")
        decided = self.decided_capacity()
        if self.grants > decided:
            problems.append(
                f"{self.grants} grants need more proposals in the decided calls: at most {decided} here."
            )
        if not 2 * self.grants <= self.tranches <= 8 * self.grants:
            problems.append("tranches must be between 2 and 8 per grant.")
        if self.postings < 2 * (self.donors + 3 * self.grants):
            problems.append(
                f"postings must be at least {2 * (self.donors + 3 * self.grants)}: a receipt per donor and "
                "the grants' commitments and releases."
            )
        return problems

    def decided_capacity(self):
        """How many proposals the decided calls can approve: half of those that reach the board."""
        others = self.proposals - self.ranking_call
        per_call = others // (self.calls - 1)
        return (self.calls - 3) * per_call * 80 // 100 // 2


class SeedError(Exception):
    """The database cannot be seeded (not empty, or sizes that do not fit)."""


def _at(day, hour=10, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def organisation_bin(prefix, serial):
    """A valid business identification number (BIN) for generated organisation ``serial``: ``prefix`` (4
    digits), 7 digits and the check digit."""
    while True:
        body = f"{prefix}{serial:07d}"
        check = bin_check_digit(body)
        if check is not None:
            return body + str(check)
        serial += 10_000_000 // 3


def kazakh_iban(serial):
    """A valid 20-character Kazakh IBAN (mod-97 check digits) for account ``serial``."""
    bban = f"125KZT{serial:010d}"[:16].ljust(16, "0")
    rearranged = bban + "KZ00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"KZ{98 - number % 97:02d}{bban}"


def _quantize(value, places="0.0001"):
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_EVEN)


class Seeder:
    """Builds the rows table by table, with explicit ids, and inserts them in batches."""

    def __init__(self, session, sizes, progress=None):
        self.session = session
        self.sizes = sizes
        self.rng = random.Random(sizes.seed)
        self.today = fund_today()
        self.now = datetime.now(UTC)
        self.progress = progress or (lambda rows, stage: None)
        self.counts = defaultdict(int)
        self.stage = ""
        self.audit_prev = None

    # -- plumbing -------------------------------------------------------------------------------------------

    def insert(self, model, rows):
        rows = list(rows)
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            self.session.execute(insert(model), chunk)
            self.progress(len(chunk), self.stage)
        self.counts[model.__tablename__] += len(rows)

    def run(self):
        steps = [
            ("reference data", self.load_reference),
            ("people and organisations", self.people),
            ("calls", self.calls),
            ("proposals", self.proposals),
            ("reviews", self.reviews),
            ("board meetings", self.meetings),
            ("grants", self.grants),
            ("donors", self.donors),
            ("ledger", self.ledger),
            ("audit log", self.audit),
        ]
        for stage, step in steps:
            self.stage = stage
            step()
        self.stage = "sequences and statistics"
        self.finish()
        return dict(self.counts)

    def finish(self):
        """PostgreSQL: move every id sequence past the ids written here, and gather planner statistics."""
        bind = self.session.get_bind()
        if bind.dialect.name == "postgresql":
            for table in db.metadata.sorted_tables:
                if "id" not in table.c:
                    continue
                next_id = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
                self.session.execute(
                    select(func.setval(func.pg_get_serial_sequence(table.name, "id"), next_id, False))
                )
        # Planner statistics for the new rows (PostgreSQL and SQLite both take ANALYZE in a transaction).
        self.session.execute(text("ANALYZE"))
        self.session.commit()

    # -- reference data, people -----------------------------------------------------------------------------

    def load_reference(self):
        load_reference_data(self.session)
        self.regions = (
            self.session.execute(
                select(ReferenceItem.code).where(ReferenceItem.vocabulary == Vocabulary.REGION)
            )
            .scalars()
            .all()
        )
        self.templates = self._templates()
        self.themes = sorted({template["theme"] for template in self.templates})

    def _templates(self):
        from fundapp.demo import PROJECTS

        return [project for project in PROJECTS if project.get("logframe") and project.get("budget")]

    def people(self):
        sizes, now = self.sizes, self.now
        password = hash_password(BENCH_PASSWORD)
        users, roles = [], []

        def user(email, name, *user_roles, locale="en"):
            user_id = len(users) + 1
            users.append(
                {
                    "id": user_id,
                    "email": email,
                    "full_name": name,
                    "password_hash": password,
                    "is_active": True,
                    "locale": locale,
                    "created_at": now - timedelta(days=2000),
                }
            )
            roles.extend({"user_id": user_id, "role": role, "granted_at": now} for role in user_roles)
            return user_id

        self.admin = user(BENCH_LOGINS["admin"], "Bench Administrator", Role.ADMIN)
        self.officer = user(BENCH_LOGINS["programme_officer"], "Aigerim Seitkali", Role.PROGRAMME_OFFICER)
        self.officer2 = user(f"officer2@{BENCH_DOMAIN}", "Timur Abenov", Role.PROGRAMME_OFFICER)
        self.finance = user(BENCH_LOGINS["finance_officer"], "Dana Ivanova", Role.FINANCE_OFFICER)
        self.finance2 = user(BENCH_LOGINS["second_finance_officer"], "Yerlan Ospanov", Role.FINANCE_OFFICER)
        self.chair = user(BENCH_LOGINS["board_chair"], "Saule Dzhaksybekova", Role.BOARD_MEMBER)
        self.board = [self.chair] + [
            user(f"board{n}@{BENCH_DOMAIN}", f"Board Member {n}", Role.BOARD_MEMBER) for n in range(1, 7)
        ]
        self.reviewers = [
            user(f"reviewer{n}@{BENCH_DOMAIN}", f"Reviewer {n}", Role.REVIEWER)
            for n in range(1, sizes.reviewers + 1)
        ]
        others = sizes.proposals - sizes.ranking_call
        per_call = -(-others // (sizes.calls - 1))
        self.organisation_count = max(sizes.ranking_call, per_call) + max(50, per_call // 4)
        self.donor_user = user(BENCH_LOGINS["donor"], "Anna Larsen", Role.DONOR)
        organisations, memberships = [], []
        for number in range(1, self.organisation_count + 1):
            applicant = user(f"applicant{number}@{BENCH_DOMAIN}", f"Applicant {number}", Role.APPLICANT)
            organisations.append(
                {
                    "id": number,
                    "name_en": f"Steppe and Sea Society {number}",
                    "name_ru": f"Общество степи и моря {number}",
                    "name_kk": f"Дала мен теңіз қоғамы {number}",
                    "bin": organisation_bin("1805", number),
                    "org_type": self.rng.choice(
                        [OrganisationType.NGO] * 4
                        + [OrganisationType.RESEARCH_INSTITUTE, OrganisationType.COMMUNITY_GROUP]
                    ),
                    "region_id": None,
                    "legal_address": f"Almaty, Abay avenue {number % 300 + 1}",
                    "contact_email": f"applicant{number}@{BENCH_DOMAIN}",
                    "bank_name": "Halyk Bank",
                    "bank_bic": "HSBKKZKX",
                    "bank_iban": kazakh_iban(number),
                    "bank_kbe": "18",
                    "created_at": now - timedelta(days=1900),
                }
            )
            memberships.append(
                {"user_id": applicant, "organisation_id": number, "is_manager": True, "joined_at": now}
            )
        region_ids = (
            self.session.execute(
                select(ReferenceItem.id).where(ReferenceItem.vocabulary == Vocabulary.REGION)
            )
            .scalars()
            .all()
        )
        for row in organisations:
            row["region_id"] = self.rng.choice(region_ids)
        self.insert(User, users)
        self.insert(UserRole, roles)
        self.insert(Organisation, organisations)
        self.insert(Membership, memberships)
        self.insert(
            ReviewerProfile,
            (
                {
                    "user_id": reviewer,
                    "themes": self.rng.sample(self.themes, 2),
                    "regions": self.rng.sample(self.regions, 3),
                    "species_groups": [],
                    "languages": ["en", "ru"],
                    "max_load_per_call": 400,
                    "bio": "Conservation biologist.",
                }
                for reviewer in self.reviewers
            ),
        )
        self.insert(
            BoardSettings,
            [{"id": 1, "chair_id": self.chair, "secretary_id": self.officer, "quorum_percent": 50}],
        )

    # -- calls and proposals --------------------------------------------------------------------------------

    def calls(self):
        """``self.call_plan``: per call its id, reference, dates, role (open, ranking, agenda or decided)."""
        sizes, today = self.sizes, self.today
        count = sizes.calls
        rows, self.call_plan = [], []
        # The open call closes in three weeks, the one in review closed eight weeks ago, the one waiting for
        # the board 19 weeks ago; the decided calls spread over the four years before.
        decided = count - 3
        spacing = max(75, 1400 // max(decided - 1, 1))
        for index in range(count):
            age = count - 1 - index  # 0 is the newest
            if age < 3:
                closes = today + timedelta(days=20) - timedelta(days=75 * age)
            else:
                closes = today - timedelta(days=205 + spacing * (age - 3))
            role = {0: "open", 1: "ranking", 2: "agenda"}.get(age, "decided")
            themes = sorted(self.rng.sample(self.themes, min(3, len(self.themes))))
            call = {
                "id": index + 1,
                "reference": f"CALL-{closes.year}-{index + 1:02d}",
                "closes": closes,
                "role": role,
                "themes": themes,
                "title": f"Conservation grants {closes.year}, round {index + 1}: "
                + ", ".join(theme.replace("_", " ") for theme in themes),
            }
            self.call_plan.append(call)
            rows.append(
                {
                    "id": call["id"],
                    "reference": call["reference"],
                    "title": call["title"],
                    "description_html": "<p>Grants for conservation projects in Kazakhstan.</p>",
                    "state": CallState.PUBLISHED if role == "open" else CallState.CLOSED,
                    "themes": themes,
                    "eligible_org_types": [kind.value for kind in OrganisationType],
                    "currency": "KZT",
                    "grant_min_minor": 1_000_000_00,
                    "grant_max_minor": 500_000_000_00,
                    "envelope_minor": 5_000_000_000_00,
                    "opens_at": _at(closes - timedelta(days=90)),
                    "closes_at": _at(closes, 18),
                    "stages": 1,
                    "cofinancing_min_percent": 0,
                    "required_attachments": [],
                    "created_at": _at(closes - timedelta(days=100)),
                    "created_by_id": self.officer,
                    "published_at": _at(closes - timedelta(days=90)),
                }
            )
        self.insert(Call, rows)
        self.insert(
            Rubric,
            (
                {
                    "id": call["id"],
                    "call_id": call["id"],
                    "reviewers_per_proposal": 3,
                    "blind": False,
                    "reviewers_see_others": False,
                    "disagreement_spread": 25,
                    "recommendation_split_percent": 30,
                    "due_at": _at(call["closes"] + timedelta(days=40)),
                }
                for call in self.call_plan
            ),
        )
        criteria = []
        for call in self.call_plan:
            for position, (title, weight) in enumerate(CRITERIA):
                criteria.append(
                    {
                        "id": len(criteria) + 1,
                        "rubric_id": call["id"],
                        "position": position,
                        "title": title,
                        "description": "",
                        "weight": weight,
                        "scale_min": 1,
                        "scale_max": 5,
                        "level_descriptors": {},
                        "allow_na": False,
                    }
                )
        self.insert(Criterion, criteria)
        self.criteria = defaultdict(list)
        for row in criteria:
            self.criteria[row["rubric_id"]].append((row["id"], row["weight"]))

    def _content(self, template_index, call):
        """The stored sections of a demo project written for ``call`` (cleaned as the editor would)."""
        key = (template_index, call["id"])
        if key not in self._content_cache:
            from fundapp.demo import _sections

            template = self.templates[template_index]
            # Projects of a call start over a few months (so their reports fall due on different days).
            start = (call["closes"] + timedelta(days=130 + 30 * (template_index % 5))).replace(day=1)
            content = {}
            for section, raw in _sections(template, start).items():
                cleaned, errors = clean_section(section, raw, currency="KZT")
                if errors:  # pragma: no cover - the demo projects are valid
                    raise SeedError(f"demo project {template['key']}: {section}: {errors}")
                content[section] = cleaned
            holder = SimpleNamespace(
                section=lambda name, content=content: SimpleNamespace(content=content.get(name))
            )
            totals = budget_totals_of(content["budget"], "KZT")
            self._content_cache[key] = (
                content,
                sorted(derived_tags(holder)),
                totals["requested"].minor,
                totals["cofinancing"].minor,
            )
        return self._content_cache[key]

    def _snapshot(self, plan, call):
        """The submitted version's snapshot of ``plan``'s proposal: the template's, written for ``call``,
        with the proposal's own reference, title and organisation."""
        key = (plan["template"], call["id"])
        if key not in self._snapshot_cache:
            content = self._content(plan["template"], call)[0]
            template = self.templates[plan["template"]]
            sections = {name: SimpleNamespace(content=value, version=3) for name, value in content.items()}
            holder = SimpleNamespace(
                reference="",
                title=template["title"],
                call=SimpleNamespace(reference=call["reference"], title=call["title"]),
                organisation=SimpleNamespace(name_en="", name_ru="", name_kk=""),
                stage=ProposalStage.FULL,
                theme=template["theme"],
                currency="KZT",
                section=sections.get,
            )
            self._snapshot_cache[key] = proposal_snapshot(holder)
        number = plan["organisation"]
        return {
            **self._snapshot_cache[key],
            "reference": plan["reference"],
            "organisation": {
                "name_en": f"Steppe and Sea Society {number}",
                "name_ru": f"Общество степи и моря {number}",
                "name_kk": f"Дала мен теңіз қоғамы {number}",
            },
        }

    def _version_pdf(self, template_index):
        """A stored PDF standing in for the submitted version of the template's proposals (one per
        template: rendering 10,000 PDFs would take an hour)."""
        if template_index not in self._pdf_cache:
            from fundapp.core.storage import save_upload
            from fundapp.demo import document_pdf

            title = self.templates[template_index]["title"]
            data = document_pdf(title, ["Submitted version (benchmark data)."])
            stored = save_upload(self.session, BytesIO(data), allowed_kinds=["pdf"], filename="proposal.pdf")
            self._pdf_cache[template_index] = (stored.id, stored.sha256)
        return self._pdf_cache[template_index]

    def _states(self, call, count):
        """The state of each of ``count`` proposals in ``call``, best first for the reviewed ones."""
        rng = self.rng
        role = call["role"]
        if role == "open":
            pool = (
                [ProposalState.SUBMITTED] * 45
                + [ProposalState.MORE_INFO_REQUESTED] * 10
                + [ProposalState.ELIGIBLE] * 35
                + [ProposalState.INELIGIBLE] * 7
                + [ProposalState.WITHDRAWN] * 3
            )
            return [rng.choice(pool) for _ in range(count)]
        if role == "ranking":
            return [
                ProposalState.IN_REVIEW if rng.random() < 0.55 else ProposalState.REVIEWED
                for _ in range(count)
            ]
        states = []
        for _ in range(count):
            roll = rng.random()
            states.append(
                ProposalState.INELIGIBLE
                if roll < 0.12
                else ProposalState.WITHDRAWN
                if roll < 0.15
                else ProposalState.REVIEWED
            )
        return states

    def proposals(self):
        sizes, rng = self.sizes, self.rng
        self._content_cache, self._snapshot_cache, self._pdf_cache = {}, {}, {}
        ranking = next(call for call in self.call_plan if call["role"] == "ranking")
        others = [call for call in self.call_plan if call is not ranking]
        rest = sizes.proposals - sizes.ranking_call
        per_call = {call["id"]: rest // len(others) for call in others}
        for call in others[: rest % len(others)]:
            per_call[call["id"]] += 1
        per_call[ranking["id"]] = sizes.ranking_call

        proposals, sections, tags, screenings, versions = [], [], [], [], []
        self.proposal_plan = []
        number_by_year = defaultdict(int)
        for call in self.call_plan:
            count = per_call[call["id"]]
            organisations = rng.sample(range(1, self.organisation_count + 1), count)
            templates = [
                index for index, template in enumerate(self.templates) if template["theme"] in call["themes"]
            ] or list(range(len(self.templates)))
            for state, organisation in zip(self._states(call, count), organisations, strict=True):
                template_index = rng.choice(templates)
                content, proposal_tags, requested, cofinancing = self._content(template_index, call)
                submitted = _at(call["closes"] - timedelta(days=rng.randrange(1, 60)), rng.randrange(8, 20))
                if submitted > self.now:
                    submitted = self.now - timedelta(hours=rng.randrange(1, 500))
                year = submitted.year
                number_by_year[year] += 1
                proposal_id = len(proposals) + 1
                applicant = self._applicant(organisation)
                plan = {
                    "id": proposal_id,
                    "call": call,
                    "state": state,
                    "quality": rng.gauss(60, 15),
                    "requested": requested,
                    "template": template_index,
                    "organisation": organisation,
                    "submitted": submitted,
                    "title": self.templates[template_index]["title"],
                    "reference": f"PRP-{year}-{number_by_year[year]:05d}",
                }
                self.proposal_plan.append(plan)
                proposals.append(
                    {
                        "id": proposal_id,
                        "reference": plan["reference"],
                        "call_id": call["id"],
                        "organisation_id": organisation,
                        "stage": ProposalStage.FULL,
                        "state": state,
                        "title": plan["title"],
                        "theme": self.templates[template_index]["theme"],
                        "eligibility_answers": {},
                        "currency": "KZT",
                        "requested_minor": requested,
                        "cofinancing_minor": cofinancing,
                        "created_at": submitted - timedelta(days=25),
                        "created_by_id": applicant,
                        "updated_at": submitted,
                        "submitted_at": submitted,
                    }
                )
                for key, value in content.items():
                    sections.append(
                        {
                            "proposal_id": proposal_id,
                            "key": key,
                            "content": value,
                            "version": 3,
                            "updated_at": submitted - timedelta(hours=2),
                            "updated_by_id": applicant,
                        }
                    )
                tags.extend(
                    {"proposal_id": proposal_id, "kind": kind, "code": code} for kind, code in proposal_tags
                )
                pdf_id, pdf_sha256 = self._version_pdf(template_index)
                versions.append(
                    {
                        "proposal_id": proposal_id,
                        "number": 1,
                        "snapshot": self._snapshot(plan, call),
                        "pdf_file_id": pdf_id,
                        "pdf_sha256": pdf_sha256,
                        "submitted_at": submitted,
                        "submitted_by_id": applicant,
                    }
                )
                if state not in (ProposalState.SUBMITTED, ProposalState.WITHDRAWN):
                    outcome = {
                        ProposalState.INELIGIBLE: ScreeningOutcome.INELIGIBLE,
                        ProposalState.MORE_INFO_REQUESTED: ScreeningOutcome.MORE_INFO,
                    }.get(state, ScreeningOutcome.ELIGIBLE)
                    screenings.append(
                        {
                            "proposal_id": proposal_id,
                            "officer_id": self.officer,
                            "checklist": dict.fromkeys(CHECKLIST_KEYS, outcome == ScreeningOutcome.ELIGIBLE),
                            "outcome": outcome,
                            "reason": ""
                            if outcome == ScreeningOutcome.ELIGIBLE
                            else "The organisation's registration certificate is missing.",
                            "screened_at": submitted + timedelta(days=10),
                        }
                    )
        self.insert(Proposal, proposals)
        self.insert(ProposalSection, sections)
        self.insert(ProposalTag, tags)
        self.insert(ProposalVersion, versions)
        self.insert(Screening, screenings)

    def _applicant(self, organisation):
        # Applicants come right after the staff, the reviewers and the donor contact: one per organisation.
        return self.donor_user + organisation

    # -- reviews --------------------------------------------------------------------------------------------

    def reviews(self):
        sizes, rng = self.sizes, self.rng
        reviewed = [
            plan
            for plan in self.proposal_plan
            if plan["state"] in (ProposalState.IN_REVIEW, ProposalState.REVIEWED)
        ]
        ranking = [plan for plan in reviewed if plan["call"]["role"] == "ranking"]
        later = [plan for plan in reviewed if plan["call"]["role"] != "ranking"]
        per_proposal = {}
        for plan in ranking:
            per_proposal[plan["id"]] = 3
        left = max(sizes.reviews - 3 * len(ranking), 0)
        if later:
            base, extra = divmod(left, len(later))
            for index, plan in enumerate(later):
                per_proposal[plan["id"]] = min(base + (1 if index < extra else 0), 6)
        habit = {reviewer: rng.gauss(0, 10) for reviewer in self.reviewers}
        assignments, reviews, scores = [], [], []
        for plan in reviewed:
            count = min(per_proposal.get(plan["id"], 0), len(self.reviewers))
            for reviewer in rng.sample(self.reviewers, count):
                assignment_id = len(assignments) + 1
                assigned = plan["call"]["closes"] + timedelta(days=5)
                submitted = _at(assigned + timedelta(days=rng.randrange(5, 30)), rng.randrange(8, 22))
                submitted = min(submitted, self.now - timedelta(hours=1))
                criterion_scores = []
                total = weight_sum = 0
                for criterion_id, weight in self.criteria[plan["call"]["id"]]:
                    value = plan["quality"] + habit[reviewer] + rng.gauss(0, 10)
                    score = min(5, max(1, round(1 + value / 25)))
                    criterion_scores.append((criterion_id, score))
                    total += weight * (score - 1) / 4
                    weight_sum += weight
                weighted = _quantize(100 * total / weight_sum)
                recommendation = (
                    Recommendation.FUND
                    if weighted >= 70
                    else Recommendation.FUND_WITH_CHANGES
                    if weighted >= 45
                    else Recommendation.DO_NOT_FUND
                )
                assignments.append(
                    {
                        "id": assignment_id,
                        "proposal_id": plan["id"],
                        "reviewer_id": reviewer,
                        "state": AssignmentState.SUBMITTED,
                        "assigned_at": _at(assigned),
                        "assigned_by_id": self.officer,
                        "due_at": _at(assigned + timedelta(days=35)),
                        "declared_at": _at(assigned + timedelta(days=2)),
                    }
                )
                reviews.append(
                    {
                        "id": assignment_id,
                        "assignment_id": assignment_id,
                        "recommendation": recommendation,
                        "comments": REVIEW_COMMENT,
                        "version": 4,
                        "updated_at": submitted,
                        "submitted_at": submitted,
                        "weighted_score": weighted,
                    }
                )
                scores.extend(
                    {"review_id": assignment_id, "criterion_id": criterion_id, "score": score, "is_na": False}
                    for criterion_id, score in criterion_scores
                )
                plan.setdefault("scores", []).append(float(weighted))
        self.insert(Assignment, assignments)
        self.insert(Review, reviews)
        self.insert(CriterionScore, scores)

    # -- the board ------------------------------------------------------------------------------------------

    def meetings(self):
        """Closed meetings that decide every reviewed proposal of the decided calls (at most AGENDA_ITEMS a
        sitting), and a scheduled one with the best of the call waiting for the board on its agenda. Chooses
        which proposals become grants."""
        sizes = self.sizes
        decided_calls = [call for call in self.call_plan if call["role"] == "decided"]
        by_call = defaultdict(list)
        for plan in self.proposal_plan:
            if plan["state"] == ProposalState.REVIEWED and plan["call"]["role"] in ("decided", "agenda"):
                by_call[plan["call"]["id"]].append(plan)
        for plans in by_call.values():
            plans.sort(key=lambda plan: -(sum(plan.get("scores", [0])) / max(len(plan.get("scores", [])), 1)))
        # The grants are shared out evenly; the newest decided calls take what does not divide.
        base, extra = divmod(sizes.grants, len(decided_calls))
        quota = {call["id"]: base for call in decided_calls}
        for call in decided_calls[len(decided_calls) - extra :]:
            quota[call["id"]] += 1
        meetings, attendance, items, conflicts, votes = [], [], [], [], []
        self.approved = []
        number_by_year = defaultdict(int)
        for call in [c for c in self.call_plan if c["role"] in ("decided", "agenda")]:
            closed = call["role"] == "decided"
            plans = by_call[call["id"]]
            if closed:
                # A sitting takes at most AGENDA_ITEMS proposals, best first; the board sits every 4 weeks.
                sittings = [
                    (call["closes"] + timedelta(days=90 + 28 * number), start)
                    for number, start in enumerate(range(0, len(plans), AGENDA_ITEMS))
                ]
            else:
                sittings = [(self.today + timedelta(days=14), 0)]
            for scheduled, first in sittings:
                meeting_id = self._meeting(meetings, attendance, number_by_year, call, scheduled, closed)
                for position, plan in enumerate(plans[first : first + AGENDA_ITEMS]):
                    approve = first + position < quota.get(call["id"], 0)
                    self._item(
                        items, conflicts, votes, plan, meeting_id, position, approve, scheduled, closed
                    )
        self.insert(Meeting, meetings)
        self.insert(Attendance, attendance)
        self.insert(AgendaItem, items)
        self.insert(BoardConflict, conflicts)
        self.insert(Vote, votes)
        # The proposals' states after the board (the rows were written with their state before it).
        changed = defaultdict(list)
        for plan in self.proposal_plan:
            changed[plan["state"]].append(plan["id"])
        for state in (
            ProposalState.ON_AGENDA,
            ProposalState.APPROVED,
            ProposalState.APPROVED_WITH_CONDITIONS,
            ProposalState.REJECTED,
            ProposalState.DEFERRED,
        ):
            ids = changed.get(state, [])
            for start in range(0, len(ids), BATCH):
                self.session.execute(
                    Proposal.__table__.update()
                    .where(Proposal.__table__.c.id.in_(ids[start : start + BATCH]))
                    .values(state=state)
                )

    def _meeting(self, meetings, attendance, number_by_year, call, scheduled, closed):
        """A board meeting on ``call`` on ``scheduled`` (closed, with every member present, or scheduled)."""
        number_by_year[scheduled.year] += 1
        meeting_id = len(meetings) + 1
        meetings.append(
            {
                "id": meeting_id,
                "reference": f"BRD-{scheduled.year}-{number_by_year[scheduled.year]:02d}",
                "kind": MeetingKind.MEETING,
                "title": f"Board meeting on {call['reference']}",
                "scheduled_at": _at(scheduled, 9),
                "location": "Astana, fund office",
                "state": MeetingState.CLOSED if closed else MeetingState.SCHEDULED,
                "opened_at": _at(scheduled, 9) if closed else None,
                "closed_at": _at(scheduled, 13) if closed else None,
                "created_at": _at(scheduled - timedelta(days=30)),
                "created_by_id": self.officer,
            }
        )
        if closed:
            attendance.extend(
                {
                    "meeting_id": meeting_id,
                    "user_id": member,
                    "present": True,
                    "recorded_at": _at(scheduled, 9),
                }
                for member in self.board
            )
        return meeting_id

    def _item(self, items, conflicts, votes, plan, meeting_id, position, approve, scheduled, closed):
        """``plan``'s proposal on the agenda: decided (approved when ``approve``, else now and then deferred
        and mostly rejected) with the members' votes and a declared conflict now and then, or waiting."""
        item_id = len(items) + 1
        recommended = plan["requested"]
        row = {
            "id": item_id,
            "meeting_id": meeting_id,
            "proposal_id": plan["id"],
            "position": position,
            "recommended_minor": recommended,
            "motion_amount_minor": None,
            "motion_conditions": "",
            "outcome": None,
            "approved_minor": None,
            "conditions": "",
            "reason": "",
            "eligible_count": None,
            "participating_count": None,
            "decided_at": None,
            "decided_by_id": None,
        }
        items.append(row)
        if not closed:
            plan["state"] = ProposalState.ON_AGENDA
            return
        conflicted = self.board[1 + item_id % 6] if item_id % 23 == 0 else None
        if conflicted:
            conflicts.append(
                {
                    "item_id": item_id,
                    "user_id": conflicted,
                    "note": "Sits on the applicant's supervisory board.",
                    "declared_at": _at(scheduled, 9),
                }
            )
        voters = [member for member in self.board if member != conflicted]
        if approve:
            outcome = (
                DecisionOutcome.APPROVED_WITH_CONDITIONS if item_id % 5 == 0 else DecisionOutcome.APPROVED
            )
            approved = recommended if item_id % 3 else recommended * 9 // 10
            row.update(
                motion_amount_minor=approved,
                approved_minor=approved,
                conditions=CONDITIONS if outcome == DecisionOutcome.APPROVED_WITH_CONDITIONS else "",
            )
            plan["state"] = ProposalState(outcome.value)
            plan["approved"] = approved
            plan["item"] = item_id
            plan["decided"] = scheduled
            self.approved.append(plan)
            choices = [VoteChoice.APPROVE] * (len(voters) - 1) + [VoteChoice.ABSTAIN]
        elif self.rng.random() < 0.04:
            outcome = DecisionOutcome.DEFERRED
            plan["state"] = ProposalState.DEFERRED
            choices = []
            row["reason"] = "The board asks for the regional akimat's letter of support."
        else:
            outcome = DecisionOutcome.REJECTED
            plan["state"] = ProposalState.REJECTED
            choices = [VoteChoice.REJECT] * (len(voters) - 2) + [VoteChoice.APPROVE, VoteChoice.ABSTAIN]
            row["motion_amount_minor"] = recommended
            row["reason"] = "Ranked below the call's budget."
        row.update(
            outcome=outcome,
            eligible_count=len(voters) if choices else None,
            participating_count=len(voters) - 1 if choices else None,
            decided_at=_at(scheduled, 12),
            decided_by_id=self.chair,
        )
        votes.extend(
            {
                "item_id": item_id,
                "user_id": voter,
                "choice": choice,
                "cast_at": _at(scheduled, 11),
                "recorded_by_id": self.officer,
            }
            for voter, choice in zip(voters, choices, strict=False)
        )

    # -- grants, tranches and reports -----------------------------------------------------------------------

    def grants(self):
        sizes, rng, today = self.sizes, self.rng, self.today
        per_grant, extra = divmod(sizes.tranches, sizes.grants)
        newest_decided = max(
            (call for call in self.call_plan if call["role"] == "decided"), key=lambda call: call["closes"]
        )
        accounts = [
            {"id": 1, "code": "CASH-KZT", "name": "Cash (KZT)", "kind": AccountKind.CASH, "currency": "KZT"}
        ]
        grants, tranches, reports, indicators, spend_lines = [], [], [], [], []
        self.grant_plan = []
        number_by_year = defaultdict(int)
        final_days = current_app.config["FINAL_REPORT_DAYS"]
        for index, plan in enumerate(sorted(self.approved, key=lambda plan: (plan["decided"], plan["id"]))):
            decided = plan["decided"]
            number_by_year[decided.year] += 1
            prefix = current_app.config["REFERENCE_PREFIXES"]["grant"]
            reference = f"{prefix}-{decided.year}-{number_by_year[decided.year]:04d}"
            content = self._content(plan["template"], plan["call"])[0]
            start = date.fromisoformat(content["timeline"]["start"])
            end = date.fromisoformat(content["timeline"]["end"])
            signed_on = start - timedelta(days=rng.randrange(5, 20))
            unsigned = (plan["call"] is newest_decided and index % 2 == 1) or signed_on > today
            amount = Money(plan["approved"], "KZT")
            count = per_grant + (1 if index < extra else 0)
            schedule = default_schedule(amount, start, end, [3] * (count - 1) + [1])
            grant_id = index + 1
            account_id = len(accounts) + 1
            accounts.append(
                {
                    "id": account_id,
                    "code": f"GRANT-{reference}",
                    "name": f"{reference} {plan['title']}"[:300],
                    "kind": AccountKind.COMMITMENT,
                    "currency": "KZT",
                }
            )
            grant = {
                "id": grant_id,
                "reference": reference,
                "plan": plan,
                "amount": amount.minor,
                "signed_on": None if unsigned else signed_on,
                "theme": self.templates[plan["template"]]["theme"],
                "account_id": account_id,
                "releases": [],
            }
            self.grant_plan.append(grant)
            organisation = plan["organisation"]
            overdue = grant_id % 10 == 0
            state = GrantState.AGREEMENT if unsigned else GrantState.ACTIVE
            last_paid = None
            all_released = True
            final_accepted = False
            report_number = 0
            for number, (part, planned, gate, period) in enumerate(schedule, 1):
                report_id = None
                accepted_on = None
                if gate != TrancheGate.NONE:
                    report_number += 1
                    kind = ReportKind.FINAL if gate == TrancheGate.FINAL_REPORT else ReportKind.PROGRESS
                    due = planned if kind == ReportKind.PROGRESS else end + timedelta(days=final_days)
                    report_state, submitted_on, reviewed_on = self._report_state(unsigned, due, overdue)
                    report_id = len(reports) + 1
                    reports.append(
                        {
                            "id": report_id,
                            "grant_id": grant_id,
                            "number": report_number,
                            "kind": kind,
                            "period_start": period[0],
                            "period_end": period[1],
                            "due_date": due,
                            "state": report_state,
                            "narrative": NARRATIVE if submitted_on else "",
                            "submitted_at": _at(submitted_on, 15) if submitted_on else None,
                            "submitted_by_id": self._applicant(organisation) if submitted_on else None,
                            "reviewed_at": _at(reviewed_on, 11) if reviewed_on else None,
                            "reviewed_by_id": self.officer if reviewed_on else None,
                            "review_comment": "Add the count's raw data as a document."
                            if report_state == ReportState.CHANGES_REQUESTED
                            else "",
                            "updated_at": _at(submitted_on or due, 15),
                        }
                    )
                    if submitted_on:
                        self._report_rows(
                            report_id, content, report_number, len(schedule) - 1, indicators, spend_lines
                        )
                    if report_state == ReportState.ACCEPTED:
                        accepted_on = reviewed_on
                        final_accepted = final_accepted or kind == ReportKind.FINAL
                # Due once its date has come and (for a gated tranche) its report is accepted.
                ready = None
                if not unsigned and (gate == TrancheGate.NONE or accepted_on is not None):
                    ready = max(planned, accepted_on or planned, signed_on)
                tranche = {
                    "id": len(tranches) + 1,
                    "grant_id": grant_id,
                    "number": number,
                    "amount_minor": part.minor,
                    "currency": "KZT",
                    "planned_date": planned,
                    "gate": gate,
                    "report_id": report_id,
                    "state": TrancheState.SCHEDULED,
                    "approved_by_id": None,
                    "approved_at": None,
                    "approved_iban": None,
                    "released_by_id": None,
                    "released_at": None,
                    "paid_on": None,
                    "bank_reference": "",
                }
                if ready is not None and ready <= today:
                    tranche["state"] = TrancheState.DUE
                    if ready + timedelta(days=5) <= today:
                        tranche.update(
                            state=TrancheState.APPROVED,
                            approved_by_id=self.finance,
                            approved_at=_at(ready + timedelta(days=3), 10),
                            approved_iban=kazakh_iban(organisation),
                        )
                    if ready + timedelta(days=7) <= today:
                        paid_on = ready + timedelta(days=7)
                        tranche.update(
                            state=TrancheState.RELEASED,
                            released_by_id=self.finance2,
                            released_at=_at(paid_on, 16),
                            paid_on=paid_on,
                            bank_reference=f"HSBK{grant_id:05d}{number:02d}",
                        )
                        grant["releases"].append((tranche["id"], paid_on, part.minor))
                        last_paid = paid_on
                if tranche["state"] != TrancheState.RELEASED:
                    all_released = False
                tranches.append(tranche)
            if final_accepted:
                state = GrantState.CLOSED if all_released else GrantState.COMPLETED
            grant["state"] = state
            grants.append(
                {
                    "id": grant_id,
                    "reference": reference,
                    "proposal_id": plan["id"],
                    "agenda_item_id": plan["item"],
                    "organisation_id": organisation,
                    "call_id": plan["call"]["id"],
                    "pool_id": None,  # chosen with the money, in ``ledger``
                    "title": plan["title"],
                    "state": state,
                    "amount_minor": amount.minor,
                    "currency": "KZT",
                    "start_date": start,
                    "end_date": end,
                    "conditions": "",
                    "account_id": account_id,
                    "bank_name": None if unsigned else "Halyk Bank",
                    "bank_bic": None if unsigned else "HSBKKZKX",
                    "bank_iban": None if unsigned else kazakh_iban(organisation),
                    "bank_kbe": None if unsigned else "18",
                    "grantee_signatory": "" if unsigned else f"Director of organisation {organisation}",
                    "grantee_signed_on": None if unsigned else signed_on,
                    "fund_signatory": "" if unsigned else "Executive Director",
                    "fund_signed_on": None if unsigned else signed_on,
                    "activated_at": None if unsigned else _at(signed_on, 17),
                    "closed_at": _at(last_paid + timedelta(days=3), 12)
                    if state == GrantState.CLOSED
                    else None,
                    "created_at": _at(plan["decided"], 14),
                    "created_by_id": self.officer,
                }
            )
        self.accounts = accounts
        self.grant_rows = grants
        self.tranche_rows = tranches
        self.report_rows = reports
        self.indicator_rows = indicators
        self.spend_rows = spend_lines

    def _report_state(self, unsigned, due, overdue):
        """(state, submitted on, reviewed on) of a report due on ``due``."""
        today = self.today
        if unsigned or due - timedelta(days=3) > today:
            return ReportState.DUE, None, None
        submitted = due - timedelta(days=3)
        if due + timedelta(days=40) <= today:
            return ReportState.ACCEPTED, submitted, due + timedelta(days=12)
        if overdue and due < today:
            return ReportState.DUE, None, None
        if due.toordinal() % 7 == 0 and due + timedelta(days=10) <= today:
            return ReportState.CHANGES_REQUESTED, submitted, due + timedelta(days=9)
        return ReportState.SUBMITTED, submitted, None

    def _report_rows(self, report_id, content, number, reports, indicators, spend_lines):
        share = Decimal(number) / Decimal(max(reports, 1))
        for position, indicator in enumerate(content["logframe"].get("indicators", [])):
            target = Decimal(str(indicator.get("target") or "0"))
            indicators.append(
                {
                    "report_id": report_id,
                    "position": position,
                    "code": indicator.get("code") or None,
                    "name": indicator.get("name", ""),
                    "unit": indicator.get("unit", ""),
                    "target": str(indicator.get("target") or ""),
                    "value": str((target * share).quantize(Decimal(1))),
                    "comment": "",
                }
            )
        for position, line in enumerate(content["budget"].get("lines", [])):
            budget = int(budget_totals_of({"lines": [line]}, "KZT")["requested"].minor * share)
            if budget <= 0:
                continue
            spend_lines.append(
                {
                    "report_id": report_id,
                    "position": position,
                    "category": line.get("category", ""),
                    "description": line.get("description", "")[:500],
                    "budget_minor": budget,
                    "spent_minor": budget * (95 + position % 10) // 100,
                    "currency": "KZT",
                    "explanation": "",
                }
            )

    # -- donors ---------------------------------------------------------------------------------------------

    def donors(self):
        sizes, rng = self.sizes, self.rng
        donors, contacts, pledges, instalments = [], [], [], []
        self.donor_plan = []
        counts = []
        for _kind, donor_share, _receipts, _money, _currencies in DONOR_KINDS:
            counts.append(max(1, round(sizes.donors * donor_share)))
        while sum(counts) > sizes.donors:
            counts[counts.index(max(counts))] -= 1
        counts[-1] += sizes.donors - sum(counts)
        serial = 0
        for (kind, _share, receipts, money, currencies), count in zip(DONOR_KINDS, counts, strict=True):
            for n in range(count):
                serial += 1
                currency = currencies[n % len(currencies)]
                country = COUNTRIES[currency][n % len(COUNTRIES[currency])]
                name = {
                    DonorKind.GOVERNMENT: f"Ministry for the Environment of {country} ({n + 1})",
                    DonorKind.MULTILATERAL: f"Multilateral Biodiversity Facility {n + 1}",
                    DonorKind.FOUNDATION: f"Nature Foundation {n + 1}",
                    DonorKind.COMPANY: f"Caspian Energy Partner {n + 1} LLP",
                    DonorKind.INDIVIDUAL: f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                }[kind]
                language = "kk" if currency == "KZT" and n % 3 == 0 else "ru" if currency == "KZT" else "en"
                donors.append(
                    {
                        "id": serial,
                        "reference": f"{current_app.config['REFERENCE_PREFIXES']['donor']}-{serial:04d}",
                        "name": name,
                        "kind": kind,
                        "country": country,
                        "preferred_language": language,
                        "preferred_currency": currency,
                        "org_identifier": f"XM-DAC-{serial}" if kind != DonorKind.INDIVIDUAL else "",
                        "salutation": "Dear partners" if kind != DonorKind.INDIVIDUAL else f"Dear {name}",
                        "created_at": self.now - timedelta(days=1900),
                        "created_by_id": self.finance,
                    }
                )
                self.donor_plan.append(
                    {
                        "id": serial,
                        "kind": kind,
                        "currency": currency,
                        "receipt_weight": receipts / count,
                        "money_weight": money / count,
                    }
                )
        # The first donor (a government) is the portal's: its money arrives early and funds many projects.
        self.donor_plan[0]["money_weight"] = max(weight["money_weight"] for weight in self.donor_plan) * 2
        contacts.append(
            {
                "donor_id": 1,
                "name": "Anna Larsen",
                "position": "Programme manager",
                "email": BENCH_LOGINS["donor"],
                "user_id": self.donor_user,
            }
        )
        contacts.extend(
            {
                "donor_id": donor["id"],
                "name": f"Contact of {donor['name']}"[:200],
                "position": "Programme manager",
                "email": f"contact{donor['id']}@{BENCH_DOMAIN}",
                "user_id": None,
            }
            for donor in donors[1:]
            if donor["kind"] != DonorKind.INDIVIDUAL
        )
        self.donor_rows = donors
        self.contact_rows = contacts
        self.pledge_rows = pledges
        self.instalment_rows = instalments

    # -- the ledger -----------------------------------------------------------------------------------------

    def ledger(self):
        """Pools, receipts, commitments and releases in date order, with the first-in-first-out
        attribution of each commitment, then every table written at once."""
        sizes, rng, today = self.sizes, self.rng, self.today
        pools = [("GENERAL", "General fund", Restriction.UNRESTRICTED, None)] + [
            (
                theme.upper().replace("_", "-")[:40],
                f"Restricted to {theme.replace('_', ' ')}",
                Restriction.THEME,
                theme,
            )
            for theme in self.themes
        ]
        pool_rows, pool_by_theme = [], {}
        for index, (code, name, restriction, theme) in enumerate(pools, 1):
            account_id = len(self.accounts) + 1
            self.accounts.append(
                {
                    "id": account_id,
                    "code": f"POOL-{code}",
                    "name": name,
                    "kind": AccountKind.POOL,
                    "currency": "KZT",
                }
            )
            pool_rows.append(
                {
                    "id": index,
                    "code": code,
                    "name": name,
                    "restriction": restriction,
                    "theme": theme,
                    "call_id": None,
                    "currency": "KZT",
                    "account_id": account_id,
                    "created_at": self.now - timedelta(days=1900),
                    "created_by_id": self.finance,
                }
            )
            if theme:
                pool_by_theme[theme] = index
        pool_account = {row["id"]: row["account_id"] for row in pool_rows}

        signed = [grant for grant in self.grant_plan if grant["signed_on"] is not None]
        grant_entries = len(signed) + sum(len(grant["releases"]) for grant in signed)
        receipts = max(sizes.donors, (sizes.postings - 2 * grant_entries) // 2)
        demand = sum(grant["amount"] for grant in signed) or 1
        demand_by_theme = defaultdict(int)
        for grant in signed:
            demand_by_theme[grant["theme"]] += grant["amount"]
        first_day = min([grant["signed_on"] for grant in signed] + [today - timedelta(days=365)]) - timedelta(
            days=400
        )
        span = (today - timedelta(days=1) - first_day).days

        # Receipts: each donor at least one; the rest by the donors' receipt weights.
        weights = [donor["receipt_weight"] for donor in self.donor_plan]
        owners = [donor["id"] for donor in self.donor_plan] + rng.choices(
            [donor["id"] for donor in self.donor_plan], weights=weights, k=receipts - len(self.donor_plan)
        )
        money_weight = {donor["id"]: donor["money_weight"] for donor in self.donor_plan}
        receipts_of = defaultdict(int)
        for owner in owners:
            receipts_of[owner] += 1
        total_money = demand * 13 // 10
        total_weight = sum(money_weight.values())
        theme_names = list(self.themes)
        theme_weights = [demand_by_theme[theme] + 1 for theme in theme_names]
        planned = []
        for owner in owners:
            donor = self.donor_plan[owner - 1]
            mean = total_money * money_weight[owner] / total_weight / receipts_of[owner]
            base = max(int(mean * rng.uniform(0.5, 1.5)), 10_000_00)
            if owner == 1:
                day = first_day + timedelta(days=rng.randrange(0, max(span // 4, 1)))
            else:
                day = first_day + timedelta(days=rng.randrange(0, span))
            theme = rng.choices(theme_names, theme_weights)[0]
            pool = 1 if rng.random() < 0.5 else pool_by_theme[theme]
            planned.append((day, owner, pool, base, donor["currency"]))
        planned.sort(key=lambda row: (row[0], row[1]))

        journal, postings, contributions, allocations = [], [], [], []

        def entry(kind, value_date, description, lines, **extra):
            entry_id = len(journal) + 1
            journal.append(
                {
                    "id": entry_id,
                    "kind": kind,
                    "value_date": value_date,
                    "recorded_at": _at(min(value_date, today), 12),
                    "recorded_by_id": self.finance,
                    "description": description[:500],
                    "bank_reference": extra.pop("bank_reference", ""),
                    "pool_id": extra.pop("pool_id", None),
                    "grant_id": extra.pop("grant_id", None),
                    "tranche_id": extra.pop("tranche_id", None),
                }
            )
            postings.extend(
                {"entry_id": entry_id, "account_id": account, "amount_minor": amount, "currency": "KZT"}
                for account, amount in lines
            )
            return entry_id

        # Events in date order: receipts first on a day, then commitments, then releases.
        events = [(day, 0, index, index) for index, (day, *_rest) in enumerate(planned)]
        events += [(grant["signed_on"], 1, grant["id"], grant) for grant in signed]
        events += [
            (paid_on, 2, tranche_id, (grant, tranche_id, amount))
            for grant in signed
            for tranche_id, paid_on, amount in grant["releases"]
        ]
        events.sort(key=lambda event: event[:3])
        available = defaultdict(int)
        fifo = defaultdict(deque)  # pool -> [contribution id, unallocated]
        for day, kind, _order, payload in events:
            if kind == 0:
                _day, owner, pool, base, currency = planned[payload]
                donor = self.donor_plan[owner - 1]
                rate = RATES[currency]
                if currency != "KZT":
                    rate = (rate * Decimal(str(rng.uniform(0.93, 1.07)))).quantize(Decimal("0.01"))
                    amount = int((Decimal(base) / rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
                    base = int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
                else:
                    amount = base
                entry_id = entry(
                    EntryKind.RECEIPT,
                    day,
                    f"Contribution of {self.donor_rows[owner - 1]['name']}",
                    [(1, base), (pool_account[pool], -base)],
                    pool_id=pool,
                    bank_reference=f"TRF{len(journal) + 1:07d}",
                )
                contribution_id = len(contributions) + 1
                contributions.append(
                    {
                        "id": contribution_id,
                        "donor_id": owner,
                        "pledge_id": None,
                        "pool_id": pool,
                        "amount_minor": amount,
                        "currency": currency,
                        "rate": f"{rate:f}",
                        "base_amount_minor": base,
                        "base_currency": "KZT",
                        "value_date": day,
                        "bank_reference": f"TRF{entry_id:07d}",
                        "entry_id": entry_id,
                        "created_at": _at(day, 12),
                        "created_by_id": self.finance,
                    }
                )
                available[pool] += base
                fifo[pool].append([contribution_id, base])
                donor["received"] = donor.get("received", 0) + amount
            elif kind == 1:
                grant = payload
                amount = grant["amount"]
                pool = pool_by_theme.get(grant["theme"])
                if pool is None or available[pool] < amount:
                    pool = 1
                if available[pool] < amount:
                    # The government's endowment tops the general fund up (money from no donor).
                    top_up = -(-(amount - available[pool]) // 1_000_000_000_00) * 1_000_000_000_00
                    entry(
                        EntryKind.RECEIPT,
                        day,
                        "Endowment transfer from the Government of Kazakhstan",
                        [(1, top_up), (pool_account[pool], -top_up)],
                        pool_id=pool,
                        bank_reference=f"GOV{len(journal) + 1:07d}",
                    )
                    available[pool] += top_up
                grant["pool"] = pool
                self.grant_rows[grant["id"] - 1]["pool_id"] = pool
                entry_id = entry(
                    EntryKind.COMMITMENT,
                    day,
                    f"Commitment of {grant['reference']}",
                    [(pool_account[pool], amount), (grant["account_id"], -amount)],
                    pool_id=pool,
                    grant_id=grant["id"],
                )
                available[pool] -= amount
                left = amount
                queue = fifo[pool]
                while left > 0 and queue:
                    head = queue[0]
                    take = min(head[1], left)
                    allocations.append(
                        {
                            "grant_id": grant["id"],
                            "contribution_id": head[0],
                            "entry_id": entry_id,
                            "amount_minor": take,
                        }
                    )
                    head[1] -= take
                    left -= take
                    if head[1] == 0:
                        queue.popleft()
                if left > 0:
                    allocations.append(
                        {
                            "grant_id": grant["id"],
                            "contribution_id": None,
                            "entry_id": entry_id,
                            "amount_minor": left,
                        }
                    )
            else:
                grant, tranche_id, amount = payload
                entry(
                    EntryKind.RELEASE,
                    day,
                    f"Tranche of {grant['reference']}",
                    [(grant["account_id"], amount), (1, -amount)],
                    pool_id=grant["pool"],
                    grant_id=grant["id"],
                    tranche_id=tranche_id,
                    bank_reference=f"HSBK{tranche_id:07d}",
                )
        # Unsigned grants draw on the pool that would take them now (the board's guard reserves it).
        for grant in self.grant_plan:
            if grant["signed_on"] is None:
                pool = pool_by_theme.get(grant["theme"])
                self.grant_rows[grant["id"] - 1]["pool_id"] = (
                    pool if pool and available[pool] >= grant["amount"] else 1
                )

        # Open pledges of the governments and multilaterals for the next three years.
        for donor in self.donor_plan:
            if donor["kind"] in (DonorKind.GOVERNMENT, DonorKind.MULTILATERAL):
                pledge_id = len(self.pledge_rows) + 1
                yearly = max(donor.get("received", 0) // 4, 1_000_00)
                self.pledge_rows.append(
                    {
                        "id": pledge_id,
                        "donor_id": donor["id"],
                        "pool_id": 1,
                        "amount_minor": 3 * yearly,
                        "currency": donor["currency"],
                        "pledged_on": today - timedelta(days=60),
                        "state": PledgeState.OPEN,
                        "note": "Framework agreement 2027-2029.",
                        "created_at": self.now - timedelta(days=60),
                        "created_by_id": self.finance,
                    }
                )
                self.instalment_rows.extend(
                    {
                        "pledge_id": pledge_id,
                        "due_on": date(today.year + year, 3, 31),
                        "amount_minor": yearly,
                        "currency": donor["currency"],
                    }
                    for year in (1, 2, 3)
                )

        self.insert(
            LedgerAccount, ({**row, "created_at": self.now - timedelta(days=1900)} for row in self.accounts)
        )
        self.insert(FundingPool, pool_rows)
        self.insert(Grant, self.grant_rows)
        self.insert(GrantReport, self.report_rows)
        self.insert(Tranche, self.tranche_rows)
        self.insert(ReportIndicatorValue, self.indicator_rows)
        self.insert(ReportSpendLine, self.spend_rows)
        self.insert(Donor, self.donor_rows)
        self.insert(DonorContact, self.contact_rows)
        self.insert(Pledge, self.pledge_rows)
        self.insert(PledgeInstalment, self.instalment_rows)
        self.insert(JournalEntry, journal)
        self.insert(Posting, postings)
        self.insert(Contribution, contributions)
        created = {row["id"]: row["recorded_at"] for row in journal}
        self.insert(
            Allocation,
            ({**row, "currency": "KZT", "created_at": created[row["entry_id"]]} for row in allocations),
        )

    # -- the audit log --------------------------------------------------------------------------------------

    def audit(self):
        """A chained audit event per change of a proposal's state, from its submission on, in time order."""
        officer_label = BENCH_LOGINS["programme_officer"]
        events = []
        for plan in self.proposal_plan:
            applicant = self._applicant(plan["organisation"])
            label = f"applicant{plan['organisation']}@{BENCH_DOMAIN}"
            state_before = "draft"
            for state, days in STATE_PATHS[plan["state"]]:
                actor, actor_label = (applicant, label) if days == 0 else (self.officer, officer_label)
                when = min(plan["submitted"] + timedelta(days=days), self.now - timedelta(minutes=1))
                events.append((when, actor, actor_label, plan["id"], state_before, state.value))
                state_before = state.value
        events.sort(key=lambda event: (event[0], event[3]))
        previous = (
            self.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
            or GENESIS_HASH
        )
        rows = []
        for occurred, actor, label, proposal_id, before, after in events:
            row = {
                "occurred_at": occurred,
                "actor_id": actor,
                "actor_label": label,
                "entity_type": "Proposal",
                "entity_id": str(proposal_id),
                "action": f"proposal.{after}",
                "before": {"state": before},
                "after": {"state": after, "reason": None},
                "prev_hash": previous,
            }
            row["hash"] = event_hash(
                prev_hash=previous,
                occurred_at=occurred,
                actor_id=actor,
                actor_label=label,
                entity_type="Proposal",
                entity_id=str(proposal_id),
                action=row["action"],
                before=row["before"],
                after=row["after"],
            )
            previous = row["hash"]
            rows.append(row)
        self.insert(AuditEvent, rows)


def estimated_rows(sizes):
    """About how many rows ``Sizes`` makes, for the progress bar."""
    return (
        sizes.proposals * 27
        + sizes.reviews * 6
        + sizes.grants * 12
        + sizes.tranches * 8
        + sizes.postings * 2
        + (sizes.proposals - sizes.ranking_call) * 8
        + 15_000
    )


def database_is_empty(session):
    return session.scalar(select(func.count()).select_from(User)) == 0


def seed(session, sizes, progress=None):
    """Fill the empty database of ``session`` with a fund of ``sizes``; commits. Returns rows per table."""
    problems = sizes.problems()
    if problems:
        raise SeedError(" ".join(problems))
    if not database_is_empty(session):
        raise SeedError(
            "The database already holds users: bench seed fills an empty database "
            "(create one and run `fundapp db upgrade` first)."
        )
    return Seeder(session, sizes, progress).run()
