"""The transition tables of grants, tranches and grantee reports.

Guards that need the database (is the gating report accepted? is every tranche settled?) live in the
operations, which check them before calling ``transition``; the guards here read the entity only.
"""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from fundapp.core.permissions import Role
from fundapp.core.workflow import Transition, Workflow
from fundapp.disbursements.models import GrantState, ReportState, TrancheState

PO = {Role.PROGRAMME_OFFICER}
FINANCE = {Role.FINANCE_OFFICER}
GRANTEE = {Role.APPLICANT}


def _signed(grant, actor):
    if not (grant.grantee_signed_on and grant.fund_signed_on):
        return _l("Record both signatures (the grantee's and the fund's) before the grant becomes active.")
    if grant.signed_copy_file_id is None:
        return _l("Upload the signed copy of the agreement before the grant becomes active.")
    return None


def _settled(grant, actor):
    open_tranches = [
        t for t in grant.tranches if t.state not in (TrancheState.RELEASED, TrancheState.CANCELLED)
    ]
    if open_tranches:
        return _l(
            "Every tranche must be released or cancelled before the grant is closed; %(count)d is not.",
            count=len(open_tranches),
        )
    return None


def _not_approver(tranche, actor):
    if actor is not None and tranche.approved_by_id == actor.id:
        return _l("You approved this tranche, so another finance officer must release it (four eyes).")
    return None


GRANT_WORKFLOW = Workflow(
    "grant",
    "state",
    [
        Transition(GrantState.AGREEMENT, GrantState.ACTIVE, PO, guard=_signed, label=_l("Activate")),
        Transition(
            GrantState.AGREEMENT, GrantState.CANCELLED, PO, requires_reason=True, label=_l("Cancel the grant")
        ),
        Transition(GrantState.ACTIVE, GrantState.SUSPENDED, PO, requires_reason=True, label=_l("Suspend")),
        Transition(GrantState.SUSPENDED, GrantState.ACTIVE, PO, label=_l("Resume")),
        Transition(
            GrantState.ACTIVE,
            GrantState.COMPLETED,
            PO,
            system=True,
            label=lazy_pgettext("grant action", "Complete"),
        ),
        Transition(GrantState.ACTIVE, GrantState.TERMINATED, PO, requires_reason=True, label=_l("Terminate")),
        Transition(
            GrantState.SUSPENDED, GrantState.TERMINATED, PO, requires_reason=True, label=_l("Terminate")
        ),
        Transition(GrantState.COMPLETED, GrantState.CLOSED, PO, guard=_settled, label=_l("Close")),
        Transition(GrantState.TERMINATED, GrantState.CLOSED, PO, guard=_settled, label=_l("Close")),
    ],
    label=_l("grant"),
)

TRANCHE_WORKFLOW = Workflow(
    "tranche",
    "state",
    [
        # Made by the system when the date has come and the gating report is accepted (operations check it).
        Transition(TrancheState.SCHEDULED, TrancheState.DUE, FINANCE | PO, system=True, label=_l("Mark due")),
        Transition(TrancheState.DUE, TrancheState.APPROVED, FINANCE, label=_l("Approve for payment")),
        Transition(
            TrancheState.APPROVED,
            TrancheState.DUE,
            FINANCE,
            requires_reason=True,
            label=_l("Withdraw the approval"),
        ),
        Transition(
            TrancheState.APPROVED, TrancheState.RELEASED, FINANCE, guard=_not_approver, label=_l("Release")
        ),
        Transition(
            TrancheState.SCHEDULED,
            TrancheState.CANCELLED,
            PO,
            system=True,
            requires_reason=True,
            label=_l("Cancel"),
        ),
        Transition(
            TrancheState.DUE,
            TrancheState.CANCELLED,
            PO,
            system=True,
            requires_reason=True,
            label=_l("Cancel"),
        ),
        Transition(
            TrancheState.APPROVED,
            TrancheState.CANCELLED,
            PO,
            system=True,
            requires_reason=True,
            label=_l("Cancel"),
        ),
    ],
    label=_l("tranche"),
)

REPORT_WORKFLOW = Workflow(
    "grant_report",
    "state",
    [
        Transition(ReportState.DUE, ReportState.SUBMITTED, GRANTEE, label=_l("Submit the report")),
        Transition(ReportState.CHANGES_REQUESTED, ReportState.SUBMITTED, GRANTEE, label=_l("Submit again")),
        Transition(ReportState.SUBMITTED, ReportState.ACCEPTED, PO, label=_l("Accept")),
        Transition(
            ReportState.SUBMITTED,
            ReportState.CHANGES_REQUESTED,
            PO,
            requires_reason=True,
            label=_l("Ask for changes"),
        ),
    ],
    label=_l("report"),
)
