"""``fundapp bench seed`` refuses what it cannot do, and writes nothing then."""

from sqlalchemy import func, select

from fundapp.applications.models import Proposal
from fundapp.extensions import db as _db
from tests import factories
from tests.bench.test_seed import SMALL, _options


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_the_command_refuses_sizes_that_do_not_fit_and_writes_nothing(runner):
    result = runner.invoke(args=["bench", "seed", "--calls", "3"])
    assert result.exit_code == 2
    assert "calls must be at least 4" in result.output
    assert count(_db.session, Proposal) == 0


def test_the_command_refuses_a_database_that_holds_users(runner, db):

    factories.make_user()
    db.session.commit()
    result = runner.invoke(args=["bench", "seed", *_options(SMALL)])
    assert result.exit_code == 1
    assert "already holds users" in result.output
    assert count(db.session, Proposal) == 0
