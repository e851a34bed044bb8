"""``fundapp summary``: counts of what the fund holds. Each module registers its own counters."""

from sqlalchemy import func, select

_COUNTERS = {}


def register_counter(name, counter):
    """``counter(session)`` returns an int or a dict of counts by state (with a ``total``)."""
    _COUNTERS[name] = counter


def count_by_state(model, state_column):
    """A counter giving, for ``model``, the total and the count per value of ``state_column``."""

    def counter(session):
        rows = session.execute(select(state_column, func.count()).select_from(model).group_by(state_column))
        counts = {str(getattr(state, "value", state)): count for state, count in rows}
        counts["total"] = sum(counts.values())
        return counts

    return counter


def count_rows(model):
    def counter(session):
        return session.scalar(select(func.count()).select_from(model))

    return counter


def collect_summary(session):
    return {name: counter(session) for name, counter in sorted(_COUNTERS.items())}
