"""Users, organisations, memberships, roles and invitations."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.core.db import UTCDateTime, utcnow
from fundapp.core.permissions import Role
from fundapp.extensions import db


def _enum(enum_class, name):
    """A portable enum column storing the members' values (CHECK-constrained on both databases)."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda members: [member.value for member in members],
    )


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Stored lower-cased; the login address and the mail address.
    email: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    locale: Mapped[str] = mapped_column(String(8), nullable=False, default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    role_grants: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", foreign_keys="UserRole.user_id"
    )
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Membership.user_id"
    )

    @property
    def roles(self):
        return {Role(grant.role) for grant in self.role_grants}

    def has_role(self, *roles):
        return bool({Role(role) for role in roles} & self.roles)

    @property
    def organisations(self):
        return [membership.organisation for membership in self.memberships]

    @property
    def primary_organisation(self):
        return self.memberships[0].organisation if self.memberships else None

    def membership_in(self, organisation):
        return next((m for m in self.memberships if m.organisation_id == organisation.id), None)

    def can_manage_users(self):
        return self.has_role(Role.ADMIN)

    def __repr__(self):
        return f"<User {self.email}>"


class UserRole(db.Model):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_role_user_id_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(back_populates="role_grants", foreign_keys=[user_id])


class OrganisationType(StrEnum):
    NGO = "ngo"
    RESEARCH_INSTITUTE = "research_institute"
    COMMUNITY_GROUP = "community_group"
    OTHER = "other"

    @property
    def label(self):
        return ORGANISATION_TYPE_LABELS[self]


ORGANISATION_TYPE_LABELS = {
    OrganisationType.NGO: _l("Non-governmental organisation"),
    OrganisationType.RESEARCH_INSTITUTE: _l("Research institute"),
    OrganisationType.COMMUNITY_GROUP: _l("Community group"),
    OrganisationType.OTHER: _l("Other"),
}


class Organisation(db.Model):
    __tablename__ = "organisation"
    __table_args__ = (CheckConstraint("length(bin) = 12", name="bin_has_12_digits"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_en: Mapped[str] = mapped_column(String(300), nullable=False)
    name_ru: Mapped[str] = mapped_column(String(300), nullable=False)
    name_kk: Mapped[str] = mapped_column(String(300), nullable=False)
    #: Business identification number (БСН/БИН), 12 digits with a check digit.
    bin: Mapped[str] = mapped_column(String(12), nullable=False, unique=True)
    org_type: Mapped[OrganisationType] = mapped_column(
        _enum(OrganisationType, "organisation_type"), nullable=False
    )
    region_id: Mapped[int] = mapped_column(ForeignKey("reference_item.id"), nullable=False)
    legal_address: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    website: Mapped[str | None] = mapped_column(String(300))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # Bank details: shown only to the organisation's members and to finance officers.
    bank_name: Mapped[str | None] = mapped_column(String(200))
    #: The bank's BIC (SWIFT code), 8 or 11 characters.
    bank_bic: Mapped[str | None] = mapped_column(String(11))
    #: The organisation's account as an IBAN (20 characters in Kazakhstan).
    bank_iban: Mapped[str | None] = mapped_column(String(34))
    #: Beneficiary code (Кбе), two digits, used on Kazakh payment orders.
    bank_kbe: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    region = relationship("ReferenceItem")
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    @property
    def name(self):
        return self.name_en

    def is_member(self, user):
        return user.is_authenticated and any(m.user_id == user.id for m in self.memberships)

    def is_manager(self, user):
        return user.is_authenticated and any(m.user_id == user.id and m.is_manager for m in self.memberships)

    def can_view(self, user):
        return self.is_member(user) or (
            user.is_authenticated and user.has_role(Role.ADMIN, Role.PROGRAMME_OFFICER, Role.FINANCE_OFFICER)
        )

    def can_view_bank_details(self, user):
        return self.is_member(user) or (user.is_authenticated and user.has_role(Role.FINANCE_OFFICER))

    def can_edit(self, user):
        return self.is_manager(user)

    def can_invite(self, user):
        return self.is_manager(user)

    def __repr__(self):
        return f"<Organisation {self.bin} {self.name_en}>"


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_id_organisation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: Managers edit the organisation's details and invite colleagues.
    is_manager: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class Invitation(db.Model):
    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True
    )
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    #: SHA-256 of the token sent by mail; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])

    @property
    def is_pending(self):
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > utcnow()


def get_user_by_email(email):
    return db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
