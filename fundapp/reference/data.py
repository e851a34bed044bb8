"""The reference lists the fund starts with. ``load_reference_data`` adds what is missing and keeps
everything already stored, so admins' edits survive a reload.

Each list is a list of tuples, one item per line: ``(code, English[, Russian[, Kazakh]])``; a missing
translation is left empty for admins to fill in. An item's sort order is its position in the list. In the
hierarchical IUCN-CMP classifications an item's parent is its code without the last part ("5.4.2" -> "5.4").
"""

from sqlalchemy import select

from fundapp.reference.models import ReferenceItem, Vocabulary

#: ISO 3166-2:KZ as of the 2022 reform: 17 regions and 3 cities of republican significance.
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

#: IUCN Red List Categories and Criteria, version 3.1; Russian names from IUCN's Russian edition.
RED_LIST_CATEGORIES = [
    ("EX", "Extinct", "Исчезнувшие"),
    ("EW", "Extinct in the Wild", "Исчезнувшие в дикой природе"),
    ("CR", "Critically Endangered", "Находящиеся в критическом состоянии"),
    ("EN", "Endangered", "Находящиеся в опасном состоянии"),
    ("VU", "Vulnerable", "Уязвимые"),
    ("NT", "Near Threatened", "Находящиеся в состоянии, близком к угрожаемому"),
    ("LC", "Least Concern", "Вызывающие наименьшие опасения"),
    ("DD", "Data Deficient", "Недостаточно данных"),
    ("NE", "Not Evaluated", "Неоцененные"),
]

#: IUCN protected area management categories (Dudley 2008).
PROTECTED_AREA_CATEGORIES = [
    ("Ia", "Strict Nature Reserve", "Строгий природный резерват"),
    ("Ib", "Wilderness Area", "Территория дикой природы"),
    ("II", "National Park", "Национальный парк"),
    ("III", "Natural Monument or Feature", "Памятник природы"),
    ("IV", "Habitat/Species Management Area", "Территория управления местообитаниями/видами"),
    ("V", "Protected Landscape/Seascape", "Охраняемый наземный/морской ландшафт"),
    (
        "VI",
        "Protected area with sustainable use of natural resources",
        "Охраняемая территория с устойчивым использованием природных ресурсов",
    ),
]

#: IUCN-CMP Threats Classification Scheme, version 3.3 (as used by the IUCN Red List), two levels.
THREATS = [
    ("1", "Residential & commercial development"),
    ("1.1", "Housing & urban areas"),
    ("1.2", "Commercial & industrial areas"),
    ("1.3", "Tourism & recreation areas"),
    ("2", "Agriculture & aquaculture"),
    ("2.1", "Annual & perennial non-timber crops"),
    ("2.2", "Wood & pulp plantations"),
    ("2.3", "Livestock farming & ranching"),
    ("2.4", "Marine & freshwater aquaculture"),
    ("3", "Energy production & mining"),
    ("3.1", "Oil & gas drilling"),
    ("3.2", "Mining & quarrying"),
    ("3.3", "Renewable energy"),
    ("4", "Transportation & service corridors"),
    ("4.1", "Roads & railroads"),
    ("4.2", "Utility & service lines"),
    ("4.3", "Shipping lanes"),
    ("4.4", "Flight paths"),
    ("5", "Biological resource use"),
    ("5.1", "Hunting & collecting terrestrial animals"),
    ("5.2", "Gathering terrestrial plants"),
    ("5.3", "Logging & wood harvesting"),
    ("5.4", "Fishing & harvesting aquatic resources"),
    ("6", "Human intrusions & disturbance"),
    ("6.1", "Recreational activities"),
    ("6.2", "War, civil unrest & military exercises"),
    ("6.3", "Work & other activities"),
    ("7", "Natural system modifications"),
    ("7.1", "Fire & fire suppression"),
    ("7.2", "Dams & water management/use"),
    ("7.3", "Other ecosystem modifications"),
    ("8", "Invasive & other problematic species, genes & diseases"),
    ("8.1", "Invasive non-native/alien species/diseases"),
    ("8.2", "Problematic native species/diseases"),
    ("8.3", "Introduced genetic material"),
    ("8.4", "Problematic species/diseases of unknown origin"),
    ("8.5", "Viral/prion-induced diseases"),
    ("8.6", "Diseases of unknown cause"),
    ("9", "Pollution"),
    ("9.1", "Domestic & urban waste water"),
    ("9.2", "Industrial & military effluents"),
    ("9.3", "Agricultural & forestry effluents"),
    ("9.4", "Garbage & solid waste"),
    ("9.5", "Air-borne pollutants"),
    ("9.6", "Excess energy"),
    ("10", "Geological events"),
    ("10.1", "Volcanoes"),
    ("10.2", "Earthquakes/tsunamis"),
    ("10.3", "Avalanches/landslides"),
    ("11", "Climate change & severe weather"),
    ("11.1", "Habitat shifting & alteration"),
    ("11.2", "Droughts"),
    ("11.3", "Temperature extremes"),
    ("11.4", "Storms & flooding"),
    ("11.5", "Other impacts"),
    ("12", "Other options"),
    ("12.1", "Other threat"),
]

