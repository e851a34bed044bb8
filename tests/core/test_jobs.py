"""Background jobs: inline without Redis, on RQ with it; the same JobResult either way."""

import os
import signal

import pytest
from flask import current_app, has_request_context
from sqlalchemy import func, select

from fundapp.core.jobs import enqueue, fetch_job, get_queue, get_redis
from fundapp.core.storage import StoredFile
from fundapp.extensions import db as _db

TEST_REDIS_URL = os.environ.get("FUNDAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


# Jobs must be module-level functions: the worker imports them by path.
def add(a, b):
    return a + b


def divide(a, b):
    return a / b


def describe_context():
    """What a job sees: an app context without a request, and a database session."""
    count = _db.session.scalar(select(func.count()).select_from(StoredFile))
    return {
        "fund": current_app.config["FUND_SHORT_NAME"],
        "request": has_request_context(),
        "stored_files": count,
        "session": id(_db.session()),
    }


@pytest.fixture
def redis_queue(app, db, monkeypatch):
    """The app switched to RQ on a flushed test database of Redis (db 15)."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    probe = Redis.from_url(TEST_REDIS_URL)
    try:
        probe.ping()
    except RedisConnectionError as error:
        message = f"Redis is not reachable at {TEST_REDIS_URL}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        probe.close()

    monkeypatch.setitem(app.config, "REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setitem(app.extensions, "fundapp_redis", {})
    redis = get_redis(app)
    redis.flushdb()
    # An rq worker installs its own SIGINT/SIGTERM handlers; give pytest its own back afterwards.
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield get_queue(app)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
        redis.flushdb()
        redis.close()


def work_burst(queue):
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)


def test_inline_job_runs_at_once_and_returns_its_result(db):
    job = enqueue(add, 2, 3)

    assert job.status == "finished"
    assert job.result == 5
    assert job.exc_info is None


def test_inline_job_can_be_fetched_by_id(db):
    job = enqueue(add, 40, b=2)

    fetched = fetch_job(job.id)

    assert fetched.status == "finished"
    assert fetched.result == 42


def test_inline_failure_is_recorded_not_raised(db):
    job = enqueue(divide, 1, 0)

    assert job.status == "failed"
    assert job.result is None
    assert "ZeroDivisionError" in job.exc_info


def test_inline_job_has_app_context_and_its_own_session(db):
    job = enqueue(describe_context)

    assert job.result["fund"] == "IBF"
    assert job.result["request"] is False
    assert job.result["stored_files"] == 0
    assert job.result["session"] != id(db.session())


def test_job_given_by_dotted_path_runs(db):
    job = enqueue("tests.core.test_jobs:add", 1, 1)

    assert job.result == 2


def test_unknown_job_is_none(db):
    assert fetch_job("no-such-job") is None


def test_lambda_is_refused_as_a_job(db):
    with pytest.raises(ValueError, match="module-level function"):
        enqueue(lambda: 1)


def test_orm_object_is_refused_as_a_job_argument(db):
    with pytest.raises(TypeError, match="pass ids"):
        enqueue(add, StoredFile(original_name="x.pdf"), 1)


def test_redis_job_is_queued_then_run_by_a_worker(redis_queue):
    job = enqueue(add, 2, 3)

    assert job.status == "queued"
    assert fetch_job(job.id).status == "queued"
    assert redis_queue.count == 1

    work_burst(redis_queue)

    finished = fetch_job(job.id)
    assert finished.status == "finished"
    assert finished.result == 5
    assert redis_queue.count == 0


def test_redis_job_runs_in_an_app_context(redis_queue):
    job = enqueue(describe_context)

    work_burst(redis_queue)

    result = fetch_job(job.id).result
    assert result["fund"] == "IBF"
    assert result["request"] is False


def test_redis_job_failure_is_fetched_with_its_traceback(redis_queue):
    job = enqueue(divide, 1, 0)

    work_burst(redis_queue)

    failed = fetch_job(job.id)
    assert failed.status == "failed"
    assert failed.result is None
    assert "ZeroDivisionError" in failed.exc_info


def test_unknown_redis_job_is_none(redis_queue):
    assert fetch_job("no-such-job") is None


def test_worker_command_runs_queued_jobs_in_burst_mode(redis_queue, runner):
    job = enqueue(add, 20, 22)

    result = runner.invoke(args=["worker", "--burst"])

    assert result.exit_code == 0, result.output
    assert fetch_job(job.id).result == 42


def test_worker_command_without_redis_explains_why(runner, app):
    assert not app.config["REDIS_URL"]

    result = runner.invoke(args=["worker", "--burst"])

    assert result.exit_code == 1
    assert "FUNDAPP_REDIS_URL is not set" in result.output
