"""Factories for calls and proposals, shared by every test of the applications module.

``make_call()`` gives a published call that is open now; ``make_proposal(complete=True)`` fills every
section with valid content (through ``sections.clean_section``, so it is stored exactly as a save would).
"""

import copy
import itertools
from datetime import timedelta

from sqlalchemy import select

from fundapp.accounts.models import OrganisationType
from fundapp.applications.models import (
    Call,
    CallState,
    EligibilityQuestion,
    Proposal,
    ProposalSection,
    ProposalStage,
    ProposalState,
)
from fundapp.core.db import utcnow
from fundapp.core.permissions import Role
from fundapp.extensions import db
from tests.factories import make_applicant, make_organisation, make_user

_sequence = itertools.count(1)

#: Raw section input (as the editor posts it) that passes every check of ``missing_items``.
COMPLETE_CONTENT = {
    "summary": {
        "summary": "Protect Caspian seal haul-out sites on the Kazakh shelf with rangers and monitoring."
    },
    "problem": {
        "problem": "Caspian seals drown in illegal fishing nets and lose their ice breeding grounds.",
        "objectives": "Halve bycatch at the main haul-outs within three years.",
    },
    "logframe": {
        "objectives": [
            {
                "text": "Reduce seal bycatch",
                "outputs": [
                    {
                        "text": "Ranger patrols on the northern shelf",
                        "activities": [{"text": "Train 12 rangers"}, {"text": "Patrol the haul-outs weekly"}],
                    }
                ],
            }
        ],
        "indicators": [
            {
                "code": "individuals_counted",
                "name": "",
                "unit": "individuals",
                "baseline": "1200",
                "target": "1500",
                "verification": "Aerial survey report",
            },
            {
                "code": "",
                "name": "Nets removed",
                "unit": "nets",
                "baseline": "0",
                "target": "300",
                "verification": "Patrol logs",
            },
        ],
    },
    "sites": {
        "sites": [
            {
                "region": "KZ-47",
                "name": "Kenderli haul-out",
                "protected_area": "",
                "pa_category": "",
                "latitude": "43.65",
                "longitude": "51.17",
            }
        ]
    },
    "species": {
        "species": [{"scientific_name": "Pusa caspica", "common_name": "Caspian seal", "red_list": "EN"}]
    },
    "threats": {"threats": ["5.4"], "actions": ["1.1", "2.1"]},
    "gbf_targets": {"targets": ["3", "4"]},
    "timeline": {
        "start": "2026-09-01",
        "end": "2028-08-31",
        "milestones": [{"title": "Rangers trained", "date": "2027-03-01"}],
    },
    "team": {
        "members": [
            {"name": "Aigerim Sadykova", "role": "Project lead", "organisation": "", "time_share": "50"}
        ]
    },
    "risks": {
        "risks": [
            {"risk": "Poor ice season", "likelihood": "medium", "mitigation": "Survey by boat instead"}
        ],
        "safeguards": {
            "resettlement": {"answer": "no", "explanation": ""},
            "indigenous_peoples": {"answer": "no", "explanation": ""},
            "protected_areas": {"answer": "yes", "explanation": "Patrols inside the state nature reserve."},
            "pesticides": {"answer": "no", "explanation": ""},
            "cultural_heritage": {"answer": "no", "explanation": ""},
            "labour_risks": {"answer": "no", "explanation": ""},
        },
    },
    "budget": {
        "lines": [
            {
                "category": "staff",
                "description": "Rangers' salaries",
                "unit": "month",
                "unit_cost": "250000.00",
                "quantity": "24",
                "year": "1",
                "cofinancing": "1000000.00",
            },
            {
                "category": "equipment",
                "description": "Boat and engine",
                "unit": "set",
                "unit_cost": "3500000.50",
                "quantity": "1",
                "year": "1",
                "cofinancing": "0",
            },
        ]
    },
}


def complete_content(key):
    """A fresh copy of the complete raw input of section ``key``."""
    return copy.deepcopy(COMPLETE_CONTENT[key])


def make_officer(**fields):
    return make_user(roles=(Role.PROGRAMME_OFFICER,), **fields)


