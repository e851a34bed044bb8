"""Donors and the money they give: operations (they take the acting user and never commit).

An ``actor`` of None is the system itself (the CLI, the demo data); a person must be a finance officer or
an admin to change donors, their contacts, pledges and contributions.

Idempotency of contributions: ``record_contribution`` takes an optional ``idempotency_key`` (the staff
form sends one, made when the form is shown). It is stored on the RECEIPT journal entry with a fingerprint
of the request, exactly as ``pools.receive_funds`` does (``ledger.entry_for_key``): a retry with the same
key returns the first contribution and writes nothing; the same key with other details is a ``Conflict``.
The unique key column of ``journal_entry`` makes two concurrent submissions record once.
"""

import re
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import func, select, text

from fundapp.accounts.models import User, UserRole, get_user_by_email
from fundapp.core.audit import record_event
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.mail import queue_mail
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.web import external_url
from fundapp.disbursements import ledger
from fundapp.disbursements.models import EntryKind
from fundapp.donors.models import (
    Contribution,
    Donor,
    DonorContact,
    DonorKind,
    Pledge,
    PledgeInstalment,
    PledgeState,
)

_REFERENCE_LOCK_KEY = 7_300_007
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
LANGUAGES = ("en", "ru", "kk")
MAX_BANK_REFERENCE = 140
MAX_INSTALMENTS = 60
#: No amount of the fund comes near this (10^16 minor units); anything above is a typing mistake, and the
#: database column (a 64-bit integer) must never overflow.
MAX_MINOR = 10**16
#: Base-currency units per unit of another currency: no real rate is beyond these.
MAX_RATE_DIGITS = 12
#: The donor fields ``create_donor`` and ``update_donor`` take.
DONOR_FIELDS = (
    "name",
    "kind",
    "country",
    "preferred_language",
    "preferred_currency",
    "org_identifier",
    "website",
    "salutation",
    "notes",
)


def _require_manager(actor):
    """People must be finance officers or admins; ``None`` (the system) may."""
    if actor is not None and not (
        getattr(actor, "is_authenticated", False) and actor.has_role(Role.FINANCE_OFFICER, Role.ADMIN)
    ):
        raise DomainError(_("Only a finance officer or an admin can change donors and their money."))


def next_donor_reference(session):
    """The next free reference, e.g. DNR-0001 (prefix from config)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFERENCE_LOCK_KEY})
    prefix = f"{current_app.config['REFERENCE_PREFIXES']['donor']}-"
    last = session.scalar(
        select(Donor.reference)
        .where(Donor.reference.like(prefix + "%"))
        .order_by(func.length(Donor.reference).desc(), Donor.reference.desc())
        .limit(1)
    )
    number = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{number:04d}"


def _clean_donor(
    *,
    name,
    kind,
    country,
    preferred_language="en",
    preferred_currency=None,
    org_identifier="",
    website="",
    salutation="",
    notes="",
):
    """The donor's fields checked and tidied; DomainError (field named) for the first one that is wrong."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the donor's name."), field="name")
    if len(name) > 300:
        raise DomainError(_("The name is too long: at most 300 characters."), field="name")
    try:
        kind = DonorKind(kind)
    except ValueError:
        raise DomainError(_("Choose what kind of donor this is."), field="kind") from None
    country = (country or "").strip().upper()
    if not _COUNTRY.fullmatch(country):
        raise DomainError(_("The country is a two-letter ISO code, e.g. KZ, DE or US."), field="country")
    if preferred_language not in LANGUAGES:
        raise DomainError(
            _("Reports can be written in English, Russian or Kazakh."), field="preferred_language"
        )
    preferred_currency = (preferred_currency or current_app.config["BASE_CURRENCY"]).strip().upper()
    if not _CURRENCY.fullmatch(preferred_currency):
        raise DomainError(
            _("A currency is an ISO 4217 code of three capital letters, e.g. KZT or USD."),
            field="preferred_currency",
        )
    return {
        "name": name,
        "kind": kind,
        "country": country,
        "preferred_language": preferred_language,
        "preferred_currency": preferred_currency,
        "org_identifier": (org_identifier or "").strip()[:100],
        "website": (website or "").strip()[:300],
        "salutation": (salutation or "").strip()[:300],
        "notes": notes or "",
    }


