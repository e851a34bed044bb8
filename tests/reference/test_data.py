"""The reference lists the fund starts with, and reloading them."""

import pytest
from sqlalchemy import func, select

from fundapp.reference.data import VOCABULARIES, load_reference_data
from fundapp.reference.models import ReferenceItem, Vocabulary, reference_items
from tests.factories import region


def count(vocabulary, **filters):
    query = select(func.count()).select_from(ReferenceItem).where(ReferenceItem.vocabulary == vocabulary)
    for column, value in filters.items():
        query = query.where(
            getattr(ReferenceItem, column).is_(value)
            if value is None
            else getattr(ReferenceItem, column) == value
        )
    return query


def codes(vocabulary):
    return [item.code for item in reference_items(vocabulary, active_only=False)]


def test_every_vocabulary_has_data(db):
    assert set(VOCABULARIES) == set(Vocabulary)
    for vocabulary in Vocabulary:
        assert db.session.scalar(count(vocabulary)) > 0, vocabulary


def test_kazakhstan_has_seventeen_regions_and_three_cities_after_the_2022_reform(db):
    assert db.session.scalar(count(Vocabulary.REGION)) == 20
    assert region("KZ-10").label_en == "Abai Region"
    assert region("KZ-33").label_en == "Zhetysu Region"
    assert region("KZ-62").label_en == "Ulytau Region"
    assert region("KZ-62").label_kk == "Ұлытау облысы"


def test_red_list_has_nine_categories_in_order_of_risk(db):
    assert codes(Vocabulary.RED_LIST_CATEGORY) == ["EX", "EW", "CR", "EN", "VU", "NT", "LC", "DD", "NE"]


def test_protected_areas_have_seven_iucn_categories(db):
    assert codes(Vocabulary.PROTECTED_AREA_CATEGORY) == ["Ia", "Ib", "II", "III", "IV", "V", "VI"]


def test_gbf_has_twenty_three_targets_in_numeric_order(db):
    assert codes(Vocabulary.GBF_TARGET) == [str(n) for n in range(1, 24)]
    targets = {item.code: item.label_en for item in reference_items(Vocabulary.GBF_TARGET)}
    assert targets["3"] == "Conserve 30% of land, waters and seas"


def test_threats_have_twelve_top_level_classes_each_with_sub_threats(db):
    assert db.session.scalar(count(Vocabulary.THREAT, parent_code=None)) == 12
    assert db.session.scalar(count(Vocabulary.THREAT)) == 12 + 45
    climate = db.session.scalars(
        select(ReferenceItem.code).where(
            ReferenceItem.vocabulary == Vocabulary.THREAT, ReferenceItem.parent_code == "11"
        )
    ).all()
    assert sorted(climate) == ["11.1", "11.2", "11.3", "11.4", "11.5"]


@pytest.mark.parametrize("code, parent", [("1.1", "1"), ("3.4", "3"), ("3.4.1", "3.4"), ("6.5", "6")])
def test_conservation_actions_know_their_parent(db, code, parent):
    item = db.session.scalar(
        select(ReferenceItem).where(
            ReferenceItem.vocabulary == Vocabulary.CONSERVATION_ACTION, ReferenceItem.code == code
        )
    )
    assert item.parent_code == parent


def test_conservation_actions_have_six_top_level_classes(db):
    assert db.session.scalar(count(Vocabulary.CONSERVATION_ACTION, parent_code=None)) == 6


def test_dac_sectors_include_biodiversity(db):
    sectors = {item.code: item.label_en for item in reference_items(Vocabulary.DAC_SECTOR)}
    assert sectors["41030"] == "Biodiversity"
    assert sectors["14015"] == "Water resources conservation (including data collection)"


def test_every_parent_code_names_an_item_of_the_same_list(db):
    for vocabulary in Vocabulary:
        items = reference_items(vocabulary, active_only=False)
        known = {item.code for item in items}
        assert {item.parent_code for item in items if item.parent_code} <= known, vocabulary


def test_loading_again_adds_nothing(db):
    assert load_reference_data(db.session) == 0


def test_loading_again_keeps_an_admins_edit_and_restores_a_missing_item(db):
    region("KZ-47").label_en = "Mangystau (edited)"
    db.session.delete(region("KZ-10"))
    db.session.flush()

    assert load_reference_data(db.session) == 1

    assert region("KZ-47").label_en == "Mangystau (edited)"
    assert region("KZ-10").label_en == "Abai Region"
