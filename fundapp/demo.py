"""The demo fund loaded by ``fundapp seed-demo`` (and by ``make run`` on an empty database).

A small but realistic picture of a Kazakh conservation fund: its staff, board and reviewers, the NGOs,
institutes and community groups that apply to it, five calls for proposals (open, two-stage, two closed and
a draft), proposals in every state of the workflow, the reviews of the closed calls and the board meetings
that decide them, the funding pools the grants draw from and the grants in every state of theirs. Every
demo person has the same password.

Everything is made through the operations a person's clicks would call, so the audit log, the frozen
versions with their PDFs, the minutes, the ledger and the mail outbox hold what real use would leave:

- calls: created, published, given the fund's default rubric; the closed ones are closed after their
  deadlines (the steppe and wetlands call sixteen months ago, the snow leopard call last month);
- funding pools and donors: the pools created; five donors (a government, a multilateral programme, a
  company, a foundation and a private person; euro, dollars and tenge) registered with their contacts
  (two with a donor-portal login) and pledges; their contributions, at the day's exchange rate, and a
  little money from no donor received over the past twenty months, each in time before the grants it
  funds are signed, so signing attributes every grant to the donors' money (first in, first out);
- proposals: started, written section by section, attachments added, submitted, screened, withdrawn;
- reviews of the closed calls: reviewer profiles (expertise, an affiliation), automatic assignment,
  declarations (one reviewer declares a conflict and is replaced), scores saved and submitted; proposals
  become "reviewed" when their reviews are all in, and one stays in review;
- the board: its rules (a chair, the officer as secretary), the meeting more than a year ago that approved
  the steppe and wetlands proposals, last month's meeting (agenda, attendance with one member absent, a
  recusal, votes, decisions: approved, approved with conditions, rejected, deferred; closed, so its minutes
  are stored with their SHA-256) and next month's meeting with its agenda;
- grants: each approval made one, drawing from its pool; GRANT_STORIES takes them on: agreements signed,
  tranches approved by one finance officer and released by the other, reports written (indicator values,
  spending, a photo), accepted or sent back, a grant suspended, one terminated with a refund, one completed,
  one closed with its unspent money de-committed, one cancelled, one still waiting for signature.

Only dates are set by hand where the operations work on "now": submissions, reviews and decisions carry
the instant they were made (``now=``); the closed calls are published with a deadline still ahead, given
their proposals, then dated back and closed, and past meetings are dated back before they are closed;
assignments and declarations are dated after the call closed; signatures, payments and refunds carry their
days as the operations take them (``paid_on=``, ``value_date=``), and the instants the grant operations
stamp (approval, release, report submission and review) are given the days of the story. Audit events say
so. Ledger entries are never changed: they keep the instant the demo recorded them.
"""

import calendar
import io
import struct
import zlib
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from fundapp.accounts.identifiers import bin_check_digit
from fundapp.accounts.models import Membership, Organisation, OrganisationType, User
from fundapp.accounts.operations import create_user
from fundapp.accounts.passwords import hash_password
from fundapp.applications import calls as call_operations
from fundapp.applications import operations as proposal_operations
from fundapp.applications import screening, submission
from fundapp.applications.models import ProposalState, ScreeningOutcome
from fundapp.board import operations as board_operations
from fundapp.board.budget import APPROVING
from fundapp.board.models import DecisionOutcome, VoteChoice
from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.formatting import fund_timezone, to_local
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.disbursements import operations as grant_operations
from fundapp.disbursements import pools as pool_operations
from fundapp.disbursements import reporting
from fundapp.disbursements.models import Grant, ReportFileKind, Restriction
from fundapp.donors import operations as donor_operations
from fundapp.donors.models import DonorKind
from fundapp.reference.data import load_reference_data
from fundapp.reference.models import ReferenceItem, Vocabulary
from fundapp.reviews import operations as review_operations
from fundapp.reviews import scoring
from fundapp.reviews.models import AssignmentState, Recommendation

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the demo logins, never used in production

#: email, full name, roles
STAFF = [
    ("admin@ibf.example", "Aigerim Nurlanovna", [Role.ADMIN]),
    ("officer@ibf.example", "Daniyar Seitkali", [Role.PROGRAMME_OFFICER]),
    ("officer2@ibf.example", "Madina Abenova", [Role.PROGRAMME_OFFICER]),
    ("finance@ibf.example", "Yerlan Tokayev", [Role.FINANCE_OFFICER]),
    ("finance2@ibf.example", "Saule Bekova", [Role.FINANCE_OFFICER]),
    ("chair@ibf.example", "Prof. Bakhyt Zhumabekov", [Role.BOARD_MEMBER]),
    ("board1@ibf.example", "Gulnara Ospanova", [Role.BOARD_MEMBER]),
    ("board2@ibf.example", "Timur Kassymov", [Role.BOARD_MEMBER]),
    ("board3@ibf.example", "Dr. Helen Marsh", [Role.BOARD_MEMBER]),
    ("board4@ibf.example", "Askar Mukhamediyarov", [Role.BOARD_MEMBER]),
    ("reviewer1@ibf.example", "Dr. Olga Pereladova", [Role.REVIEWER]),
    ("reviewer2@ibf.example", "Dr. Nurlan Kassenov", [Role.REVIEWER]),
    ("reviewer3@ibf.example", "Dr. Susan Wilson", [Role.REVIEWER]),
    ("reviewer4@ibf.example", "Dr. Yerzhan Sultangazin", [Role.REVIEWER]),
]

#: bin serial, English, Russian, Kazakh names, type, region, address, people (email, name, manager?)
ORGANISATIONS = [
    (
        1,
        "Caspian Seal Conservation Society",
        "Общество сохранения каспийского тюленя",
        "Каспий итбалығын сақтау қоғамы",
        OrganisationType.NGO,
        "KZ-47",
        "Aktau, 9th microdistrict, 12",
        [
            ("seal@caspianseal.example", "Aliya Dzhaksybekova", True),
            ("marat@caspianseal.example", "Marat Utegenov", False),
        ],
    ),
    (
        2,
        "Steppe Saiga Alliance",
        "Альянс по сохранению степной сайги",
        "Дала киігін сақтау альянсы",
        OrganisationType.NGO,
        "KZ-62",
        "Zhezkazgan, Alashakhan Avenue, 7",
        [("saiga@steppe.example", "Nurlybek Amanov", True)],
    ),
    (
        3,
        "Institute of Zoology",
        "Институт зоологии",
        "Зоология институты",
        OrganisationType.RESEARCH_INSTITUTE,
        "KZ-75",
        "Almaty, Al-Farabi Avenue, 93",
        [("leopard@zoology.example", "Dr. Ainur Tuleubayeva", True)],
    ),
    (
        4,
        "Katon-Karagay Community Rangers",
        "Общественные егеря Катон-Карагая",
        "Катонқарағай қоғамдық инспекторлары",
        OrganisationType.COMMUNITY_GROUP,
        "KZ-63",
        "Katon-Karagay village, Abai Street, 3",
        [("rangers@katon.example", "Serik Nurgaliyev", True)],
    ),
    (
        5,
        "Northern Caspian Ecological Society",
        "Экологическое общество Северного Каспия",
        "Солтүстік Каспий экологиялық қоғамы",
        OrganisationType.NGO,
        "KZ-23",
        "Atyrau, Satpayev Avenue, 19",
        [("caspian@ncaspian.example", "Dina Kaliyeva", True)],
    ),
    (
        6,
        "Betpak-Dala Rangers' Union",
        "Союз егерей Бетпак-Далы",
        "Бетпақдала инспекторлар одағы",
        OrganisationType.COMMUNITY_GROUP,
        "KZ-31",
        "Moiynkum village, Amangeldy Street, 21",
        [("betpak@rangers.example", "Yerbol Sarsenbayev", True)],
    ),
    (
        7,
        "Zhetysu Mountain Ecology Centre",
        "Жетысуский центр горной экологии",
        "Жетісу тау экологиясы орталығы",
        OrganisationType.NGO,
        "KZ-33",
        "Taldykorgan, Akyn Sara Street, 94",
        [("zhetysu@mountains.example", "Zhanna Abdrakhmanova", True)],
    ),
    (
        8,
        "Ile-Alatau Herders' Association",
        "Ассоциация скотоводов Иле-Алатау",
        "Іле Алатауы малшылар қауымдастығы",
        OrganisationType.COMMUNITY_GROUP,
        "KZ-19",
        "Talgar, Kunaev Street, 40",
        [("herders@ilealatau.example", "Bolat Ismailov", True)],
    ),
    (
        9,
        "Tien Shan Ecological Research Centre",
        "Тянь-Шаньский центр экологических исследований",
        "Тянь-Шань экологиялық зерттеулер орталығы",
        OrganisationType.RESEARCH_INSTITUTE,
        "KZ-75",
        "Almaty, Timiryazev Street, 42",
        [("research@tienshan.example", "Dr. Yelena Kim", True)],
    ),
    (
        10,
        "Friends of Aksu-Zhabagly",
        "Друзья Аксу-Жабаглы",
        "Ақсу-Жабағылы достары",
        OrganisationType.NGO,
        "KZ-61",
        "Zhabagly village, Tulkibas District",
        [("friends@aksu.example", "Murat Zhaksylykov", True)],
    ),
    (
        11,
        "Mangystau Fishers' Cooperative",
        "Мангистауский рыболовецкий кооператив",
        "Маңғыстау балықшылар кооперативі",
        OrganisationType.OTHER,
        "KZ-47",
        "Fort-Shevchenko, Bayan-Sulu Street, 8",
        [("fishers@mangystau.example", "Kairat Dosmukhanov", True)],
    ),
    (
        12,
        "Aktau Youth Eco-Club",
        "Молодёжный экоклуб Актау",
        "Ақтау жастар экоклубы",
        OrganisationType.COMMUNITY_GROUP,
        "KZ-47",
        "Aktau, 15th microdistrict, 3",
        [("youth@ecoclub.example", "Aruzhan Serikova", True)],
    ),
]

#: Who acts for the fund in the demo: screens, moves proposals on, runs the calls.
OFFICER_EMAIL = "officer@ibf.example"

ALL_TYPES = [t.value for t in OrganisationType]
REGISTERED_IN_KAZAKHSTAN = {
    "text": "Is your organisation registered in Kazakhstan?",
    "disqualifying_answer": False,
    "explanation": "Only organisations registered in Kazakhstan can apply to the fund's calls.",
}

#: key -> the call's content (instants are added by ``_call_dates``), in the order the calls are created.
CALLS = {
    # Decided by the board more than a year ago: its grants are signed, paid, reported on, ended.
    "steppe-wetlands": {
        "title": "Steppe ungulates and wetlands: small grants",
        "description_html": (
            "<p>Small grants for the steppe and its lakes: anti-poaching and counts of saiga, goitered "
            "gazelle and kulan, and the protection of the lakes where flamingos, pelicans and white-headed "
            "ducks breed, from the Ural delta to the Turgay steppe and the lakes of Zhambyl.</p>"
            "<ul><li>Grants of 5 to 30 million tenge for one or two years.</li>"
            "<li>Attach your registration certificate.</li></ul>"
        ),
        "themes": ["steppe_ungulates", "wetlands", "protected_areas"],
        "eligible_org_types": ALL_TYPES,
        "currency": "KZT",
        "grant_min": "5000000",
        "grant_max": "30000000",
        "envelope": "150000000",
        "stages": 1,
        "cofinancing_min_percent": 0,
        "required_attachments": ["registration_certificate"],
        "questions": [REGISTERED_IN_KAZAKHSTAN],
    },
    "leopard": {
        "title": "Snow leopard corridors",
        "description_html": (
            "<p>Kazakhstan's snow leopards live in the Altai, Saur-Tarbagatai, Zhongar-Alatau and the "
            "Northern and Western Tien Shan, in groups that meet only through narrow valleys and passes. "
            "This call funds work that keeps those corridors open: camera-trap and genetic surveys that "
            "show where the cats move, community rangers, predator-proof corrals that end retaliatory "
            "killing, and the protection of corridors between national parks.</p>"
            "<ul><li>Grants of 8 to 50 million tenge for up to three years.</li>"
            "<li>At least 15% of the total cost from other sources (work in kind counts).</li>"
            "<li>Attach your registration certificate and a letter of support from the protected area "
            "or the district akimat.</li></ul>"
        ),
        "themes": ["large_carnivores", "protected_areas"],
        "eligible_org_types": ALL_TYPES,
        "currency": "KZT",
        "grant_min": "8000000",
        "grant_max": "50000000",
        "envelope": "300000000",
        "stages": 1,
        "cofinancing_min_percent": 15,
        "required_attachments": ["registration_certificate", "letter_of_support"],
        "questions": [
            REGISTERED_IN_KAZAKHSTAN,
            {
                "text": "Does the project work within the snow leopard's range in Kazakhstan (Altai, "
                "Saur-Tarbagatai, Zhongar-Alatau or the Tien Shan)?",
                "disqualifying_answer": False,
                "explanation": "The call funds work in the snow leopard's range only.",
            },
        ],
    },
    "caspian": {
        "title": "Caspian seal and the marine reserve",
        "description_html": (
            "<p>The Caspian seal, the only mammal of the Caspian Sea, is a small fraction of what it was a "
            "century ago. It breeds on the winter ice of the northern Caspian and hauls out on the Tyuleniy "
            "islands and the shoals of the Kazakh shelf, where the fund supports the creation of a marine "
            "reserve.</p>"
            "<p>This call funds surveys and monitoring of the seal, the removal of lost and illegal nets, "
            "patrols with the fisheries inspection, seal-safe fishing and the preparation of the marine "
            "reserve.</p>"
            "<ul><li>Grants of 10 to 60 million tenge for up to three years.</li>"
            "<li>At least 10% co-financing.</li>"
            "<li>Attach your registration certificate and the budget workbook.</li></ul>"
        ),
        "themes": ["marine_mammals", "protected_areas"],
        "eligible_org_types": ALL_TYPES,
        "currency": "KZT",
        "grant_min": "10000000",
        "grant_max": "60000000",
        "envelope": "400000000",
        "stages": 1,
        "cofinancing_min_percent": 10,
        "required_attachments": ["registration_certificate", "budget_workbook"],
        "questions": [
            REGISTERED_IN_KAZAKHSTAN,
            {
                "text": "Does the project work on the Kazakh shelf or coast of the Caspian Sea?",
                "disqualifying_answer": False,
                "explanation": "The call funds work in the Kazakh part of the Caspian only.",
            },
        ],
    },
    "saiga": {
        "title": "Saiga and steppe ungulates",
        "description_html": (
            "<p>Saiga have come back to Kazakhstan's steppes in numbers few thought possible, but the "
            "Betpak-Dala population is still the smallest and the most exposed to poaching for horn, and "
            "the goitered gazelle remains rare. This call funds anti-poaching work, monitoring, and the "
            "protection of calving grounds and migration routes.</p>"
            "<p>It runs in two stages: send a concept note first; organisations whose concept note is "
            "accepted are invited to submit a full proposal.</p>"
        ),
        "themes": ["steppe_ungulates", "protected_areas"],
        "eligible_org_types": ["ngo", "research_institute", "community_group"],
        "currency": "KZT",
        "grant_min": "5000000",
        "grant_max": "40000000",
        "envelope": "250000000",
        "stages": 2,
        "cofinancing_min_percent": 0,
        "required_attachments": ["registration_certificate"],
        "questions": [
            REGISTERED_IN_KAZAKHSTAN,
            {
                "text": "Is a report on an earlier grant of the fund overdue from your organisation?",
                "disqualifying_answer": True,
                "explanation": "Send the overdue report first; the fund accepts new proposals once it is in.",
            },
        ],
    },
    "wetlands": {
        "title": "Wetlands of the Turgay and Tengiz lakes",
        "description_html": (
            "<p>Draft for the spring round: waterbird counts, grazing and water management on the lakes "
            "of the Turgay depression and the Tengiz-Korgalzhyn system, flamingo and white-headed duck "
            "breeding sites.</p>"
        ),
        "themes": ["wetlands", "protected_areas"],
        # Left to decide before publishing: the officer's home page lists it as a thing to settle.
        "eligible_org_types": [],
        "currency": "KZT",
        "grant_min": "5000000",
        "grant_max": "30000000",
        "envelope": "150000000",
        "stages": 1,
        "cofinancing_min_percent": 10,
        "required_attachments": ["registration_certificate"],
        "questions": [REGISTERED_IN_KAZAKHSTAN],
    },
}

NO_SAFEGUARD = {"answer": "no", "explanation": ""}

