"""The proposal's sections as data: cleaning what the editor sends, completeness, totals, tags, snapshot."""

import json

import pytest

from fundapp.applications import sections
from fundapp.applications.sections import budget_totals_of, clean_section, in_country, missing_items
from fundapp.core.money import Money
from tests.applications.factories import complete_content, make_call, make_proposal


def clean(key, raw, currency="KZT"):
    return clean_section(key, raw, currency=currency)


def budget_line(**fields):
    line = {
        "category": "fieldwork",
        "description": "Boat fuel",
        "unit": "litre",
        "unit_cost": "500",
        "quantity": "10",
        "year": "1",
        "cofinancing": "",
    }
    line.update(fields)
    return line


# -- the country's border ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "latitude", "longitude"),
    [
        ("Aktau", 43.65, 51.17),
        ("Almaty", 43.24, 76.89),
        ("Astana", 51.17, 71.45),
        ("Shymkent", 42.32, 69.59),
        ("Oral", 51.23, 51.37),
        ("Ust-Kamenogorsk", 49.95, 82.61),
        ("seal haul-outs on the northern Caspian shelf", 45.0, 50.5),
    ],
)
def test_points_in_kazakhstan_are_inside(app, place, latitude, longitude):
    assert in_country(latitude, longitude), place


@pytest.mark.parametrize(
    ("place", "latitude", "longitude"),
    [
        ("Moscow", 55.75, 37.62),
        ("Tashkent", 41.3, 69.28),
        ("Bishkek", 42.87, 74.59),
        ("Baku", 40.41, 49.87),
        ("Makhachkala", 42.98, 47.50),
        ("Urumqi", 43.8, 87.6),
        ("Novosibirsk", 55.03, 82.92),
        ("latitude and longitude swapped for Aktau", 51.17, 43.65),
    ],
)
def test_points_outside_kazakhstan_are_outside(app, place, latitude, longitude):
    assert not in_country(latitude, longitude), place


def test_a_site_outside_the_country_is_refused_with_its_coordinates(db):
    _content, errors = clean(
        "sites", {"sites": [{"name": "Red Square", "latitude": "55.75", "longitude": "37.62"}]}
    )
    assert errors == {
        "sites-0-latitude": "Site 1: 55.75, 37.62 lies outside Kazakhstan. Check the coordinates "
        "(latitude first, in decimal degrees)."
    }


def test_a_site_inside_is_stored_with_numeric_coordinates(db):
    content, errors = clean(
        "sites",
        {"sites": [{"region": "KZ-47", "name": "Kenderli", "latitude": "43,65", "longitude": " 51.17 "}]},
    )
    assert errors == {}
    assert content["sites"][0]["latitude"] == 43.65
    assert content["sites"][0]["longitude"] == 51.17


def test_a_latitude_that_is_not_a_number_is_refused(db):
    _content, errors = clean(
        "sites", {"sites": [{"name": "Kenderli", "latitude": "north", "longitude": "51"}]}
    )
    assert errors == {"sites-0-latitude": "Site 1: latitude must be a number like 43.65."}


# -- codes from the reference lists --------------------------------------------------------------------


def test_known_codes_are_kept_and_unknown_ones_refused(db):
    content, errors = clean("threats", {"threats": ["5.4", "9.9.9"], "actions": ["1.1"]})
    assert errors == {"threats": "Threats: 9.9.9 not in the list."}
    content, errors = clean("threats", {"threats": ["5.4", "5.4", "2.3"], "actions": ["1.1"]})
    assert errors == {}
    assert content == {"threats": ["5.4", "2.3"], "actions": ["1.1"]}


def test_an_unknown_region_or_red_list_category_is_refused(db):
    _content, errors = clean("sites", {"sites": [{"region": "KZ-99", "name": "Nowhere"}]})
    assert errors == {
        "sites-0-region": "Site 1: region: “KZ-99” is not in the list; choose one of the options."
    }
    _content, errors = clean("species", {"species": [{"scientific_name": "Pusa caspica", "red_list": "XX"}]})
    assert list(errors) == ["species-0-red_list"]


def test_an_inactive_code_is_refused(db):
    from sqlalchemy import select

    from fundapp.reference.models import ReferenceItem

    item = db.session.scalar(
        select(ReferenceItem).where(ReferenceItem.vocabulary == "gbf_target", ReferenceItem.code == "19")
    )
    item.is_active = False
    db.session.flush()
    _content, errors = clean("gbf_targets", {"targets": ["19"]})
    assert list(errors) == ["targets"]