def _donor_summary(donor):
    return {
        field: getattr(getattr(donor, field), "value", getattr(donor, field))
        for field in DONOR_FIELDS
        if field != "notes"
    }


def create_donor(
    session,
    actor,
    *,
    name,
    kind,
    country,
    preferred_language="en",
    preferred_currency=None,
    org_identifier="",
    website="",
    salutation="",
    notes="",
):
    """A new donor with the next reference. Refuses (DomainError, field named) a blank name, an unknown
    kind, country, language or currency."""
    _require_manager(actor)
    fields = _clean_donor(
        name=name,
        kind=kind,
        country=country,
        preferred_language=preferred_language,
        preferred_currency=preferred_currency,
        org_identifier=org_identifier,
        website=website,
        salutation=salutation,
        notes=notes,
    )
    donor = Donor(reference=next_donor_reference(session), created_by_id=getattr(actor, "id", None), **fields)
    session.add(donor)
    session.flush()
    record_event(
        session,
        actor,
        donor,
        "donor.created",
        after={"reference": donor.reference, "name": fields["name"], "kind": fields["kind"].value},
    )
    return donor


def update_donor(session, actor, donor, **fields):
    """Change the donor's details (the keyword arguments are ``DONOR_FIELDS``; those left out stay).

    The donor's currency cannot change once pledges or contributions are recorded in it: the figures in
    their currency are computed from them.
    """
    _require_manager(actor)
    unknown = set(fields) - set(DONOR_FIELDS)
    if unknown:
        raise TypeError(f"unknown donor fields: {sorted(unknown)}")
    current = {field: getattr(donor, field) for field in DONOR_FIELDS}
    current["kind"] = donor.kind.value
    cleaned = _clean_donor(**{**current, **fields})
    if cleaned["preferred_currency"] != donor.preferred_currency and (
        session.scalar(select(Contribution.id).where(Contribution.donor_id == donor.id).limit(1))
        or session.scalar(select(Pledge.id).where(Pledge.donor_id == donor.id).limit(1))
    ):
        raise DomainError(
            _(
                "The donor's currency stays %(currency)s: pledges or contributions are recorded in it.",
                currency=donor.preferred_currency,
            ),
            field="preferred_currency",
        )
    before = _donor_summary(donor)
    for field, value in cleaned.items():
        setattr(donor, field, value)
    session.flush()
    after = _donor_summary(donor)
    if before != after or current["notes"] != donor.notes:
        record_event(session, actor, donor, "donor.updated", before=before, after=after)
    return donor


# -- contacts and the donor portal --------------------------------------------------------------------------


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def add_contact(session, actor, donor, *, name, email, position="", phone="", portal_access=False):
    """A contact person of ``donor``. With ``portal_access`` they get an account on the donor portal (role
    DONOR; an existing donor account with that email is reused) and a mail with a link to set their
    password or, if they have one, to sign in. Returns the DonorContact."""
    _require_manager(actor)
    name = (name or "").strip()
    email = (email or "").strip().lower()
    if not name:
        raise DomainError(_("Give the contact's name."), field="name")
    if len(name) > 200:
        raise DomainError(_("The name is too long: at most 200 characters."), field="name")
    if not _EMAIL.fullmatch(email) or len(email) > 255:
        raise DomainError(_("Enter a valid email address."), field="email")
    position = (position or "").strip()
    phone = (phone or "").strip()
    if len(position) > 200:
        raise DomainError(_("The position is at most 200 characters."), field="position")
    if len(phone) > 40:
        raise DomainError(_("The phone number is at most 40 characters."), field="phone")
    if any(contact.email == email for contact in donor.contacts):
        raise DomainError(
            _("%(email)s is already a contact of %(donor)s.", email=email, donor=donor.name), field="email"
        )
    contact = DonorContact(donor=donor, name=name, email=email, position=position, phone=phone)
    session.add(contact)
    session.flush()
    record_event(
        session,
        actor,
        contact,
        "donor_contact.added",
        after={"donor": donor.reference, "name": name, "email": email},
    )
    if portal_access:
        grant_portal_access(session, actor, contact)
    return contact


