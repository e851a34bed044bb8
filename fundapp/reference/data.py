"""The reference lists the fund starts with. ``load_reference_data`` adds what is missing and keeps
everything already stored, so admins' edits survive a reload."""

from sqlalchemy import select

from fundapp.reference.models import ReferenceItem, Vocabulary

#: ISO 3166-2:KZ as of the 2022 reform: 17 regions and 3 cities of republican significance.
#: (code, English, Russian, Kazakh)
REGIONS = [
    ("KZ-10", "Abai Region", "Абайская область", "Абай облысы"),
    ("KZ-11", "Akmola Region", "Акмолинская область", "Ақмола облысы"),
    ("KZ-15", "Aktobe Region", "Актюбинская область", "Ақтөбе облысы"),
    ("KZ-19", "Almaty Region", "Алматинская область", "Алматы облысы"),
    ("KZ-23", "Atyrau Region", "Атырауская область", "Атырау облысы"),
    ("KZ-27", "West Kazakhstan Region", "Западно-Казахстанская область", "Батыс Қазақстан облысы"),
    ("KZ-31", "Zhambyl Region", "Жамбылская область", "Жамбыл облысы"),
    ("KZ-33", "Zhetysu Region", "Жетысуская область", "Жетісу облысы"),
    ("KZ-35", "Karaganda Region", "Карагандинская область", "Қарағанды облысы"),
    ("KZ-39", "Kostanay Region", "Костанайская область", "Қостанай облысы"),
    ("KZ-43", "Kyzylorda Region", "Кызылординская область", "Қызылорда облысы"),
    ("KZ-47", "Mangystau Region", "Мангистауская область", "Маңғыстау облысы"),
    ("KZ-55", "Pavlodar Region", "Павлодарская область", "Павлодар облысы"),
    ("KZ-59", "North Kazakhstan Region", "Северо-Казахстанская область", "Солтүстік Қазақстан облысы"),
    ("KZ-61", "Turkistan Region", "Туркестанская область", "Түркістан облысы"),
    ("KZ-62", "Ulytau Region", "Улытауская область", "Ұлытау облысы"),
    ("KZ-63", "East Kazakhstan Region", "Восточно-Казахстанская область", "Шығыс Қазақстан облысы"),
    ("KZ-71", "Astana", "Астана", "Астана"),
    ("KZ-75", "Almaty", "Алматы", "Алматы"),
    ("KZ-79", "Shymkent", "Шымкент", "Шымкент"),
]


def _region_rows():
    for order, (code, en, ru, kk) in enumerate(REGIONS):
        yield {"code": code, "label_en": en, "label_ru": ru, "label_kk": kk, "sort_order": order}


#: Every vocabulary and a function yielding its rows (dicts of ReferenceItem columns).
VOCABULARIES = {
    Vocabulary.REGION: _region_rows,
}


def load_reference_data(session):
    """Insert the items that are not stored yet; return how many were added. Never commits."""
    added = 0
    for vocabulary, rows in VOCABULARIES.items():
        existing = set(
            session.scalars(select(ReferenceItem.code).where(ReferenceItem.vocabulary == vocabulary.value))
        )
        for row in rows():
            if row["code"] in existing:
                continue
            session.add(ReferenceItem(vocabulary=vocabulary.value, **row))
            added += 1
    session.flush()
    return added
