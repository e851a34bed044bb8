"""The fundapp command line: create-user, summary, seed-demo."""

import json

from sqlalchemy import select

from fundapp.accounts.models import User
from fundapp.accounts.passwords import verify_password
from fundapp.core.permissions import Role
from fundapp.demo import DEMO_PASSWORD
from tests.factories import make_applicant


def test_create_user_reads_the_password_from_stdin(runner, db):
    result = runner.invoke(
        args=["create-user", "Olga@Example.org", "--role", "reviewer", "--role", "board_member"],
        input="a long enough password\n",
    )

    assert result.exit_code == 0, result.output
    assert "Created olga@example.org" in result.output
    user = db.session.scalar(select(User).where(User.email == "olga@example.org"))
    assert user.roles == {Role.REVIEWER, Role.BOARD_MEMBER}
    assert verify_password(user.password_hash, "a long enough password")


def test_create_user_refuses_an_unknown_role(runner, db):
    result = runner.invoke(
        args=["create-user", "x@example.org", "--role", "emperor"], input="a long enough password\n"
    )

    assert result.exit_code == 2
    assert "unknown role" in result.output
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_create_user_refuses_a_short_password_and_a_duplicate(runner, db):
    existing = make_applicant()
    db.session.commit()

    short = runner.invoke(args=["create-user", "y@example.org", "--role", "admin"], input="short\n")
    duplicate = runner.invoke(
        args=["create-user", existing.email, "--role", "admin"], input="a long enough password\n"
    )

    assert short.exit_code == 1 and "at least 10 characters" in short.output
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output


def test_summary_json_counts_by_entity_and_state(runner, db):
    make_applicant()
    make_applicant()
    db.session.commit()

    result = runner.invoke(args=["summary", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["users"] == 2
    assert summary["users_by_role"] == {"applicant": 2, "total": 2}
    assert summary["organisations_by_type"]["ngo"] == 2


def test_seed_demo_loads_people_in_every_role_once(runner, db):
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])

    assert first.exit_code == 0, first.output
    assert "admin@ibf.example" in first.output and DEMO_PASSWORD in first.output
    users = db.session.scalars(select(User)).all()
    held = set().union(*(user.roles for user in users))
    assert held == set(Role)
    assert "not loaded" in second.output
    assert len(db.session.scalars(select(User)).all()) == len(users)
    admin = db.session.scalar(select(User).where(User.email == "admin@ibf.example"))
    assert verify_password(admin.password_hash, DEMO_PASSWORD)
