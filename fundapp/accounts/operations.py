"""What can be done with accounts. Each operation checks its rule, changes state, writes the audit event
and never commits: the caller (a view or a command) commits once."""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from fundapp.accounts.identifiers import bin_problem, iban_problem, normalise_bin, normalise_iban
from fundapp.accounts.models import Invitation, Membership, Organisation, User, UserRole, get_user_by_email
from fundapp.accounts.passwords import dummy_verify, hash_password, verify_password
from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.mail import queue_mail
from fundapp.core.permissions import Role

MIN_PASSWORD_LENGTH = 10
ORGANISATION_FIELDS = (
    "name_en",
    "name_ru",
    "name_kk",
    "bin",
    "org_type",
    "region_id",
    "legal_address",
    "website",
    "contact_email",
    "contact_phone",
    "bank_name",
    "bank_bic",
    "bank_iban",
    "bank_kbe",
)
#: Fields left out of audit summaries: bank details are not for every reader of the log.
_PRIVATE_FIELDS = {"bank_iban", "bank_bic", "bank_kbe", "bank_name"}


def _summary(organisation):
    return {
        field: getattr(organisation, field).value
        if hasattr(getattr(organisation, field), "value")
        else getattr(organisation, field)
        for field in ORGANISATION_FIELDS
        if field not in _PRIVATE_FIELDS
    }


def check_password_strength(password, *, field="password"):
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _("Choose a password of at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field=field
        )


def create_user(session, actor, *, email, full_name, password=None, roles=(), locale="en"):
    """Create a user. With no password the user sets one through a reset link."""
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise DomainError(_("Enter a valid email address."), field="email")
    if get_user_by_email(email):
        raise DomainError(
            _("An account with this email already exists. Log in or reset its password."), field="email"
        )
    if password is not None:
        check_password_strength(password)
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password) if password else None,
        locale=locale,
    )
    user.role_grants = [
        UserRole(role=Role(role), granted_by_id=getattr(actor, "id", None)) for role in set(roles)
    ]
    session.add(user)
    record_event(
        session,
        actor,
        user,
        "user.created",
        after={"email": email, "roles": sorted(Role(r).value for r in set(roles))},
    )
    return user