def grant_portal_access(session, actor, contact):
    """Give ``contact`` an account on the donor portal (see ``add_contact``)."""
    _require_manager(actor)
    donor = contact.donor
    if contact.user_id is not None:
        raise DomainError(_("%(name)s already has access to the donor portal.", name=contact.name))
    user = get_user_by_email(contact.email)
    if user is not None:
        if user.roles - {Role.DONOR}:
            # A staff or applicant account must not also see a donor's figures under the same login.
            raise DomainError(
                _(
                    "%(email)s already has an account for other work at the fund; "
                    "give the contact another address for the donor portal.",
                    email=contact.email,
                ),
                field="email",
            )
        other = session.scalar(
            select(Donor)
            .join(DonorContact, DonorContact.donor_id == Donor.id)
            .where(DonorContact.user_id == user.id, Donor.id != donor.id)
        )
        if other is not None:
            raise DomainError(
                _(
                    "%(email)s already uses the donor portal for %(other)s; an account sees one donor.",
                    email=contact.email,
                    other=other.name,
                ),
                field="email",
            )
        if Role.DONOR not in user.roles:
            user.role_grants.append(UserRole(role=Role.DONOR, granted_by_id=getattr(actor, "id", None)))
        user.is_active = True
    else:
        from fundapp.accounts.operations import create_user

        user = create_user(
            session,
            actor,
            email=contact.email,
            full_name=contact.name,
            roles=[Role.DONOR],
            locale=donor.preferred_language,
        )
    session.flush()
    contact.user_id = user.id
    session.flush()
    record_event(
        session,
        actor,
        contact,
        "donor_contact.portal_access_granted",
        after={"donor": donor.reference, "user": user.id, "email": user.email},
    )
    _mail_portal_access(session, donor, user)
    return contact


def _mail_portal_access(session, donor, user):
    from fundapp.accounts.operations import make_reset_token

    fund = current_app.config["FUND_NAME"]
    if user.password_hash:
        link = external_url("accounts.login")
        body = _(
            "You can now follow what the contributions of %(donor)s fund at %(fund)s: its projects, the "
            "money released and the reports.\n\nSign in with your account here:\n%(link)s\n",
            donor=donor.name,
            fund=fund,
            link=link,
        )
    else:
        link = external_url("accounts.reset_password", token=make_reset_token(user))
        body = _(
            "An account on the donor portal of %(fund)s has been created for you, so you can follow what "
            "the contributions of %(donor)s fund: its projects, the money released and the reports."
            "\n\nChoose your password here:\n%(link)s\n",
            donor=donor.name,
            fund=fund,
            link=link,
        )
    queue_mail(session, user.email, _("Your access to the donor portal of %(fund)s", fund=fund), body)


def remove_portal_access(session, actor, contact):
    """Take ``contact``'s portal access away: the contact stays, unlinked from its account; the account
    loses the donor role when it is no longer any donor's contact."""
    _require_manager(actor)
    if contact.user_id is None:
        raise DomainError(_("%(name)s has no access to the donor portal.", name=contact.name))
    user = session.get(User, contact.user_id)
    contact.user_id = None
    session.flush()
    still_contact = session.scalar(select(DonorContact.id).where(DonorContact.user_id == user.id).limit(1))
    if still_contact is None:
        for grant in list(user.role_grants):
            if Role(grant.role) == Role.DONOR:
                user.role_grants.remove(grant)
    session.flush()
    record_event(
        session,
        actor,
        contact,
        "donor_contact.portal_access_removed",
        after={"donor": contact.donor.reference, "user": user.id},
    )
    return contact