#: The demo proposals. ``state`` is where each ends (screening takes it there, or, in the closed call, to
#: eligible: its reviews and the board meetings below take it on); ``submitted_days`` how many days before
#: the call's deadline (closed call) or before today (open calls) it was submitted. Sections are given
#: compactly and expanded by ``_sections``: logframe (objective, [(output, [activities])], [indicator
#: tuples]), sites (region, name, protected area, IUCN category, latitude, longitude), species (scientific
#: name, common name, Red List), team (name, role, organisation, % time), risks (risk, likelihood,
#: mitigation), safeguards answered "yes" (with the explanation), budget (category, description, unit,
#: unit cost, quantity, year, co-financing), milestones (title, months after the start).
PROJECTS = [
    # -- Steppe ungulates and wetlands (closed more than a year ago): decided, and grants made -------------
    # ``start_months``: how many months before the first of this month the project started; ``months``:
    # how long it runs. What became of each grant is told by GRANT_STORIES below.
    {
        "key": "steppe-ustyurt",
        "call": "steppe-wetlands",
        "org": 2,
        "state": ProposalState.APPROVED,
        "submitted_days": 12,
        "start_months": 13,
        "title": "Winter patrols for the Ustyurt saiga",
        "theme": "steppe_ungulates",
        "summary": (
            "Two ranger teams patrol the Ustyurt plateau in the winter months, when saiga gather on the "
            "plateau's edge and poachers on snowmobiles hunt the males for their horns, and pass what they "
            "find to the state inspection."
        ),
        "problem": (
            "The Ustyurt saiga is the smallest of Kazakhstan's populations and the one poached hardest: "
            "the plateau is vast, the border near and the inspection has two vehicles for it."
        ),
        "objectives": "Cut winter poaching on the Kazakh Ustyurt by patrolling where the herds winter.",
        "logframe": (
            "Less poaching of the Ustyurt saiga in winter",
            [("Two ranger teams on winter patrol", ["Recruit and equip the teams", "Patrol"])],
            [
                ("ha_improved_management", "", "ha", "0", "600000", "Patrol tracks (GPS)"),
                ("", "Poaching incidents passed to the inspection", "incidents", "0", "30", "Protocols"),
            ],
        ),
        "sites": [
            ("KZ-47", "Ustyurt plateau, Kazakh part", "Ustyurt State Nature Reserve", "Ia", "43.40", "55.20")
        ],
        "species": [("Saiga tatarica", "Saiga antelope", "NT")],
        "threats": ["5.1"],
        "actions": ["5.4", "4.3"],
        "targets": ["4", "5"],
        "team": [
            ("Nurlybek Amanov", "Project lead", "", "40"),
            ("Rustam Orazov", "Ranger team leader", "", "100"),
        ],
        "risks": [("Armed poachers", "medium", "Patrols with state inspectors; incidents reported at once")],
        "safeguards": {"labour_risks": "Winter desert patrols: two vehicles per team, satellite messengers."},
        "budget": [
            ("staff", "Two ranger teams", "ranger-month", "220000", "48", "1", "0"),
            ("staff", "Ranger teams, second year", "ranger-month", "220000", "36", "2", "0"),
            ("fieldwork", "Fuel and field costs of the patrols", "patrol", "115000", "40", "1", "0"),
            ("equipment", "Thermal binoculars and satellite messengers", "set", "230000", "4", "1", "0"),
        ],
        "milestones": [("Teams on patrol", 1), ("First winter's report", 6)],
    },
    {
        "key": "steppe-gazelle",
        "call": "steppe-wetlands",
        "org": 7,
        "state": ProposalState.APPROVED,
        "submitted_days": 9,
        "start_months": 14,
        "title": "Water for the goitered gazelle and kulan of Altyn-Emel",
        "theme": "steppe_ungulates",
        "summary": (
            "Four springs of the Altyn-Emel National Park have dried up, and gazelle and kulan leave the "
            "park for the farms in summer. Solar pumps bring the water back, and spring and autumn counts "
            "show whether the herds stay."
        ),
        "problem": "Dry springs push gazelle and kulan out of the park, into conflict with farmers.",
        "objectives": "Four working water points and two years of counts of gazelle and kulan.",
        "logframe": (
            "Gazelle and kulan stay in the park in summer",
            [("Four water points restored", ["Install solar pumps", "Count the herds"])],
            [
                ("individuals_counted", "", "individuals", "0", "6000", "Count reports"),
                ("", "Water points working", "water points", "0", "4", "Inspection photographs"),
            ],
        ),
        "sites": [("KZ-33", "Altyn-Emel springs", "Altyn-Emel National Park", "II", "44.05", "78.60")],
        "species": [("Gazella subgutturosa", "Goitered gazelle", "VU"), ("Equus hemionus", "Kulan", "NT")],
        "threats": ["11.2", "7.2"],
        "actions": ["2.3", "1.2"],
        "targets": ["4"],
        "team": [
            ("Zhanna Abdrakhmanova", "Project lead", "", "30"),
            ("Erlan Dzhumabaev", "Park ranger", "", "50"),
        ],
        "risks": [("Pumps stolen", "low", "Pumps fenced and checked by the park's rangers")],
        "safeguards": {"protected_areas": "Work inside the national park, with its agreement."},
        "budget": [
            ("fieldwork", "Spring and autumn ground counts", "count", "1200000", "4", "1", "0"),
            ("equipment", "Solar pumps for four water points", "water point", "1650000", "4", "1", "0"),
            ("staff", "Field team", "month", "200000", "23", "1", "0"),
        ],
        "milestones": [("Pumps installed", 4), ("First year's counts", 12)],
    },
    {
        "key": "wetland-ural",
        "call": "steppe-wetlands",
        "org": 5,
        "state": ProposalState.APPROVED_WITH_CONDITIONS,
        "submitted_days": 8,
        "start_months": 14,
        "title": "Wardens for the waterbirds of the Ural delta",
        "theme": "wetlands",
        "summary": (
            "Two wardens with a boat patrol the reedbeds of the Ural delta in the nesting season, stop reed "
            "fires early, count the colonies of pelicans and herons, and talk to the delta villages about "
            "burning."
        ),
        "problem": "Spring reed fires set by herders burn the colonies of the delta every year.",
        "objectives": "Fewer burnt colonies, and counts the delta's future reserve can build on.",
        "logframe": (
            "Colonies of the Ural delta nest without fires",
            [("Wardens on the water in the nesting season", ["Patrol", "Count the colonies"])],
            [
                ("ha_improved_management", "", "ha", "0", "50000", "Patrol maps"),
                ("", "Reed fires stopped early", "fires", "0", "20", "Warden logs"),
            ],
        ),
        "sites": [("KZ-23", "Ural river delta", "", "", "46.90", "51.80")],
        "species": [("Pelecanus crispus", "Dalmatian pelican", "NT")],
        "threats": ["7.1"],
        "actions": ["2.1", "4.3"],
        "targets": ["3"],
        "team": [("Dina Kaliyeva", "Project lead", "", "40")],
        "risks": [("Wardens threatened by fire setters", "low", "Patrols in pairs; the police informed")],
        "safeguards": {"labour_risks": "Work on water: life jackets and radios."},
        "budget": [
            ("staff", "Two wardens", "month", "180000", "48", "1", "0"),
            ("equipment", "Flat-bottomed boat with engine", "boat", "3600000", "1", "1", "0"),
            ("fieldwork", "Waterbird counts and fire patrols", "patrol", "120000", "38", "1", "0"),
            (
                "communications",
                "Fire-prevention meetings in the delta villages",
                "meeting",
                "150000",
                "8",
                "1",
                "0",
            ),
        ],
        "milestones": [("Boat on the water", 2), ("First nesting season's counts", 9)],
    },
    {
        "key": "steppe-kulan",
        "call": "steppe-wetlands",
        "org": 9,
        "state": ProposalState.APPROVED,
        "submitted_days": 7,
        "start_months": 13,
        "months": 12,
        "title": "Following the first kulan of the Turgay steppe",
        "theme": "steppe_ungulates",
        "summary": (
            "Kulan have come back to the Turgay steppe after a century. GPS collars on eight of them show "
            "where the new herd goes, which pastures and water it uses, and where it meets people."
        ),
        "problem": "Nobody knows yet whether the reintroduced kulan settle or wander into danger.",
        "objectives": "Track eight kulan for a year and advise on the herd's protected range.",
        "logframe": (
            "The new kulan herd's range is known",
            [("Eight kulan tracked for a year", ["Fit collars", "Track and analyse"])],
            [
                ("", "Kulan tracked with GPS collars", "animals", "0", "8", "Tracking database"),
                ("individuals_counted", "", "individuals", "0", "40", "Count reports"),
            ],
        ),
        "sites": [
            ("KZ-39", "Altyn Dala, Turgay steppe", "Altyn Dala State Nature Reserve", "Ia", "49.20", "65.40")
        ],
        "species": [("Equus hemionus", "Kulan", "NT")],
        "threats": ["5.1"],
        "actions": ["1.2"],
        "targets": ["4"],
        "team": [
            ("Dr. Yelena Kim", "Project lead", "", "30"),
            ("Arman Zhunusov", "Field biologist", "", "80"),
        ],
        "risks": [("A collar fails", "low", "Collars with a drop-off and a warranty")],
        "safeguards": {"protected_areas": "Collaring inside the reserve, with its permit."},
        "budget": [
            ("equipment", "GPS collars", "collar", "650000", "8", "1", "0"),
            ("fieldwork", "Tracking expeditions", "expedition", "850000", "6", "1", "0"),
            ("staff", "Analyst", "month", "170000", "10", "1", "0"),
        ],
        "milestones": [("Collars fitted", 2), ("Range map", 11)],
    },
    {
        "key": "wetland-tengiz",
        "call": "steppe-wetlands",
        "org": 3,
        "state": ProposalState.APPROVED,
        "submitted_days": 14,
        "start_months": 14,
        "months": 12,
        "title": "Flamingo colonies of Lake Tengiz",
        "theme": "wetlands",
        "summary": (
            "Lake Tengiz holds the northernmost flamingo colony in the world. Drone counts over a breeding "
            "season measure its size and success, and train the reserve's inspectors to repeat them."
        ),
        "problem": "The colony's size swings with the water level, and no count has been made in years.",
        "objectives": "Count the colony through a breeding season and hand the method to the reserve.",
        "logframe": (
            "A count of the Tengiz flamingo colony",
            [("A breeding season counted by drone", ["Expeditions", "Training of inspectors"])],
            [
                ("individuals_counted", "", "individuals", "0", "30000", "Count report"),
                ("people_trained", "", "people", "0", "10", "Training records"),
            ],
        ),
        "sites": [("KZ-11", "Lake Tengiz", "Korgalzhyn State Nature Reserve", "Ia", "50.40", "69.00")],
        "species": [("Phoenicopterus roseus", "Greater flamingo", "LC")],
        "threats": ["7.2"],
        "actions": ["1.1"],
        "targets": ["4"],
        "team": [("Dr. Ainur Tuleubayeva", "Principal investigator", "", "20")],
        "risks": [("Drone disturbs the birds", "low", "Flights above 60 metres, as the protocol says")],
        "safeguards": {"protected_areas": "Inside the reserve, with its permit."},
        "budget": [
            ("fieldwork", "Breeding-season expeditions", "expedition", "1400000", "5", "1", "0"),
            ("equipment", "Drone and telephoto cameras", "set", "2600000", "1", "1", "0"),
            ("staff", "Ornithologists", "month", "400000", "11", "1", "0"),
        ],
        "milestones": [("First expedition", 2), ("Count report", 11)],
    },
    {
        "key": "wetland-biylikol",
        "call": "steppe-wetlands",
        "org": 10,
        "state": ProposalState.APPROVED,
        "submitted_days": 5,
        "start_months": 14,
        "months": 12,
        "title": "A community warden for Lake Biylikol",
        "theme": "wetlands",
        "summary": (
            "Lake Biylikol is a stop for thousands of migrating ducks and waders. A warden from the lake's "
            "village counts them every month, stops illegal shooting, and the schools hold a bird festival."
        ),
        "problem": "Spring shooting and disturbance empty the lake during migration.",
        "objectives": "A year of monthly counts and a lake without illegal shooting.",
        "logframe": (
            "Biylikol kept quiet for migrating waterbirds",
            [("A warden and monthly counts", ["Recruit the warden", "Count monthly"])],
            [
                ("individuals_counted", "", "individuals", "0", "20000", "Monthly count sheets"),
                ("", "Pupils at the bird festival", "pupils", "0", "300", "Attendance lists"),
            ],
        ),
        "sites": [("KZ-31", "Lake Biylikol", "", "", "43.07", "70.55")],
        "species": [("Oxyura leucocephala", "White-headed duck", "EN")],
        "threats": ["5.1"],
        "actions": ["4.3"],
        "targets": ["4"],
        "team": [("Murat Zhaksylykov", "Project lead", "", "30")],
        "risks": [("Hunters resist", "medium", "The district hunting inspection joins the warden")],
        "safeguards": {},
        "budget": [
            ("staff", "Community warden", "month", "150000", "12", "1", "0"),
            ("fieldwork", "Monthly waterbird counts", "count", "250000", "12", "1", "0"),
            ("equipment", "Telescope, boat and life jackets", "set", "1700000", "1", "1", "0"),
            (
                "communications",
                "Lessons and a bird festival for the schools",
                "event",
                "300000",
                "5",
                "1",
                "0",
            ),
        ],
        "milestones": [("Warden at work", 1), ("Bird festival", 8)],
    },
    {
        "key": "steppe-mangyshlak",
        "call": "steppe-wetlands",
        "org": 12,
        "state": ProposalState.APPROVED,
        "submitted_days": 4,
        "start_months": 14,
        "title": "Volunteer counts of the goitered gazelle on Mangyshlak",
        "theme": "steppe_ungulates",
        "summary": (
            "Students of the Aktau Youth Eco-Club, trained by the Institute's zoologists, count goitered "
            "gazelle on fixed routes across the Mangyshlak peninsula in spring and autumn for two years."
        ),
        "problem": "The gazelle of Mangyshlak have not been counted since the 1990s.",
        "objectives": "Two years of counts of the Mangyshlak gazelle by trained volunteers.",
        "logframe": (
            "The Mangyshlak gazelle counted",
            [("Eight volunteer expeditions", ["Train counters", "Count on fixed routes"])],
            [
                ("individuals_counted", "", "individuals", "0", "800", "Count sheets"),
                ("people_trained", "", "people", "0", "24", "Training records"),
            ],
        ),
        "sites": [("KZ-47", "Mangyshlak peninsula routes", "", "", "44.20", "52.40")],
        "species": [("Gazella subgutturosa", "Goitered gazelle", "VU")],
        "threats": ["5.1"],
        "actions": ["1.2", "4.1"],
        "targets": ["4"],
        "team": [("Aruzhan Serikova", "Club coordinator", "", "50")],
        "risks": [("Volunteers drop out", "medium", "Training twice a year")],
        "safeguards": {"labour_risks": "Young volunteers in the desert: led by adults, with two vehicles."},
        "budget": [
            ("fieldwork", "Volunteer expeditions", "expedition", "400000", "8", "1", "0"),
            ("equipment", "Binoculars, rangefinders and a camera", "set", "1200000", "1", "1", "0"),
            ("training", "Training of volunteer counters", "course", "400000", "4", "1", "0"),
        ],
        "milestones": [("Counters trained", 2), ("First spring count", 6)],
    },
    {
        "key": "wetland-chu",
        "call": "steppe-wetlands",
        "org": 6,
        "state": ProposalState.APPROVED,
        "submitted_days": 3,
        "start_months": 14,
        "months": 12,
        "title": "Floodplain lakes of the lower Chu",
        "theme": "wetlands",
        "summary": (
            "Wardens from the Moiynkum villages protect the floodplain lakes of the lower Chu in the nesting "
            "season: they stop reed burning and netting, and count the nesting waterbirds."
        ),
        "problem": "Burning and netting empty the floodplain lakes of nesting birds.",
        "objectives": "A nesting season without fires or nets on the lakes.",
        "logframe": (
            "Waterbirds nest on the lower Chu lakes",
            [("Wardens on the lakes", ["Patrol", "Count the nests"])],
            [("ha_improved_management", "", "ha", "0", "12000", "Patrol maps")],
        ),
        "sites": [("KZ-31", "Lower Chu floodplain lakes", "", "", "44.60", "71.90")],
        "species": [("Oxyura leucocephala", "White-headed duck", "EN")],
        "threats": ["7.1", "5.4"],
        "actions": ["2.1"],
        "targets": ["3"],
        "team": [("Yerbol Sarsenbayev", "Chair of the union", "", "40")],
        "risks": [("Low water in a dry year", "medium", "Patrols follow the water")],
        "safeguards": {},
        "budget": [
            ("staff", "Wardens", "month", "160000", "24", "1", "0"),
            ("equipment", "Boat, engine and fire pumps", "set", "2760000", "1", "1", "0"),
            ("fieldwork", "Counts and patrols", "patrol", "100000", "24", "1", "0"),
        ],
        "milestones": [("Wardens recruited", 1)],
    },
    # -- Snow leopard corridors (closed last month): screened, then reviewed and decided ------------------
    {
        "key": "leopard-camera-traps",
        "call": "leopard",
        "org": 3,
        "state": ProposalState.APPROVED,
        "submitted_days": 19,
        "title": "Camera traps for snow leopards in Katon-Karagay National Park",
        "theme": "large_carnivores",
        "summary": (
            "A grid of 60 camera traps across the Katon-Karagay National Park and the Markakol reserve will "
            "count the snow leopards of the Kazakh Altai, identify individuals by their coat patterns and "
            "show which valleys they use to cross between the two protected areas. Park rangers are trained "
            "to run the grid themselves, so the survey continues after the grant."
        ),
        "problem": (
            "Nobody knows how many snow leopards live in the Kazakh Altai: estimates range from a dozen to "
            "forty. Without a count the parks cannot tell whether poaching and retaliatory killing are "
            "reducing the population, nor which valleys to protect as corridors to Russia and Mongolia."
        ),
        "objectives": (
            "Establish a baseline count of adult snow leopards in Katon-Karagay and Markakol, map the "
            "corridors between them, and hand the monitoring over to trained park rangers."
        ),
        "logframe": (
            "A baseline count and corridor map for the Kazakh Altai population",
            [
                (
                    "Camera-trap grid of 60 stations run for two winters",
                    ["Install the stations", "Check cards monthly"],
                ),
                (
                    "Rangers trained in camera trapping and individual identification",
                    ["Two training courses"],
                ),
            ],
            [
                (
                    "individuals_counted",
                    "",
                    "individuals",
                    "0",
                    "25",
                    "Identification catalogue of individuals",
                ),
                ("people_trained", "", "people", "0", "16", "Training attendance lists and field tests"),
            ],
        ),
        "sites": [
            ("KZ-63", "Upper Bukhtarma valley", "Katon-Karagay National Park", "II", "49.17", "85.61"),
            ("KZ-63", "Markakol lake ridges", "Markakol State Nature Reserve", "Ia", "48.75", "85.75"),
        ],
        "species": [
            ("Panthera uncia", "Snow leopard", "VU"),
            ("Capra sibirica", "Siberian ibex", "NT"),
        ],
        "threats": ["5.1", "2.3"],
        "actions": ["1.1", "4.2"],
        "targets": ["4", "3"],
        "team": [
            ("Dr. Ainur Tuleubayeva", "Principal investigator", "", "40"),
            ("Kanat Mukhametov", "Field coordinator", "Katon-Karagay National Park", "100"),
        ],
        "risks": [
            (
                "Cameras stolen or damaged by avalanches",
                "medium",
                "Locked housings; spare cameras in the budget",
            ),
            ("Deep snow keeps teams from the stations", "high", "Snowmobile checks and a flexible schedule"),
        ],
        "safeguards": {
            "protected_areas": (
                "All stations are inside the national park and the reserve, with their permits."
            ),
            "labour_risks": (
                "Winter mountain work: teams of two, satellite messengers and avalanche training."
            ),
        },
        "budget": [
            ("equipment", "Camera traps with locked housings", "camera", "185000", "60", "1", "0"),
            ("fieldwork", "Station checks, fuel and food", "trip", "95000", "48", "1", "1200000"),
            ("fieldwork", "Station checks, second winter", "trip", "95000", "48", "2", "1200000"),
            ("staff", "Field coordinator", "month", "320000", "24", "1", "2600000"),
            ("training", "Camera-trapping courses for rangers", "course", "1400000", "2", "1", "0"),
            ("overheads", "Institute overheads (both years)", "lot", "1800000", "1", "2", "0"),
        ],
        "milestones": [("Grid installed", 3), ("First winter's catalogue", 9), ("Corridor map", 20)],
        "letter": "Katon-Karagay National Park administration",
    },
    {
        "key": "leopard-community-rangers",
        "call": "leopard",
        "org": 4,
        "state": ProposalState.APPROVED_WITH_CONDITIONS,
        "submitted_days": 6,
        "title": "Community rangers for the Katon-Karagay–Markakol corridor",
        "theme": "large_carnivores",
        "summary": (
            "Eight rangers from the villages of Uryl, Katon-Karagay and Urunkhaika will patrol the valleys "
            "between the national park and the Markakol reserve on horseback, remove snares, record tracks "
            "and talk to herders. The rangers are local people the herders know, which is why poachers "
            "have so far avoided the valleys they patrol."
        ),
        "problem": (
            "Snares set for marmot and roe deer catch snow leopards and their prey in the valleys that link "
            "the two protected areas, where no state inspector patrols. Herders who lose livestock sometimes "
            "kill the cats in return."
        ),
        "objectives": (
            "Patrol the corridor valleys every month of the year, remove snares, and cut retaliatory "
            "killing through agreements with herders."
        ),
        "logframe": (
            "A corridor without snares and without retaliatory killing",
            [
                (
                    "Monthly horseback patrols by eight community rangers",
                    ["Recruit and equip rangers", "Patrol"],
                )
            ],
            [
                ("ha_improved_management", "", "ha", "0", "85000", "Patrol tracks (GPS) and maps"),
                ("", "Snares removed", "snares", "0", "400", "Patrol logs with photographs"),
            ],
        ),
        "sites": [("KZ-63", "Uryl–Markakol valleys", "", "", "48.95", "85.70")],
        "species": [("Panthera uncia", "Snow leopard", "VU"), ("Capra sibirica", "Siberian ibex", "NT")],
        "threats": ["5.1"],
        "actions": ["5.4", "4.3"],
        "targets": ["4"],
        "team": [
            ("Serik Nurgaliyev", "Ranger team leader", "", "100"),
            ("Aset Bekenov", "Ranger", "", "100"),
        ],
        "risks": [("Conflict with poachers", "medium", "Patrols in pairs; incidents reported to the police")],
        "safeguards": {
            "indigenous_peoples": "Local herders are partners: grazing agreements are made with them.",
            "labour_risks": "Horseback patrols in winter: first-aid training and satellite messengers.",
        },
        "budget": [
            ("staff", "Rangers' stipends (8 rangers)", "ranger-month", "150000", "96", "1", "2400000"),
            ("staff", "Rangers' stipends, second year", "ranger-month", "150000", "96", "2", "2400000"),
            ("equipment", "Horses, saddles and winter gear", "set", "650000", "8", "1", "900000"),
            ("equipment", "GPS units and satellite messengers", "set", "210000", "8", "1", "0"),
        ],
        "milestones": [("Rangers recruited and equipped", 2), ("First year's patrol report", 12)],
        "letter": "Akimat of Katon-Karagay District",
    },
    {
        "key": "leopard-zhongar",
        "call": "leopard",
        "org": 7,
        "state": ProposalState.ON_AGENDA,
        "submitted_days": 3,
        "title": "Keeping the Zhongar-Alatau corridor open",
        "theme": "protected_areas",
        "summary": (
            "The Zhongar-Alatau National Park and the Kora river valley hold the snow leopards of the "
            "Dzhungarian Alatau. The project proposes a 40,000-hectare protected corridor along the Kora, "
            "prepares its boundaries and management plan with the park and the district akimat, and surveys "
            "the cats and their prey to justify it."
        ),
        "problem": (
            "Between the national park and the upper Kora the valley is open to hunting leases and a planned "
            "road. Once cut, the corridor leaves the park's snow leopards isolated."
        ),
        "objectives": (
            "Have the Kora corridor declared a protected area, with a management plan agreed locally."
        ),
        "logframe": (
            "A protected corridor along the Kora river",
            [("Boundaries and management plan of the corridor", ["Field survey", "Public hearings"])],
            [("ha_newly_protected", "", "ha", "0", "40000", "Akimat decision on the protected corridor")],
        ),
        "sites": [
            ("KZ-33", "Kora river valley", "", "", "45.05", "79.90"),
            ("KZ-33", "Zhongar-Alatau National Park", "Zhongar-Alatau National Park", "II", "45.30", "80.40"),
        ],
        "species": [("Panthera uncia", "Snow leopard", "VU"), ("Ovis ammon", "Argali", "NT")],
        "threats": ["4.1", "5.1"],
        "actions": ["1.1", "5.2"],
        "targets": ["3", "1"],
        "team": [
            ("Zhanna Abdrakhmanova", "Project lead", "", "60"),
            ("Dr. Ruslan Omarov", "Ecologist", "", "50"),
        ],
        "risks": [("The akimat delays its decision", "medium", "The akimat is a partner from the start")],
        "safeguards": {
            "resettlement": (
                "Hunting leases in the corridor may be limited; leaseholders take part in hearings."
            ),
            "protected_areas": "Part of the work is inside the national park, with its agreement.",
        },
        "budget": [
            ("fieldwork", "Snow leopard and prey survey", "expedition", "1800000", "6", "1", "1500000"),
            ("staff", "Project team", "month", "480000", "24", "1", "3000000"),
            ("other", "Boundary survey and cadastral work", "lot", "5200000", "1", "2", "0"),
            ("communications", "Public hearings in three villages", "hearing", "350000", "3", "2", "0"),
        ],
        "milestones": [("Survey report", 8), ("Public hearings held", 16)],
        "letter": "Zhongar-Alatau National Park administration",
    },
    {
        "key": "leopard-corrals",
        "call": "leopard",
        "org": 8,
        "state": ProposalState.IN_REVIEW,
        "submitted_days": 2,
        "title": "Predator-proof corrals for herders in the Ile-Alatau buffer zone",
        "theme": "large_carnivores",
        "summary": (
            "Forty herder families grazing in the buffer zone of the Ile-Alatau National Park lose sheep to "
            "snow leopards and wolves in night-time raids on their corrals. The project roofs and fences "
            "their corrals with mesh, shares the cost with the families, and sets up a small fund that pays "
            "for verified losses, so that no herder needs to kill a cat."
        ),
        "problem": (
            "Each winter several snow leopards are killed in the Ile-Alatau buffer zone after raids on "
            "corrals; herders see no other way to protect their livelihood."
        ),
        "objectives": (
            "End retaliatory killing in the buffer zone by making corrals safe and losses compensated."
        ),
        "logframe": (
            "No snow leopard killed in retaliation in the buffer zone",
            [("40 corrals made predator-proof", ["Agree the design with herders", "Build the corrals"])],
            [
                ("beneficiaries_women", "", "people", "0", "90", "Family lists of the corral agreements"),
                ("beneficiaries_men", "", "people", "0", "95", "Family lists of the corral agreements"),
            ],
        ),
        "sites": [("KZ-19", "Talgar and Issyk gorges", "Ile-Alatau National Park", "II", "43.20", "77.30")],
        "species": [("Panthera uncia", "Snow leopard", "VU")],
        "threats": ["2.3", "5.1"],
        "actions": ["6.4", "2.1"],
        "targets": ["4", "9"],
        "team": [
            ("Bolat Ismailov", "Association chair", "", "50"),
            ("Gulmira Tasova", "Accountant", "", "30"),
        ],
        "risks": [
            ("Herders do not maintain the mesh", "low", "Families pay a share and sign maintenance terms")
        ],
        "safeguards": {
            "indigenous_peoples": "The herder families decide on the design and take part in the work.",
        },
        "budget": [
            ("equipment", "Mesh roofing and fencing for corrals", "corral", "420000", "40", "1", "4200000"),
            ("other", "Compensation fund for verified losses", "year", "1500000", "2", "1", "0"),
            ("staff", "Coordinator", "month", "280000", "24", "1", "0"),
        ],
        "milestones": [("First 20 corrals built", 6), ("All corrals built", 12)],
        "letter": "Ile-Alatau National Park administration",
    },
    {
        "key": "leopard-genetics",
        "call": "leopard",
        "org": 9,
        "state": ProposalState.REVIEWED,
        "submitted_days": 10,
        "title": "Genetic connectivity of snow leopards across the Northern Tien Shan",
        "theme": "large_carnivores",
        "summary": (
            "Scat collected along ridges from the Ile-Alatau to the Ketmen range will be genotyped to tell "
            "individuals apart and measure gene flow between the mountain blocks of the Northern Tien Shan. "
            "The results show which passes still connect the populations and where a corridor is missing."
        ),
        "problem": (
            "The Northern Tien Shan population may be splitting into isolated groups as roads and pastures "
            "spread, but without genetic data nobody can say where."
        ),
        "objectives": (
            "Measure gene flow between the mountain blocks and name the passes that need protection."
        ),
        "logframe": (
            "A genetic map of the Northern Tien Shan population",
            [("300 scat samples genotyped", ["Collect samples on 12 transects", "Laboratory analysis"])],
            [("individuals_counted", "", "individuals", "0", "45", "Genotype database")],
        ),
        "sites": [
            (
                "KZ-19",
                "Kolsai lakes and Kungey Alatau",
                "Kolsai Kolderi National Park",
                "II",
                "42.95",
                "78.30",
            ),
            ("KZ-19", "Ketmen ridge", "", "", "43.05", "79.00"),
        ],
        "species": [("Panthera uncia", "Snow leopard", "VU")],
        "threats": ["4.1", "2.3"],
        "actions": ["1.2"],
        "targets": ["4"],
        "team": [("Dr. Yelena Kim", "Geneticist", "", "50"), ("Arman Zhunusov", "Field biologist", "", "80")],
        "risks": [("Too few samples in a dry winter", "medium", "A second season of collection is planned")],
        "safeguards": {"protected_areas": "Transects cross the national park with its permission."},
        "budget": [
            ("fieldwork", "Transect collection expeditions", "expedition", "900000", "8", "1", "1000000"),
            ("other", "Genotyping of scat samples", "sample", "38000", "300", "1", "3200000"),
            ("staff", "Field biologist", "month", "350000", "24", "1", "0"),
        ],
        "milestones": [("Samples collected", 6), ("Genetic report", 18)],
        "letter": "Kolsai Kolderi National Park administration",
    },
    {
        "key": "leopard-ulytau",
        "call": "leopard",
        "org": 2,
        "state": ProposalState.REJECTED,
        "submitted_days": 8,
        "title": "Argali and ibex as prey: restoring the snow leopard's larder in Ulytau",
        "theme": "large_carnivores",
        "summary": (
            "The project counts argali in the Ulytau mountains, works with hunting estates to stop argali "
            "poaching, and prepares the ground for snow leopards to return to the range."
        ),
        "problem": "Argali numbers in Ulytau fell sharply in the 1990s through poaching.",
        "objectives": "Double the argali population of the Ulytau mountains in five years.",
        "logframe": (
            "More argali in the Ulytau mountains",
            [
                (
                    "Argali counts and anti-poaching agreements",
                    ["Count argali", "Sign agreements with estates"],
                )
            ],
            [("individuals_counted", "", "individuals", "300", "600", "Annual argali counts")],
        ),
        "sites": [("KZ-62", "Ulytau mountains", "", "", "48.60", "67.00")],
        "species": [("Ovis ammon", "Argali", "NT")],
        "threats": ["5.1"],
        "actions": ["5.4"],
        "targets": ["4"],
        "team": [("Nurlybek Amanov", "Project lead", "", "40")],
        "risks": [("Estates refuse to cooperate", "high", "Start with the two estates already interested")],
        "safeguards": {},
        "budget": [
            ("fieldwork", "Argali counts", "count", "1200000", "4", "1", "1000000"),
            ("staff", "Rangers", "month", "300000", "24", "1", "1000000"),
        ],
        "milestones": [("First count", 4)],
        "letter": "Akimat of Ulytau District",
    },
    {
        "key": "leopard-talas",
        "call": "leopard",
        "org": 10,
        # Deferred by last month's meeting, and on the agenda of the next one.
        "state": ProposalState.ON_AGENDA,
        "submitted_days": 4,
        "title": "Snow leopards of the Talas Alatau: prey surveys and herder compensation",
        "theme": "large_carnivores",
        "summary": (
            "Around the Aksu-Zhabagly reserve, the oldest in Central Asia, snow leopards hunt ibex in the "
            "Talas Alatau and sometimes take livestock on the summer pastures. The project surveys ibex and "
            "argali, and pilots a compensation scheme for herders run with the district akimat."
        ),
        "problem": "Livestock losses on the summer pastures turn herders against the reserve and its cats.",
        "objectives": "Know the prey base of the Talas Alatau and make losses to snow leopards bearable.",
        "logframe": (
            "A prey baseline and a working compensation scheme",
            [
                ("Ibex and argali surveyed", ["Two survey seasons"]),
                ("Compensation scheme piloted", ["Pay claims"]),
            ],
            [("individuals_counted", "", "individuals", "0", "1200", "Survey reports")],
        ),
        "sites": [
            ("KZ-61", "Aksu canyon and Talas Alatau", "Aksu-Zhabagly Nature Reserve", "Ia", "42.40", "70.60")
        ],
        "species": [("Panthera uncia", "Snow leopard", "VU"), ("Capra sibirica", "Siberian ibex", "NT")],
        "threats": ["2.3"],
        "actions": ["6.4", "3.1"],
        "targets": ["4", "9"],
        "team": [("Murat Zhaksylykov", "Project lead", "", "70")],
        "risks": [("Claims hard to verify", "medium", "Claims checked by a reserve ranger and the vet")],
        "safeguards": {"protected_areas": "Surveys inside the reserve follow its rules and permits."},
        "budget": [
            ("fieldwork", "Prey surveys", "season", "2400000", "2", "1", "2500000"),
            ("other", "Compensation pilot", "year", "2000000", "2", "1", "0"),
            ("staff", "Coordinator", "month", "300000", "24", "1", "0"),
        ],
        "milestones": [("First survey season", 5), ("Compensation rules agreed", 3)],
        "letter": "Aksu-Zhabagly State Nature Reserve",
    },
    {
        "key": "leopard-merke",
        "call": "leopard",
        "org": 6,
        # Deferred by last month's meeting until the land manager agrees; not on an agenda yet.
        "state": ProposalState.DEFERRED,
        "submitted_days": 5,
        "title": "Snow leopards and ibex of the Kyrgyz Alatau above Merke",
        "theme": "large_carnivores",
        "summary": (
            "Rangers of the Betpak-Dala union, who have guarded saiga in the desert for ten years, extend "
            "their patrols to the Kazakh slopes of the Kyrgyz Alatau above Merke, where ibex are hunted "
            "every autumn and snow leopards were photographed in 2019. Twenty camera traps and monthly "
            "patrols with the forestry inspectors show whether a breeding population remains and which "
            "gorges must be closed to hunting."
        ),
        "problem": (
            "No protected area covers the Kazakh slopes of the Kyrgyz Alatau between Aksu-Zhabagly and the "
            "Almaty region. Hunting leases and unregulated ibex hunting continue in the gorges the cats use."
        ),
        "objectives": (
            "Confirm the presence and numbers of snow leopards above Merke and propose a hunting closure "
            "for the gorges they use."
        ),
        "logframe": (
            "A known snow leopard population above Merke, protected from hunting",
            [
                ("Camera-trap survey of 20 stations", ["Install the stations", "Two winters of checks"]),
                ("Monthly patrols with the forestry inspectors", ["Patrol the gorges"]),
            ],
            [
                ("individuals_counted", "", "individuals", "0", "8", "Camera-trap catalogue"),
                ("ha_improved_management", "", "ha", "0", "30000", "Patrol tracks and the closure decision"),
            ],
        ),
        "sites": [("KZ-31", "Merke and Aspara gorges, Kyrgyz Alatau", "", "", "42.80", "73.25")],
        "species": [("Panthera uncia", "Snow leopard", "VU"), ("Capra sibirica", "Siberian ibex", "NT")],
        "threats": ["5.1"],
        "actions": ["1.1", "5.4"],
        "targets": ["4", "3"],
        "team": [
            ("Yerbol Sarsenbayev", "Chair of the union", "", "40"),
            ("Nurzhan Temirov", "Ranger team leader", "", "100"),
        ],
        "risks": [
            (
                "Rangers new to mountain work",
                "medium",
                "Training with the Aksu-Zhabagly reserve's rangers before the first winter",
            )
        ],
        "safeguards": {
            "labour_risks": "Winter patrols in the mountains: teams of two, satellite messengers."
        },
        "budget": [
            ("equipment", "Camera traps with locked housings", "camera", "185000", "20", "1", "0"),
            ("staff", "Rangers' stipends (four rangers)", "ranger-month", "160000", "96", "1", "2800000"),
            ("equipment", "Horses and winter gear", "set", "600000", "4", "1", "1000000"),
            ("fieldwork", "Fuel and field costs", "patrol", "120000", "24", "1", "500000"),
            ("training", "Mountain and camera-trap training", "course", "900000", "1", "1", "0"),
        ],
        "milestones": [("Stations installed", 3), ("First winter's catalogue", 9)],
        "letter": "Merke forestry institution",
    },
    # -- Caspian seal and the marine reserve (open) -------------------------------------------------------
    {
        "key": "caspian-survey",
        "call": "caspian",
        "org": 1,
        "state": ProposalState.MORE_INFO_REQUESTED,
        "reason": "Say who flies the aerial survey and attach their licence, and confirm the co-financing of "
        "the boat surveys (1.8 million tenge): a letter from the partner will do.",
        "submitted_days": 9,
        "title": "Counting the Caspian seal on the Kazakh shelf: winter ice and haul-out surveys",
        "theme": "marine_mammals",
        "summary": (
            "Two winters of aerial surveys over the breeding ice of the northern Caspian and boat surveys of "
            "the haul-outs on the Tyuleniy islands will give the first full count of Caspian seals on the "
            "Kazakh shelf since 2012, and a method the marine reserve can repeat every year."
        ),
        "problem": (
            "The Caspian seal is Endangered and its numbers on the Kazakh shelf are unknown: the last full "
            "survey is more than ten years old. Bycatch in illegal sturgeon nets, oil and gas works and "
            "shrinking winter ice all press on the species, but the marine reserve cannot be planned "
            "without knowing where the seals breed and rest."
        ),
        "objectives": (
            "Count pups on the winter ice and adults on the haul-outs for two years, map the places that "
            "matter most, and train the reserve's staff to repeat the survey."
        ),
        "logframe": (
            "A current count and map of Caspian seals on the Kazakh shelf",
            [
                ("Aerial surveys of the breeding ice", ["Fly 30 survey hours each February"]),
                ("Boat surveys of the haul-outs", ["Survey the Tyuleniy islands in spring and autumn"]),
            ],
            [
                ("individuals_counted", "", "individuals", "0", "60000", "Survey reports with photographs"),
                ("people_trained", "", "people", "0", "10", "Training records"),
            ],
        ),
        "sites": [
            ("KZ-47", "Kulaly Island, Tyuleniy archipelago", "", "", "44.93", "50.05"),
            ("KZ-23", "Winter ice off the Ural delta", "", "", "46.60", "51.20"),
        ],
        "species": [("Pusa caspica", "Caspian seal", "EN")],
        "threats": ["5.4", "11.1", "3.1"],
        "actions": ["1.1", "4.2"],
        "targets": ["4", "3"],
        "team": [
            ("Aliya Dzhaksybekova", "Project lead", "", "50"),
            ("Marat Utegenov", "Boat survey leader", "", "80"),
        ],
        "risks": [
            ("A mild winter with little ice", "medium", "Survey the ice that forms; count haul-outs instead"),
            ("Storms cancel boat days", "high", "Spare boat days in both seasons"),
        ],
        "safeguards": {"labour_risks": "Work at sea and on the ice: life jackets, radio contact, two boats."},
        "budget": [
            ("staff", "Survey coordinator and two observers", "month", "650000", "12", "1", "1560000"),
            ("staff", "Survey team, second year", "month", "650000", "12", "2", "0"),
            ("fieldwork", "Aircraft hire for ice surveys", "flight hour", "420000", "30", "1", "1500000"),
            ("fieldwork", "Boat surveys of the haul-outs", "boat day", "180000", "40", "1", "1800000"),
            ("equipment", "Drone with thermal camera", "set", "4500000", "1", "1", "0"),
            ("communications", "Survey reports and data for the reserve", "report", "600000", "2", "2", "0"),
        ],
        "milestones": [
            ("First winter survey", 2),
            ("First count published", 6),
            ("Second winter survey", 14),
        ],
    },
    {
        "key": "caspian-tagging",
        "call": "caspian",
        "org": 3,
        "state": ProposalState.ELIGIBLE,
        "more_info": "Explain how the permits for capturing seals will be obtained, and attach the "
        "veterinary protocol for capture and tagging.",
        "submitted_days": 16,
        "title": "Satellite tagging of Caspian seals from the Tyuleniy islands",
        "theme": "marine_mammals",
        "summary": (
            "Twenty Caspian seals caught on the Tyuleniy islands will carry satellite tags for a year. Their "
            "tracks show where seals feed in summer, which routes they take to the northern ice in winter, "
            "and where those routes cross fishing grounds and shipping lanes: the evidence the marine "
            "reserve's zoning needs."
        ),
        "problem": (
            "The boundaries of the planned marine reserve are drawn from decades-old observations. Seals "
            "drown in nets along routes nobody has mapped."
        ),
        "objectives": "Track 20 seals for a year and propose the reserve's core zones and seasonal closures.",
        "logframe": (
            "Seal movements known well enough to zone the marine reserve",
            [("Twenty seals tagged and tracked", ["Capture and tag seals", "Analyse tracks"])],
            [("", "Seals tracked for at least six months", "seals", "0", "20", "Tracking database")],
        ),
        "sites": [
            ("KZ-47", "Podgorny Island, Tyuleniy archipelago", "", "", "44.73", "50.37"),
            ("KZ-47", "Durneva islands", "", "", "44.40", "50.65"),
        ],
        "species": [("Pusa caspica", "Caspian seal", "EN")],
        "threats": ["5.4", "4.3"],
        "actions": ["1.1", "2.1"],
        "targets": ["3", "4", "14"],
        "team": [
            ("Dr. Ainur Tuleubayeva", "Principal investigator", "", "30"),
            ("Dr. Timur Baimukanov", "Marine mammal veterinarian", "", "40"),
        ],
        "risks": [
            ("A tagged seal is injured", "low", "Capture by a trained vet team, following the protocol")
        ],
        "safeguards": {"labour_risks": "Capture work on islands: trained team, boat on standby."},
        "budget": [
            ("equipment", "Satellite tags", "tag", "1450000", "20", "1", "5000000"),
            ("fieldwork", "Capture expeditions to the islands", "expedition", "2600000", "2", "1", "0"),
            ("other", "Satellite data fees", "tag-year", "240000", "20", "2", "0"),
            ("staff", "Analyst", "month", "400000", "18", "2", "0"),
        ],
        "milestones": [("Seals tagged", 3), ("Zoning proposal", 18)],
        "revision_document": (
            "veterinary-protocol.pdf",
            "Veterinary protocol: capture and tagging of Caspian seals",
            [
                "Capture on land with hoop nets at haul-outs, never on the ice in the breeding season.",
                "Handling time under 30 minutes; no sedation; tags glued to the fur, shed at the moult.",
                "Approved by the Institute's ethics committee. (Demo document.)",
            ],
        ),
        "revision": {
            "risks": [
                ("A tagged seal is injured", "low", "Capture by a trained vet team, following the protocol"),
                (
                    "Capture permits come late",
                    "medium",
                    "Permits requested from the Committee for Forestry and Wildlife in month 1; the "
                    "Institute holds such permits for its Caspian research already",
                ),
            ],
        },
    },
    {
        "key": "caspian-ghost-nets",
        "call": "caspian",
        "org": 5,
        "state": ProposalState.SUBMITTED,
        "submitted_days": 3,
        "title": "Ghost nets off the Ural delta: patrols for the planned marine reserve",
        "theme": "protected_areas",
        "summary": (
            "With the fisheries inspection, the project patrols the shallows off the Ural delta and removes "
            "lost and illegal nets from the seals' spring migration route, and proposes the patrol plan of "
            "the marine reserve's northern zone."
        ),
        "problem": (
            "Thousands of abandoned and illegal nets drown seals and sturgeon in the northern Caspian."
        ),
        "objectives": "Remove ghost nets from the migration route and set up the reserve's northern patrols.",
        "logframe": (
            "Fewer seals drowned in nets off the Ural delta",
            [("Joint patrols with the fisheries inspection", ["Monthly patrols", "Net removal days"])],
            [
                ("", "Nets removed", "nets", "0", "1500", "Patrol logs"),
                ("ha_improved_management", "", "ha", "0", "120000", "Patrol plan adopted by the reserve"),
            ],
        ),
        "sites": [("KZ-23", "Shallows off the Ural delta", "", "", "46.85", "51.75")],
        "species": [("Pusa caspica", "Caspian seal", "EN"), ("Huso huso", "Beluga sturgeon", "CR")],
        "threats": ["5.4"],
        "actions": ["5.4", "2.1"],
        "targets": ["3", "5"],
        "team": [("Dina Kaliyeva", "Project lead", "", "80")],
        "risks": [("Ice closes the sea early", "medium", "Patrols planned for April to November")],
        "safeguards": {"labour_risks": "Work at sea: trained crews, life jackets, radio contact."},
        "budget": [
            ("equipment", "Patrol boat with engine", "set", "9500000", "1", "1", "1000000"),
            ("fieldwork", "Patrol days, fuel and crew", "patrol day", "160000", "120", "1", "3000000"),
            ("staff", "Project lead", "month", "380000", "24", "1", "0"),
        ],
        "milestones": [("Boat in service", 2), ("Patrol plan for the reserve", 15)],
    },
    {
        "key": "caspian-fishers",
        "call": "caspian",
        "org": 11,
        "state": ProposalState.INELIGIBLE,
        "reason": "Four fifths of the budget buys boats and engines for commercial fishing, which the call "
        "does not fund. The trial of seal-safe nets could be proposed on its own.",
        "submitted_days": 11,
        "title": "Seal-safe fishing for the Tupkaragan coast",
        "theme": "marine_mammals",
        "summary": (
            "The cooperative renews its fishing fleet and trials nets that let seals escape, so its "
            "members can fish without drowning seals."
        ),
        "problem": "Old boats and nets make fishing unprofitable and dangerous for seals.",
        "objectives": "Renew the fleet and trial seal-safe nets.",
        "logframe": (
            "Seal-safe fishing on the Tupkaragan coast",
            [("New boats and trial nets", ["Buy boats", "Trial nets"])],
            [("", "Boats renewed", "boats", "0", "6", "Purchase documents")],
        ),
        "sites": [("KZ-47", "Tupkaragan bay", "", "", "44.55", "50.30")],
        "species": [("Pusa caspica", "Caspian seal", "EN")],
        "threats": ["5.4"],
        "actions": ["6.1"],
        "targets": ["10"],
        "team": [("Kairat Dosmukhanov", "Chair of the cooperative", "", "50")],
        "risks": [("Prices of boats rise", "medium", "Fixed-price quotes")],
        "safeguards": {"labour_risks": "Fishing at sea."},
        "budget": [
            ("equipment", "Fishing boats with engines", "boat", "6200000", "6", "1", "4000000"),
            ("equipment", "Seal-safe trial nets", "net", "85000", "40", "1", "300000"),
            ("training", "Training in the use of the nets", "course", "600000", "1", "1", "0"),
        ],
        "milestones": [("Boats delivered", 4)],
    },
    {
        "key": "caspian-acoustics",
        "call": "caspian",
        "org": 9,
        "state": ProposalState.WITHDRAWN,
        "reason": "Our lead acoustician has moved abroad; we will apply again with a new team next year.",
        "submitted_days": 14,
        "title": "Listening for seal pups: acoustic monitoring on the winter ice",
        "theme": "marine_mammals",
        "summary": (
            "Underwater recorders under the northern ice pick up the calls of mothers and pups, showing "
            "where seals breed in winters when aircraft cannot fly."
        ),
        "problem": "Fog and storms ground survey aircraft in many winters, leaving breeding sites unknown.",
        "objectives": "Test acoustic monitoring of breeding sites as a complement to aerial surveys.",
        "logframe": (
            "A tested acoustic method for finding breeding sites",
            [("Ten recorders deployed under the ice", ["Deploy recorders", "Analyse recordings"])],
            [("", "Recorder-days of data", "days", "0", "900", "Recording archive")],
        ),
        "sites": [("KZ-23", "Northern Caspian ice field", "", "", "46.40", "50.90")],
        "species": [("Pusa caspica", "Caspian seal", "EN")],
        "threats": ["11.1"],
        "actions": ["1.1"],
        "targets": ["4"],
        "team": [("Dr. Yelena Kim", "Project lead", "", "30")],
        "risks": [("Recorders lost under the ice", "medium", "Acoustic releases and spare recorders")],
        "safeguards": {"labour_risks": "Work on sea ice with a trained team."},
        "budget": [
            ("equipment", "Underwater acoustic recorders", "recorder", "1650000", "10", "1", "2500000"),
            ("fieldwork", "Deployment expeditions", "expedition", "1800000", "2", "1", "0"),
        ],
        "milestones": [("Recorders deployed", 2)],
    },
    {
        "key": "caspian-seal-watch",
        "call": "caspian",
        "org": 12,
        "state": ProposalState.DRAFT,
        "title": "Seal watch: school volunteers on the Aktau coast",
        "theme": "marine_mammals",
        # A draft in progress: only these sections are written so far.
        "sections": ["summary", "problem", "sites", "species"],
        "summary": (
            "Pupils of six Aktau schools learn to recognise and report stranded and entangled seals along "
            "the city's beaches, and a hotline brings the reports to the vets of the seal rescue centre."
        ),
        "problem": (
            "Stranded seals on the Aktau coast are found by walkers who do not know whom to call; by the "
            "time a vet arrives the animal has often died."
        ),
        "objectives": "",
        "sites": [("KZ-47", "Aktau city beaches", "", "", "43.65", "51.17")],
        "species": [("Pusa caspica", "Caspian seal", "EN")],
    },
    # -- Saiga and steppe ungulates (open, two stages: concept notes) --------------------------------------
    {
        "key": "saiga-patrols",
        "call": "saiga",
        "org": 2,
        "state": ProposalState.INVITED,
        "reason": "The fund invites a full proposal; please budget the rangers' vehicles in more detail.",
        "submitted_days": 20,
        "title": "Ranger patrols against saiga poaching in Betpak-Dala",
        "theme": "steppe_ungulates",
        "summary": (
            "Mobile ranger teams with the Okhotzooprom inspection patrol the calving grounds and migration "
            "routes of the Betpak-Dala saiga in spring and autumn, when poachers hunt males for their horns, "
            "and a reward line pays for tips that lead to arrests."
        ),
        "problem": (
            "Poaching for horn takes the adult males of the Betpak-Dala population, upsetting its sex ratio "
            "and slowing its recovery; the state inspection cannot cover the 7 million hectares alone."
        ),
        "objectives": "Halve the number of saiga carcasses found with horns removed within two years.",
        "logframe": (
            "Less poaching of the Betpak-Dala saiga",
            [("Two mobile ranger teams", ["Equip the teams", "Patrol calving grounds and routes"])],
            [
                ("people_trained", "", "people", "0", "12", "Training records"),
                ("", "Poaching incidents detected", "incidents", "0", "40", "Inspection protocols"),
            ],
        ),
        "sites": [
            ("KZ-62", "Betpak-Dala calving grounds", "", "", "45.50", "70.00"),
            ("KZ-31", "Andasay sanctuary", "Andasay State Nature Sanctuary", "IV", "44.80", "72.50"),
        ],
        "species": [("Saiga tatarica", "Saiga antelope", "NT")],
        "threats": ["5.1"],
        "actions": ["5.4", "4.3"],
        "targets": ["4", "5"],
        "team": [
            ("Nurlybek Amanov", "Project lead", "", "60"),
            ("Daulet Zhakupov", "Ranger team leader", "", "100"),
        ],
        "risks": [("Armed poachers", "medium", "Patrols always with state inspectors")],
        "safeguards": {
            "labour_risks": "Long patrols in the desert: two vehicles per team, satellite phones."
        },
        "budget": [
            ("equipment", "Off-road vehicles", "vehicle", "9000000", "2", "1", "0"),
            ("staff", "Rangers (two teams)", "ranger-month", "250000", "48", "1", "0"),
            ("fieldwork", "Fuel and field costs", "patrol", "300000", "20", "1", "0"),
        ],
        "milestones": [("Teams on patrol", 2)],
        "full_draft": {
            "budget_lines": [
                (
                    "equipment",
                    "Off-road vehicles (Toyota Land Cruiser 70)",
                    "vehicle",
                    "8500000",
                    "2",
                    "1",
                    "0",
                ),
                ("equipment", "Satellite phones and thermal binoculars", "set", "650000", "2", "1", "0"),
                ("staff", "Rangers (two teams of three)", "ranger-month", "250000", "60", "1", "0"),
                ("fieldwork", "Fuel and field costs", "patrol", "250000", "24", "1", "0"),
            ],
        },
    },
    {
        "key": "saiga-hotline",
        "call": "saiga",
        "org": 6,
        "state": ProposalState.DECLINED,
        "reason": "A state hotline already covers the area, and the fund invites one anti-poaching project "
        "in Betpak-Dala this round. The Steppe Saiga Alliance would welcome you as a partner.",
        "submitted_days": 18,
        "title": "A village reporting line for saiga poaching in Moiynkum",
        "theme": "steppe_ungulates",
        "summary": (
            "Villagers of the Moiynkum district report poachers and wounded saiga to a hotline run by the "
            "rangers' union, which passes the reports to the inspection."
        ),
        "problem": "Poachers use the village roads; villagers see them but do not know whom to tell.",
        "objectives": "Bring villagers' reports of poaching to the inspection within an hour.",
        "logframe": (
            "Villagers report poaching",
            [("Hotline and village meetings", ["Set up the hotline", "Hold meetings in 12 villages"])],
            [("", "Reports passed to the inspection", "reports", "0", "150", "Hotline register")],
        ),
        "sites": [("KZ-31", "Moiynkum district villages", "", "", "44.30", "72.90")],
        "species": [("Saiga tatarica", "Saiga antelope", "NT")],
        "threats": ["5.1"],
        "actions": ["4.3"],
        "targets": ["5"],
        "team": [("Yerbol Sarsenbayev", "Chair of the union", "", "50")],
        "risks": [("Few calls", "medium", "Village meetings each season")],
        "safeguards": {},
        "budget": [
            ("staff", "Hotline operators", "month", "220000", "24", "1", "0"),
            ("communications", "Village meetings and leaflets", "village", "180000", "12", "1", "0"),
        ],
        "milestones": [("Hotline open", 2)],
    },
    {
        "key": "saiga-census",
        "call": "saiga",
        "org": 9,
        "state": ProposalState.SUBMITTED,
        "submitted_days": 2,
        "title": "Aerial census of the Betpak-Dala saiga",
        "theme": "steppe_ungulates",
        "summary": (
            "A spring aerial census, flown on the same transects as the national count, estimates the size, "
            "calving success and sex ratio of the Betpak-Dala saiga for two years."
        ),
        "problem": (
            "The Betpak-Dala population's sex ratio, the first sign of horn poaching, is not monitored."
        ),
        "objectives": "Estimate numbers and sex ratio of the Betpak-Dala saiga each spring.",
        "logframe": (
            "Reliable numbers for the Betpak-Dala saiga",
            [("Two spring censuses", ["Fly the transects", "Count calves and males on the ground"])],
            [("individuals_counted", "", "individuals", "0", "40000", "Census reports")],
        ),
        "sites": [("KZ-62", "Betpak-Dala transects", "", "", "46.20", "69.40")],
        "species": [
            ("Saiga tatarica", "Saiga antelope", "NT"),
            ("Gazella subgutturosa", "Goitered gazelle", "VU"),
        ],
        "threats": ["5.1"],
        "actions": ["1.2"],
        "targets": ["4"],
        "team": [("Dr. Yelena Kim", "Census lead", "", "30"), ("Arman Zhunusov", "Observer", "", "60")],
        "risks": [("Bad weather in the census window", "medium", "A two-week window each spring")],
        "safeguards": {},
        "budget": [
            ("fieldwork", "Aircraft hire", "flight hour", "420000", "40", "1", "0"),
            ("fieldwork", "Ground counts", "expedition", "1200000", "2", "1", "0"),
        ],
        "milestones": [("First census", 5)],
    },
]