def make_call(*, questions=None, funded=True, **overrides):
    """A published call, open now (opened yesterday, closes in 30 days), in KZT.

    ``questions``: a list of dicts of EligibilityQuestion fields; by default one question whose "no"
    answer disqualifies. ``funded``: a funding pool restricted to the call holds its whole envelope, so the
    board can approve up to it (False: no pool, the fund has received nothing for it).
    """
    n = next(_sequence)
    now = utcnow()
    fields = {
        "reference": f"CALL-T-{n:04d}",
        "title": f"Caspian and steppe conservation {n}",
        "description_html": "<p>Grants for the Caspian seal and the saiga.</p>",
        "state": CallState.PUBLISHED,
        "themes": ["marine_mammals", "steppe_ungulates"],
        "eligible_org_types": [t.value for t in OrganisationType],
        "currency": "KZT",
        "grant_min_minor": 1_000_000_00,
        "grant_max_minor": 20_000_000_00,
        "envelope_minor": 100_000_000_00,
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=30),
        "stages": 1,
        "cofinancing_min_percent": 0,
        "required_attachments": ["registration_certificate"],
        "published_at": now - timedelta(days=1),
    }
    fields.update(overrides)
    if "created_by" not in fields and "created_by_id" not in fields:
        fields["created_by"] = make_officer()
    created_by = fields.pop("created_by", None)
    call = Call(**fields)
    if created_by is not None:
        call.created_by_id = created_by.id
    if questions is None:
        questions = [
            {
                "text": "Is your organisation registered in Kazakhstan?",
                "disqualifying_answer": False,
                "explanation": "Only organisations registered in Kazakhstan can apply to this call.",
            }
        ]
    for position, question in enumerate(questions):
        call.questions.append(EligibilityQuestion(position=position, **question))
    db.session.add(call)
    db.session.flush()
    if funded:
        fund_call(call)
    return call


def fund_call(call, amount_minor=None):
    """A pool restricted to ``call`` with ``amount_minor`` (default: the envelope) received into it."""
    from fundapp.core.money import Money
    from fundapp.disbursements.models import Restriction
    from fundapp.disbursements.pools import create_pool, receive_funds

    pool = create_pool(
        db.session,
        None,
        code=f"P-{call.reference}",
        name=f"Pool of {call.reference}",
        currency=call.currency,
        restriction=Restriction.CALL,
        call=call,
    )
    amount_minor = call.envelope_minor if amount_minor is None else amount_minor
    if not amount_minor:
        return pool
    receive_funds(
        db.session,
        None,
        pool,
        Money(call.envelope_minor if amount_minor is None else amount_minor, call.currency),
        bank_reference=f"FUND-{call.reference}",
    )
    return pool


def passing_answers(call):
    """Answers to every question of ``call`` that disqualify nobody, keyed by question id (str)."""
    return {
        str(q.id): (not q.disqualifying_answer if q.disqualifying_answer is not None else True)
        for q in call.questions
    }


def _next_reference():
    from fundapp.applications.operations import next_proposal_reference

    return next_proposal_reference(db.session)


def make_proposal(call=None, organisation=None, state=ProposalState.DRAFT, complete=False, **overrides):
    """A proposal of ``organisation`` (default: a new applicant's) in ``call`` (default: a new open call).

    Every section exists (version 0, empty); with ``complete=True`` each holds valid content (version 1)
    and the tags and totals are computed, so ``missing_items`` returns nothing.
    """
    from fundapp.applications import sections

    call = call or make_call()
    if organisation is None:
        organisation = make_applicant().primary_organisation
    creator_id = overrides.pop("created_by_id", None)
    if creator_id is None:
        creator = overrides.pop("created_by", None) or next((m.user for m in organisation.memberships), None)
        creator_id = (creator or make_user()).id
    fields = {
        "reference": _next_reference(),
        "call_id": call.id,
        "organisation_id": organisation.id,
        "stage": ProposalStage.CONCEPT if call.stages == 2 else ProposalStage.FULL,
        "state": state,
        "title": "Seal haul-outs of the northern Caspian",
        "theme": call.themes[0] if call.themes else None,
        "eligibility_answers": passing_answers(call),
        "currency": call.currency,
        "created_by_id": creator_id,
    }
    fields.update(overrides)
    proposal = Proposal(**fields)
    for key in sections.SECTION_KEYS:
        proposal.sections.append(ProposalSection(key=key, content={}, version=0))
    db.session.add(proposal)
    db.session.flush()
    if complete:
        for section in proposal.sections:
            content, errors = sections.clean_section(
                section.key, complete_content(section.key), currency=proposal.currency
            )
            assert not errors, errors
            section.content = content
            section.version = 1
            section.updated_by_id = creator_id
        sections.refresh_derived(db.session, proposal)
        db.session.flush()
    return proposal


def make_member_proposal(**kwargs):
    """A proposal and a user who is a member of its organisation: ``(proposal, user)``."""
    user = make_applicant()
    proposal = make_proposal(organisation=user.primary_organisation, created_by=user, **kwargs)
    return proposal, user


def make_outsider():
    """An applicant of another organisation."""
    user = make_user(roles=(Role.APPLICANT,))
    make_organisation(managers=[user])
    return user


def get_proposal(reference):
    return db.session.scalar(select(Proposal).where(Proposal.reference == reference))
