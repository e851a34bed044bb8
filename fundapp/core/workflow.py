"""The workflow engine: one transition table per entity, one function that moves an entity along it.

A module declares its states as an Enum and its moves as a ``Workflow``::

    PROPOSAL_WORKFLOW = Workflow("proposal", "state", [
        Transition(ProposalState.DRAFT, ProposalState.SUBMITTED, {Role.APPLICANT}, guard=_complete),
        Transition(ProposalState.SUBMITTED, ProposalState.ELIGIBLE, {Role.PROGRAMME_OFFICER}),
        Transition(ProposalState.SUBMITTED, ProposalState.WITHDRAWN, {Role.APPLICANT}),
        ...
    ])

and its operations call ``transition(session, PROPOSAL_WORKFLOW, proposal, ProposalState.SUBMITTED, user)``.
That checks the move is in the table, the actor holds one of its roles and its guard agrees, then sets the
state and writes the audit event ``proposal.submitted``; a refused move raises ``IllegalTransition`` with
a message a person can act on and changes nothing. ``can``, ``allowed_targets`` and ``refusal`` answer
the same questions without moving anything, for ``can_<verb>`` methods and templates.

A guard is ``guard(entity, actor)`` returning ``None`` to allow the move or a message saying why not.
``actor`` is a user, or ``None`` for the system itself (scheduled jobs), which may make only the moves
marked ``system=True``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import inspect

from fundapp.core.audit import record_event
from fundapp.core.errors import DomainError
from fundapp.core.permissions import Role


class IllegalTransition(DomainError):
    """A move the transition table, the actor's roles or a guard does not allow; nothing was changed."""

    def __init__(self, message, *, source=None, target=None, field=None):
        super().__init__(message, field=field)
        self.source = source
        self.target = target


def state_label(state):
    """How a state reads to a person: the member's ``label`` if it has one, else its value humanised."""
    label = getattr(state, "label", None)
    if label is not None:
        return str(label)
    text = state.value if isinstance(state.value, str) else state.name
    text = text.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:].lower()


def _join(labels, conjunction):
    labels = [str(label) for label in labels]
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} {conjunction} {labels[-1]}"


def _roles_text(move):
    """The roles that may make ``move``, as "Admin or Programme officer"."""
    conjunction = _("or")
    return _join(sorted(str(role.label) for role in move.roles), conjunction)


@dataclass(frozen=True)
class Transition:
    """One allowed move: from ``source`` to ``target``, by someone holding one of ``roles``.

    ``system=True`` lets the system (actor ``None``) make the move as well; a move with no roles is made
    by the system only. ``guard(entity, actor)`` returns ``None`` or the reason the move cannot happen now.
    ``requires_reason`` refuses the move without a written reason (rejections, requests for changes).
    ``label`` names the action on a button ("Submit"); it defaults to the target state's label.
    """

    source: Enum
    target: Enum
    roles: frozenset = field(default_factory=frozenset)
    guard: Callable[[Any, Any], str | None] | None = None
    label: str | None = None
    system: bool = False
    requires_reason: bool = False

    def __post_init__(self):
        if type(self.source) is not type(self.target):
            raise TypeError(f"a transition joins states of one enum, not {self.source!r} and {self.target!r}")
        if self.source == self.target:
            raise ValueError(f"a transition must change the state, not leave it at {self.source!r}")
        object.__setattr__(self, "roles", frozenset(Role(role) for role in self.roles))
        if not self.roles and not self.system:
            raise ValueError(
                f"the transition {self.source.value} -> {self.target.value} names no role and is not a "
                "system transition, so nobody could make it"
            )

    @property
    def action_label(self):
        return str(self.label) if self.label is not None else state_label(self.target)