# -- budget --------------------------------------------------------------------------------------------


def test_budget_amounts_are_stored_in_minor_units(db):
    content, errors = clean(
        "budget", {"lines": [budget_line(unit_cost="1 500,50", quantity="2.5", cofinancing="100.25")]}
    )
    assert errors == {}
    line = content["lines"][0]
    assert line["unit_cost_minor"] == 150050
    assert line["quantity"] == "2.5"
    assert line["year"] == 1
    assert line["cofinancing_minor"] == 10025


def test_budget_totals_are_exact_in_minor_units(db):
    content, errors = clean(
        "budget",
        {
            "lines": [
                budget_line(unit_cost="0.10", quantity="3"),  # 0.30, where floats give 0.30000000000000004
                budget_line(unit_cost="1500.50", quantity="2.5", cofinancing="1000"),  # 3751.25
                budget_line(unit_cost="0.01", quantity="0.5"),  # 0.005 rounds half to even: 0.00
                budget_line(unit_cost="0.03", quantity="0.5"),  # 0.015 rounds half to even: 0.02
            ]
        },
    )
    assert errors == {}
    totals = budget_totals_of(content, "KZT")
    assert totals["total"] == Money(30 + 375125 + 0 + 2, "KZT")
    assert totals["cofinancing"] == Money(100000, "KZT")
    assert totals["requested"] == Money(30 + 275125 + 0 + 2, "KZT")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit_cost", "abc", "Budget line 1: unit cost must be a number like 1500.50."),
        ("unit_cost", "1e5", "Budget line 1: unit cost must be a number like 1500.50."),
        ("unit_cost", "-5", "Budget line 1: unit cost cannot be negative."),
        ("unit_cost", "10.005", "Budget line 1: unit cost can have at most 2 decimal places."),
        ("quantity", "two", "Budget line 1: quantity must be a number like 2.5."),
        ("quantity", "0", "Budget line 1: quantity must be more than 0."),
        ("quantity", "-1", "Budget line 1: quantity must be more than 0."),
        ("quantity", "1.255", "Budget line 1: quantity can have at most 2 decimal places."),
        ("year", "6", "Budget line 1: year must be a whole number from 1 to 5."),
        ("year", "1.5", "Budget line 1: year must be a whole number from 1 to 5."),
        ("cofinancing", "-1", "Budget line 1: co-financing cannot be negative."),
        ("cofinancing", "NaN", "Budget line 1: co-financing must be a number like 1500.50."),
        ("category", "yachts", "Budget line 1: category: “yachts” is not one of the options."),
    ],
)
def test_malformed_budget_values_are_refused_with_a_clear_message(db, field, value, message):
    _content, errors = clean("budget", {"lines": [budget_line(**{field: value})]})
    assert errors == {f"lines-0-{field}": message}


def test_the_message_names_the_line_as_the_applicant_sees_it(db):
    lines = [budget_line(), budget_line(), budget_line(unit_cost="abc")]
    _content, errors = clean("budget", {"lines": lines})
    assert errors == {"lines-2-unit_cost": "Budget line 3: unit cost must be a number like 1500.50."}


def test_a_float_amount_is_refused_not_rounded(db):
    _content, errors = clean("budget", {"lines": [budget_line(unit_cost=0.1)]})
    assert list(errors) == ["lines-0-unit_cost"]


def test_cofinancing_above_the_line_total_is_refused(db):
    _content, errors = clean(
        "budget", {"lines": [budget_line(unit_cost="100", quantity="2", cofinancing="200.01")]}
    )
    assert errors == {
        "lines-0-cofinancing": "Budget line 1: co-financing cannot be more than the line total (200.00 KZT)."
    }


def test_a_currency_without_decimals_refuses_decimal_amounts(db):
    _content, errors = clean("budget", {"lines": [budget_line(unit_cost="10.5")]}, currency="JPY")
    assert errors == {"lines-0-unit_cost": "Budget line 1: unit cost must be a whole amount."}


def test_an_incomplete_budget_line_is_kept_in_a_draft(db):
    content, errors = clean("budget", {"lines": [{"description": "Fuel", "unit_cost": "", "quantity": ""}]})
    assert errors == {}
    assert content["lines"][0]["description"] == "Fuel"
    assert content["lines"][0]["unit_cost_minor"] is None


