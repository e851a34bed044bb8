"""Choosing reviewers for proposals: never a conflicted one, loads balanced, matching expertise preferred.

The choice is a pure function of its input (``plan_assignments``), so it is deterministic and can be
tested on its own; ``operations.assign_reviewers`` feeds it from the database and stores the result.

It works in three passes over the seats of this run (the input's existing loads are never moved):

1. Greedy: seats are filled round by round (every proposal gets its first reviewer before any gets its
   second), proposals in id order. Each seat goes to the eligible reviewer with the lowest load in the
   call; among those equally loaded, to the best expertise match; then to the lowest id.
2. Fill: a seat the greedy pass left empty because every eligible reviewer is full is filled through a
   chain of moves (the full reviewer takes it and hands one of their new seats to another eligible
   reviewer, and so on, until one with room takes the last), as in a bipartite matching.
3. Balance: while some reviewer's load is two or more above another's and a chain of moves leads from the
   first to the second (each move handing a new seat to an eligible reviewer not already on it), the chain
   is applied. Each step lowers the sum of squared loads, so this ends; when it does, loads differ by at
   most one wherever conflicts, exclusions and capacities allow.

The greedy pass alone is not enough: with three reviewers and three proposals of two seats each it gives
loads 3, 2 and 1, because the least-loaded reviewer is sometimes already on the proposal.
"""

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProposalNeed:
    proposal_id: int
    organisation_id: int
    #: How many more reviewers the proposal needs.
    seats: int
    theme: str | None = None
    regions: frozenset = field(default_factory=frozenset)
    species_groups: frozenset = field(default_factory=frozenset)
    #: Reviewers who may not be (re)assigned: already on it, declined it, or declared a conflict.
    excluded_reviewers: frozenset = field(default_factory=frozenset)


@dataclass(frozen=True)
class ReviewerOffer:
    reviewer_id: int
    #: Active assignments the reviewer already holds in the call.
    load: int
    capacity: int
    #: Organisations the reviewer belongs to or is affiliated with.
    conflicted_organisations: frozenset = field(default_factory=frozenset)
    themes: frozenset = field(default_factory=frozenset)
    regions: frozenset = field(default_factory=frozenset)
    species_groups: frozenset = field(default_factory=frozenset)


def expertise_match(need, offer):
    """How well a reviewer fits a proposal: the theme counts most, then shared regions and species groups."""
    score = 3 if need.theme is not None and need.theme in offer.themes else 0
    score += len(need.regions & offer.regions)
    score += len({g.lower() for g in need.species_groups} & {g.lower() for g in offer.species_groups})
    return score


def is_conflicted(need, offer):
    return need.organisation_id in offer.conflicted_organisations


def is_eligible(need, offer):
    """The reviewer may review the proposal at all: not conflicted, not excluded."""
    return not is_conflicted(need, offer) and offer.reviewer_id not in need.excluded_reviewers