class Workflow:
    """The transition table of one kind of entity, whose state is held in ``state_attribute``.

    ``name`` prefixes the audit actions (``"proposal"`` gives ``proposal.submitted``); ``label`` is how
    messages name the entity (defaults to ``name`` with spaces for underscores; pass a lazy string).
    """

    def __init__(self, name, state_attribute, transitions: Iterable[Transition], *, label=None):
        self.name = name
        self.state_attribute = state_attribute
        self.label = label if label is not None else name.replace("_", " ")
        self.transitions = tuple(transitions)
        if not self.transitions:
            raise ValueError(f"the {name} workflow has no transitions")
        self.states = type(self.transitions[0].source)
        self._moves = {}
        for move in self.transitions:
            if type(move.source) is not self.states:
                raise TypeError(f"the {name} workflow mixes states of {self.states.__name__} and others")
            key = (move.source, move.target)
            if key in self._moves:
                raise ValueError(
                    f"the {name} workflow lists {move.source.value} -> {move.target.value} twice"
                )
            self._moves[key] = move

    def __repr__(self):
        return f"<Workflow {self.name}: {len(self.transitions)} transitions>"

    # -- reading the table ----------------------------------------------------------------------------

    def state_of(self, entity):
        state = getattr(entity, self.state_attribute)
        return state if isinstance(state, self.states) else self.states(state)

    def find(self, source, target):
        """The transition from ``source`` to ``target``, or ``None`` if the table has no such move."""
        return self._moves.get((source, target))

    def moves_from(self, state):
        """Every transition out of ``state``, in table order, whoever may make it."""
        return [move for move in self.transitions if move.source == state]

    # -- asking without moving ------------------------------------------------------------------------

    def refusal(self, entity, target, actor, *, reason=None, check_reason=False):
        """Why ``actor`` cannot move ``entity`` to ``target`` now, as a message; ``None`` if they can.

        ``reason`` is checked only when ``check_reason`` is set (a form may ask for it after the button).
        """
        error = self._refusal(entity, target, actor, reason=reason, check_reason=check_reason)
        return None if error is None else error.message

    def can(self, entity, target, actor):
        """Whether ``actor`` may move ``entity`` to ``target`` now (roles and guard; no reason needed)."""
        return self._refusal(entity, target, actor) is None

    def allowed_transitions(self, entity, actor):
        """The transitions ``actor`` may make from the entity's current state, in table order."""
        state = self.state_of(entity)
        return [move for move in self.moves_from(state) if self._refusal(entity, move.target, actor) is None]

    def allowed_targets(self, entity, actor):
        """The states ``actor`` may move ``entity`` to now, in table order."""
        return [move.target for move in self.allowed_transitions(entity, actor)]

    def _refusal(self, entity, target, actor, *, reason=None, check_reason=False):
        """The ``IllegalTransition`` this move would raise, or ``None``."""
        source = self.state_of(entity)
        entity_label = str(self.label)
        try:
            target = target if isinstance(target, self.states) else self.states(target)
        except ValueError:
            return IllegalTransition(
                _(
                    "“%(target)s” is not a state this %(entity)s can have.",
                    target=target,
                    entity=entity_label,
                ),
                source=source,
            )
        names = {"entity": entity_label, "source": state_label(source), "target": state_label(target)}
        if source == target:
            return IllegalTransition(
                _("This %(entity)s is already %(target)s.", **names), source=source, target=target
            )
        move = self.find(source, target)
        if move is None:
            onward = [state_label(other.target) for other in self.moves_from(source)]
            if onward:
                message = _(
                    "This %(entity)s is %(source)s, so it cannot become %(target)s. "
                    "From %(source)s it can become: %(onward)s.",
                    onward=", ".join(onward),
                    **names,
                )
            else:
                message = _(
                    "This %(entity)s is %(source)s, so it cannot become %(target)s: "
                    "from %(source)s it does not change any more.",
                    **names,
                )
            return IllegalTransition(message, source=source, target=target)
        if actor is None:
            if not move.system:
                return IllegalTransition(
                    _(
                        "Moving this %(entity)s from %(source)s to %(target)s must be done by a person "
                        "(%(roles)s), not automatically.",
                        roles=_roles_text(move),
                        **names,
                    ),
                    source=source,
                    target=target,
                )
        elif not move.roles:
            return IllegalTransition(
                _(
                    "This %(entity)s moves from %(source)s to %(target)s automatically; "
                    "it cannot be done by hand.",
                    **names,
                ),
                source=source,
                target=target,
            )
        elif not move.roles & set(getattr(actor, "roles", ())):
            return IllegalTransition(
                _(
                    "Moving this %(entity)s from %(source)s to %(target)s needs the role %(roles)s, "
                    "which you do not have.",
                    roles=_roles_text(move),
                    **names,
                ),
                source=source,
                target=target,
            )
        if check_reason and move.requires_reason and not (reason or "").strip():
            return IllegalTransition(
                _("Give a reason for moving this %(entity)s to %(target)s.", **names),
                source=source,
                target=target,
                field="reason",
            )
        if move.guard is not None:
            why_not = move.guard(entity, actor)
            if why_not:
                return IllegalTransition(str(why_not), source=source, target=target)
        return None


def transition(session, workflow, entity, target, actor, *, reason=None, context=None, lock=True):
    """Move ``entity`` to ``target`` along ``workflow`` on behalf of ``actor`` (``None``: the system).

    Checks, in order: the move is in the table, the actor may make it, a reason is given if the move
    requires one, and the guard agrees. Only then sets the state and records the audit event
    ``<workflow>.<target>`` with ``before={"state": ...}`` and ``after={"state": ..., "reason": ...}``
    (plus ``"context"``, a JSON-able dict of details such as a meeting id, when given). Returns the audit
    event. Raises ``IllegalTransition`` and changes nothing if the move is refused. Never commits.

    With ``lock`` (the default), a persistent entity's state is re-read under a row lock
    (``SELECT ... FOR UPDATE`` on PostgreSQL) before the check, so two concurrent requests cannot both
    make the same move (say, release one tranche twice): the second waits, sees the new state and is
    refused. The session is flushed first, so pending changes to the entity are kept.
    """
    instance_state = inspect(entity, raiseerr=False)
    if lock and instance_state is not None and instance_state.persistent and entity in session:
        session.flush()
        session.refresh(entity, attribute_names=[workflow.state_attribute], with_for_update=True)

    source = workflow.state_of(entity)
    error = workflow._refusal(entity, target, actor, reason=reason, check_reason=True)
    if error is not None:
        raise error
    target = target if isinstance(target, workflow.states) else workflow.states(target)

    setattr(entity, workflow.state_attribute, target)
    after = {"state": target.value, "reason": (reason or "").strip() or None}
    if context:
        after["context"] = context
    return record_event(
        session, actor, entity, f"{workflow.name}.{target.value}", before={"state": source.value}, after=after
    )