# -- pledges ---------------------------------------------------------------------------------------------


def record_pledge(session, actor, donor, pool, amount, pledged_on, instalments):
    """A promise of ``amount`` (Money) from ``donor`` for ``pool``, paid by ``instalments`` (a list of
    ``(due_on, Money)``; an empty list is one instalment of the whole amount due on ``pledged_on``).

    Refuses an amount that is not positive, a date in the future, instalments in another currency, not
    positive, due before the pledge, or that do not add up to the amount exactly (the message gives the
    difference). Returns the Pledge.
    """
    _require_manager(actor)
    if not isinstance(amount, Money):
        raise TypeError("amount must be Money")
    if amount.minor <= 0:
        raise DomainError(_("The amount pledged must be more than zero."), field="amount")
    if amount.minor >= MAX_MINOR:
        raise DomainError(_("The amount is too large; check it."), field="amount")
    if pledged_on is None:
        raise DomainError(_("Enter the date of the pledge."), field="pledged_on")
    if pledged_on > fund_today():
        raise DomainError(
            _("A pledge is recorded once it is made: its date cannot be in the future."), field="pledged_on"
        )
    instalments = list(instalments or []) or [(pledged_on, amount)]
    if len(instalments) > MAX_INSTALMENTS:
        raise DomainError(
            _("A pledge has at most %(n)d instalments.", n=MAX_INSTALMENTS), field="instalments"
        )
    for number, (due_on, part) in enumerate(instalments, 1):
        if not isinstance(part, Money):
            raise TypeError("an instalment's amount must be Money")
        if part.currency != amount.currency:
            raise DomainError(
                _(
                    "Instalment %(n)d is in %(given)s; the pledge is in %(currency)s.",
                    n=number,
                    given=part.currency,
                    currency=amount.currency,
                ),
                field="instalments",
            )
        if part.minor <= 0:
            raise DomainError(_("Instalment %(n)d must be more than zero.", n=number), field="instalments")
        if due_on is None or due_on < pledged_on:
            raise DomainError(
                _("Instalment %(n)d needs a due date on or after the date of the pledge.", n=number),
                field="instalments",
            )
    total = Money.sum((part for _due, part in instalments), amount.currency)
    if total != amount:
        difference = amount - total
        raise DomainError(
            _(
                "The instalments add up to %(total)s, not %(amount)s: %(difference)s %(direction)s.",
                total=str(total),
                amount=str(amount),
                difference=str(abs(difference)),
                direction=pgettext("an amount", "missing") if difference.minor > 0 else _("too much"),
            ),
            field="instalments",
        )
    pledge = Pledge(
        donor_id=donor.id,
        pool_id=pool.id,
        amount_minor=amount.minor,
        currency=amount.currency,
        pledged_on=pledged_on,
        created_by_id=getattr(actor, "id", None),
        instalments=[
            PledgeInstalment(due_on=due_on, amount_minor=part.minor, currency=part.currency)
            for due_on, part in sorted(instalments, key=lambda row: row[0])
        ],
    )
    session.add(pledge)
    session.flush()
    record_event(
        session,
        actor,
        pledge,
        "pledge.recorded",
        after={
            "donor": donor.reference,
            "pool": pool.code,
            "amount_minor": amount.minor,
            "currency": amount.currency,
            "pledged_on": pledged_on.isoformat(),
            "instalments": [[due.isoformat(), part.minor] for due, part in instalments],
        },
    )
    return pledge


