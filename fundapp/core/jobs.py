"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, otherwise run inline at once.

A job is a module-level function called with plain arguments (ids, strings, numbers), never ORM objects:
the worker is another process with its own database session. The function runs inside an app context
with a session of its own, and commits its own work. Enqueue after the request's commit, so the job sees
what the request wrote, exactly as a worker on another machine would.

Both modes hand back a :class:`JobResult` snapshot (``id``, ``status``, ``result``, ``exc_info``);
:func:`fetch_job` returns a fresh one by id. (RQ 2's own ``Job.result`` and ``Job.exc_info`` are
deprecated; the snapshot reads ``return_value()`` and ``latest_result()`` instead.)

Run workers with ``fundapp worker`` (``--burst`` to stop when the queue is empty).
"""

import importlib
import logging
import os
import traceback
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app, has_app_context
from flask.cli import with_appcontext

from fundapp.core.db import utcnow

log = logging.getLogger(__name__)

QUEUE_NAME = "fundapp"
#: Long enough for the biggest board pack; a job running longer is stopped by the worker.
JOB_TIMEOUT = 30 * 60
RESULT_TTL = 24 * 60 * 60
FAILURE_TTL = 7 * 24 * 60 * 60
#: Inline results kept for fetch_job, per app process.
INLINE_RESULTS_KEPT = 500


@dataclass
class JobResult:
    """What is known about a job: the same few attributes in inline and RQ mode."""

    id: str
    #: "queued", "started", "deferred", "scheduled", "finished", "failed", "stopped" or "canceled".
    status: str
    result: Any = None
    #: The formatted traceback of a failed job.
    exc_info: str | None = None
    func_path: str = ""
    enqueued_at: datetime | None = field(default=None)
    ended_at: datetime | None = field(default=None)

    @property
    def is_finished(self):
        return self.status == "finished"

    @property
    def is_failed(self):
        return self.status == "failed"

    @classmethod
    def from_rq(cls, job):
        status = job.get_status(refresh=True)
        status = getattr(status, "value", status) or "queued"
        failure = job.latest_result() if status == "failed" else None
        return cls(
            id=job.id,
            status=status,
            result=job.return_value() if status == "finished" else None,
            exc_info=getattr(failure, "exc_string", None),
            func_path=job.args[0] if job.args else "",
            enqueued_at=_aware(job.enqueued_at),
            ended_at=_aware(job.ended_at),
        )


def enqueue(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` in the background (RQ) or now (inline); return a :class:`JobResult`.

    ``func`` is a module-level function or its dotted path ``"package.module:function"``.
    """
    func_path = function_path(func)
    _refuse_orm_arguments(args, kwargs)
    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        queue = get_queue(app)
        job = queue.enqueue(
            run_in_app,
            args=(func_path, *args),
            kwargs=kwargs,
            job_timeout=JOB_TIMEOUT,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=func_path,
        )
        return JobResult.from_rq(job)
    return _run_inline(app, func_path, args, kwargs)


def fetch_job(job_id):
    """The current state of a job enqueued by :func:`enqueue`, or None if it is unknown (or expired)."""
    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            return JobResult.from_rq(Job.fetch(job_id, connection=get_redis(app)))
        except NoSuchJobError:
            return None
    return _inline_results(app).get(job_id)


def run_in_app(func_path, *args, **kwargs):
    """Call the function at ``func_path`` inside an app context with a fresh database session.

    This is what RQ workers execute. In ``fundapp worker`` (and inline mode) the app already exists;
    a bare ``rq worker`` process gets one app created on first use.
    """
    func = resolve_function(func_path)
    app = current_app._get_current_object() if has_app_context() else _process_app()
    with app.app_context():
        _forget_inherited_connections()
        return func(*args, **kwargs)


def function_path(func):
    """``"module:qualname"`` for a module-level function; ValueError for lambdas, closures, methods."""
    if isinstance(func, str):
        resolve_function(func)
        return func
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", "")
    if not module or not qualname or "<" in qualname or "." in qualname:
        raise ValueError(f"a job must be a module-level function, not {func!r}")
    if module == "__main__":
        raise ValueError("a job function must live in an importable module, not __main__")
    return f"{module}:{qualname}"


def resolve_function(func_path):
    module_name, _, name = func_path.partition(":")
    if not name:
        raise ValueError(f"job function path must look like 'package.module:function', not {func_path!r}")
    func = getattr(importlib.import_module(module_name), name, None)
    if not callable(func):
        raise ValueError(f"no function {name!r} in {module_name}")
    return func


def get_redis(app=None):
    """The Redis client for ``REDIS_URL`` (one per app)."""
    from redis import Redis

    app = app or current_app
    url = app.config["REDIS_URL"]
    clients = app.extensions.setdefault("fundapp_redis", {})
    if url not in clients:
        clients[url] = Redis.from_url(url)
    return clients[url]


def get_queue(app=None):
    from rq import Queue

    return Queue(QUEUE_NAME, connection=get_redis(app))


def _run_inline(app, func_path, args, kwargs):
    job = JobResult(id=uuid.uuid4().hex, status="started", func_path=func_path, enqueued_at=utcnow())
    try:
        job.result = run_in_app(func_path, *args, **kwargs)
    except Exception:
        log.exception("inline job %s (%s) failed", job.id, func_path)
        job.status = "failed"
        job.exc_info = traceback.format_exc()
    else:
        job.status = "finished"
    job.ended_at = utcnow()
    results = _inline_results(app)
    results[job.id] = job
    while len(results) > INLINE_RESULTS_KEPT:
        results.popitem(last=False)
    return job


def _inline_results(app):
    return app.extensions.setdefault("fundapp_inline_jobs", OrderedDict())


def _refuse_orm_arguments(args, kwargs):
    for value in (*args, *kwargs.values()):
        if hasattr(value, "_sa_instance_state"):
            raise TypeError(
                f"pass ids to a job, not ORM objects ({type(value).__name__}): "
                "the job runs with its own session"
            )


def _aware(moment):
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


_app_for_process = None
#: The pid of the ``fundapp worker`` process; a job running in another pid is in a forked work horse.
_worker_pid = None


def _process_app():
    global _app_for_process
    if _app_for_process is None:
        from fundapp import create_app

        _app_for_process = create_app()
    return _app_for_process


def _forget_inherited_connections():
    """In a forked work horse, drop (without closing) the pool connections inherited from the worker.

    Two processes on one database connection corrupt each other's conversation (SQLAlchemy's advice
    for forking: ``engine.dispose(close=False)`` in the child).
    """
    if _worker_pid is None or os.getpid() == _worker_pid:
        return
    from fundapp.extensions import db

    for engine in db.engines.values():
        if hasattr(engine, "dispose"):
            engine.dispose(close=False)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty instead of waiting for jobs.")
@with_appcontext
def worker_command(burst):
    """Run a background worker on the fund's job queue (needs FUNDAPP_REDIS_URL)."""
    global _worker_pid
    from rq import Worker

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            "FUNDAPP_REDIS_URL is not set. Without Redis, jobs run inline and no worker is needed."
        )
    _worker_pid = os.getpid()
    worker = Worker([get_queue(app)], connection=get_redis(app))
    click.echo(f"Worker {worker.name} listening on queue {QUEUE_NAME!r}" + (" (burst)" if burst else ""))
    worker.work(burst=burst, with_scheduler=False)
