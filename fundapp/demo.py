"""The demo fund loaded by ``fundapp seed-demo`` (and by ``make run`` on an empty database)."""

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for demo logins, never used in production


def seed_demo(session, force=False):
    raise NotImplementedError
