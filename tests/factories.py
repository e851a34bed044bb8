"""Factories: build valid objects with sensible defaults; tests override only what they are about."""

import itertools

from sqlalchemy import select

from fundapp.accounts.identifiers import bin_check_digit
from fundapp.accounts.models import Membership, Organisation, OrganisationType, User, UserRole
from fundapp.accounts.passwords import hash_password
from fundapp.core.permissions import Role
from fundapp.extensions import db
from fundapp.reference.models import ReferenceItem, Vocabulary

DEFAULT_PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def valid_bin(serial=None):
    """A 12-digit BIN with a correct check digit (registered 2015-03, legal entity)."""
    serial = next(_sequence) if serial is None else serial
    body = f"150340{serial:05d}"
    check = bin_check_digit(body)
    if check is None:  # this body has no valid check digit; take the next one
        return valid_bin(serial + 100_000 // 2)
    return body + str(check)


def region(code="KZ-47"):
    return db.session.scalar(
        select(ReferenceItem).where(ReferenceItem.vocabulary == Vocabulary.REGION, ReferenceItem.code == code)
    )


def make_user(*, email=None, full_name=None, roles=(Role.APPLICANT,), password=DEFAULT_PASSWORD, **fields):
    n = next(_sequence)
    user = User(
        email=(email or f"user{n}@example.org").lower(),
        full_name=full_name or f"Test User {n}",
        password_hash=hash_password(password),
        **fields,
    )
    user.role_grants = [UserRole(role=Role(role)) for role in roles]
    db.session.add(user)
    db.session.flush()
    return user


def make_organisation(*, members=(), managers=(), bin=None, region_code="KZ-47", **fields):
    n = next(_sequence)
    defaults = {
        "name_en": f"Caspian Nature Society {n}",
        "name_ru": f"Общество природы Каспия {n}",
        "name_kk": f"Каспий табиғаты қоғамы {n}",
        "org_type": OrganisationType.NGO,
        "legal_address": "Aktau, 14 microdistrict, 5",
        "bank_name": "Halyk Bank",
        "bank_bic": "HSBKKZKX",
        "bank_iban": "KZ86125KZT5004100100",
        "bank_kbe": "18",
    }
    defaults.update(fields)
    organisation = Organisation(bin=bin or valid_bin(), region=region(region_code), **defaults)
    db.session.add(organisation)
    for user in managers:
        organisation.memberships.append(Membership(user=user, is_manager=True))
    for user in members:
        organisation.memberships.append(Membership(user=user, is_manager=False))
    db.session.flush()
    return organisation


def make_applicant(**fields):
    """An applicant who manages a fresh organisation."""
    user = make_user(roles=(Role.APPLICANT,), **fields)
    make_organisation(managers=[user])
    return user