DEFAULT_RISKS = [("Prices rise faster than planned", "medium", "Quotes fixed at the start; a small reserve")]


# -- small helpers ------------------------------------------------------------------------------------


def demo_bin(serial):
    """A valid BIN for the demo organisation number ``serial``."""
    for tail in range(serial * 10, serial * 10 + 10):
        body = f"0803400{tail:04d}"
        check = bin_check_digit(body)
        if check is not None:
            return body + str(check)
    raise ValueError("no valid BIN near this serial")


def demo_logins():
    """(email, roles) of every demo person, for printing."""
    logins = [(email, ", ".join(role.value for role in roles)) for email, _name, roles in STAFF]
    for *_, people in ORGANISATIONS:
        for email, _name, is_manager in people:
            logins.append((email, "applicant" + (" (organisation manager)" if is_manager else "")))
    for donor in DONORS:
        for _name, _position, email, _phone, portal in donor["contacts"]:
            if portal:
                logins.append((email, f"{Role.DONOR.value} ({donor['name']})"))
    return logins


def _pdf_text(text):
    return (
        text.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    )


def document_pdf(title, lines=()):
    """A one-page A4 PDF with a title and lines of text (Latin-1): a stand-in for a scanned document."""
    ops = [b"BT", b"/F1 16 Tf", b"56 780 Td", b"(" + _pdf_text(title) + b") Tj", b"/F1 11 Tf", b"0 -30 Td"]
    for line in lines:
        ops += [b"(" + _pdf_text(line) + b") Tj", b"0 -16 Td"]
    ops.append(b"ET")
    stream = b"\n".join(ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _budget_workbook(project):
    """The budget lines as an XLSX workbook, as applicants attach it."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Budget"
    sheet.append(["Category", "Description", "Unit", "Unit cost (KZT)", "Quantity", "Year", "Co-financing"])
    for row, (category, description, unit, cost, quantity, year, cofinancing) in enumerate(
        project["budget"], start=2
    ):
        sheet.append(
            [category, description, unit, float(cost), float(quantity), int(year), float(cofinancing)]
        )
        sheet.cell(row=row, column=8, value=f"=D{row}*E{row}")
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _upload(data, filename, content_type):
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


def _add_months(day, months):
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _instant(day, hour=18):
    """``day`` at ``hour``:00 in the fund's time zone, as a UTC instant."""
    return datetime.combine(day, time(hour), tzinfo=fund_timezone()).astimezone(UTC)


# -- people -------------------------------------------------------------------------------------------


def _demo_user(session, email, full_name, roles, password_hash):
    # The demo password is hashed once for everyone: argon2 at production cost takes a third of a second
    # per hash, which would be most of the seeding time.
    user = create_user(session, None, email=email, full_name=full_name, roles=roles)
    user.password_hash = password_hash
    return user


def _load_people(session):
    password_hash = hash_password(DEMO_PASSWORD)
    users = {}
    for email, full_name, roles in STAFF:
        users[email] = _demo_user(session, email, full_name, roles, password_hash)
    organisations = {}
    for serial, name_en, name_ru, name_kk, org_type, region_code, address, people in ORGANISATIONS:
        region = session.scalar(
            select(ReferenceItem).where(
                ReferenceItem.vocabulary == Vocabulary.REGION, ReferenceItem.code == region_code
            )
        )
        organisation = Organisation(
            name_en=name_en,
            name_ru=name_ru,
            name_kk=name_kk,
            bin=demo_bin(serial),
            org_type=org_type,
            region=region,
            legal_address=address,
            bank_name="Halyk Bank",
            bank_bic="HSBKKZKX",
            bank_iban="KZ86125KZT5004100100",
            bank_kbe="18",
        )
        session.add(organisation)
        for email, full_name, is_manager in people:
            user = _demo_user(session, email, full_name, [Role.APPLICANT], password_hash)
            organisation.memberships.append(Membership(user=user, is_manager=is_manager))
            users[email] = user
        record_event(session, None, organisation, "organisation.registered", after={"demo": True})
        organisations[serial] = organisation
    session.flush()
    return users, organisations


# -- calls --------------------------------------------------------------------------------------------


def _call_dates(today):
    """Opening and closing instants of each call, relative to ``today`` (the fund's date)."""
    first_of_month = today.replace(day=1)
    # In the previous month, whatever today is, early enough for its reviews and the board meeting that
    # decided it near the end of that month.
    leopard_closes = first_of_month - timedelta(days=26)
    return {
        # Sixteen months ago: decided the month after (EARLIER_MEETING_MONTHS), its grants run since.
        "steppe-wetlands": {
            "opens_at": _instant(_add_months(first_of_month, -19), 9),
            "closes_at": _instant(_add_months(first_of_month, -16) + timedelta(days=9)),
        },
        "leopard": {
            "opens_at": _instant(leopard_closes - timedelta(days=90), 9),
            "closes_at": _instant(leopard_closes),
        },
        "caspian": {
            "opens_at": _instant(today - timedelta(days=24), 9),
            "closes_at": _instant(today + timedelta(days=38)),
        },
        "saiga": {
            "opens_at": _instant(today - timedelta(days=30), 9),
            "closes_at": _instant(today + timedelta(days=25)),
            "full_proposal_closes_at": _instant(today + timedelta(days=110)),
        },
        "wetlands": {
            "opens_at": _instant(_add_months(first_of_month, 3), 9),
            "closes_at": _instant(_add_months(first_of_month, 5)),
        },
    }


def _create_calls(session, officer, today, now):
    dates = _call_dates(today)
    calls = {}
    for key, content in CALLS.items():
        data = call_operations.CallData(**content, **dates[key])
        closes_at = data.closes_at
        if closes_at <= now:
            # Published while still open, so that proposals can be submitted; dated back afterwards.
            data.closes_at = now + timedelta(days=1)
        call = call_operations.create_call(session, officer, data)
        if key != "wetlands":
            call_operations.publish_call(session, officer, call)
            call.published_at = call.opens_at
        calls[key] = (call, closes_at)
    return calls


def _close_in_the_past(session, officer, call, closes_at):
    """Give a demo call that closed its real (past) deadline, say so in the audit log, and close it."""
    before = {"closes_at": call.closes_at.isoformat()}
    call.closes_at = closes_at
    record_event(
        session,
        None,
        call,
        "call.demo_dated_back",
        before=before,
        after={"closes_at": closes_at.isoformat(), "why": "demo data: the call closed in the past"},
    )
    call_operations.close_call(session, officer, call)


# -- proposals ----------------------------------------------------------------------------------------


def _answers(call):
    return {
        str(q.id): (not q.disqualifying_answer if q.disqualifying_answer is not None else True)
        for q in call.questions
    }


def _sections(project, start):
    """The raw content of each section of ``project`` as the editor sends it; the project starts ``start``
    and runs ``project["months"]`` months (two years unless it says)."""
    end = _add_months(start, project.get("months", 24)) - timedelta(days=1)
    objective, outputs, indicators = project.get("logframe", ("", [], []))
    safeguards = {
        key: dict(NO_SAFEGUARD) for key in ("resettlement", "indigenous_peoples", "protected_areas")
    }
    safeguards |= {key: dict(NO_SAFEGUARD) for key in ("pesticides", "cultural_heritage", "labour_risks")}
    for key, explanation in project.get("safeguards", {}).items():
        safeguards[key] = {"answer": "yes", "explanation": explanation}
    return {
        "summary": {"summary": project["summary"]},
        "problem": {"problem": project["problem"], "objectives": project["objectives"]},
        "logframe": {
            "objectives": [
                {
                    "text": objective,
                    "outputs": [
                        {"text": text, "activities": [{"text": a} for a in activities]}
                        for text, activities in outputs
                    ],
                }
            ],
            "indicators": [
                {
                    "code": code,
                    "name": name,
                    "unit": unit,
                    "baseline": baseline,
                    "target": target,
                    "verification": verification,
                }
                for code, name, unit, baseline, target, verification in indicators
            ],
        },
        "sites": {
            "sites": [
                {
                    "region": region,
                    "name": name,
                    "protected_area": area,
                    "pa_category": category,
                    "latitude": latitude,
                    "longitude": longitude,
                }
                for region, name, area, category, latitude, longitude in project["sites"]
            ]
        },
        "species": {
            "species": [
                {"scientific_name": scientific, "common_name": common, "red_list": red_list}
                for scientific, common, red_list in project["species"]
            ]
        },
        "threats": {"threats": project.get("threats", []), "actions": project.get("actions", [])},
        "gbf_targets": {"targets": project.get("targets", [])},
        "timeline": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "milestones": [
                {"title": title, "date": _add_months(start, months).isoformat()}
                for title, months in project.get("milestones", [])
            ],
        },
        "team": {
            "members": [
                {"name": name, "role": role, "organisation": organisation, "time_share": share}
                for name, role, organisation, share in project.get("team", [])
            ]
        },
        "risks": {
            "risks": [
                {"risk": risk, "likelihood": likelihood, "mitigation": mitigation}
                for risk, likelihood, mitigation in project.get("risks", DEFAULT_RISKS)
            ],
            "safeguards": safeguards,
        },
        "budget": {"lines": _budget_lines(project.get("budget", []))},
    }