#: IUCN-CMP Conservation Actions Classification Scheme, version 2.0 (as used by the IUCN Red List).
CONSERVATION_ACTIONS = [
    ("1", "Land/water protection"),
    ("1.1", "Site/area protection"),
    ("1.2", "Resource & habitat protection"),
    ("2", "Land/water management"),
    ("2.1", "Site/area management"),
    ("2.2", "Invasive/problematic species control"),
    ("2.3", "Habitat & natural process restoration"),
    ("3", "Species management"),
    ("3.1", "Species management"),
    ("3.1.1", "Harvest management"),
    ("3.1.2", "Trade management"),
    ("3.1.3", "Limiting population growth"),
    ("3.2", "Species recovery"),
    ("3.3", "Species re-introduction"),
    ("3.3.1", "Reintroduction"),
    ("3.3.2", "Benign introduction"),
    ("3.4", "Ex-situ conservation"),
    ("3.4.1", "Captive breeding/artificial propagation"),
    ("3.4.2", "Genome resource bank"),
    ("4", "Education & awareness"),
    ("4.1", "Formal education"),
    ("4.2", "Training"),
    ("4.3", "Awareness & communications"),
    ("5", "Law & policy"),
    ("5.1", "Legislation"),
    ("5.1.1", "International level"),
    ("5.1.2", "National level"),
    ("5.1.3", "Sub-national level"),
    ("5.1.4", "Scale unspecified"),
    ("5.2", "Policies and regulations"),
    ("5.3", "Private sector standards & codes"),
    ("5.4", "Compliance & enforcement"),
    ("5.4.1", "International level"),
    ("5.4.2", "National level"),
    ("5.4.3", "Sub-national level"),
    ("5.4.4", "Scale unspecified"),
    ("6", "Livelihood, economic & other incentives"),
    ("6.1", "Linked enterprises & livelihood alternatives"),
    ("6.2", "Substitution"),
    ("6.3", "Market forces"),
    ("6.4", "Conservation payments"),
    ("6.5", "Non-monetary values"),
]

#: The 23 global targets for 2030 of the Kunming-Montreal Global Biodiversity Framework (CBD COP 15,
#: decision 15/4), by the short titles the CBD uses.
GBF_TARGETS = [
    ("1", "Plan and manage all areas to reduce biodiversity loss"),
    ("2", "Restore 30% of all degraded ecosystems"),
    ("3", "Conserve 30% of land, waters and seas"),
    ("4", "Halt species extinction, protect genetic diversity, and manage human-wildlife conflicts"),
    ("5", "Ensure sustainable, safe and legal harvesting and trade of wild species"),
    ("6", "Reduce the introduction of invasive alien species by 50% and minimize their impact"),
    ("7", "Reduce pollution to levels that are not harmful to biodiversity"),
    ("8", "Minimize the impacts of climate change on biodiversity and build resilience"),
    ("9", "Manage wild species sustainably to benefit people"),
    ("10", "Enhance biodiversity and sustainability in agriculture, aquaculture, fisheries, and forestry"),
    ("11", "Restore, maintain and enhance nature's contributions to people"),
    ("12", "Enhance green spaces and urban planning for human well-being and biodiversity"),
    (
        "13",
        "Increase the sharing of benefits from genetic resources, digital sequence information and "
        "traditional knowledge",
    ),
    ("14", "Integrate biodiversity in decision-making at every level"),
    ("15", "Businesses assess, disclose and reduce biodiversity-related risks and negative impacts"),
    ("16", "Enable sustainable consumption choices to reduce waste and overconsumption"),
    ("17", "Strengthen biosafety and distribute the benefits of biotechnology"),
    (
        "18",
        "Reduce harmful incentives by at least $500 billion per year, and scale up positive incentives "
        "for biodiversity",
    ),
    (
        "19",
        "Mobilize $200 billion per year for biodiversity from all sources, including $30 billion through "
        "international finance",
    ),
    (
        "20",
        "Strengthen capacity-building, technology transfer, and scientific and technical cooperation for "
        "biodiversity",
    ),
    ("21", "Ensure that knowledge is available and accessible to guide biodiversity action"),
    (
        "22",
        "Ensure participation in decision-making and access to justice and information related to "
        "biodiversity for all",
    ),
    ("23", "Ensure gender equality and a gender-responsive approach for biodiversity action"),
]

