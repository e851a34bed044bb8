"""The board's voting rules as pure functions: quorum, majority and the chair's casting vote.

Definitions (with the default settings):
- eligible: the board members who may take part in an item, i.e. all members minus those recused from it;
- participating: the eligible members present at the meeting (in a vote by correspondence: those who voted,
  abstentions included);
- quorum: participating is strictly more than ``quorum_percent`` % of eligible (default: more than half);
- votes cast: approvals plus rejections; abstentions and recusals do not count;
- the motion passes when approvals are strictly more than ``majority_percent`` % of the votes cast
  (default: more than half); on a tie the chair's vote decides if the casting vote is on, else it fails.
"""

from dataclasses import dataclass

from fundapp.board.models import VoteChoice


@dataclass(frozen=True)
class Tally:
    eligible: int
    participating: int
    approve: int = 0
    reject: int = 0
    abstain: int = 0
    #: How the chair voted on the item, if the chair is eligible and voted.
    chair_choice: VoteChoice | None = None

    @property
    def cast(self):
        return self.approve + self.reject


@dataclass(frozen=True)
class Result:
    quorate: bool
    passed: bool
    #: The chair's casting vote decided a tie.
    casting_vote_used: bool = False
    explanation: str = ""


def has_quorum(tally, quorum_percent):
    return tally.eligible > 0 and tally.participating * 100 > quorum_percent * tally.eligible


def decide(tally, *, quorum_percent=50, majority_percent=50, chair_casting_vote=True):
    """Whether the motion on an item passes under the rules, with the reason in words."""
    if not has_quorum(tally, quorum_percent):
        return Result(
            quorate=False,
            passed=False,
            explanation=(
                f"no quorum: {tally.participating} of {tally.eligible} eligible members take part; "
                f"more than {quorum_percent}% are needed"
            ),
        )
    if tally.cast and tally.approve * 100 > majority_percent * tally.cast:
        return Result(True, True, explanation=f"{tally.approve} of {tally.cast} votes cast approve")
    if (
        tally.cast
        and tally.approve == tally.reject
        and chair_casting_vote
        and tally.chair_choice
        in (
            VoteChoice.APPROVE,
            VoteChoice.REJECT,
        )
    ):
        passed = tally.chair_choice == VoteChoice.APPROVE
        return Result(
            True,
            passed,
            casting_vote_used=True,
            explanation=f"tie {tally.approve} to {tally.reject}; the chair's casting vote "
            + ("approves" if passed else "rejects"),
        )
    return Result(True, False, explanation=f"{tally.approve} of {tally.cast} votes cast approve: no majority")