def cancel_pledge(session, actor, pledge, reason=""):
    """An open pledge the donor withdrew. What it already brought stays received."""
    _require_manager(actor)
    if pledge.state != PledgeState.OPEN:
        raise DomainError(
            _(
                "Only an open pledge can be cancelled; this one is %(state)s.",
                state=str(pledge.state.label).lower(),
            )
        )
    reason = (reason or "").strip()
    if len(reason) > 1000:
        raise DomainError(_("The reason is at most 1000 characters."), field="reason")
    pledge.state = PledgeState.CANCELLED
    if reason:
        pledge.note = (pledge.note + "\n" if pledge.note else "") + reason
    session.flush()
    record_event(
        session,
        actor,
        pledge,
        "pledge.cancelled",
        before={"state": "open"},
        after={"state": "cancelled", "reason": reason},
    )
    return pledge


def pledge_received(session, pledge):
    """What the contributions naming ``pledge`` brought, in the pledge's currency."""
    total = session.scalar(
        select(func.coalesce(func.sum(Contribution.amount_minor), 0)).where(
            Contribution.pledge_id == pledge.id, Contribution.currency == pledge.currency
        )
    )
    return Money(int(total), pledge.currency)


def parse_rate(value):
    """An exchange rate as a positive Decimal, from a Decimal, int or text ("512.37"); DomainError if not."""
    if isinstance(value, float):
        raise TypeError("an exchange rate must be exact, not float")
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise DomainError(_("%(value)s is not an exchange rate.", value=value), field="rate") from None
    if not rate.is_finite() or rate <= 0:
        raise DomainError(_("An exchange rate is a positive number."), field="rate")
    if rate.adjusted() >= MAX_RATE_DIGITS:
        raise DomainError(_("%(value)s is too large for an exchange rate.", value=value), field="rate")
    if rate.as_tuple().exponent < -10:
        raise DomainError(_("An exchange rate has at most 10 decimal places."), field="rate")
    return rate


