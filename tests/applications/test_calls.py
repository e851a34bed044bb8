"""Calls for proposals, tested on the operations: content rules, money, time zones, sanitising, workflow."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fundapp.applications import calls
from fundapp.applications.calls import (
    CallData,
    call_data_problems,
    cancel_call,
    close_call,
    close_due_calls,
    create_call,
    days_left,
    extend_call_deadline,
    fund_instant,
    fund_wall_clock,
    next_call_reference,
    parse_amount,
    publication_problems,
    publish_call,
    sanitise_description,
    update_call,
)
from fundapp.applications.models import Call, CallState
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.summary import collect_summary
from fundapp.core.workflow import IllegalTransition
from tests.applications.factories import make_call, make_officer
from tests.factories import make_user


def call_data(**overrides):
    """Valid content of a one-stage call opening tomorrow and closing in 40 days (KZT)."""
    now = utcnow().replace(microsecond=0)
    fields = {
        "title": "Saiga and steppe 2026",
        "description_html": "<p>Grants for the <strong>saiga</strong>.</p>",
        "themes": ["steppe_ungulates"],
        "eligible_org_types": ["ngo", "research_institute"],
        "currency": "KZT",
        "grant_min": "5000000",
        "grant_max": "25000000.50",
        "envelope": "200 000 000",
        "opens_at": now + timedelta(days=1),
        "closes_at": now + timedelta(days=40),
        "stages": 1,
        "cofinancing_min_percent": 10,
        "required_attachments": ["registration_certificate", "budget_workbook"],
        "questions": [
            {
                "text": "Is your organisation registered in Kazakhstan?",
                "disqualifying_answer": False,
                "explanation": "Only organisations registered in Kazakhstan can apply.",
            },
            {"text": "", "disqualifying_answer": None, "explanation": ""},
        ],
    }
    fields.update(overrides)
    return CallData(**fields)


def events(db, call, action):
    return db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "Call",
            AuditEvent.entity_id == str(call.id),
            AuditEvent.action == action,
        )
    ).all()


# -- amounts ------------------------------------------------------------------------------------------------


def test_amount_is_read_exactly_with_spaces_between_digit_groups(app, db):
    assert parse_amount("5 000 000.50", "KZT", field_name="grant_min") == Money(500_000_050, "KZT")
    assert parse_amount("1\u00a0250", "USD", field_name="grant_min") == Money(125_000, "USD")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "is not an amount"),
        ("12e3", "is not an amount"),
        ("", "Enter an amount"),
        ("-5000", "cannot be negative"),
        ("0", "above zero"),
        ("10.005", "more than 2 decimal places"),
        ("1,500", "a dot for decimals"),
        ("NaN", "is not an amount"),
    ],
)
def test_bad_amount_is_refused_naming_its_field(app, db, text, message):
    with pytest.raises(DomainError) as refused:
        parse_amount(text, "KZT", field_name="grant_max")

    assert refused.value.field == "grant_max"
    assert message in refused.value.message


def test_problems_name_every_bad_amount_at_once(app, db):
    problems = call_data_problems(call_data(grant_min="abc", grant_max="-1", envelope="1.001"), db.session)

    assert set(problems) >= {"grant_min", "grant_max", "envelope"}


def test_smallest_grant_above_largest_is_refused(app, db):
    problems = call_data_problems(call_data(grant_min="30000000", grant_max="20000000"), db.session)

    assert "below the smallest" in problems["grant_max"]


def test_envelope_smaller_than_largest_grant_is_refused(app, db):
    problems = call_data_problems(call_data(grant_max="20000000", envelope="10000000"), db.session)

    assert "at least one grant" in problems["envelope"]


def test_amounts_are_stored_in_minor_units_of_the_calls_currency(app, db):
    call = create_call(
        db.session,
        make_officer(),
        call_data(currency="USD", grant_min="5000", grant_max="25000.50", envelope="90000"),
    )

    assert (call.currency, call.grant_min_minor, call.grant_max_minor, call.envelope_minor) == (
        "USD",
        500_000,
        2_500_050,
        9_000_000,
    )


def test_currency_outside_the_list_is_refused(app, db):
    assert "currency" in call_data_problems(call_data(currency="XAU"), db.session)


# -- time ---------------------------------------------------------------------------------------------------


# Kazakhstan moved Almaty from UTC+6 to UTC+5 on 1 March 2024 (tz database 2024a): the conversion follows
# the tz database, not a fixed offset, so 18:00 in Almaty is 12:00 UTC in 2023 and 13:00 UTC in 2026.


def test_wall_clock_time_in_almaty_is_stored_as_the_utc_instant(app, db):
    assert fund_instant(datetime(2026, 12, 1, 18, 0)) == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


def test_conversion_follows_the_tz_database_history_of_almaty(app, db):
    assert fund_instant(datetime(2023, 12, 1, 18, 0)) == datetime(2023, 12, 1, 12, 0, tzinfo=UTC)


def test_instant_is_shown_back_as_almaty_wall_clock_time(app, db):
    assert fund_wall_clock(datetime(2026, 12, 1, 13, 0, tzinfo=UTC)) == datetime(2026, 12, 1, 18, 0)


def test_instant_in_another_zone_is_kept_as_that_instant(app, db):
    from zoneinfo import ZoneInfo

    typed = datetime(2026, 12, 1, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert fund_instant(typed) == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def test_call_closing_at_six_pm_in_almaty_is_stored_in_utc(app, db):
    closes = fund_instant(datetime(2026, 12, 1, 18, 0))
    call = create_call(
        db.session,
        make_officer(),
        call_data(opens_at=fund_instant(datetime(2026, 10, 1, 9, 0)), closes_at=closes),
    )
    db.session.expire_all()

    assert db.session.get(Call, call.id).closes_at == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


def test_closing_before_opening_is_refused(app, db):
    now = utcnow()
    problems = call_data_problems(
        call_data(opens_at=now + timedelta(days=5), closes_at=now + timedelta(days=4))
    )

    assert problems["closes_at"] == "The call must close after it opens."


def test_two_stage_call_needs_a_full_proposal_deadline_after_the_concept_notes(app, db):
    data = call_data(stages=2)
    assert "full_proposal_closes_at" in call_data_problems(data, db.session)

    data = call_data(stages=2, full_proposal_closes_at=data.closes_at - timedelta(hours=1))
    assert "after the concept notes" in call_data_problems(data, db.session)["full_proposal_closes_at"]


def test_days_left_counts_calendar_days_in_the_funds_time_zone(app, db):
    call = make_call(closes_at=fund_instant(datetime(2026, 12, 1, 18, 0)))

    assert days_left(call, now=fund_instant(datetime(2026, 12, 1, 9, 0))) == 0
    assert days_left(call, now=fund_instant(datetime(2026, 11, 30, 23, 0))) == 1
    assert days_left(call, now=fund_instant(datetime(2026, 11, 21, 19, 0))) == 10
    assert days_left(call, now=fund_instant(datetime(2026, 12, 1, 18, 0))) is None


# -- description --------------------------------------------------------------------------------------------


def test_sanitising_removes_script_style_and_event_handlers(app):
    html = sanitise_description(
        '<p onclick="steal()">Saiga<script>alert(1)</script><style>p{}</style></p>'
        '<img src=x onerror="alert(2)"><iframe src="https://evil.example"></iframe>'
    )

    assert html == "<p>Saiga</p>"


def test_sanitising_keeps_the_allowed_tags_and_safe_links(app):
    html = sanitise_description(
        "<h2>Aims</h2><ul><li><em>Saiga</em></li></ul><blockquote>quote</blockquote>"
        '<a href="https://fund.example/calls" target="_blank" class="x">rules</a>'
        '<a href="mailto:grants@fund.example">mail</a><h1>big</h1>'
    )

    assert "<h2>Aims</h2><ul><li><em>Saiga</em></li></ul><blockquote>quote</blockquote>" in html
    assert '<a href="https://fund.example/calls" rel="noopener">rules</a>' in html
    assert '<a href="mailto:grants@fund.example" rel="noopener">mail</a>' in html
    assert "<h1>" not in html and "big" in html


def test_sanitising_drops_javascript_links(app):
    assert "javascript" not in sanitise_description('<a href="javascript:alert(1)">x</a>')


def test_stored_description_is_sanitised(app, db):
    call = create_call(
        db.session, make_officer(), call_data(description_html='<p onclick="x()">Hi<script>x</script></p>')
    )

    assert call.description_html == "<p>Hi</p>"


# -- creating and editing -----------------------------------------------------------------------------------


def test_new_call_is_a_draft_with_the_next_reference_of_the_year(app, db):
    officer = make_officer()
    year = utcnow().astimezone(calls.fund_timezone()).year
    first = create_call(db.session, officer, call_data())
    second = create_call(db.session, officer, call_data(title="Second"))

    assert first.state == CallState.DRAFT
    assert first.reference == f"CALL-{year}-01"
    assert second.reference == f"CALL-{year}-02"
    assert next_call_reference(db.session) == f"CALL-{year}-03"


def test_new_call_is_audited_with_its_terms(app, db):
    call = create_call(db.session, make_officer(), call_data())

    (event,) = events(db, call, "call.created")
    assert event.after["reference"] == call.reference
    assert event.after["grant_max_minor"] == 2_500_000_050


def test_blank_question_rows_are_ignored_and_the_rest_kept_in_order(app, db):
    call = create_call(db.session, make_officer(), call_data())

    assert [(q.position, q.text, q.disqualifying_answer) for q in call.questions] == [
        (0, "Is your organisation registered in Kazakhstan?", False)
    ]


def test_disqualifying_question_needs_an_explanation(app, db):
    data = call_data(
        questions=[{"text": "Are you a state body?", "disqualifying_answer": True, "explanation": ""}]
    )

    assert "Explain why" in call_data_problems(data, db.session)["questions"]


def test_unknown_theme_is_refused(app, db):
    assert "themes" in call_data_problems(call_data(themes=["unicorns"]), db.session)


def test_only_a_programme_officer_creates_a_call(app, db):
    with pytest.raises(DomainError, match="Only programme officers"):
        create_call(db.session, make_user(roles=[Role.ADMIN]), call_data())

    assert db.session.scalar(select(func.count(Call.id))) == 0


def test_invalid_content_stores_nothing(app, db):
    with pytest.raises(DomainError) as refused:
        create_call(db.session, make_officer(), call_data(grant_min="abc"))

    assert refused.value.field == "grant_min"
    assert db.session.scalar(select(func.count(Call.id))) == 0


def test_draft_is_edited_and_the_change_audited(app, db):
    officer = make_officer()
    call = create_call(db.session, officer, call_data())

    update_call(db.session, officer, call, call_data(title="Saiga 2026, revised", grant_max="30000000"))

    assert (call.title, call.grant_max_minor) == ("Saiga 2026, revised", 3_000_000_000)
    (event,) = events(db, call, "call.updated")
    assert event.before["title"] == "Saiga and steppe 2026"
    assert event.after["title"] == "Saiga 2026, revised"


def test_published_call_cannot_be_edited(app, db):
    call = make_call()

    with pytest.raises(DomainError, match="only a draft call can be edited"):
        update_call(db.session, make_officer(), call, call_data(title="Changed"))

    assert call.title.startswith("Caspian")


# -- publishing ---------------------------------------------------------------------------------------------


def test_publication_problems_list_everything_missing(app, db):
    call = create_call(
        db.session, make_officer(), call_data(themes=[], eligible_org_types=[], description_html="")
    )

    problems = publication_problems(call)

    assert "Choose at least one theme." in problems
    assert "Choose the types of organisation that may apply." in problems
    assert any("description" in problem for problem in problems)


def test_call_closing_in_the_past_cannot_be_published(app, db):
    call = create_call(
        db.session,
        make_officer(),
        call_data(opens_at=utcnow() - timedelta(days=10), closes_at=utcnow() - timedelta(seconds=1)),
    )

    assert "The closing date is in the past: set a later one." in publication_problems(call)


def test_publish_is_refused_with_the_first_problem_and_changes_nothing(app, db):
    officer = make_officer()
    call = create_call(db.session, officer, call_data(themes=[]))

    with pytest.raises(IllegalTransition, match="Choose at least one theme"):
        publish_call(db.session, officer, call)

    assert call.state == CallState.DRAFT
    assert call.published_at is None
    assert events(db, call, "call.published") == []


def test_ready_draft_is_published_and_audited(app, db):
    officer = make_officer()
    call = create_call(db.session, officer, call_data())

    assert publication_problems(call) == []
    publish_call(db.session, officer, call)

    assert call.state == CallState.PUBLISHED
    assert call.published_at is not None
    assert len(events(db, call, "call.published")) == 1


def test_only_a_programme_officer_publishes(app, db):
    call = create_call(db.session, make_officer(), call_data())

    with pytest.raises(IllegalTransition, match="Programme officer"):
        publish_call(db.session, make_user(roles=[Role.FINANCE_OFFICER]), call)

    assert call.state == CallState.DRAFT


def test_published_call_deadline_moves_later(app, db):
    call = make_call()
    later = call.closes_at + timedelta(days=7)

    extend_call_deadline(db.session, make_officer(), call, later)

    assert call.closes_at == later
    (event,) = events(db, call, "call.deadline_extended")
    assert event.after == {"closes_at": later.isoformat()}


def test_published_call_deadline_never_moves_earlier(app, db):
    call = make_call()
    before = call.closes_at

    with pytest.raises(DomainError, match="only move later") as refused:
        extend_call_deadline(db.session, make_officer(), call, before - timedelta(days=1))

    assert refused.value.field == "closes_at"
    assert call.closes_at == before


def test_draft_deadline_is_not_extended_but_edited(app, db):
    call = create_call(db.session, make_officer(), call_data())

    with pytest.raises(DomainError, match="Only a published call"):
        extend_call_deadline(db.session, make_officer(), call, call.closes_at + timedelta(days=1))


def test_officer_closes_a_published_call(app, db):
    call = make_call()

    close_call(db.session, make_officer(), call)

    assert call.state == CallState.CLOSED
    assert len(events(db, call, "call.closed")) == 1


def test_published_call_is_cancelled_only_with_a_reason(app, db):
    call = make_call()

    with pytest.raises(IllegalTransition, match="Give a reason"):
        cancel_call(db.session, make_officer(), call, "")
    assert call.state == CallState.PUBLISHED

    cancel_call(db.session, make_officer(), call, "The donor withdrew the funds.")
    assert call.state == CallState.CANCELLED


def test_draft_is_cancelled_without_a_reason(app, db):
    call = create_call(db.session, make_officer(), call_data())

    cancel_call(db.session, make_officer(), call)

    assert call.state == CallState.CANCELLED


def test_calls_past_their_deadline_are_closed_by_the_system(app, db):
    due = make_call(opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(minutes=1))
    running = make_call()

    closed = close_due_calls(db.session)

    assert closed == [due]
    assert (due.state, running.state) == (CallState.CLOSED, CallState.PUBLISHED)
    assert events(db, due, "call.closed")[0].actor_label == "system"


# -- what the public sees -----------------------------------------------------------------------------------


def test_public_lists_separate_open_upcoming_and_recently_closed_calls(app, db):
    now = utcnow()
    open_call = make_call()
    upcoming = make_call(opens_at=now + timedelta(days=3), closes_at=now + timedelta(days=30))
    closed = make_call(
        state=CallState.CLOSED, opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=2)
    )
    make_call(state=CallState.DRAFT)
    make_call(state=CallState.CANCELLED)

    assert calls.open_calls(db.session) == [open_call]
    assert calls.upcoming_calls(db.session) == [upcoming]
    assert calls.recently_closed_calls(db.session) == [closed]


@pytest.mark.parametrize("state", [CallState.DRAFT, CallState.CANCELLED])
def test_drafts_and_cancelled_calls_are_not_public(app, db, state):
    call = make_call(state=state)

    assert calls.public_call(db.session, call.reference) is None


def test_summary_counts_calls_and_proposals_by_state(app, db):
    make_call()
    make_call(state=CallState.DRAFT)

    summary = collect_summary(db.session)

    assert summary["calls_by_state"]["published"] == 1
    assert summary["calls_by_state"]["total"] == 2
    assert summary["proposals_by_state"]["total"] == 0
