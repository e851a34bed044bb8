"""The demo fund loaded by ``fundapp seed-demo`` (and by ``make run`` on an empty database).

A small but realistic picture of a Kazakh conservation fund: its staff, board and reviewers, and the
NGOs, institutes and community groups that apply to it. Every demo person has the same password.
"""

from sqlalchemy import func, select

from fundapp.accounts.identifiers import bin_check_digit
from fundapp.accounts.models import Membership, Organisation, OrganisationType, User
from fundapp.accounts.operations import create_user
from fundapp.core.audit import record_event
from fundapp.core.permissions import Role
from fundapp.reference.data import load_reference_data
from fundapp.reference.models import ReferenceItem, Vocabulary

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
]


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
    return logins


def seed_demo(session, force=False):
    """Load the demo fund. Returns the demo logins, or None if the database already holds users."""
    if not force and session.scalar(select(func.count()).select_from(User)):
        return None
    load_reference_data(session)
    for email, full_name, roles in STAFF:
        create_user(session, None, email=email, full_name=full_name, password=DEMO_PASSWORD, roles=roles)
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
            user = create_user(
                session,
                None,
                email=email,
                full_name=full_name,
                password=DEMO_PASSWORD,
                roles=[Role.APPLICANT],
            )
            organisation.memberships.append(Membership(user=user, is_manager=is_manager))
        record_event(session, None, organisation, "organisation.registered", after={"demo": True})
    session.flush()
    return demo_logins()
