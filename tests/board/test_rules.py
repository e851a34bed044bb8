"""The board's voting rules on hand-worked cases (pure: no database)."""

from fundapp.board.models import VoteChoice
from fundapp.board.rules import Tally, decide, has_quorum


def test_exactly_half_present_is_no_quorum():
    # 5 members, none recused: 2 present is 40%, and even 2.5 would not be "more than half".
    assert not has_quorum(Tally(eligible=4, participating=2), 50)
    result = decide(Tally(eligible=4, participating=2, approve=2))
    assert not result.quorate and not result.passed


def test_three_of_five_present_is_a_quorum():
    assert has_quorum(Tally(eligible=5, participating=3), 50)
    assert not has_quorum(Tally(eligible=5, participating=2), 50)


def test_a_recused_member_reduces_the_eligible_count():
    # 5 members, 2 recused: 3 eligible, 2 present is more than half of 3 -> quorate.
    assert has_quorum(Tally(eligible=3, participating=2), 50)
    # Without the recusals 2 of 5 would not be.
    assert not has_quorum(Tally(eligible=5, participating=2), 50)


def test_nobody_eligible_is_no_quorum():
    assert not decide(Tally(eligible=0, participating=0)).quorate


def test_abstentions_are_not_counted_in_the_majority():
    # 5 present: 2 approve, 1 rejects, 2 abstain -> 2 of 3 votes cast approve.
    result = decide(Tally(eligible=5, participating=5, approve=2, reject=1, abstain=2))
    assert result.quorate and result.passed
    assert "2 of 3" in result.explanation


def test_all_abstaining_fails():
    result = decide(Tally(eligible=5, participating=4, abstain=4))
    assert result.quorate and not result.passed


def test_simple_majority_needs_more_than_half():
    assert not decide(Tally(eligible=5, participating=5, approve=2, reject=3)).passed
    assert decide(Tally(eligible=5, participating=5, approve=3, reject=2)).passed


def test_two_thirds_majority():
    tally = Tally(eligible=6, participating=6, approve=4, reject=2)
    assert decide(tally, majority_percent=66).passed  # 400 > 396
    assert not decide(Tally(eligible=6, participating=6, approve=3, reject=2), majority_percent=66).passed


def test_tie_with_the_casting_vote_on_follows_the_chair():
    approving_chair = Tally(eligible=4, participating=4, approve=2, reject=2, chair_choice=VoteChoice.APPROVE)
    result = decide(approving_chair, chair_casting_vote=True)
    assert result.passed and result.casting_vote_used
    rejecting_chair = Tally(eligible=4, participating=4, approve=2, reject=2, chair_choice=VoteChoice.REJECT)
    result = decide(rejecting_chair, chair_casting_vote=True)
    assert not result.passed and result.casting_vote_used


def test_tie_with_the_casting_vote_off_fails():
    tally = Tally(eligible=4, participating=4, approve=2, reject=2, chair_choice=VoteChoice.APPROVE)
    result = decide(tally, chair_casting_vote=False)
    assert result.quorate and not result.passed and not result.casting_vote_used


def test_tie_with_the_chair_recused_fails():
    # The chair is recused: not eligible, no chair's vote in the tally; 2 to 2 among the other four.
    tally = Tally(eligible=4, participating=4, approve=2, reject=2, chair_choice=None)
    result = decide(tally, chair_casting_vote=True)
    assert not result.passed and not result.casting_vote_used


def test_tie_with_the_chair_abstaining_fails():
    tally = Tally(
        eligible=5, participating=5, approve=2, reject=2, abstain=1, chair_choice=VoteChoice.ABSTAIN
    )
    assert not decide(tally, chair_casting_vote=True).passed


def test_higher_quorum_setting():
    # Quorum "more than 66%": 4 of 6 is 66.7% -> quorate; 3 of 5 is 60% -> not.
    assert has_quorum(Tally(eligible=6, participating=4), 66)
    assert not has_quorum(Tally(eligible=5, participating=3), 66)
