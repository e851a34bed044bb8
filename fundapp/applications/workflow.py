"""The transition tables of calls and proposals.

Guards that need other parts of the module import them when called, so this table can be read by
everything without import cycles.
"""

from flask_babel import lazy_gettext as _l

from fundapp.applications.models import CallState, ProposalStage, ProposalState
from fundapp.core.permissions import Role
from fundapp.core.workflow import Transition, Workflow

PO = {Role.PROGRAMME_OFFICER}
APPLICANT = {Role.APPLICANT}


def _member(proposal, actor):
    if actor is not None and not proposal.is_member(actor):
        return _l("Only members of %(org)s can do this.", org=proposal.organisation.name_en)
    return None


def _can_submit(proposal, actor):
    """Membership, then every submission rule (deadline, call open, completeness, budget, duplicates)."""
    from fundapp.applications.submission import submission_problems

    problem = _member(proposal, actor)
    if problem:
        return problem
    problems = submission_problems(proposal)
    return problems[0] if problems else None


def _full_stage(proposal, actor):
    if proposal.stage != ProposalStage.FULL:
        return _l("A concept note is not screened for eligibility: invite the organisation or decline it.")
    return None


def _concept_stage(proposal, actor):
    if proposal.stage != ProposalStage.CONCEPT:
        return _l("Only a concept note can lead to an invitation.")
    return None


def _call_ready(call, actor):
    from fundapp.applications.calls import publication_problems

    problems = publication_problems(call)
    return problems[0] if problems else None


WITHDRAWABLE = [
    ProposalState.DRAFT,
    ProposalState.SUBMITTED,
    ProposalState.MORE_INFO_REQUESTED,
    ProposalState.ELIGIBLE,
    ProposalState.INVITED,
    ProposalState.IN_REVIEW,
    ProposalState.REVIEWED,
    ProposalState.ON_AGENDA,
    ProposalState.DEFERRED,
]

PROPOSAL_WORKFLOW = Workflow(
    "proposal",
    "state",
    [
        Transition(
            ProposalState.DRAFT, ProposalState.SUBMITTED, APPLICANT, guard=_can_submit, label=_l("Submit")
        ),
        Transition(
            ProposalState.MORE_INFO_REQUESTED,
            ProposalState.SUBMITTED,
            APPLICANT,
            guard=_can_submit,
            label=_l("Submit again"),
        ),
        Transition(
            ProposalState.SUBMITTED, ProposalState.ELIGIBLE, PO, guard=_full_stage, label=_l("Eligible")
        ),
        Transition(
            ProposalState.SUBMITTED,
            ProposalState.INELIGIBLE,
            PO,
            requires_reason=True,
            label=_l("Ineligible"),
        ),
        Transition(
            ProposalState.SUBMITTED,
            ProposalState.MORE_INFO_REQUESTED,
            PO,
            requires_reason=True,
            label=_l("Ask for more information"),
        ),
        Transition(
            ProposalState.SUBMITTED,
            ProposalState.INVITED,
            PO,
            guard=_concept_stage,
            label=_l("Invite a full proposal"),
        ),
        Transition(
            ProposalState.SUBMITTED,
            ProposalState.DECLINED,
            PO,
            guard=_concept_stage,
            requires_reason=True,
            label=_l("Decline"),
        ),
        # Reviews, board and decisions (later modules make these moves).
        Transition(ProposalState.ELIGIBLE, ProposalState.IN_REVIEW, PO, system=True),
        Transition(ProposalState.IN_REVIEW, ProposalState.REVIEWED, PO, system=True),
        # An officer reopened a submitted review: the proposal is in review again.
        Transition(ProposalState.REVIEWED, ProposalState.IN_REVIEW, PO, system=True),
        Transition(ProposalState.REVIEWED, ProposalState.ON_AGENDA, PO),
        Transition(ProposalState.DEFERRED, ProposalState.ON_AGENDA, PO),
        Transition(ProposalState.ON_AGENDA, ProposalState.REVIEWED, PO, system=True),
        Transition(ProposalState.ON_AGENDA, ProposalState.APPROVED, PO, system=True),
        Transition(ProposalState.ON_AGENDA, ProposalState.APPROVED_WITH_CONDITIONS, PO, system=True),
        Transition(ProposalState.ON_AGENDA, ProposalState.REJECTED, PO, system=True, requires_reason=True),
        Transition(ProposalState.ON_AGENDA, ProposalState.DEFERRED, PO, system=True),
        *[
            Transition(state, ProposalState.WITHDRAWN, APPLICANT, guard=_member, label=_l("Withdraw"))
            for state in WITHDRAWABLE
        ],
    ],
    label=_l("proposal"),
)

CALL_WORKFLOW = Workflow(
    "call",
    "state",
    [
        Transition(CallState.DRAFT, CallState.PUBLISHED, PO, guard=_call_ready, label=_l("Publish")),
        Transition(CallState.PUBLISHED, CallState.CLOSED, PO, system=True, label=_l("Close")),
        Transition(CallState.DRAFT, CallState.CANCELLED, PO, label=_l("Cancel")),
        Transition(CallState.PUBLISHED, CallState.CANCELLED, PO, requires_reason=True, label=_l("Cancel")),
    ],
    label=_l("call"),
)