#: OECD DAC / CRS purpose codes (IATI sector vocabulary 1) that the fund's grants are reported under.
DAC_SECTORS = [
    ("41030", "Biodiversity"),
    ("41010", "Environmental policy and administrative management"),
    ("41020", "Biosphere protection"),
    ("41040", "Site preservation"),
    ("41050", "Flood prevention/control"),
    ("41081", "Environmental education/training"),
    ("41082", "Environmental research"),
    ("31210", "Forestry policy and administrative management"),
    ("31220", "Forestry development"),
    ("14015", "Water resources conservation (including data collection)"),
]

#: The fund's themes; calls choose theirs, proposals pick one of their call's.
THEMES = [
    (
        "marine_mammals",
        "Marine mammals (Caspian seal)",
        "Морские млекопитающие (каспийский тюлень)",
        "Теңіз сүтқоректілері (Каспий итбалығы)",
    ),
    (
        "steppe_ungulates",
        "Steppe ungulates (saiga, goitered gazelle)",
        "Степные копытные (сайгак, джейран)",
        "Дала тұяқтылары (киік, қарақұйрық)",
    ),
    (
        "large_carnivores",
        "Large carnivores (snow leopard)",
        "Крупные хищники (снежный барс)",
        "Ірі жыртқыштар (қар барысы)",
    ),
    (
        "wetlands",
        "Wetlands and waterbirds",
        "Водно-болотные угодья и водоплавающие птицы",
        "Сулы-батпақты алқаптар және су құстары",
    ),
    (
        "forests",
        "Forests and carbon sinks",
        "Леса и поглотители углерода",
        "Ормандар және көміртек сіңіргіштер",
    ),
    (
        "protected_areas",
        "Protected areas",
        "Особо охраняемые природные территории",
        "Ерекше қорғалатын табиғи аумақтар",
    ),
    (
        "freshwater",
        "Rivers, lakes and freshwater fish",
        "Реки, озёра и пресноводные рыбы",
        "Өзендер, көлдер және тұщы су балықтары",
    ),
]

#: Standard impact indicators proposals pick from and reports add up; the unit follows the colon.
STANDARD_INDICATORS = [
    ("ha_newly_protected", "Hectares newly protected: ha", "Гектаров взято под новую охрану: га"),
    (
        "ha_improved_management",
        "Hectares under improved management: ha",
        "Гектаров под улучшенным управлением: га",
    ),
    ("ha_restored", "Hectares restored: ha", "Гектаров восстановлено: га"),
    ("trees_planted", "Trees planted: trees", "Посажено деревьев: шт."),
    ("co2e_sequestered", "Tonnes of CO2e sequestered: t CO2e", "Тонн CO2-экв. поглощено: т CO2-экв."),
    ("individuals_counted", "Individuals of a species counted: individuals", "Учтено особей вида: особей"),
    ("people_trained", "Rangers or people trained: people", "Обучено егерей и других людей: чел."),
    ("beneficiaries_women", "People benefiting, women: people", "Получатели выгод, женщины: чел."),
    ("beneficiaries_men", "People benefiting, men: people", "Получатели выгод, мужчины: чел."),
]


def _parent(code):
    """The parent of a code in a dotted hierarchy: "5.4.2" -> "5.4"; a top-level code has none."""
    return code.rsplit(".", 1)[0] if "." in code else None


def _rows(items, *, nested=False):
    """Turn a list of tuples into rows (dicts of ReferenceItem columns), the sort order from position."""

    def rows():
        for order, (code, label_en, *translations) in enumerate(items):
            label_ru, label_kk = (*translations, None, None)[:2]
            yield {
                "code": code,
                "parent_code": _parent(code) if nested else None,
                "label_en": label_en,
                "label_ru": label_ru,
                "label_kk": label_kk,
                "sort_order": order,
            }

    return rows


#: Every vocabulary and a function yielding its rows (dicts of ReferenceItem columns).
VOCABULARIES = {
    Vocabulary.REGION: _rows(REGIONS),
    Vocabulary.RED_LIST_CATEGORY: _rows(RED_LIST_CATEGORIES),
    Vocabulary.PROTECTED_AREA_CATEGORY: _rows(PROTECTED_AREA_CATEGORIES),
    Vocabulary.THREAT: _rows(THREATS, nested=True),
    Vocabulary.CONSERVATION_ACTION: _rows(CONSERVATION_ACTIONS, nested=True),
    Vocabulary.GBF_TARGET: _rows(GBF_TARGETS),
    Vocabulary.DAC_SECTOR: _rows(DAC_SECTORS),
    Vocabulary.THEME: _rows(THEMES),
    Vocabulary.STANDARD_INDICATOR: _rows(STANDARD_INDICATORS),
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