def test_blank_rows_are_dropped(db):
    content, errors = clean(
        "budget", {"lines": [budget_line(), budget_line(**dict.fromkeys(budget_line(), ""))]}
    )
    assert errors == {}
    assert len(content["lines"]) == 1


def test_cleaning_stored_content_gives_it_back(db):
    for key in sections.SECTION_KEYS:
        content, errors = clean(key, complete_content(key))
        assert errors == {}
        again, errors = clean(key, content)
        assert errors == {}
        assert again == content, key


def test_editable_content_cleans_back_to_the_stored_content(db):
    for key in sections.SECTION_KEYS:
        content, _errors = clean(key, complete_content(key))
        editable = sections.editable_content(key, content, currency="KZT")
        assert clean(key, editable) == (content, {}), key


# -- structure and text --------------------------------------------------------------------------------


def test_malformed_structure_is_refused_not_a_server_error(db):
    assert clean("budget", {"lines": "everything"})[1] == {"lines": "Budget lines must be a list."}
    assert clean("budget", ["not", "a", "dict"])[1] == {"content": "The section must be a set of fields."}
    assert clean("summary", {"summary": {"nested": True}})[1] == {"summary": "Summary must be text."}


def test_text_is_trimmed_and_control_characters_removed(db):
    content, errors = clean("summary", {"summary": "  Saiga\x00 calving grounds\r\n  "})
    assert errors == {}
    assert content == {"summary": "Saiga calving grounds"}


def test_html_typed_into_a_field_is_stored_as_typed(db):
    content, _errors = clean("summary", {"summary": "<script>alert(1)</script>"})
    assert content["summary"] == "<script>alert(1)</script>"


def test_end_before_start_is_refused(db):
    _content, errors = clean("timeline", {"start": "2027-01-01", "end": "2026-01-01"})
    assert errors == {"end": "The project must end after it starts."}


def test_a_date_that_is_not_a_date_is_refused(db):
    _content, errors = clean("timeline", {"milestones": [{"title": "Survey", "date": "next spring"}]})
    assert errors == {"milestones-0-date": "Milestone 1: date must be a date like 2026-09-01."}


def test_time_share_accepts_a_percent_sign_and_refuses_over_100(db):
    content, errors = clean("team", {"members": [{"name": "Aigerim", "role": "Lead", "time_share": "50%"}]})
    assert errors == {} and content["members"][0]["time_share"] == 50
    _content, errors = clean("team", {"members": [{"name": "Aigerim", "role": "Lead", "time_share": "150"}]})
    assert errors == {
        "members-0-time_share": "Team member 1: time share (%) must be a whole number from 1 to 100."
    }


def test_a_safeguard_answer_must_be_yes_or_no(db):
    _content, errors = clean("risks", {"safeguards": {"pesticides": {"answer": "maybe"}}})
    assert list(errors) == ["safeguards-pesticides-answer"]


def test_nested_logframe_errors_name_the_nested_row(db):
    long_text = "x" * 1001
    raw = {
        "objectives": [
            {"text": "A", "outputs": [{"text": "B", "activities": [{"text": "C"}, {"text": long_text}]}]}
        ]
    }
    _content, errors = clean("logframe", raw)
    assert errors == {
        "objectives-0-outputs-0-activities-1-text": "Activity 1.1.2 is too long: at most 1000 characters."
    }


def test_an_indicator_baseline_must_be_a_number(db):
    _content, errors = clean("logframe", {"indicators": [{"name": "Seals", "baseline": "many"}]})
    assert errors == {"indicators-0-baseline": "Indicator 1: baseline must be a number like 12.5."}


# -- completeness --------------------------------------------------------------------------------------


def test_a_complete_proposal_misses_nothing(db):
    proposal = make_proposal(complete=True)
    assert missing_items(proposal) == []


def _set(proposal, key, raw):
    content, errors = clean(key, raw)
    assert errors == {}
    proposal.section(key).content = content


def test_missing_items_lists_exactly_what_is_missing(db):
    proposal = make_proposal(complete=True)
    _set(proposal, "summary", {"summary": ""})
    species = complete_content("species")
    species["species"][0]["red_list"] = ""
    _set(proposal, "species", species)
    assert missing_items(proposal) == [
        "Summary: write the summary.",
        "Species: species 1 needs a Red List category.",
    ]