def _budget_lines(lines):
    return [
        {
            "category": category,
            "description": description,
            "unit": unit,
            "unit_cost": cost,
            "quantity": quantity,
            "year": year,
            "cofinancing": cofinancing,
        }
        for category, description, unit, cost, quantity, year, cofinancing in lines
    ]


def _save(session, user, proposal, key, raw):
    section = proposal.section(key)
    proposal_operations.save_section(session, user, proposal, key, raw, section.version if section else 0)


def _attach(session, user, proposal, project, required):
    organisation = proposal.organisation
    for kind in required:
        if kind == "registration_certificate":
            data = document_pdf(
                "Certificate of state registration of a legal entity",
                [
                    f"Name: {organisation.name_en}",
                    f"BIN: {organisation.bin}",
                    f"Legal address: {organisation.legal_address}",
                    "Issued by the Ministry of Justice of the Republic of Kazakhstan.",
                    "(Demo document.)",
                ],
            )
            upload = _upload(data, "registration-certificate.pdf", "application/pdf")
        elif kind == "letter_of_support":
            data = document_pdf(
                "Letter of support",
                [
                    f"{project.get('letter', 'The district akimat')} supports the project",
                    f'"{proposal.title}"',
                    f"of {organisation.name_en} and will help with permits and access.",
                    "(Demo document.)",
                ],
            )
            upload = _upload(data, "letter-of-support.pdf", "application/pdf")
        elif kind == "budget_workbook":
            upload = _upload(
                _budget_workbook(project),
                "budget.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        else:  # pragma: no cover - every kind the demo calls require is handled above
            raise ValueError(kind)
        submission.add_attachment(session, user, proposal, kind, upload)


def _date_back(proposal, when):
    """Make a proposal look written before ``when``: its creation and last saves (demo data only)."""
    written = when - timedelta(hours=5)
    proposal.created_at = min(proposal.created_at, written - timedelta(days=12))
    proposal.updated_at = written
    for section in proposal.sections:
        section.updated_at = written
    for attachment in proposal.attachments:
        attachment.uploaded_at = written


def _write_proposal(session, call, project, user, organisation, start):
    proposal = proposal_operations.start_proposal(
        session,
        user,
        call,
        organisation,
        title=project["title"],
        answers=_answers(call),
        theme=project["theme"],
    )
    content = _sections(project, start)
    for key in project.get("sections", content):
        _save(session, user, proposal, key, content[key])
    return proposal


def _all_ticked():
    return dict.fromkeys(screening.CHECKLIST_KEYS, True)


#: The screening that leaves a proposal in each of these states.
SCREENING_OUTCOMES = {
    ProposalState.MORE_INFO_REQUESTED: ScreeningOutcome.MORE_INFO,
    ProposalState.INELIGIBLE: ScreeningOutcome.INELIGIBLE,
    ProposalState.INVITED: ScreeningOutcome.INVITE,
    ProposalState.DECLINED: ScreeningOutcome.DECLINE,
}


def _screen(session, officer, proposal, project, user):
    """Take a submitted proposal through screening to the project's state, or to eligible when the project
    goes on to review (the review and the board take it further)."""
    state = project["state"]
    reason = project.get("reason")
    if project.get("more_info"):
        screening.screen_proposal(
            session,
            officer,
            proposal,
            ScreeningOutcome.MORE_INFO,
            screening.suggested_checklist(session, proposal),
            project["more_info"],
        )
        for key, value in project.get("revision", {}).items():
            revised = _sections(
                {**project, key: value}, date.fromisoformat(proposal.section("timeline").content["start"])
            )
            _save(session, user, proposal, key, revised[key])
        if project.get("revision_document"):
            filename, title, lines = project["revision_document"]
            upload = _upload(document_pdf(title, lines), filename, "application/pdf")
            submission.add_attachment(session, user, proposal, "other", upload)
        submission.submit_proposal(session, user, proposal)
    if state == ProposalState.SUBMITTED:
        return
    if state == ProposalState.WITHDRAWN:
        submission.withdraw_proposal(session, user, proposal, reason)
        return
    # Every later state starts with the proposal found eligible.
    outcome = SCREENING_OUTCOMES.get(state, ScreeningOutcome.ELIGIBLE)
    checklist = (
        _all_ticked()
        if outcome in (ScreeningOutcome.ELIGIBLE, ScreeningOutcome.INVITE)
        else screening.suggested_checklist(session, proposal)
    )
    screening_reason = reason if outcome != ScreeningOutcome.ELIGIBLE else None
    screening.screen_proposal(session, officer, proposal, outcome, checklist, screening_reason)


def _continue_full_proposal(session, user, concept, project):
    """The invited organisation starts on its full proposal: a more detailed budget."""
    full = screening.full_proposal_of(session, concept)
    draft = project.get("full_draft")
    if full is not None and draft:
        _save(session, user, full, "budget", {"lines": _budget_lines(draft["budget_lines"])})
    return full


def _load_proposals(session, organisations, calls, officer, today, now):
    """Write and submit every project, close the closed call (dated back), and screen what was submitted.

    Returns ``{project key: proposal}``."""
    first_of_month = today.replace(day=1)
    starts = {
        "leopard": _add_months(first_of_month, 2),
        "caspian": _add_months(first_of_month, 5),
        "saiga": _add_months(first_of_month, 6),
    }
    written = []
    proposals = {}
    for project in PROJECTS:
        call, closes_at = calls[project["call"]]
        organisation = organisations[project["org"]]
        user = organisation.memberships[0].user
        if "start_months" in project:
            start = _add_months(first_of_month, -project["start_months"])
        else:
            start = starts[project["call"]]
        proposal = _write_proposal(session, call, project, user, organisation, start)
        proposals[project["key"]] = proposal
        if project["state"] == ProposalState.DRAFT:
            continue
        _attach(session, user, proposal, project, call.required_attachments)
        reference_instant = closes_at if closes_at <= now else now
        submitted_at = reference_instant - timedelta(days=project["submitted_days"], hours=3)
        _date_back(proposal, submitted_at)
        submission.submit_proposal(session, user, proposal, now=submitted_at)
        written.append((project, proposal, user))

    for call, closes_at in calls.values():
        if closes_at <= now:
            _close_in_the_past(session, officer, call, closes_at)

    for project, proposal, user in written:
        _screen(session, officer, proposal, project, user)
        if project["state"] == ProposalState.INVITED:
            _continue_full_proposal(session, user, proposal, project)
    return proposals


# -- reviews ------------------------------------------------------------------------------------------

#: The demo reviewers' profiles. Species groups hold words ("felids") and the scientific names that
#: proposals list, which is what the automatic assignment matches. ``affiliations``: serials of the
#: organisations the reviewer works with, whose proposals they are never given.
REVIEWER_PROFILES = {
    "reviewer1@ibf.example": {
        "themes": ["steppe_ungulates", "marine_mammals", "large_carnivores"],
        "regions": ["KZ-62", "KZ-31", "KZ-47", "KZ-23"],
        "species_groups": ["ungulates", "saiga tatarica", "pinnipeds", "pusa caspica", "felids"],
        "languages": ["ru", "en"],
        "bio": "Zoologist; thirty years of saiga and Caspian seal research and conservation projects.",
        "affiliations": [],
    },
    "reviewer2@ibf.example": {
        "themes": ["large_carnivores", "protected_areas"],
        "regions": ["KZ-63", "KZ-19", "KZ-33", "KZ-61"],
        "species_groups": ["felids", "panthera uncia", "capra sibirica", "ovis ammon"],
        "languages": ["kk", "ru", "en"],
        "bio": "Mammal ecologist; snow leopard and prey surveys in the Altai and the Tien Shan.",
        "affiliations": [],
    },
    "reviewer3@ibf.example": {
        "themes": ["marine_mammals", "protected_areas", "wetlands"],
        "regions": ["KZ-47", "KZ-23"],
        "species_groups": ["pinnipeds", "pusa caspica", "waterbirds"],
        "languages": ["en"],
        "bio": "Marine mammal biologist; protected-area planning and monitoring design.",
        "affiliations": [],
    },
    "reviewer4@ibf.example": {
        "themes": ["large_carnivores", "steppe_ungulates"],
        "regions": ["KZ-19", "KZ-75", "KZ-61", "KZ-31"],
        "species_groups": ["felids", "panthera uncia", "ungulates", "ovis ammon"],
        "languages": ["kk", "ru"],
        "bio": "Wildlife geneticist and field biologist of the Northern Tien Shan.",
        # A research associate of the Institute of Zoology: never given its proposals.
        "affiliations": [3],
    },
}

#: The reviews of the closed call: per project, one per reviewer in the order they were assigned. Scores
#: follow the fund's default rubric (relevance, feasibility, value for money, capacity, sustainability,
#: each 1 to 5); a review without a recommendation is a draft its reviewer has not finished.
CLOSED_CALL_REVIEWS = {
    "leopard-camera-traps": [
        (
            (5, 4, 4, 5, 4),
            Recommendation.FUND,
            "A rigorous design: 60 stations over two winters is what a population estimate needs, and "
            "handing the grid to the park's rangers makes it last. The team has run such surveys before.",
        ),
        (
            (5, 5, 4, 4, 4),
            Recommendation.FUND,
            "The first count of the Kazakh Altai population, and the corridor map the parks lack. Budget "
            "reasonable for the equipment; the institute's co-financing of the checks is welcome.",
        ),
        (
            (4, 4, 3, 5, 4),
            Recommendation.FUND_WITH_CHANGES,
            "Strong team and method. The overheads line is high for a project of this size; the board "
            "could approve a slightly smaller amount without harm to the survey.",
        ),
    ],
    "leopard-community-rangers": [
        (
            (4, 4, 4, 4, 3),
            Recommendation.FUND_WITH_CHANGES,
            "Local rangers on horseback are the right answer for these valleys. The budget has no accident "
            "insurance for people patrolling alone in winter: it must be added.",
        ),
        (
            (5, 4, 3, 4, 4),
            Recommendation.FUND,
            "Snare removal and agreements with herders address the two main threats directly. Stipends are "
            "modest and the akimat's support is real.",
        ),
        (
            (4, 3, 4, 4, 3),
            Recommendation.FUND_WITH_CHANGES,
            "Good value, but the patrol log needs a simple data standard so results can be compared with "
            "the park's. Insurance for the rangers is missing.",
        ),
    ],
    "leopard-zhongar": [
        (
            (5, 4, 4, 4, 5),
            Recommendation.FUND,
            "A protected corridor along the Kora would secure the Dzhungarian population for decades. The "
            "akimat is a partner from the start, which is what such a decision needs.",
        ),
        (
            (4, 4, 3, 4, 4),
            Recommendation.FUND,
            "Sound plan; the survey gives the evidence the akimat will ask for. Public hearings in three "
            "villages are well budgeted.",
        ),
        (
            (2, 2, 2, 3, 2),
            Recommendation.DO_NOT_FUND,
            "The outcome depends entirely on a decision the project does not control, and the boundary "
            "survey costs more than the fieldwork. I would fund the survey alone, then the corridor.",
        ),
    ],
    "leopard-corrals": [
        (
            (4, 4, 5, 3, 4),
            Recommendation.FUND,
            "Predator-proof corrals end retaliatory killing where they are used; the families' share of "
            "the cost and the maintenance terms are well thought out.",
        ),
        (
            (4, 3, 4, 3, 3),
            Recommendation.FUND_WITH_CHANGES,
            "Worth funding. The compensation fund needs written rules for verifying losses before any money "
            "is paid out.",
        ),
        # The replacement reviewer has started but not finished.
        (
            (4, 4, None, None, None),
            None,
            "Corral design checked with the park's vet; still reading the budget.",
        ),
    ],
    "leopard-genetics": [
        (
            (4, 3, 3, 4, 3),
            Recommendation.FUND_WITH_CHANGES,
            "Scientifically strong, and the question matters. The sampling plan should say how transects "
            "avoid counting the same cat twice; genotyping costs are at the high end.",
        ),
        (
            (3, 3, 2, 4, 3),
            Recommendation.FUND_WITH_CHANGES,
            "A capable team, but the link from a genetic map to protection on the ground is not made. Ask "
            "for a plan to bring the results to the parks and the akimats.",
        ),
        (
            (4, 4, 3, 5, 3),
            Recommendation.FUND,
            "The centre has the laboratory and the field experience. Results would guide where the next "
            "corridor is protected.",
        ),
    ],
    "leopard-ulytau": [
        (
            (1, 2, 3, 3, 2),
            Recommendation.DO_NOT_FUND,
            "There is no record of snow leopards in the Ulytau mountains for decades; argali work may be "
            "worthwhile, but not under this call.",
        ),
        (
            (2, 3, 3, 3, 2),
            Recommendation.DO_NOT_FUND,
            "Outside the range the call is about. The argali counts could go to the steppe ungulates call.",
        ),
        (
            (2, 2, 3, 2, 2),
            Recommendation.DO_NOT_FUND,
            "The premise (preparing for the cats' return) is speculative, and the estates' cooperation is "
            "assumed rather than shown.",
        ),
    ],
    "leopard-talas": [
        (
            (4, 3, 3, 4, 4),
            Recommendation.FUND_WITH_CHANGES,
            "A real conflict on the summer pastures. The compensation pilot needs the akimat's written "
            "commitment to continue it after the grant.",
        ),
        (
            (4, 4, 4, 3, 4),
            Recommendation.FUND,
            "The reserve is the right partner and the prey surveys fill a gap. Costs are reasonable.",
        ),
        (
            (3, 3, 4, 3, 3),
            Recommendation.FUND_WITH_CHANGES,
            "Claims verification by a ranger and the vet is good; the scheme's rules should be agreed "
            "before the first payment.",
        ),
    ],
    "leopard-merke": [
        (
            (4, 3, 3, 3, 3),
            Recommendation.FUND_WITH_CHANGES,
            "Important gap in the range. The forestry institution manages this land: its agreement to the "
            "patrols and the closure proposal is needed.",
        ),
        (
            (4, 4, 3, 3, 4),
            Recommendation.FUND,
            "Experienced rangers, a modest budget, and a clear first question: is there a population?",
        ),
        (
            (3, 3, 3, 3, 3),
            Recommendation.FUND_WITH_CHANGES,
            "The rangers are new to mountains; the training with the Aksu-Zhabagly rangers must come first.",
        ),
    ],
}

#: One reviewer of this project declares a conflict of interest and is replaced automatically.
DECLARED_CONFLICT = (
    "leopard-corrals",
    "I advised the Ile-Alatau Herders' Association on corral designs last year.",
)

#: The reviews of the call decided more than a year ago (as CLOSED_CALL_REVIEWS; every reviewer accepted).
EARLIER_CALL_REVIEWS = {
    "steppe-ustyurt": [
        (
            (5, 4, 4, 4, 3),
            Recommendation.FUND,
            "Winter is when the Ustyurt saiga are poached; patrolling "
            "then, with the inspection, is the right plan. The Alliance has run such teams in Betpak-Dala.",
        ),
        (
            (4, 4, 4, 4, 3),
            Recommendation.FUND,
            "Sound and affordable. The second year depends on the first "
            "winter's results: the report should say what the patrols found.",
        ),
        (
            (4, 3, 4, 4, 3),
            Recommendation.FUND_WITH_CHANGES,
            "Good, but the plateau is huge: say which wintering areas the teams cover and why.",
        ),
    ],
    "steppe-gazelle": [
        (
            (4, 4, 3, 4, 4),
            Recommendation.FUND,
            "Water is what keeps the herds in the park; solar pumps are "
            "a lasting answer, and the park's rangers will maintain them.",
        ),
        (
            (4, 3, 3, 3, 4),
            Recommendation.FUND_WITH_CHANGES,
            "The counts should use the park's transects so the results compare with earlier years.",
        ),
        ((4, 4, 4, 3, 3), Recommendation.FUND, "A practical project with a clear before and after."),
    ],
    "wetland-ural": [
        (
            (4, 3, 3, 3, 3),
            Recommendation.FUND_WITH_CHANGES,
            "Reed fires are the main threat to the delta's "
            "colonies. The boat should be bought only once the fisheries inspection agrees to joint patrols.",
        ),
        ((4, 4, 3, 3, 3), Recommendation.FUND, "Wardens who know the delta and a modest budget."),
        (
            (3, 3, 3, 3, 3),
            Recommendation.FUND_WITH_CHANGES,
            "The village meetings matter more than the patrols; they deserve more of the budget.",
        ),
    ],
    "steppe-kulan": [
        (
            (5, 4, 4, 5, 4),
            Recommendation.FUND,
            "The first year of a reintroduced herd decides its future; "
            "tracking it now is exactly right. An experienced team.",
        ),
        ((4, 4, 4, 5, 4), Recommendation.FUND, "Collars are fairly priced and the reserve is a partner."),
        ((4, 4, 3, 4, 4), Recommendation.FUND, "Clear questions, clear method; the range map will be used."),
    ],
    "wetland-tengiz": [
        (
            (5, 4, 4, 5, 4),
            Recommendation.FUND,
            "A count of the Tengiz colony is long overdue; drone counts are the least disturbing method.",
        ),
        (
            (4, 4, 4, 5, 3),
            Recommendation.FUND,
            "Training the reserve's inspectors makes the count repeatable.",
        ),
        ((4, 5, 4, 4, 4), Recommendation.FUND, "Well designed; the flight protocol is careful."),
    ],
    "wetland-biylikol": [
        (
            (4, 4, 4, 3, 4),
            Recommendation.FUND,
            "A warden from the village is the cheapest protection the "
            "lake can have, and the festival builds support.",
        ),
        ((3, 4, 4, 3, 4), Recommendation.FUND, "Small, local and useful."),
        (
            (4, 3, 4, 3, 3),
            Recommendation.FUND_WITH_CHANGES,
            "The counts need a standard protocol, e.g. the international waterbird census.",
        ),
    ],
    "steppe-mangyshlak": [
        (
            (4, 3, 4, 2, 3),
            Recommendation.FUND_WITH_CHANGES,
            "Worth doing, but the club has never run "
            "expeditions: the Institute's zoologists must lead the first ones.",
        ),
        (
            (3, 3, 4, 3, 3),
            Recommendation.FUND,
            "Cheap counts of a forgotten population, and young people in the field.",
        ),
        (
            (4, 3, 3, 2, 3),
            Recommendation.FUND_WITH_CHANGES,
            "The club's capacity is the risk; a mentor organisation should be named.",
        ),
    ],
    "wetland-chu": [
        (
            (4, 3, 4, 3, 3),
            Recommendation.FUND,
            "The floodplain lakes have no protection at all; the wardens live next to them.",
        ),
        (
            (3, 3, 3, 3, 3),
            Recommendation.FUND_WITH_CHANGES,
            "The akimat's agreement to the use of the lakes should be in writing.",
        ),
        ((4, 3, 3, 3, 3), Recommendation.FUND, "A modest budget for a real gap."),
    ],
}


def _load_reviewer_profiles(session, officer, users, organisations):
    for email, profile in REVIEWER_PROFILES.items():
        data = review_operations.ProfileData(
            themes=profile["themes"],
            regions=profile["regions"],
            species_groups=profile["species_groups"],
            languages=profile["languages"],
            max_load_per_call=8,
            bio=profile["bio"],
        )
        affiliations = [organisations[serial].id for serial in profile["affiliations"]]
        review_operations.save_profile(session, officer, users[email], data, affiliations)


def _review_closed_call(session, officer, call, proposals, closes_at, reviews, conflict=None):
    """Review a closed call as the fund would: reviewers assigned automatically, conflicts declared (with
    ``conflict``, one reviewer withdraws and is replaced), ``reviews`` scored and submitted. Proposals whose
    reviews are all in become reviewed; in the leopard call one stays in review, its replacement reviewer's
    review still a draft.

    The operations stamp "now"; the assignments and declarations are dated after the call closed, and the
    reviews are saved and submitted at the instants they carry (``now=``)."""
    rubric = review_operations.rubric_of(session, call)
    review_operations.save_rubric_settings(
        session, officer, rubric, review_operations.RubricSettings(due_at=closes_at + timedelta(days=18))
    )
    assigned_at = closes_at + timedelta(days=1, hours=16)
    declared_at = assigned_at + timedelta(days=1)
    run = review_operations.assign_reviewers(session, officer, call)
    conflicted_key, note = conflict or (None, None)
    conflicted = proposals.get(conflicted_key)
    withdrawing = None
    if conflicted is not None:
        withdrawing = min(
            (a for a in run.created if a.proposal_id == conflicted.id), key=lambda assignment: assignment.id
        )
    for assignment in sorted(run.created, key=lambda assignment: assignment.id):
        assignment.assigned_at = assigned_at
        review_operations.declare_conflict(
            session,
            assignment.reviewer,
            assignment,
            assignment is withdrawing,
            note if assignment is withdrawing else None,
        )
        assignment.declared_at = declared_at
    replacements = review_operations.active_assignments(session, conflicted) if conflicted else []
    for assignment in replacements:
        if assignment.state == AssignmentState.ASSIGNED:  # the replacement
            assignment.assigned_at = declared_at
            review_operations.declare_conflict(session, assignment.reviewer, assignment, False)
            assignment.declared_at = declared_at + timedelta(days=1)

    criteria = list(rubric.criteria)
    for key, written in reviews.items():
        assignments = review_operations.active_assignments(session, proposals[key])
        for number, (assignment, (scores, recommendation, comments)) in enumerate(
            zip(assignments, written, strict=True)
        ):
            written_at = closes_at + timedelta(days=6 + 3 * number, hours=number - 2)
            scoring.save_review_draft(
                session,
                assignment.reviewer,
                assignment,
                scores={c.id: score for c, score in zip(criteria, scores, strict=True) if score is not None},
                recommendation=recommendation,
                comments=comments,
                base_version=0,
                now=written_at,
            )
            if recommendation is not None:
                scoring.submit_review(session, assignment.reviewer, assignment, now=written_at)


# -- the board ----------------------------------------------------------------------------------------

CHAIR_EMAIL = "chair@ibf.example"

#: Last month's meeting, which decided the closed call: members absent, and each item in agenda order:
#: the motion (the amount in tenge, None for the amount requested; conditions), recusals (member, note),
#: the votes (member: choice) the secretary entered, and the decision recorded, with its reason.
LAST_MEETING = {
    "absent": ["board4@ibf.example"],
    "items": [
        {
            "project": "leopard-camera-traps",
            "amount": "25000000",
            "votes": dict.fromkeys(
                ["chair@ibf.example", "board1@ibf.example", "board2@ibf.example", "board3@ibf.example"],
                VoteChoice.APPROVE,
            ),
            "outcome": DecisionOutcome.APPROVED,
        },
        {
            "project": "leopard-community-rangers",
            "conditions": "Accident insurance for the eight rangers is added to the budget.",
            "votes": {
                "chair@ibf.example": VoteChoice.APPROVE,
                "board1@ibf.example": VoteChoice.APPROVE,
                "board2@ibf.example": VoteChoice.ABSTAIN,
                "board3@ibf.example": VoteChoice.APPROVE,
            },
            "outcome": DecisionOutcome.APPROVED_WITH_CONDITIONS,
        },
        {
            "project": "leopard-ulytau",
            "recused": {"board1@ibf.example": "Sits on the supervisory board of the Steppe Saiga Alliance."},
            "votes": {
                "chair@ibf.example": VoteChoice.REJECT,
                "board2@ibf.example": VoteChoice.REJECT,
                "board3@ibf.example": VoteChoice.APPROVE,
            },
            "outcome": DecisionOutcome.REJECTED,
            "reason": "The board found no record of snow leopards in the Ulytau mountains for decades; the "
            "call funds corridors between populations that exist today. The argali counts could be proposed "
            "to the steppe ungulates call.",
        },
        {
            "project": "leopard-talas",
            "outcome": DecisionOutcome.DEFERRED,
            "reason": "The board asks for the akimat's written agreement to the compensation scheme and will "
            "consider the proposal again at its next meeting.",
        },
        {
            "project": "leopard-merke",
            "outcome": DecisionOutcome.DEFERRED,
            "reason": "The board asks for the Merke forestry institution's agreement to the patrols and to "
            "the proposed hunting closure before it decides.",
        },
    ],
}

#: The next meeting's agenda: (project, recommended amount in tenge, None for the amount requested).
NEXT_MEETING = [("leopard-talas", None), ("leopard-zhongar", "22000000")]

BOARD_EMAILS = [
    CHAIR_EMAIL,
    "board1@ibf.example",
    "board2@ibf.example",
    "board3@ibf.example",
    "board4@ibf.example",
]


def _votes(*, recused=(), abstaining=()):
    """Every member present approves, except those recused (no vote) and those abstaining."""
    return {
        email: VoteChoice.ABSTAIN if email in abstaining else VoteChoice.APPROVE
        for email in BOARD_EMAILS
        if email not in recused
    }


#: The meeting more than a year ago that decided the steppe and wetlands call (as LAST_MEETING): every
#: proposal approved, one with conditions; GRANT_STORIES tells what became of the grants.
EARLIER_MEETING = {
    "absent": [],
    "items": [
        {
            "project": "steppe-ustyurt",
            "recused": {"board1@ibf.example": "Sits on the supervisory board of the Steppe Saiga Alliance."},
            "votes": _votes(recused=["board1@ibf.example"]),
            "outcome": DecisionOutcome.APPROVED,
        },
        {"project": "steppe-gazelle", "votes": _votes(), "outcome": DecisionOutcome.APPROVED},
        {"project": "steppe-kulan", "votes": _votes(), "outcome": DecisionOutcome.APPROVED},
        {
            "project": "steppe-mangyshlak",
            "votes": _votes(abstaining=["board3@ibf.example"]),
            "outcome": DecisionOutcome.APPROVED,
        },
        {"project": "wetland-tengiz", "votes": _votes(), "outcome": DecisionOutcome.APPROVED},
        {
            "project": "wetland-ural",
            "conditions": "The boat is bought only once the fisheries inspection agrees to joint patrols.",
            "votes": _votes(abstaining=["board3@ibf.example"]),
            "outcome": DecisionOutcome.APPROVED_WITH_CONDITIONS,
        },
        {"project": "wetland-biylikol", "votes": _votes(), "outcome": DecisionOutcome.APPROVED},
        {"project": "wetland-chu", "votes": _votes(), "outcome": DecisionOutcome.APPROVED},
    ],
}

#: How many months before the first of this month the earlier meeting was held (on the 9th).
EARLIER_MEETING_MONTHS = 15


def _money(amount, proposal):
    return None if amount is None else Money.from_decimal(amount, proposal.currency)


def _meeting_title(day):
    return f"Board meeting, {calendar.month_name[day.month]} {day.year}"


def _hold_board_meetings(session, users, proposals, today, references, money):
    """The board's rules, the meeting that decided the steppe and wetlands call more than a year ago and
    last month's meeting (held, decided and closed, with their minutes; what became of their grants after
    each), and next month's (scheduled, with its agenda), all through the board's operations with the
    officer as the secretary. The money the pools received (``money``, a _FundMoney) is recorded in time:
    what came before the earlier meeting before it, the rest once its grants' stories are told, so the
    grants it approved are attributed to the donors whose money the fund held when they were signed."""
    officer = users[OFFICER_EMAIL]
    board_operations.update_board_settings(
        session,
        users["admin@ibf.example"],
        chair=users[CHAIR_EMAIL],
        secretary=officer,
        quorum_percent=50,
        majority_percent=50,
        chair_casting_vote=True,
        minutes_name_votes=True,
    )
    first_of_month = today.replace(day=1)
    earlier_day = _add_months(first_of_month, -EARLIER_MEETING_MONTHS) + timedelta(days=8)
    money.receive(before=earlier_day)
    _hold_meeting(session, officer, users, proposals, earlier_day, EARLIER_MEETING, "more than a year ago")
    keys = [item["project"] for item in EARLIER_MEETING["items"]]
    _tell_grant_stories(session, users, proposals, keys, today, references)
    money.receive()
    _hold_meeting(session, officer, users, proposals, first_of_month - timedelta(days=4), LAST_MEETING)
    keys = [item["project"] for item in LAST_MEETING["items"] if item["outcome"] in APPROVING]
    _tell_grant_stories(session, users, proposals, keys, today, references)
    next_day = _add_months(first_of_month, 1) + timedelta(days=11)
    meeting = board_operations.schedule_meeting(
        session,
        officer,
        title=_meeting_title(next_day),
        scheduled_at=_instant(next_day, 10),
        location="Astana, the fund's office",
    )
    for key, amount in NEXT_MEETING:
        proposal = proposals[key]
        board_operations.add_to_agenda(session, officer, meeting, proposal, _money(amount, proposal))


def _hold_meeting(session, officer, users, proposals, day, spec, held_when="last month"):
    """Hold the meeting ``spec`` (LAST_MEETING, EARLIER_MEETING) on ``day``: agenda, attendance, recusals,
    votes and decisions; dated back, then closed with its minutes."""
    held_at = _instant(day, 10)
    meeting = board_operations.schedule_meeting(
        session,
        officer,
        title=_meeting_title(day),
        scheduled_at=held_at,
        location="Astana, the fund's office",
    )
    items = []
    for item_spec in spec["items"]:
        proposal = proposals[item_spec["project"]]
        item = board_operations.add_to_agenda(
            session,
            officer,
            meeting,
            proposal,
            _money(item_spec.get("amount"), proposal),
            conditions=item_spec.get("conditions", ""),
        )
        items.append((item, item_spec))
    board_operations.open_meeting(session, officer, meeting)
    for member in board_operations.board_members(session):
        present = member.email not in spec["absent"]
        board_operations.record_attendance(session, officer, meeting, member, present)
    for number, (item, item_spec) in enumerate(items):
        for email, note in item_spec.get("recused", {}).items():
            board_operations.declare_board_conflict(session, users[email], item, note)
        for email, choice in item_spec.get("votes", {}).items():
            board_operations.cast_vote(session, officer, item, users[email], choice)
        board_operations.decide_item(
            session,
            officer,
            item,
            outcome_request=item_spec["outcome"],
            reason=item_spec.get("reason", ""),
            now=held_at + timedelta(minutes=20 * (number + 1)),
        )
    _date_back_meeting(session, meeting, held_at, held_when)
    closed_at = held_at + timedelta(minutes=20 * len(items) + 30)
    board_operations.close_meeting(session, officer, meeting, now=closed_at)
    return meeting


def _date_back_meeting(session, meeting, held_at, held_when="last month"):
    """Give a meeting held in the past its real times (the operations stamp "now"), and say so in the
    audit log, before it is closed and its minutes are rendered."""
    before = {"opened_at": meeting.opened_at.isoformat()}
    meeting.opened_at = held_at
    for record in meeting.attendance:
        record.recorded_at = held_at
    for number, item in enumerate(meeting.items):
        for conflict in item.conflicts:
            conflict.declared_at = held_at + timedelta(minutes=20 * number + 5)
        for vote in item.votes:
            vote.cast_at = held_at + timedelta(minutes=20 * number + 15)
    record_event(
        session,
        None,
        meeting,
        "meeting.demo_dated_back",
        before=before,
        after={"opened_at": held_at.isoformat(), "why": f"demo data: the meeting was held {held_when}"},
    )
    session.flush()


# -- funding pools and donors ---------------------------------------------------------------------------

#: The fund's funding pools: code -> name, restriction, the theme (THEME) or call key (CALL) it is
#: restricted to, and the money it received from no particular donor (months before the first of this
#: month, day of that month, amount in tenge, what it was, the finance officer recording it): the
#: ledger's "other funds". The rest of the pools' money comes from DONORS. Approvals draw from the most
#: specific pool: the leopard call's from LEOPARD, the steppe proposals from STEPPE, the wetlands ones (no
#: pool of their own) from GENERAL; SEAL waits for the Caspian call.
POOLS = {
    "GENERAL": {
        "name": "General fund (unrestricted)",
        "restriction": Restriction.UNRESTRICTED,
        "receipts": [(17, 5, "10000000", "Founders' annual contribution", "finance2@ibf.example")],
    },
    "STEPPE": {
        "name": "Steppe ungulates programme",
        "restriction": Restriction.THEME,
        "theme": "steppe_ungulates",
        "receipts": [(16, 20, "8000000", "Saiga Day charity run, Astana", "finance@ibf.example")],
    },
    "SEAL": {
        "name": "Caspian seal programme",
        "restriction": Restriction.THEME,
        "theme": "marine_mammals",
        "receipts": [],
    },
    "LEOPARD": {
        "name": "Snow leopard corridors appeal",
        "restriction": Restriction.CALL,
        "call": "leopard",
        "receipts": [
            (2, 10, "15000000", "Snow leopard appeal: gifts of individual donors", "finance2@ibf.example")
        ],
    },
}

#: The fund's donors (all fictitious, marked "(demo)"), in the order they are registered (DNR-0001 on):
#: their details, contacts (name, position, email, phone, portal access: the demo login), pledges (pool,
#: months before the first of this month and day pledged, amount in the donor's currency, instalments
#: as (months, day, amount)) and contributions (pool, months, day, amount in the donor's currency, the
#: rate to tenge on the value date, the number of the pledge it pays or None, the finance officer
#: recording it). Money dated before the earlier board meeting is recorded before it, the rest after its
#: grants' stories, so the grants signed fifteen months ago are attributed (first in, first out) to the
#: money the fund held then: STEPPE's to the ministry (and, when its first instalment ran out, to the
#: charity run: "other funds"), GENERAL's to the foundation and the private donor; LEOPARD's camera traps
#: to the small grants programme. SEAL's company partner funds no grant yet.
DONORS = [
    {
        "key": "bmz",
        "name": "Federal Ministry for Economic Cooperation (demo)",
        "kind": DonorKind.GOVERNMENT,
        "country": "DE",
        "language": "en",
        "currency": "EUR",
        "org_identifier": "DE-1",
        "website": "https://bmz.example",
        "salutation": "Dear Dr. Vogel, dear colleagues of the Ministry",
        "notes": "Restricted to steppe ungulates; reports in English, figures in euro.",
        "contacts": [
            ("Dr. Katrin Vogel", "Desk officer, Central Asia", "donor@bmz.example", "+49 228 99535 0", True)
        ],
        "pledges": [("STEPPE", 19, 2, "135000", [(18, 20, "90000"), (6, 3, "45000")])],
        "contributions": [
            ("STEPPE", 18, 20, "90000", "578.3412", 0, "finance@ibf.example"),
            ("STEPPE", 6, 3, "45000", "605.4890", 0, "finance2@ibf.example"),
        ],
    },
    {
        "key": "sgp",
        "name": "GEF Small Grants Programme, UNDP (demo)",
        "kind": DonorKind.MULTILATERAL,
        "country": "US",
        "language": "en",
        "currency": "USD",
        "org_identifier": "XM-DAC-41114",
        "website": "https://sgp.example",
        "salutation": "Dear colleagues of the Small Grants Programme",
        "notes": "Co-finances the snow leopard corridors call.",
        "contacts": [("James Okafor", "Programme analyst", "sgp@undp.example", "+1 212 906 5000", False)],
        "pledges": [],
        "contributions": [
            ("LEOPARD", 9, 17, "60000", "498.77", None, "finance2@ibf.example"),
            ("LEOPARD", 3, 5, "50000", "512.3456", None, "finance@ibf.example"),
        ],
    },
    {
        "key": "kmg",
        "name": "KazMunayGas Caspian Seal Partnership (demo)",
        "kind": DonorKind.COMPANY,
        "country": "KZ",
        "language": "ru",
        "currency": "KZT",
        "org_identifier": "",
        "website": "https://kmg.example",
        "salutation": "Уважаемая Асель Ермековна",
        "notes": "Restricted to the Caspian seal; a three-year pledge, paid in instalments.",
        "contacts": [
            (
                "Assel Nurmagambetova",
                "Head of social programmes",
                "donor@kmg.example",
                "+7 7172 78 60 00",
                True,
            )
        ],
        # The third instalment falls due in two months: the pledge is still open.
        "pledges": [
            ("SEAL", 12, 1, "90000000", [(11, 24, "35000000"), (4, 8, "25000000"), (-2, 1, "30000000")])
        ],
        "contributions": [
            ("SEAL", 11, 24, "35000000", "1", 0, "finance@ibf.example"),
            ("SEAL", 4, 8, "25000000", "1", 0, "finance@ibf.example"),
        ],
    },
    {
        "key": "fzs",
        "name": "Frankfurt Zoological Society (demo)",
        "kind": DonorKind.FOUNDATION,
        "country": "DE",
        "language": "en",
        "currency": "EUR",
        "org_identifier": "",
        "website": "https://fzs.example",
        "salutation": "Dear Dr. Lehmann, dear friends in Frankfurt",
        "notes": "Unrestricted support for the fund's general programme.",
        "contacts": [("Dr. Anna Lehmann", "Programme director, Eurasia", "eurasia@fzs.example", "", False)],
        "pledges": [],
        "contributions": [
            ("GENERAL", 20, 12, "60000", "540.1234", None, "finance@ibf.example"),
            ("GENERAL", 7, 15, "40000", "604.2516", None, "finance2@ibf.example"),
        ],
    },
    {
        "key": "private",
        "name": "Gaukhar Temirbekova (demo)",
        "kind": DonorKind.INDIVIDUAL,
        "country": "KZ",
        "language": "kk",
        "currency": "KZT",
        "org_identifier": "",
        "website": "",
        "salutation": "Құрметті Гаухар ханым",
        "notes": "A private donor; unrestricted gifts.",
        "contacts": [("Gaukhar Temirbekova", "", "g.temirbekova@mail.example", "+7 701 555 12 34", False)],
        "pledges": [],
        "contributions": [
            ("GENERAL", 18, 3, "10000000", "1", None, "finance@ibf.example"),
            ("GENERAL", 1, 9, "5000000", "1", None, "finance2@ibf.example"),
        ],
    },
]


class _BankReferences:
    """The bank's references of the demo's payments in (receipts, refunds) and out (releases), numbered by
    direction and year in the order they are recorded: KZ-IN-2026-0241, KZ-OUT-2025-0282."""

    def __init__(self):
        self.last = {}

    def next(self, direction, day):
        key = (direction, day.year)
        self.last[key] = self.last.get(key, 200) + 41
        return f"KZ-{direction}-{day.year}-{self.last[key]:04d}"


def _demo_day(today, months, day):
    """The ``day``-th of the month ``months`` before this one (negative: after it)."""
    return _add_months(today.replace(day=1), -months) + timedelta(days=day - 1)


def _money_in(today):
    """Every payment into the pools, oldest first: (value date, pool code, amount, rate or None for
    money from no donor, donor key, pledge number, description, the recording finance officer)."""
    payments = [
        (_demo_day(today, months, day), code, amount, None, None, None, source, email)
        for code, pool in POOLS.items()
        for months, day, amount, source, email in pool["receipts"]
    ]
    payments += [
        (_demo_day(today, months, day), code, amount, rate, donor["key"], pledge, "", email)
        for donor in DONORS
        for code, months, day, amount, rate, pledge, email in donor["contributions"]
    ]
    return sorted(payments, key=lambda payment: payment[0])


class _FundMoney:
    """The pools and donors of the demo, and the money still to be received (``receive``)."""

    def __init__(self, session, users, calls, today, references):
        self.session, self.users, self.references = session, users, references
        finance = users["finance@ibf.example"]
        self.pools = {}
        for code, spec in POOLS.items():
            self.pools[code] = pool_operations.create_pool(
                session,
                finance,
                code=code,
                name=spec["name"],
                currency="KZT",
                restriction=spec["restriction"],
                theme=spec.get("theme"),
                call=calls[spec["call"]][0] if "call" in spec else None,
            )
        self.donors, self.pledges = {}, {}
        for spec in DONORS:
            self.donors[spec["key"]] = donor = donor_operations.create_donor(
                session,
                finance,
                name=spec["name"],
                kind=spec["kind"],
                country=spec["country"],
                preferred_language=spec["language"],
                preferred_currency=spec["currency"],
                org_identifier=spec["org_identifier"],
                website=spec["website"],
                salutation=spec["salutation"],
                notes=spec["notes"],
            )
            for name, position, email, phone, portal in spec["contacts"]:
                if portal:
                    # The demo login: an account with the demo password, which the contact is given.
                    user = create_user(
                        session,
                        None,
                        email=email,
                        full_name=name,
                        roles=[Role.DONOR],
                        locale=spec["language"],
                    )
                    user.password_hash = users[OFFICER_EMAIL].password_hash  # the demo password, hashed once
                    users[email] = user
                donor_operations.add_contact(
                    session,
                    finance,
                    donor,
                    name=name,
                    email=email,
                    position=position,
                    phone=phone,
                    portal_access=portal,
                )
            for number, (code, months, day, amount, instalments) in enumerate(spec["pledges"]):
                self.pledges[(spec["key"], number)] = donor_operations.record_pledge(
                    session,
                    finance,
                    donor,
                    self.pools[code],
                    Money.from_decimal(amount, spec["currency"]),
                    _demo_day(today, months, day),
                    [
                        (_demo_day(today, due_months, due_day), Money.from_decimal(part, spec["currency"]))
                        for due_months, due_day, part in instalments
                    ],
                )
        self.pending = _money_in(today)

    def receive(self, before=None):
        """Record the payments dated before ``before`` (all of them without it) still to be recorded."""
        while self.pending and (before is None or self.pending[0][0] < before):
            value_date, code, amount, rate, donor_key, pledge, source, email = self.pending.pop(0)
            pool = self.pools[code]
            reference = self.references.next("IN", value_date)
            if donor_key is None:
                pool_operations.receive_funds(
                    self.session,
                    self.users[email],
                    pool,
                    Money.from_decimal(amount, "KZT"),
                    value_date=value_date,
                    bank_reference=reference,
                    description=source,
                )
                continue
            donor = self.donors[donor_key]
            donor_operations.record_contribution(
                self.session,
                self.users[email],
                donor,
                pool,
                Money.from_decimal(amount, donor.preferred_currency),
                rate=Decimal(rate),
                value_date=value_date,
                bank_reference=reference,
                pledge=None if pledge is None else self.pledges[(donor_key, pledge)],
            )


# -- grants ---------------------------------------------------------------------------------------------

#: Who signs agreements for the fund.
FUND_SIGNATORY = "Aigerim Nurlanovna, Executive Director"
#: The finance officers: one approves a tranche, the other releases it (four eyes).
APPROVER_EMAIL = "finance@ibf.example"
RELEASER_EMAIL = "finance2@ibf.example"

#: What became of each grant the board approved, step by step: ``(day, step, *arguments)``. Days count
#: from the project's start (negative: before it) or, with ``"from": "decided"``, from the board's
#: decision (never later than today); None is today. Steps run through the grant operations in order, as
#: the people would: the officer signs, cancels, suspends, terminates, closes and reviews reports; the
#: organisation's manager writes them (REPORTS); finance@ approves tranches, finance2@ releases them and
#: finance@ records refunds. The instants the operations stamp are then given the story's days.
#: leopard-community-rangers has no story: its agreement waits for the board's condition to be met.
GRANT_STORIES = {
    # Active: tranche 1 paid, progress report 1 accepted, tranche 2 approved and waiting for its release.
    "steppe-ustyurt": {
        "steps": [
            (-12, "sign"),
            (2, "approve", 1),
            (4, "release", 1),
            (372, "submit", 1),
            (380, "accept", 1, "A clear report; the incident protocols and the patrol maps are convincing."),
            (386, "approve", 2),
        ],
    },
    # Active: tranche 1 paid; progress report 1 is overdue (the grantee has started a draft).
    "steppe-gazelle": {
        "steps": [(-11, "sign"), (4, "approve", 1), (7, "release", 1), (350, "draft", 1)],
    },
    # Suspended: progress report 1 sent back for changes, the grant suspended until they are made.
    "wetland-ural": {
        "steps": [
            (-9, "sign"),
            (2, "approve", 1),
            (5, "release", 1),
            (372, "submit", 1),
            (
                384,
                "changes",
                1,
                "The budget funds one boat; a second one was bought without the fund's agreement, with money "
                "from the wardens' and the patrols' lines. Send the purchase documents, and revise the "
                "financial report with a plan to restore the patrols.",
            ),
            (
                395,
                "suspend",
                "Suspended until the purchase of a second boat, made without the fund's agreement, is "
                "documented and progress report 1 is revised.",
            ),
        ],
    },
    # Active: both tranches so far paid, the final report submitted and waiting for the officer.
    "steppe-kulan": {
        "steps": [
            (-10, "sign"),
            (2, "approve", 1),
            (5, "release", 1),
            (189, "submit", 1),
            (197, "accept", 1, ""),
            (200, "approve", 2),
            (203, "release", 2),
            (385, "submit", 2),
        ],
    },
    # Completed: the final report accepted; the last tranche is due for approval.
    "wetland-tengiz": {
        "steps": [
            (-12, "sign"),
            (3, "approve", 1),
            (6, "release", 1),
            (190, "submit", 1),
            (196, "accept", 1, "Thank you: the first drone counts are excellent."),
            (199, "approve", 2),
            (202, "release", 2),
            (380, "submit", 2),
            (395, "accept", 2, "The count report is accepted; the reserve has the method."),
        ],
    },
    # Closed: the project spent less than its grant; the last tranche was cancelled and the rest of the
    # commitment went back to the pool at closure.
    "wetland-biylikol": {
        "steps": [
            (-10, "sign"),
            (2, "approve", 1),
            (5, "release", 1),
            (188, "submit", 1),
            (194, "accept", 1, ""),
            (197, "approve", 2),
            (200, "release", 2),
            (372, "submit", 2),
            (
                380,
                "cancel_tranche",
                3,
                "The final financial report shows 1,600,000 tenge of the grant unspent (the akimat lent its "
                "boat, and the counts cost less): the last tranche is not paid.",
            ),
            (381, "accept", 2, "Accepted, with thanks to the warden and the schools."),
            (None, "close"),
        ],
    },
    # Terminated: the club stopped the counts; the fund ended the grant and the club refunded the unspent.
    "steppe-mangyshlak": {
        "steps": [
            (-8, "sign"),
            (3, "approve", 1),
            (6, "release", 1),
            (
                250,
                "terminate",
                "The club's coordinator left and no expedition has gone out since the spring; the club asked "
                "the fund to end the grant.",
            ),
            (280, "refund", "1150000"),
        ],
    },
    # Cancelled: never signed.
    "wetland-chu": {
        "from": "decided",
        "steps": [
            (
                40,
                "cancel",
                "The district akimat leased the floodplain lakes to a fish farm before the agreement was "
                "signed; the union withdrew, as the project can no longer be done there.",
            )
        ],
    },
    # Active since this month: signed after last month's meeting; its first tranche is paid at the start.
    "leopard-camera-traps": {"from": "decided", "steps": [(12, "sign")]},
}

#: What the grantees wrote in their reports, by (project, report number): the narrative, a value (and a
#: comment) per logframe indicator, the amount spent per budget line up to the end of the period, with
#: an explanation where it differs from the budget by more than the fund's threshold, and a photo.
REPORTS = {
    ("steppe-ustyurt", 1): {
        "narrative": "Both teams patrolled the wintering areas of the plateau's western edge from November "
        "to March, 96 patrols in all, always with a state inspector. Eleven poaching cases went to the "
        "inspection; four are in court. The saiga wintered in larger herds than last year.",
        "indicators": [
            ("410000", "Both wintering areas patrolled every week."),
            ("11", "Eleven protocols; four cases in court."),
        ],
        "spend": [
            ("6600000", "Rangers are paid for the winter months they patrol, as planned for year one."),
            ("0", "Second-year stipends are paid from month 13."),
            ("2120000", ""),
            ("880000", "All equipment was bought before the first winter."),
        ],
        "photo": ("steppe", "Rangers and an inspector on the plateau's edge in January"),
    },
    ("steppe-gazelle", 1): {
        # A draft the grantee has not finished.
        "narrative": "Three of the four pumps work since May; the fourth spring needs a deeper well.",
        "indicators": [("", ""), ("3", "")],
        "spend": [],
    },
    ("wetland-ural", 1): {
        "narrative": "The wardens patrolled the delta from June; six reed fires were put out early. The "
        "first boat could not reach the eastern channels, so we bought a second, smaller one.",
        "indicators": [("21000", "Patrols only from June."), ("6", "Six fires put out early.")],
        "spend": [
            ("1620000", "One warden post was vacant for five months."),
            ("5100000", "A second, smaller boat (1,500,000 tenge) was bought for the eastern channels."),
            ("360000", "Fewer patrols while the second boat was fitted out."),
            ("120000", "Two of the eight meetings were held; the rest are planned for the winter."),
        ],
        "photo": ("water", "The second boat in the eastern channels"),
    },
    ("steppe-kulan", 1): {
        "narrative": "Eight kulan were collared in the reserve in the first month. The herd stayed within 40 "
        "kilometres of the release site through the spring, using two springs and the old wells.",
        "indicators": [("8", "All eight collars transmit."), ("41", "Spring count from the air.")],
        "spend": [
            ("5200000", "All eight collars were bought and fitted in the first month, as planned."),
            ("1700000", "Two of six expeditions made; the others follow the herd's autumn move."),
            ("510000", "The analyst started in month four."),
        ],
        "photo": ("steppe", "A collared kulan mare in the Turgay steppe"),
    },
    ("steppe-kulan", 2): {
        "narrative": "The herd settled in a range of 1,800 square kilometres around the release site and "
        "crossed the reserve's boundary only in winter. The range map and our advice on the protected zone "
        "are attached to the report for the reserve.",
        "indicators": [("8", "Seven collars still transmit."), ("46", "Autumn count: five foals.")],
        "spend": "as budgeted",
        "photo": ("steppe", "The kulan herd at the old well, autumn"),
    },
    ("wetland-tengiz", 1): {
        "narrative": "Two expeditions counted the colony at the start of the breeding season; the drone "
        "flights caused no disturbance at 60 metres. The reserve's inspectors joined both.",
        "indicators": [("0", "The colony is counted at the peak, in the second half."), ("6", "")],
        "spend": [
            ("3500000", ""),
            ("2600000", "The drone and cameras were bought before the first expedition."),
            ("2000000", ""),
        ],
        "photo": ("water", "Flamingos on Lake Tengiz from the drone"),
    },
    ("wetland-tengiz", 2): {
        "narrative": "At the peak of the season the colony held about 31,000 birds on two islands; breeding "
        "success was good in a year of high water. Ten inspectors can now run the count themselves.",
        "indicators": [("31000", "Peak count, two islands."), ("10", "Ten inspectors trained.")],
        "spend": "as budgeted",
        "photo": ("water", "The breeding islands of Lake Tengiz"),
    },
    ("wetland-biylikol", 1): {
        "narrative": "The warden counted the lake every month; spring shooting stopped after two joint raids "
        "with the hunting inspection. Migration peaked in April with 14,000 ducks and waders.",
        "indicators": [("14000", "April peak."), ("0", "The festival is in the spring.")],
        "spend": [
            ("900000", ""),
            ("1400000", ""),
            ("600000", "The akimat lent its boat: only the telescope and jackets were bought."),
            ("300000", "The festival takes place in the spring."),
        ],
        "photo": ("water", "Ducks on Lake Biylikol in April"),
    },
    ("wetland-biylikol", 2): {
        "narrative": "A year of monthly counts is complete and the lake had no spring shooting. 320 pupils "
        "came to the bird festival. The project cost less than planned: the akimat lent its boat.",
        "indicators": [("19500", "Highest monthly count."), ("320", "Pupils at the festival.")],
        "spend": [
            ("1800000", ""),
            ("2400000", "Three counts were made with the akimat's boat and car, at no cost."),
            ("600000", "The akimat lent its boat; no boat was bought."),
            ("1600000", ""),
        ],
        "photo": ("water", "The bird festival on the shore of Biylikol"),
    },
}


def demo_photo(scene, width=240, height=160):
    """A small PNG standing in for a field photo: a sky over the steppe (``scene`` "steppe") or over water
    ("water"), drawn row by row (no imaging library needed)."""
    horizon = height * 3 // 5
    ground = (196, 170, 110) if scene == "steppe" else (52, 98, 140)
    rows = []
    for y in range(height):
        if y < horizon:
            shade = y * 90 // horizon
            colour = (110 + shade, 160 + shade // 2, 230)
        else:
            depth = (y - horizon) * 50 // (height - horizon)
            colour = tuple(max(0, channel - depth) for channel in ground)
        rows.append(b"\x00" + bytes(colour) * width)

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def _grant_of(session, proposal):
    return session.scalar(select(Grant).where(Grant.proposal_id == proposal.id))


def _write_report(session, grantee, report, content, written_at):
    """The grantee's draft of ``report`` from REPORTS (values, spending, a photo), saved as they would."""
    rows = reporting.report_form_rows(report)
    currency = report.grant.currency
    if content["spend"] == "as budgeted":
        spend = {row.position: (row.expected, "") for row in rows.spend}
    else:
        spend = {
            row.position: (Money.from_decimal(amount, currency), explanation)
            for row, (amount, explanation) in zip(
                rows.spend[: len(content["spend"])], content["spend"], strict=True
            )
        }
    reporting.save_report(
        session,
        grantee,
        report,
        narrative=content["narrative"],
        indicator_values=dict(enumerate(content["indicators"])),
        spend=spend,
    )
    if content.get("photo"):
        scene, caption = content["photo"]
        upload = _upload(demo_photo(scene), f"report-{report.number}-photo.png", "image/png")
        added = reporting.add_report_file(
            session, grantee, report, upload, kind=ReportFileKind.PHOTO, caption=caption
        )
        added.created_at = written_at
        added.stored_file.created_at = written_at


def _sign(session, officer, grant, day):
    grantee = grant.organisation.memberships[0].user
    decided_on = to_local(grant.agenda_item.decided_at).date()
    signed_copy = document_pdf(
        f"Grant agreement {grant.reference}, signed",
        [
            f'"{grant.title}"',
            f"Grantee: {grant.organisation.name_en}, signed by {grantee.full_name}.",
            f"For the fund: {FUND_SIGNATORY}.",
            f"Amount: {grant.amount.format()}. (Demo document: a scan of the signed agreement.)",
        ],
    )
    grant_operations.sign_grant(
        session,
        officer,
        grant,
        grantee_signatory=grantee.full_name,
        grantee_signed_on=max(decided_on, day - timedelta(days=2)),
        fund_signatory=FUND_SIGNATORY,
        fund_signed_on=day,
        signed_copy=_upload(signed_copy, f"{grant.reference}-signed.pdf", "application/pdf"),
    )
    grant.activated_at = _instant(day, 16)


def _run_story(session, users, grant, key, story, today, references):
    """Take ``grant`` through its story (GRANT_STORIES), dating what the operations stamp."""
    officer = users[OFFICER_EMAIL]
    approver, releaser = users[APPROVER_EMAIL], users[RELEASER_EMAIL]
    grantee = grant.organisation.memberships[0].user
    from_decision = story.get("from") == "decided"
    anchor = to_local(grant.agenda_item.decided_at).date() if from_decision else grant.start_date
    for offset, step, *arguments in story["steps"]:
        day = today if offset is None else anchor + timedelta(days=offset)
        if from_decision:
            day = min(day, today)
        if day > today:  # pragma: no cover - a mistake in the stories above
            raise ValueError(f"the story of {key} reaches {day}, after today")
        if step == "sign":
            _sign(session, officer, grant, day)
        elif step == "approve":
            tranche = grant.tranches[arguments[0] - 1]
            grant_operations.approve_tranche(session, approver, tranche, bank_details_checked=True)
            tranche.approved_at = _instant(day, 11)
        elif step == "release":
            tranche = grant.tranches[arguments[0] - 1]
            grant_operations.release_tranche(
                session,
                releaser,
                tranche,
                paid_on=day,
                bank_reference=references.next("OUT", day),
                idempotency_key=f"demo-release-{grant.reference}-{tranche.number}",
            )
            tranche.released_at = _instant(day, 15)
        elif step in ("draft", "submit"):
            report = grant.reports[arguments[0] - 1]
            written_at = _instant(day, 17)
            _write_report(session, grantee, report, REPORTS[(key, report.number)], written_at)
            if step == "submit":
                reporting.submit_report(session, grantee, report)
                report.submitted_at = written_at
            report.updated_at = written_at
        elif step in ("accept", "changes"):
            report = grant.reports[arguments[0] - 1]
            if step == "accept":
                reporting.accept_report(session, officer, report, arguments[1])
            else:
                reporting.request_changes(session, officer, report, arguments[1])
            report.reviewed_at = report.updated_at = _instant(day, 12)
        elif step == "cancel_tranche":
            number, reason = arguments
            grant_operations.cancel_tranche(session, officer, grant.tranches[number - 1], reason)
        elif step == "suspend":
            grant_operations.suspend_grant(session, officer, grant, arguments[0])
        elif step == "terminate":
            grant_operations.terminate_grant(session, officer, grant, arguments[0])
        elif step == "cancel":
            grant_operations.cancel_grant(session, officer, grant, arguments[0])
        elif step == "refund":
            grant_operations.record_refund(
                session,
                approver,
                grant,
                Money.from_decimal(arguments[0], grant.currency),
                value_date=day,
                bank_reference=references.next("IN", day),
            )
        elif step == "close":
            grant_operations.close_grant(session, officer, grant)
        else:  # pragma: no cover - a mistake in the stories above
            raise ValueError(step)


def _tell_grant_stories(session, users, proposals, keys, today, references):
    """Run the stories of the grants of ``keys``; then give each grant the instant it was created (the
    board's decision) and say in the audit log that the demo dated it all back."""
    for key in keys:
        grant = _grant_of(session, proposals[key])
        if key in GRANT_STORIES:
            _run_story(session, users, grant, key, GRANT_STORIES[key], today, references)
        before = {"created_at": grant.created_at.isoformat()}
        grant.created_at = grant.agenda_item.decided_at
        record_event(
            session,
            None,
            grant,
            "grant.demo_dated_back",
            before=before,
            after={
                "created_at": grant.created_at.isoformat(),
                "why": "demo data: signatures, approvals, releases and reports carry the days they happened",
            },
        )
    session.flush()


def seed_demo(session, force=False):
    """Load the demo fund. Returns the demo logins, or None if the database already holds users."""
    if not force and session.scalar(select(func.count()).select_from(User)):
        return None
    load_reference_data(session)
    users, organisations = _load_people(session)
    officer = users[OFFICER_EMAIL]
    now = utcnow()
    today = now.astimezone(fund_timezone()).date()
    calls = _create_calls(session, officer, today, now)
    for call, _closes_at in calls.values():
        review_operations.start_rubric(session, officer, call)
    references = _BankReferences()
    money = _FundMoney(session, users, calls, today, references)
    _load_reviewer_profiles(session, officer, users, organisations)
    proposals = _load_proposals(session, organisations, calls, officer, today, now)
    earlier, earlier_closes = calls["steppe-wetlands"]
    _review_closed_call(session, officer, earlier, proposals, earlier_closes, EARLIER_CALL_REVIEWS)
    leopard, leopard_closes = calls["leopard"]
    _review_closed_call(
        session, officer, leopard, proposals, leopard_closes, CLOSED_CALL_REVIEWS, DECLARED_CONFLICT
    )
    _hold_board_meetings(session, users, proposals, today, references, money)
    session.flush()
    return demo_logins()
