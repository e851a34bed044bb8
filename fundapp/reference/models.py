"""Reference lists shared by every module: regions, IUCN lists, GBF targets, DAC sectors."""

from enum import StrEnum

from flask_babel import get_locale
from sqlalchemy import Boolean, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from fundapp.extensions import db


class Vocabulary(StrEnum):
    REGION = "region"  # ISO 3166-2 subdivisions of the fund's country
    RED_LIST_CATEGORY = "red_list_category"  # IUCN Red List categories
    PROTECTED_AREA_CATEGORY = "protected_area_category"  # IUCN protected-area management categories
    THREAT = "threat"  # IUCN-CMP direct threats classification
    CONSERVATION_ACTION = "conservation_action"  # IUCN-CMP conservation actions classification
    GBF_TARGET = "gbf_target"  # Kunming-Montreal Global Biodiversity Framework targets
    DAC_SECTOR = "dac_sector"  # OECD DAC purpose codes used by the fund (IATI)
    THEME = "theme"  # the fund's funding themes; calls pick theirs from these
    STANDARD_INDICATOR = "standard_indicator"  # impact indicators added up across the portfolio


class ReferenceItem(db.Model):
    __tablename__ = "reference_item"
    __table_args__ = (UniqueConstraint("vocabulary", "code", name="uq_reference_item_vocabulary_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vocabulary: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    #: Code of the parent item in the same vocabulary (IUCN-CMP classifications are two-level).
    parent_code: Mapped[str | None] = mapped_column(String(40))
    label_en: Mapped[str] = mapped_column(String(400), nullable=False)
    label_ru: Mapped[str | None] = mapped_column(String(400))
    label_kk: Mapped[str | None] = mapped_column(String(400))
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    @property
    def label(self):
        """The label in the current language, falling back to English."""
        locale = str(get_locale() or "en")
        return getattr(self, f"label_{locale}", None) or self.label_en

    def __repr__(self):
        return f"<ReferenceItem {self.vocabulary}:{self.code}>"


def reference_items(vocabulary, *, active_only=True):
    query = select(ReferenceItem).where(ReferenceItem.vocabulary == Vocabulary(vocabulary))
    if active_only:
        query = query.where(ReferenceItem.is_active.is_(True))
    return db.session.scalars(query.order_by(ReferenceItem.sort_order, ReferenceItem.code)).all()