def test_word_limits_are_listed_not_refused(db):
    proposal = make_proposal(complete=True)
    _set(proposal, "summary", {"summary": "word " * 301})
    assert missing_items(proposal) == ["Summary: the summary has 301 words; the limit is 300."]


def test_a_milestone_outside_the_project_period_is_listed(db):
    proposal = make_proposal(complete=True)
    timeline = complete_content("timeline")
    timeline["milestones"][0]["date"] = "2029-01-01"
    _set(proposal, "timeline", timeline)
    assert missing_items(proposal) == ["Timeline: milestone 1 (2029-01-01) falls outside the project period."]


def test_a_budget_year_after_the_project_ends_is_listed(db):
    proposal = make_proposal(complete=True)
    budget = complete_content("budget")
    budget["lines"][1]["year"] = "3"
    _set(proposal, "budget", budget)
    assert missing_items(proposal) == ["Budget: line 2 is in year 3, but the project lasts 2."]


def test_a_yes_safeguard_needs_an_explanation(db):
    proposal = make_proposal(complete=True)
    risks = complete_content("risks")
    risks["safeguards"]["pesticides"] = {"answer": "yes", "explanation": ""}
    _set(proposal, "risks", risks)
    assert missing_items(proposal) == [
        "Risks and safeguards: explain your “yes” to “Will the project use pesticides or other hazardous "
        "chemicals?”"
    ]


def test_theme_and_eligibility_answers_are_required(db):
    call = make_call()
    proposal = make_proposal(call=call, complete=True, theme=None, eligibility_answers={})
    assert missing_items(proposal) == [
        "Choose the proposal's theme.",
        "Answer the eligibility question “Is your organisation registered in Kazakhstan?”",
    ]


def test_a_theme_outside_the_call_is_listed(db):
    proposal = make_proposal(complete=True, theme="forests")
    assert missing_items(proposal) == [
        "The theme you chose is not one of this call's themes; choose another."
    ]


def test_an_empty_proposal_lists_every_section(db):
    proposal = make_proposal()
    items = missing_items(proposal)
    for spec in sections.SECTIONS:
        assert any(item.startswith(f"{spec.title}:") for item in items), spec.key


# -- derived data and snapshot -------------------------------------------------------------------------


def test_refresh_derived_sets_tags_and_totals(db):
    proposal = make_proposal(complete=True)
    assert {(t.kind, t.code) for t in proposal.tags} == {
        ("region", "KZ-47"),
        ("red_list", "EN"),
        ("species", "Pusa caspica"),
        ("threat", "5.4"),
        ("action", "1.1"),
        ("action", "2.1"),
        ("gbf_target", "3"),
        ("gbf_target", "4"),
    }
    assert proposal.requested_minor == 850_000_050
    assert proposal.cofinancing_minor == 100_000_000


def test_refresh_derived_removes_tags_no_longer_true(db):
    proposal = make_proposal(complete=True)
    _set(proposal, "threats", {"threats": ["2.3"], "actions": ["1.1"]})
    sections.refresh_derived(db.session, proposal)
    assert {t.code for t in proposal.tags if t.kind == "threat"} == {"2.3"}
    assert {t.code for t in proposal.tags if t.kind == "action"} == {"1.1"}


def test_snapshot_is_plain_json_with_labels(db):
    proposal = make_proposal(complete=True)
    snap = sections.snapshot(proposal)
    assert json.loads(json.dumps(snap)) == snap
    assert snap["reference"] == proposal.reference
    assert snap["totals"]["requested"]["minor"] == 850_000_050
    sites = next(s for s in snap["sections"] if s["key"] == "sites")
    assert sites["blocks"][0]["rows"][0][1] == "Mangystau Region"
    species = next(s for s in snap["sections"] if s["key"] == "species")
    assert species["blocks"][0]["rows"][0][2] == "EN Endangered"


def test_the_snapshot_template_renders_user_text_escaped(app, db):
    from flask import render_template

    proposal = make_proposal(complete=True, title="<b>Seals</b>")
    _set(proposal, "summary", {"summary": "<script>alert('x')</script>"})
    with app.test_request_context():
        html = render_template("applications/_snapshot.html", snapshot=sections.snapshot(proposal))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Seals&lt;/b&gt;" in html
    assert "style=" not in html
    assert "Mangystau Region" in html