class _Plan:
    """The working state of one planning run."""

    def __init__(self, needs, offers):
        self.needs = sorted(needs, key=lambda need: need.proposal_id)
        self.offers = sorted(offers, key=lambda offer: offer.reviewer_id)
        self.offer = {offer.reviewer_id: offer for offer in self.offers}
        self.need = {need.proposal_id: need for need in self.needs}
        self.loads = {offer.reviewer_id: offer.load for offer in self.offers}
        #: proposal -> reviewers who may review it, by id.
        self.eligible = {
            need.proposal_id: [offer.reviewer_id for offer in self.offers if is_eligible(need, offer)]
            for need in self.needs
        }
        #: proposal -> reviewers given a seat in this run.
        self.seated = {need.proposal_id: set() for need in self.needs}
        #: reviewer -> proposals they got a seat on in this run.
        self.held = {offer.reviewer_id: set() for offer in self.offers}
        self.remaining = {need.proposal_id: max(need.seats, 0) for need in self.needs}

    def has_room(self, reviewer_id):
        return self.loads[reviewer_id] < self.offer[reviewer_id].capacity

    def can_take(self, reviewer_id, proposal_id):
        """Eligible (checked by the caller via ``eligible``) and not already seated on the proposal."""
        return reviewer_id not in self.seated[proposal_id]

    def seat(self, proposal_id, reviewer_id):
        self.seated[proposal_id].add(reviewer_id)
        self.held[reviewer_id].add(proposal_id)
        self.loads[reviewer_id] += 1

    def unseat(self, proposal_id, reviewer_id):
        self.seated[proposal_id].discard(reviewer_id)
        self.held[reviewer_id].discard(proposal_id)
        self.loads[reviewer_id] -= 1

    def moves_from(self, reviewer_id):
        """``(proposal, other reviewer)`` pairs: a seat of ``reviewer_id`` that the other could take."""
        for proposal_id in sorted(self.held[reviewer_id]):
            for other in self.eligible[proposal_id]:
                if other != reviewer_id and self.can_take(other, proposal_id):
                    yield proposal_id, other

    # -- pass 1 ---------------------------------------------------------------------------------------

    def greedy(self):
        while True:
            progress = False
            for need in self.needs:
                proposal_id = need.proposal_id
                if self.remaining[proposal_id] <= 0:
                    continue
                candidates = [
                    reviewer_id
                    for reviewer_id in self.eligible[proposal_id]
                    if self.can_take(reviewer_id, proposal_id) and self.has_room(reviewer_id)
                ]
                if not candidates:
                    continue
                chosen = min(
                    candidates,
                    key=lambda rid: (self.loads[rid], -expertise_match(need, self.offer[rid]), rid),
                )
                self.seat(proposal_id, chosen)
                self.remaining[proposal_id] -= 1
                progress = True
            if not progress:
                return

    # -- pass 2 ---------------------------------------------------------------------------------------

    def fill(self):
        for need in self.needs:
            proposal_id = need.proposal_id
            while self.remaining[proposal_id] > 0 and self._fill_one(proposal_id):
                self.remaining[proposal_id] -= 1

    def _fill_one(self, proposal_id):
        """Seat one more reviewer on ``proposal_id`` through a chain of moves; False if none exists."""
        parent = {}
        queue = deque()
        for reviewer_id in self.eligible[proposal_id]:
            if self.can_take(reviewer_id, proposal_id):
                parent[reviewer_id] = None
                queue.append(reviewer_id)
        while queue:
            reviewer_id = queue.popleft()
            if self.has_room(reviewer_id):
                self._apply_chain(parent, reviewer_id)
                self.seat(proposal_id, self._chain_start(parent, reviewer_id))
                return True
            for moved, other in self.moves_from(reviewer_id):
                if other not in parent:
                    parent[other] = (reviewer_id, moved)
                    queue.append(other)
        return False

    # -- pass 3 ---------------------------------------------------------------------------------------

    def balance(self):
        while self._balance_once():
            pass

    def _balance_once(self):
        """Apply one chain of moves from a reviewer to one at least two below them; False if none."""
        levels = sorted({self.loads[rid] for rid in self.held if self.held[rid]}, reverse=True)
        for level in levels:
            sources = [rid for rid in sorted(self.held) if self.held[rid] and self.loads[rid] >= level]
            parent = {rid: None for rid in sources}
            queue = deque(sources)
            while queue:
                reviewer_id = queue.popleft()
                for moved, other in self.moves_from(reviewer_id):
                    if other in parent:
                        continue
                    parent[other] = (reviewer_id, moved)
                    if self.loads[other] <= level - 2 and self.has_room(other):
                        self._apply_chain(parent, other)
                        return True
                    queue.append(other)
        return False

    # -- chains ---------------------------------------------------------------------------------------

    def _chain_start(self, parent, end):
        while parent[end] is not None:
            end = parent[end][0]
        return end

    def _apply_chain(self, parent, end):
        """Move each seat of the chain ending at ``end`` one step along it (the end gains one seat)."""
        steps = []
        while parent[end] is not None:
            previous, proposal_id = parent[end]
            steps.append((previous, proposal_id, end))
            end = previous
        for previous, proposal_id, taker in steps:
            self.unseat(proposal_id, previous)
            self.seat(proposal_id, taker)

    def pairs(self):
        return sorted((pid, rid) for pid, reviewers in self.seated.items() for rid in reviewers)


def plan_assignments(needs, offers):
    """Return ``(assignments, unfilled)``: a list of ``(proposal_id, reviewer_id)`` pairs, sorted, and
    ``{proposal_id: seats left empty}`` for proposals no eligible reviewer could take.

    Never pairs a reviewer with a proposal of an organisation they are conflicted with, or one they are
    excluded from; never takes a reviewer past their capacity; the same input always gives the same output.
    """
    plan = _Plan(needs, offers)
    plan.greedy()
    plan.fill()
    plan.balance()
    unfilled = {proposal_id: seats for proposal_id, seats in plan.remaining.items() if seats > 0}
    return plan.pairs(), unfilled