def record_contribution(
    session,
    actor,
    donor,
    pool,
    amount,
    *,
    rate=None,
    value_date=None,
    bank_reference="",
    pledge=None,
    idempotency_key=None,
):
    """Money received from ``donor`` into ``pool``: ``amount`` in the donor's currency, converted at
    ``rate`` (base-currency units per unit of ``amount``'s currency; 1 when they are the same) into the
    pool's currency, and posted as a RECEIPT entry. Returns the Contribution. Never commits.

    Refuses an amount that is not positive, a rate missing or given for a same-currency contribution
    that is not 1, a future value date, a pool in another currency than the base currency, a pledge of
    another donor or pool, in another currency or no longer open. A pledge whose contributions reach its
    amount becomes fulfilled. A retry with the same ``idempotency_key`` returns the first contribution
    (see the module's docstring).
    """
    _require_manager(actor)
    if not isinstance(amount, Money):
        raise TypeError("amount must be Money")
    if amount.minor <= 0:
        raise DomainError(_("The amount received must be more than zero."), field="amount")
    if amount.minor >= MAX_MINOR:
        raise DomainError(_("The amount is too large; check it."), field="amount")
    base_currency = pool.currency
    if amount.currency == base_currency:
        rate = parse_rate(rate if rate not in (None, "") else 1)
        if rate != 1:
            raise DomainError(
                _(
                    "The contribution is in the pool's currency (%(currency)s): its rate is 1.",
                    currency=base_currency,
                ),
                field="rate",
            )
    else:
        if rate in (None, ""):
            raise DomainError(
                _(
                    "Give the rate of %(currency)s to %(base)s on the value date.",
                    currency=amount.currency,
                    base=base_currency,
                ),
                field="rate",
            )
        rate = parse_rate(rate)
    value_date = value_date or fund_today()
    if value_date > fund_today():
        raise DomainError(_("Money cannot be received on a future date."), field="value_date")
    bank_reference = (bank_reference or "").strip()
    if len(bank_reference) > MAX_BANK_REFERENCE:
        raise DomainError(_("The bank reference is at most 140 characters."), field="bank_reference")
    if pool.currency != current_app.config["BASE_CURRENCY"]:
        raise DomainError(
            _(
                "Contributions are received into pools in the base currency (%(base)s); %(pool)s is in "
                "%(currency)s.",
                base=current_app.config["BASE_CURRENCY"],
                pool=pool.code,
                currency=pool.currency,
            ),
            field="pool",
        )
    if pledge is not None and (pledge.donor_id != donor.id or pledge.pool_id != pool.id):
        raise DomainError(_("That pledge is another donor's or for another pool."), field="pledge")
    request_print = ledger.fingerprint(
        donor=donor.id,
        pool=pool.id,
        amount=amount.minor,
        currency=amount.currency,
        rate=f"{rate:f}",
        value_date=value_date,
        bank_reference=bank_reference,
        pledge=pledge.id if pledge is not None else None,
    )
    earlier = ledger.entry_for_key(session, idempotency_key, request_print)
    if earlier is not None:
        contribution = session.scalar(select(Contribution).where(Contribution.entry_id == earlier.id))
        if contribution is None:
            raise DomainError(_("This request key was used for another kind of entry. Reload the page."))
        return contribution
    if pledge is not None and pledge.currency != amount.currency:
        raise DomainError(
            _(
                "The pledge is in %(currency)s; so must be the contributions paying it.",
                currency=pledge.currency,
            ),
            field="pledge",
        )
    if pledge is not None and pledge.state != PledgeState.OPEN:
        raise DomainError(
            _(
                "That pledge is %(state)s: it takes no more contributions.",
                state=str(pledge.state.label).lower(),
            ),
            field="pledge",
        )
    base_amount = amount.convert(rate, base_currency) if amount.currency != base_currency else amount
    if base_amount.minor >= MAX_MINOR:
        raise DomainError(
            _("At this rate the amount is too large; check the amount and the rate."), field="rate"
        )
    if base_amount.minor <= 0:
        raise DomainError(
            _("At this rate the contribution is worth nothing in %(base)s.", base=base_currency), field="rate"
        )
    entry = ledger.post_entry(
        session,
        actor,
        EntryKind.RECEIPT,
        [(ledger.cash_account(session, base_currency), base_amount), (pool.account, -base_amount)],
        value_date=value_date,
        description=_("Contribution of %(donor)s (%(amount)s)", donor=donor.name, amount=str(amount)),
        bank_reference=bank_reference,
        pool=pool,
        idempotency_key=idempotency_key or None,
        request_fingerprint=request_print if idempotency_key else None,
    )
    contribution = Contribution(
        donor_id=donor.id,
        pledge_id=pledge.id if pledge is not None else None,
        pool_id=pool.id,
        amount_minor=amount.minor,
        currency=amount.currency,
        rate=f"{rate:f}",
        base_amount_minor=base_amount.minor,
        base_currency=base_currency,
        value_date=value_date,
        bank_reference=bank_reference,
        entry_id=entry.id,
        created_by_id=getattr(actor, "id", None),
    )
    session.add(contribution)
    session.flush()
    record_event(
        session,
        actor,
        contribution,
        "contribution.recorded",
        after={
            "donor": donor.reference,
            "pool": pool.code,
            "amount_minor": amount.minor,
            "currency": amount.currency,
            "rate": contribution.rate,
            "base_amount_minor": base_amount.minor,
            "value_date": value_date.isoformat(),
            "entry": entry.id,
            "pledge": contribution.pledge_id,
        },
    )
    if pledge is not None and pledge_received(session, pledge) >= pledge.amount:
        pledge.state = PledgeState.FULFILLED
        session.flush()
        record_event(
            session, actor, pledge, "pledge.fulfilled", before={"state": "open"}, after={"state": "fulfilled"}
        )
    return contribution
