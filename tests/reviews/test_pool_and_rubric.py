"""Rubrics and the reviewer pool, through their operations (no HTTP)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fundapp.applications.models import ProposalState
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.permissions import Role
from fundapp.reviews import operations
from fundapp.reviews.models import AssignmentState, Criterion, Rubric
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.factories import make_organisation, make_user
from tests.reviews.factories import make_assignment, make_review, make_reviewer, make_rubric, profile_of


def criterion(**overrides):
    fields = {
        "title": "Community involvement",
        "weight": 10,
        "scale_min": 1,
        "scale_max": 3,
        "level_descriptors": ["None", "Consulted", "Leading"],
        "description": "Are local people part of the work?",
        "allow_na": True,
    }
    fields.update(overrides)
    return operations.CriterionData(**fields)


def actions(db):
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.fixture
def officer(db):
    return make_officer()


# -- factories -----------------------------------------------------------------------------------------------


def test_factories_build_a_submitted_review_with_na_left_out(db):
    rubric = make_rubric()
    review = make_review(call=rubric.call, scores={0: 5, 1: None})

    assert review.weighted_score == 100
    assert review.assignment.state == AssignmentState.SUBMITTED
    assert make_assignment().state == AssignmentState.ASSIGNED
    assert profile_of(make_reviewer(max_load=2)).max_load_per_call == 2


# -- rubrics -------------------------------------------------------------------------------------------------


def test_the_default_rubric_has_five_weighted_criteria_with_a_descriptor_per_level(db):
    call = make_call()

    rubric = operations.default_rubric(call, session=db.session)

    assert [(c.title, c.weight) for c in rubric.criteria] == [
        ("Conservation relevance", 30),
        ("Feasibility", 25),
        ("Value for money", 20),
        ("Capacity", 15),
        ("Sustainability and safeguards", 10),
    ]
    assert all(sorted(c.level_descriptors) == ["1", "2", "3", "4", "5"] for c in rubric.criteria)
    assert rubric.reviewers_per_proposal == 3
    assert not rubric.blind


def test_the_default_rubric_is_not_created_twice(db):
    call = make_call()
    first = operations.default_rubric(call, session=db.session)

    assert operations.default_rubric(call, session=db.session) is first
    assert db.session.scalars(select(Rubric).where(Rubric.call_id == call.id)).all() == [first]


def test_an_officer_starts_an_empty_rubric_and_adds_a_criterion(db, officer):
    call = make_call()
    rubric = operations.start_rubric(db.session, officer, call, use_default=False)

    added = operations.add_criterion(db.session, officer, rubric, criterion())

    assert rubric.criteria == [added]
    assert added.level_descriptors == {"1": "None", "2": "Consulted", "3": "Leading"}
    assert added.allow_na
    assert "criterion.added" in actions(db)


def test_starting_a_second_rubric_is_refused(db, officer):
    call = make_call()
    operations.start_rubric(db.session, officer, call)

    with pytest.raises(DomainError, match="already has a rubric"):
        operations.start_rubric(db.session, officer, call)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"weight": 0}, "weight"),
        ({"weight": -5}, "weight"),
        ({"scale_min": 5, "scale_max": 5}, "scale_max"),
        ({"scale_min": 5, "scale_max": 1}, "scale_max"),
        ({"scale_min": 0, "scale_max": 20}, "scale_max"),
        ({"level_descriptors": ["None", "Consulted"]}, "level_descriptors"),
        ({"level_descriptors": ["None", "", "Leading"]}, "level_descriptors"),
        ({"title": "  "}, "title"),
    ],
)
def test_a_criterion_with_bad_values_is_refused_and_nothing_changes(db, officer, overrides, field):
    rubric = make_rubric(criteria=[{"title": "Relevance", "weight": 1}])

    with pytest.raises(DomainError) as refusal:
        operations.add_criterion(db.session, officer, rubric, criterion(**overrides))

    assert refusal.value.field == field
    assert [c.title for c in rubric.criteria] == ["Relevance"]


def test_an_officer_edits_and_removes_a_criterion(db, officer):
    rubric = make_rubric()
    first, second = rubric.criteria

    operations.update_criterion(db.session, officer, first, criterion(title="Relevance to saiga", weight=7))
    operations.remove_criterion(db.session, officer, second)

    assert [(c.title, c.weight) for c in rubric.criteria] == [("Relevance to saiga", 7)]
    assert db.session.get(Criterion, second.id) is None
    assert {"criterion.changed", "criterion.removed"} <= set(actions(db))


def test_criteria_cannot_change_once_a_review_is_submitted(db, officer):
    rubric = make_rubric()
    make_review(call=rubric.call)
    first = rubric.criteria[0]

    for change in (
        lambda: operations.add_criterion(db.session, officer, rubric, criterion()),
        lambda: operations.update_criterion(db.session, officer, first, criterion()),
        lambda: operations.remove_criterion(db.session, officer, first),
    ):
        with pytest.raises(DomainError, match="can no longer be changed"):
            change()

    assert [c.title for c in rubric.criteria] == ["Conservation relevance", "Feasibility"]


def test_criteria_can_change_while_reviews_are_only_drafts(db, officer):
    rubric = make_rubric()
    make_review(call=rubric.call, submitted=False)

    operations.add_criterion(db.session, officer, rubric, criterion())

    assert len(rubric.criteria) == 3


def test_saving_the_settings_moves_the_due_date_of_pending_assignments(db, officer):
    old_due = datetime(2026, 10, 1, 13, 0, tzinfo=UTC)
    new_due = datetime(2026, 10, 15, 13, 0, tzinfo=UTC)
    rubric = make_rubric(due_at=old_due)
    proposal = make_proposal(call=rubric.call, state=ProposalState.IN_REVIEW)
    pending = make_assignment(proposal)
    personal = make_assignment(proposal, due_at=old_due + timedelta(days=3))
    submitted = make_review(proposal=proposal).assignment

    operations.save_rubric_settings(
        db.session,
        officer,
        rubric,
        operations.RubricSettings(
            reviewers_per_proposal=2,
            blind=True,
            reviewers_see_others=True,
            disagreement_spread=20,
            recommendation_split_percent=40,
            due_at=new_due,
        ),
    )

    assert (rubric.reviewers_per_proposal, rubric.blind, rubric.reviewers_see_others) == (2, True, True)
    assert pending.due_at == new_due
    assert personal.due_at == old_due + timedelta(days=3)
    assert submitted.due_at == old_due
    assert "rubric.settings_changed" in actions(db)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reviewers_per_proposal": 0}, "reviewers_per_proposal"),
        ({"reviewers_per_proposal": 11}, "reviewers_per_proposal"),
        ({"disagreement_spread": 101}, "disagreement_spread"),
        ({"recommendation_split_percent": 0}, "recommendation_split_percent"),
        ({"recommendation_split_percent": 51}, "recommendation_split_percent"),
    ],
)
def test_settings_out_of_range_are_refused(db, officer, overrides, field):
    rubric = make_rubric()

    with pytest.raises(DomainError) as refusal:
        operations.save_rubric_settings(db.session, officer, rubric, operations.RubricSettings(**overrides))

    assert refusal.value.field == field
    assert rubric.reviewers_per_proposal == 3


def test_only_a_programme_officer_edits_a_rubric(db):
    rubric = make_rubric()

    with pytest.raises(DomainError):
        operations.add_criterion(db.session, make_user(roles=[Role.ADMIN]), rubric, criterion())


# -- the pool ------------------------------------------------------------------------------------------------


def test_an_officer_saves_a_reviewers_expertise_load_and_affiliations(db, officer):
    reviewer = make_reviewer()
    organisation = make_organisation()

    operations.save_profile(
        db.session,
        officer,
        reviewer,
        operations.ProfileData(
            themes=["marine_mammals"],
            regions=["KZ-47", "KZ-23"],
            species_groups=["Pinnipeds", "waterbirds"],
            languages=["ru", "kk"],
            max_load_per_call=5,
        ),
        [organisation.id],
    )

    profile = profile_of(reviewer)
    assert profile.themes == ["marine_mammals"]
    assert profile.regions == ["KZ-47", "KZ-23"]
    assert profile.species_groups == ["pinnipeds", "waterbirds"]
    assert profile.languages == ["ru", "kk"]
    assert profile.max_load_per_call == 5
    assert [a.organisation_id for a in profile.affiliations] == [organisation.id]


def test_an_officer_removes_an_affiliation(db, officer):
    organisation = make_organisation()
    reviewer = make_reviewer(affiliations=[organisation])

    operations.save_profile(db.session, officer, reviewer, operations.ProfileData(), [])

    assert profile_of(reviewer).affiliations == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (operations.ProfileData(themes=["no-such-theme"]), "themes"),
        (operations.ProfileData(regions=["KZ-99"]), "regions"),
        (operations.ProfileData(languages=["fr"]), "languages"),
        (operations.ProfileData(max_load_per_call=-1), "max_load_per_call"),
        (operations.ProfileData(max_load_per_call=101), "max_load_per_call"),
    ],
)
def test_a_profile_with_unknown_codes_or_a_bad_load_is_refused(db, officer, data, field):
    reviewer = make_reviewer(themes=["forests"])

    with pytest.raises(DomainError) as refusal:
        operations.save_profile(db.session, officer, reviewer, data)

    assert refusal.value.field == field


def test_a_reviewer_edits_their_expertise_but_not_their_load(db):
    reviewer = make_reviewer(max_load=4)

    operations.save_own_profile(
        db.session,
        reviewer,
        operations.ProfileData(themes=["forests"], languages=["en"], max_load_per_call=50),
    )

    profile = profile_of(reviewer)
    assert profile.themes == ["forests"]
    assert profile.max_load_per_call == 4


def test_a_reviewer_adds_an_affiliation_but_not_twice(db):
    reviewer = make_reviewer()
    organisation = make_organisation()

    operations.add_own_affiliation(db.session, reviewer, organisation, "Board member until 2024")
    with pytest.raises(DomainError, match="already"):
        operations.add_own_affiliation(db.session, reviewer, organisation)

    [affiliation] = profile_of(reviewer).affiliations
    assert affiliation.description == "Board member until 2024"


def test_a_reviewer_gets_a_profile_when_they_first_save_it(db):
    reviewer = make_reviewer(profile=False)

    operations.save_own_profile(db.session, reviewer, operations.ProfileData(themes=["forests"]))

    assert profile_of(reviewer).max_load_per_call == 8


def test_someone_without_the_reviewer_role_has_no_reviewer_profile(db):
    with pytest.raises(DomainError, match="reviewer role"):
        operations.save_own_profile(db.session, make_user(), operations.ProfileData())


def test_the_pool_lists_reviewers_with_their_loads_per_call(db):
    call = make_call()
    reviewer = make_reviewer(full_name="Aaa Reviewer")
    make_assignment(make_proposal(call=call, state=ProposalState.IN_REVIEW), reviewer)
    make_assignment(make_proposal(call=call, state=ProposalState.IN_REVIEW), reviewer)
    make_assignment(
        make_proposal(call=call, state=ProposalState.IN_REVIEW), reviewer, state=AssignmentState.DECLINED
    )
    make_user(roles=[Role.BOARD_MEMBER])

    rows = {row.reviewer.id: row for row in operations.reviewer_pool(db.session)}

    assert rows[reviewer.id].loads == {call.id: 2}
    assert all(row.reviewer.has_role(Role.REVIEWER) for row in rows.values())


def test_species_groups_are_read_from_a_comma_list():
    assert operations.parse_species_groups(" Pinnipeds, ungulates ;felids,, pinnipeds\nWater birds") == [
        "pinnipeds",
        "ungulates",
        "felids",
        "water birds",
    ]


def test_the_due_date_is_an_exact_instant(db, officer):
    rubric = make_rubric()
    due = utcnow().replace(microsecond=0) + timedelta(days=20)

    operations.save_rubric_settings(db.session, officer, rubric, operations.RubricSettings(due_at=due))
    db.session.expire(rubric)

    assert rubric.due_at == due