def authenticate(session, email, password):
    """The active user with this email and password, or None. Records the login."""
    user = get_user_by_email(email)
    if user is None:
        dummy_verify(password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    record_event(session, user, user, "user.logged_in")
    return user


def _check_organisation_fields(session, data, organisation=None):
    problem = bin_problem(data["bin"])
    if problem:
        raise DomainError(str(problem), field="bin")
    clash = session.scalar(select(Organisation).where(Organisation.bin == data["bin"]))
    if clash is not None and clash is not organisation:
        raise DomainError(
            _("An organisation with this BIN is already registered. Ask its members to invite you."),
            field="bin",
        )
    if data.get("bank_iban"):
        problem = iban_problem(data["bank_iban"])
        if problem:
            raise DomainError(str(problem), field="bank_iban")


def _clean_organisation_data(data):
    data = {key: value for key, value in data.items() if key in ORGANISATION_FIELDS}
    data["bin"] = normalise_bin(data.get("bin"))
    if data.get("bank_iban"):
        data["bank_iban"] = normalise_iban(data["bank_iban"])
    if data.get("bank_bic"):
        data["bank_bic"] = data["bank_bic"].strip().upper()
    for key, value in list(data.items()):
        if isinstance(value, str):
            data[key] = value.strip() or (None if key not in ("legal_address",) else "")
    return data


def register_organisation(session, *, person, organisation):
    """A new person registers their organisation; they become its first manager, with the applicant role.

    ``person`` holds email, full_name, password; ``organisation`` the organisation's fields.
    """
    organisation = _clean_organisation_data(organisation)
    _check_organisation_fields(session, organisation)
    if get_user_by_email(person["email"]):
        raise DomainError(
            _("An account with this email already exists. Log in or reset its password."), field="email"
        )
    check_password_strength(person["password"])
    user = create_user(
        session,
        None,
        email=person["email"],
        full_name=person["full_name"],
        password=person["password"],
        roles=[Role.APPLICANT],
        locale=person.get("locale", "en"),
    )
    org = Organisation(**organisation)
    org.memberships.append(Membership(user=user, is_manager=True))
    session.add(org)
    record_event(session, user, org, "organisation.registered", after=_summary(org))
    return user, org


def update_organisation(session, actor, organisation, data):
    if not organisation.can_edit(actor):
        raise DomainError(_("Only the organisation's managers can change its details."))
    data = _clean_organisation_data(data)
    _check_organisation_fields(session, data, organisation)
    before = _summary(organisation)
    bank_before = {field: getattr(organisation, field) for field in _PRIVATE_FIELDS}
    for field, value in data.items():
        setattr(organisation, field, value)
    bank_changed = bank_before != {field: getattr(organisation, field) for field in _PRIVATE_FIELDS}
    after = _summary(organisation)
    record_event(
        session,
        actor,
        organisation,
        "organisation.updated",
        before=before,
        after={**after, "bank_details_changed": bank_changed},
    )
    return organisation


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def invite_colleague(session, actor, organisation, email):
    """Invite someone by email to join the organisation. Returns the invitation."""
    if not organisation.can_invite(actor):
        raise DomainError(_("Only the organisation's managers can invite colleagues."))
    email = (email or "").strip().lower()
    existing = get_user_by_email(email)
    if existing and organisation.is_member(existing):
        raise DomainError(
            _("%(email)s is already a member of this organisation.", email=email), field="email"
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation,
        email=email,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=utcnow() + timedelta(days=current_app.config["INVITATION_MAX_AGE_DAYS"]),
    )
    session.add(invitation)
    record_event(
        session,
        actor,
        invitation,
        "invitation.sent",
        after={"organisation_id": organisation.id, "email": email},
    )
    link = url_for("accounts.accept_invitation", token=token, _external=True)
    queue_mail(
        session,
        email,
        _("%(name)s invites you to %(org)s", name=actor.full_name, org=organisation.name_en),
        _(
            "%(name)s has invited you to work with %(org)s on grant proposals to %(fund)s.\n\n"
            "Accept the invitation here (the link works for %(days)d days):\n%(link)s\n",
            name=actor.full_name,
            org=organisation.name_en,
            fund=current_app.config["FUND_NAME"],
            days=current_app.config["INVITATION_MAX_AGE_DAYS"],
            link=link,
        ),
    )
    invitation.token = token  # not stored; handed back so tests and the sender can use it
    return invitation


def find_invitation(session, token):
    """The pending invitation for ``token``; DomainError if it is unknown, used, revoked or expired."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token or "")))
    if invitation is None:
        raise DomainError(_("This invitation link is not valid. Ask your colleague to invite you again."))
    if invitation.accepted_at is not None:
        raise DomainError(_("This invitation has already been accepted. Log in to continue."))
    if not invitation.is_pending:
        raise DomainError(_("This invitation has expired. Ask your colleague to invite you again."))
    return invitation


def accept_invitation(session, invitation, *, user=None, full_name=None, password=None):
    """Join the organisation: as the signed-in ``user``, or as a new account with the invited email."""
    if user is None:
        user = create_user(
            session,
            None,
            email=invitation.email,
            full_name=full_name,
            password=password,
            roles=[Role.APPLICANT],
        )
    else:
        if user.email != invitation.email:
            raise DomainError(
                _(
                    "This invitation was sent to %(email)s. Log in with that address to accept it.",
                    email=invitation.email,
                )
            )
        if not user.has_role(Role.APPLICANT):
            user.role_grants.append(UserRole(role=Role.APPLICANT))
    if invitation.organisation.is_member(user):
        raise DomainError(_("You are already a member of this organisation."))
    invitation.organisation.memberships.append(Membership(user=user, is_manager=False))
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    record_event(
        session,
        user,
        invitation,
        "invitation.accepted",
        after={"organisation_id": invitation.organisation_id, "user_id": user.id},
    )
    return user


def _reset_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="fundapp.password-reset")


def _password_fingerprint(user):
    # Changes when the password does, so a used link cannot be used again.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_reset_token(user):
    return _reset_serializer().dumps({"user": user.id, "fp": _password_fingerprint(user)})


def request_password_reset(session, email):
    """Mail a reset link if an active account has this email. Says nothing either way (no enumeration)."""
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return None
    link = url_for("accounts.reset_password", token=make_reset_token(user), _external=True)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    queue_mail(
        session,
        user.email,
        _("Reset your password"),
        _(
            "Someone asked to reset the password of your %(fund)s account.\n\nTo choose a new password, open "
            "this link within %(minutes)d minutes:\n%(link)s\n\nIf it was not you, ignore this message.",
            fund=current_app.config["FUND_NAME"],
            minutes=minutes,
            link=link,
        ),
    )
    record_event(session, None, user, "user.password_reset_requested")
    return user


def user_for_reset_token(session, token):
    """The user a reset token was made for; DomainError if it is forged, expired or already used."""
    try:
        payload = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise DomainError(_("This reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise DomainError(_("This reset link is not valid. Ask for a new one.")) from None
    user = session.get(User, payload.get("user")) if isinstance(payload, dict) else None
    if user is None or payload.get("fp") != _password_fingerprint(user) or not user.is_active:
        raise DomainError(_("This reset link is no longer valid. Ask for a new one."))
    return user


def reset_password(session, token, new_password):
    user = user_for_reset_token(session, token)
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    record_event(session, user, user, "user.password_reset")
    return user


def set_user_roles(session, actor, user, roles, *, is_active=None):
    """An admin sets the roles (and whether the account may log in) of ``user``."""
    if not actor.can_manage_users():
        raise DomainError(_("Only admins can change roles."))
    roles = {Role(role) for role in roles}
    if user.id == actor.id and Role.ADMIN not in roles:
        raise DomainError(_("You cannot take the admin role from yourself; ask another admin."))
    if user.id == actor.id and is_active is False:
        raise DomainError(_("You cannot deactivate your own account."))
    before = {"roles": sorted(r.value for r in user.roles), "is_active": user.is_active}
    for grant in list(user.role_grants):
        if Role(grant.role) not in roles:
            user.role_grants.remove(grant)
    for role in roles - user.roles:
        user.role_grants.append(UserRole(role=role, granted_by_id=actor.id))
    if is_active is not None:
        user.is_active = is_active
    after = {"roles": sorted(r.value for r in roles), "is_active": user.is_active}
    if before != after:
        record_event(session, actor, user, "user.roles_changed", before=before, after=after)
    return user


def invite_staff(session, actor, *, email, full_name, roles):
    """An admin creates an account for fund staff or an expert; they get a link to set their password."""
    if not actor.can_manage_users():
        raise DomainError(_("Only admins can create accounts."))
    user = create_user(session, actor, email=email, full_name=full_name, roles=roles)
    session.flush()
    link = url_for("accounts.reset_password", token=make_reset_token(user), _external=True)
    queue_mail(
        session,
        user.email,
        _("Your account at %(fund)s", fund=current_app.config["FUND_NAME"]),
        _(
            "An account has been created for you at %(fund)s.\n\nChoose your password here:\n%(link)s\n",
            fund=current_app.config["FUND_NAME"],
            link=link,
        ),
    )
    return user


def memberships_of(session, user):
    return session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
