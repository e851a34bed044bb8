"""The app under load: gunicorn with two workers on PostgreSQL, driven by wrk on loopback (issue 8).

    .venv/bin/python bench/load.py --database-url postgresql://postgres@127.0.0.1:5432/fundapp_bench
    .venv/bin/python bench/load.py --database-url ... --email officer@ibf.example \\
        --password demo-password-2026 --duration 20

The database must exist and hold data already (``fundapp bench seed``, or ``fundapp seed-demo`` for a
try-out): the script creates nothing in it and writes nothing but the officer's login. It then:

1. starts gunicorn as in production (``FUNDAPP_CONFIG=production``, a random secret key, the given
   database, a temporary instance and storage folder, no Redis, mail to files) with two sync workers on
   127.0.0.1 and a free port, and waits until ``GET /healthz`` answers;
2. logs in as a programme officer through the login form (GET the page, take the CSRF token, POST) and
   keeps the session cookie; picks the proposal with the most submitted reviews and checks that
   ``/officer/proposals/<id>`` answers 200 with that cookie;
3. runs wrk (``--threads`` 2, ``--connections`` 8 by default) for a short warm-up, then ``--duration``
   seconds, first against the floor, ``/healthz`` (no login, no template, no query: what gunicorn, Flask
   and the request hooks cost), then against the proposal page with the cookie. A Lua script counts the
   answers by status: anything but 200 is an error, a 302 to the login page included;
4. stops gunicorn (also on Ctrl-C or an error), counts the error lines in its log, prints a summary and
   writes bench/results/load-postgresql.json.

Target: no errors, and the proposal page at least half the floor's requests per second.

Other scripts can call ``run_load(database_url, duration=..., ...)``, which returns the result written.
wrk is Debian's package ``wrk`` (``apt-get install -y wrk``).
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from http.cookies import SimpleCookie
from importlib.metadata import version as package_version
from pathlib import Path

from _common import ROOT, machine, server_version, write_result
from sqlalchemy import create_engine, text

import config

OFFICER_EMAIL = "officer@bench.example"
OFFICER_PASSWORD = "bench-password-2026"  # noqa: S105 - the login `fundapp bench seed` creates
WORKERS = 2
THREADS = 2
HOST = "127.0.0.1"
#: Sent at login and by wrk: Flask-Login ties the session to the address and the user agent, and a
#: mismatch would rewrite the session cookie on every answer.
USER_AGENT = "fundapp-bench-load"
TARGET_RATIO = 0.5
PERCENTILES = (50, 75, 90, 99)
#: Lines of gunicorn's log (its own messages, the app's log and anything printed) that count as errors.
LOG_ERROR = re.compile(
    r"\[(ERROR|CRITICAL)\]|\bERROR in \w|Traceback \(most recent call last\)|WORKER TIMEOUT"
)
WRK_MISSING = "wrk is not installed: install Debian's package with `apt-get install -y wrk` (as root)"
GUNICORN = Path(sys.executable).with_name("gunicorn")

#: Counts the answers by status in every wrk thread; done() prints the figures as one JSON line.
WRK_SCRIPT = """
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    statuses = {}
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local merged = {}
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            merged[status] = (merged[status] or 0) + count
        end
    end
    local parts = {}
    for status, count in pairs(merged) do
        table.insert(parts, string.format('"%d": %d', status, count))
    end
    local errors = summary.errors
    io.write(string.format(
        'FUNDAPP_LOAD {"duration_us": %d, "requests": %d, "bytes": %d, "statuses": {%s}, '
            .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
            .. '"non_2xx_3xx": %d, "latency_us": {"p50": %d, "p75": %d, "p90": %d, "p99": %d, '
            .. '"mean": %d, "max": %d}}\\n',
        summary.duration, summary.requests, summary.bytes, table.concat(parts, ", "),
        errors.connect, errors.read, errors.write, errors.timeout, errors.status,
        latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99),
        latency.mean, latency.max))
end
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        required=True,
        help="an existing, populated PostgreSQL database (nothing is created)",
    )
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per page (default 60)")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections (default 8)")
    parser.add_argument("--threads", type=int, default=THREADS, help=f"wrk's threads (default {THREADS})")
    parser.add_argument("--warm-up", type=int, default=5, help="seconds of unrecorded load first (default 5)")
    parser.add_argument("--timeout", type=int, default=2, help="seconds after which wrk counts a timeout")
    parser.add_argument(
        "--email", default=OFFICER_EMAIL, help=f"a programme officer (default {OFFICER_EMAIL})"
    )
    parser.add_argument("--password", default=OFFICER_PASSWORD)
    parser.add_argument("--proposal", type=int, help="the proposal id to load (default: most reviews)")
    return parser.parse_args(argv)


# -- the server ---------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_environment(database_url, instance):
    """The production settings for the gunicorn child: nothing of this shell's FUNDAPP_* settings leaks in
    (no Redis: rate limits in memory, no job queue)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("FUNDAPP_")}
    environment.update(
        FUNDAPP_CONFIG="production",
        FUNDAPP_SECRET_KEY=secrets.token_hex(32),
        FUNDAPP_DATABASE_URL=database_url,
        FUNDAPP_INSTANCE_PATH=str(instance),
        FUNDAPP_STORAGE_PATH=str(instance / "files"),
        # Nothing on these pages sends mail; if something did, it lands in instance/outbox/.
        FUNDAPP_MAIL_BACKEND="file",
    )
    return environment


@contextmanager
def gunicorn(database_url, log_path):
    """gunicorn serving the app with WORKERS sync workers on HOST and a free port; yields (port, pid).

    Sync workers, as in the README's production command: one request at a time per process, which is how
    the app is written (a request-scoped session, no async code). Connections beyond the workers wait in
    the listen backlog, and wrk's latency includes that wait."""
    if not GUNICORN.exists():
        raise SystemExit(f"{GUNICORN} is missing: run `make install`")
    instance = Path(tempfile.mkdtemp(prefix="fundapp-load-instance-"))
    port = free_port()
    command = [
        str(GUNICORN),
        "--workers", str(WORKERS),
        "--worker-class", "sync",
        "--bind", f"{HOST}:{port}",
        "--chdir", str(ROOT),
        "--error-logfile", "-",
        "--log-level", "info",
        "fundapp:create_app()",
    ]  # fmt: skip
    log = open(log_path, "ab")  # noqa: SIM115 - closed below, after the server has stopped
    # A session of its own: Ctrl-C reaches this script, which stops the server in order.
    server = subprocess.Popen(  # noqa: S603 - our own executable and arguments
        command,
        cwd=ROOT,
        env=server_environment(database_url, instance),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_up(server, port, log_path)
        yield port, server.pid
    finally:
        stop(server)
        log.close()
        shutil.rmtree(instance, ignore_errors=True)


def wait_until_up(server, port, log_path, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{tail(log_path)}")
        try:
            status, _, _ = fetch(port, "GET", "/healthz")
        except OSError:
            status = None
        if status == 200:
            return
        time.sleep(0.2)
    raise SystemExit(f"/healthz did not answer within {seconds} s:\n{tail(log_path)}")


def stop(server):
    """SIGTERM (gunicorn's graceful stop), then SIGKILL to the whole group if it hangs."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def tail(path, lines=20):
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def worker_pids(master):
    """The pids of gunicorn's workers: the processes whose parent is the master."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return sorted(pids)


def cpu_seconds(pid):
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    """CPU seconds the whole machine has spent busy (all CPUs, everything but idle and I/O wait)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def log_error_lines(log_path):
    return [
        line for line in Path(log_path).read_text(errors="replace").splitlines() if LOG_ERROR.search(line)
    ]


# -- HTTP: logging in and checking the page -----------------------------------------------------------------


def fetch(port, method, path, headers=None, body=None):
    """One request, without following redirects: (status, headers as a list of pairs, body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def remember_cookies(jar, headers):
    """Keep the cookies an answer sets. By hand: production cookies are Secure, and a browser-like jar would
    not send them back over plain HTTP on loopback."""
    for name, value in headers:
        if name.lower() == "set-cookie":
            for morsel in SimpleCookie(value).values():
                jar[morsel.key] = morsel.value


def cookie_header(jar):
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def log_in(port, email, password):
    """Log in through the form, as a browser would; return the Cookie header of the session."""
    jar = {}
    status, headers, page = fetch(port, "GET", "/login")
    if status != 200:
        raise SystemExit(f"GET /login answered {status}")
    remember_cookies(jar, headers)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if match is None:
        raise SystemExit("no csrf_token field on the login page")
    form = urllib.parse.urlencode({"csrf_token": match.group(1), "email": email, "password": password})
    status, headers, _ = fetch(
        port,
        "POST",
        "/login",
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(jar)},
        form,
    )
    location = dict((name.lower(), value) for name, value in headers).get("location", "")
    if status != 302 or "/login" in location:
        raise SystemExit(f"logging in as {email} failed (answer {status}): check --email and --password")
    remember_cookies(jar, headers)
    return cookie_header(jar)


def pick_proposal(engine, proposal_id=None):
    """The proposal to load: ``proposal_id``, or the one with the most submitted reviews (ties: the lowest
    id), with its reference and review count."""
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT p.id, p.reference, count(r.id) AS reviews FROM proposal p"
                " LEFT JOIN review_assignment a ON a.proposal_id = p.id"
                " LEFT JOIN review r ON r.assignment_id = a.id AND r.submitted_at IS NOT NULL"
                " WHERE (CAST(:id AS integer) IS NULL OR p.id = :id)"
                " GROUP BY p.id, p.reference ORDER BY reviews DESC, p.id LIMIT 1"
            ),
            {"id": proposal_id},
        ).one_or_none()
    if row is None:
        raise SystemExit(
            "no such proposal" if proposal_id else "the database holds no proposal: seed it first"
        )
    return row.id, row.reference, row.reviews


def check_page(port, path, cookie, reference):
    """One request with the cookie must answer 200 with the proposal: a 302 means the login did not hold."""
    status, headers, page = fetch(port, "GET", path, {"Cookie": cookie})
    if status != 200:
        raise SystemExit(f"GET {path} with the officer's session answered {status}, not 200")
    if reference not in page:
        raise SystemExit(f"GET {path} answered 200 but does not show {reference}")
    return {
        "bytes": len(page.encode()),
        "sets_cookie": any(name.lower() == "set-cookie" for name, _ in headers),
    }


# -- wrk ----------------------------------------------------------------------------------------------------


def wrk_version():
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(WRK_MISSING)
    # `wrk --version` prints "wrk debian/4.1.0-3+b2 [epoll] Copyright ..." and exits 1.
    output = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    match = re.match(r"wrk (\S+)", output)
    return match.group(1) if match else output.strip()


def run_wrk(url, seconds, options, script, cookie=None):
    """wrk against ``url`` for ``seconds``; the figures its Lua script printed, and wrk's own report."""
    command = [
        shutil.which("wrk") or "wrk",
        "--threads", str(options["threads"]),
        "--connections", str(options["connections"]),
        "--duration", f"{seconds}s",
        "--timeout", f"{options['timeout']}s",
        "--latency",
        "--script", str(script),
        "--header", f"User-Agent: {USER_AGENT}",
    ]  # fmt: skip
    if cookie:
        command += ["--header", f"Cookie: {cookie}"]
    finished = subprocess.run(  # noqa: S603 - wrk with our own arguments
        [*command, url], capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    if finished.returncode != 0:
        raise SystemExit(f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}")
    return parse_wrk(finished.stdout), finished.stdout


def parse_wrk(output):
    """The figures of one wrk run, from the JSON line the Lua script's done() printed."""
    line = next((line for line in output.splitlines() if line.startswith("FUNDAPP_LOAD ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures:\n{output}")
    raw = json.loads(line.removeprefix("FUNDAPP_LOAD "))
    seconds = raw["duration_us"] / 1e6
    statuses = {int(status): count for status, count in raw["statuses"].items()}
    non_200 = sum(count for status, count in statuses.items() if status != 200)
    socket_errors = raw["socket_errors"]
    return {
        "rps": round(raw["requests"] / seconds, 1),
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "latency_ms": {name: round(value / 1000, 2) for name, value in raw["latency_us"].items()},
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "non_200": non_200,
        #: wrk's own "Non-2xx or 3xx responses" (it counts a 302 as a success; non_200 does not).
        "non_2xx_3xx": raw["non_2xx_3xx"],
        "socket_errors": socket_errors,
        "errors": non_200 + sum(socket_errors.values()),
        "mb_read": round(raw["bytes"] / 1e6, 1),
    }


def load_target(port, master, path, options, script, database, cookie=None):
    """Warm up, then load ``path``; the wrk figures, and the CPU time the workers, the database's backends
    and the whole machine spent meanwhile."""
    url = f"http://{HOST}:{port}{path}"
    if options["warm_up"]:
        run_wrk(url, options["warm_up"], options, script, cookie)
    workers = worker_pids(master)
    backends = database.backend_pids()
    before = {pid: cpu_seconds(pid) for pid in workers + backends}
    busy_before = machine_busy_seconds()
    # Mid-run: how many connections the app holds (two sync workers need one each).
    watcher = threading.Timer(options["duration"] / 2, database.count_connections)
    watcher.start()
    try:
        figures, report = run_wrk(url, options["duration"], options, script, cookie)
    finally:
        watcher.cancel()
    busy = machine_busy_seconds() - busy_before

    def spent(pids):
        return [round(cpu_seconds(pid) - before[pid], 1) for pid in pids if Path(f"/proc/{pid}").exists()]

    figures["path"] = path
    #: CPU seconds each worker spent during the run: both well above zero means both served requests.
    figures["worker_cpu_s"] = spent(workers)
    figures["workers_replaced"] = len(set(workers) - set(worker_pids(master)))
    #: CPU seconds of the PostgreSQL backends serving the app's connections.
    figures["database_cpu_s"] = round(sum(spent(backends)), 1)
    #: The whole machine's busy CPU seconds over the run (wrk, gunicorn, PostgreSQL, anything else).
    figures["machine_cpu_s"] = round(busy, 1)
    #: What one answer costs: CPU milliseconds in the workers and in PostgreSQL per request.
    requests = max(figures["requests"], 1)
    figures["worker_cpu_ms_per_request"] = round(sum(figures["worker_cpu_s"]) * 1000 / requests, 2)
    figures["database_cpu_ms_per_request"] = round(figures["database_cpu_s"] * 1000 / requests, 2)
    figures["database_connections"] = database.connections_seen.pop() if database.connections_seen else None
    return figures, report


class Database:
    """Our own look at the database under test: what to load, and the app's connections to it."""

    def __init__(self, url):
        self.engine = create_engine(url)
        self.connections_seen = []

    def _app_backends(self, connection):
        return connection.scalars(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
        ).all()

    def backend_pids(self):
        """The PostgreSQL processes serving the app's connections, when this machine runs the server."""
        with self.engine.connect() as connection:
            pids = self._app_backends(connection)
        return [pid for pid in pids if Path(f"/proc/{pid}/stat").exists()]

    def count_connections(self):
        with self.engine.connect() as connection:
            self.connections_seen.append(len(self._app_backends(connection)))


# -- the run ------------------------------------------------------------------------------------------------


def run_load(
    database_url,
    duration=60,
    connections=8,
    email=OFFICER_EMAIL,
    password=OFFICER_PASSWORD,
    *,
    threads=THREADS,
    warm_up=5,
    timeout=2,
    proposal_id=None,
):
    """Load the floor and the proposal page of gunicorn on ``database_url`` (PostgreSQL, populated); print
    the figures, write bench/results/load-postgresql.json and return the result."""
    url = config.database_url(database_url)
    if not url.startswith("postgresql"):
        raise SystemExit(f"give a PostgreSQL database URL, not {database_url}")
    wrk = wrk_version()
    options = {
        "duration": duration,
        "connections": connections,
        "threads": threads,
        "warm_up": warm_up,
        "timeout": timeout,
    }
    load_before = os.getloadavg()[0]
    database = Database(url)
    workdir = Path(tempfile.mkdtemp(prefix="fundapp-load-"))
    script = workdir / "count_statuses.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    log_path = workdir / "gunicorn.log"
    try:
        with database.engine.connect():
            database_version = server_version(database.engine)
        proposal_id, reference, reviews = pick_proposal(database.engine, proposal_id)
        page_path = f"/officer/proposals/{proposal_id}"
        with gunicorn(database_url, log_path) as (port, master):
            print(
                f"load: gunicorn {package_version('gunicorn')}, {len(worker_pids(master))} sync workers on "
                f"{HOST}:{port}; wrk {wrk}, {threads} threads, {connections} connections, "
                f"{warm_up} s warm-up and {duration} s per page"
            )
            cookie = log_in(port, email, password)
            page = check_page(port, page_path, cookie, reference)
            print(f"  logged in as {email}; {page_path} ({reference}, {reviews} reviews) answers 200")
            floor, floor_report = load_target(port, master, "/healthz", options, script, database)
            proposal, proposal_report = load_target(
                port, master, page_path, options, script, database, cookie
            )
            # Still logged in after the run: the page was not answering a login redirect all along.
            check_page(port, page_path, cookie, reference)
        error_lines = log_error_lines(log_path)
    finally:
        database.engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)

    # answer_sets_cookie: false unless the session is rewritten on every answer (a user agent that does not
    # match the login's, for Flask-Login's session protection).
    proposal.update(
        reference=reference, reviews=reviews, page_bytes=page["bytes"], answer_sets_cookie=page["sets_cookie"]
    )
    ratio = round(proposal["rps"] / floor["rps"], 3) if floor["rps"] else None
    errors = floor["errors"] + proposal["errors"] + len(error_lines)
    errors += floor["workers_replaced"] + proposal["workers_replaced"]
    result = {
        "benchmark": "load",
        "database": "postgresql",
        "database_version": database_version,
        "versions": {
            "gunicorn": package_version("gunicorn"),
            "wrk": wrk,
            "flask": package_version("flask"),
            "sqlalchemy": package_version("sqlalchemy"),
            "psycopg": package_version("psycopg"),
        },
        "workers": WORKERS,
        "worker_class": "sync",
        "connections": connections,
        "threads": threads,
        "duration": duration,
        "warm_up": warm_up,
        "timeout": timeout,
        "floor": floor,
        "proposal_page": proposal,
        "proposal_to_floor_ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "gunicorn_log_error_lines": len(error_lines),
        #: Everything that went wrong: answers other than 200, socket errors, error lines in gunicorn's log
        #: and workers that had to be replaced.
        "errors": errors,
        "meets_target": errors == 0 and ratio is not None and ratio >= TARGET_RATIO,
        **machine(load_before),
    }
    report(result, floor_report, proposal_report, error_lines)
    write_result(result)
    return result


def report(result, floor_report, proposal_report, error_lines):
    for label, text_report in (("the floor", floor_report), ("the proposal page", proposal_report)):
        print(f"  wrk on {label}:\n{_indent(text_report)}")
    for name, label in (("floor", "floor /healthz"), ("proposal_page", "proposal page")):
        figures = result[name]
        latency = figures["latency_ms"]
        print(
            f"  {label}: {figures['rps']} requests/s, {figures['requests']} requests, latency p50 "
            f"{latency['p50']} ms, p75 {latency['p75']}, p90 {latency['p90']}, p99 {latency['p99']}"
        )
        print(
            f"    errors {figures['errors']}: answers by status {figures['statuses']}, "
            f"socket errors {figures['socket_errors']}"
        )
        print(
            f"    CPU seconds: workers {figures['worker_cpu_s']}, PostgreSQL {figures['database_cpu_s']}, "
            f"whole machine {figures['machine_cpu_s']} of {result['cpus'] * figures['seconds']:.0f}"
        )
        print(
            f"    per request: {figures['worker_cpu_ms_per_request']} ms CPU in the workers, "
            f"{figures['database_cpu_ms_per_request']} ms in PostgreSQL; the app's database connections "
            f"mid-run: {figures['database_connections']}"
        )
    print(
        f"  proposal page / floor: {result['proposal_to_floor_ratio']} (target >= {TARGET_RATIO}); "
        f"error lines in gunicorn's log: {result['gunicorn_log_error_lines']}"
    )
    for line in error_lines[:10]:
        print(f"    {line}")
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(f"  {verdict} the target: no errors ({result['errors']}) and a ratio of at least {TARGET_RATIO}")


def _indent(report):
    return "\n".join(
        f"    {line}" for line in report.splitlines() if line.strip() and not line.startswith("FUNDAPP_LOAD")
    )


def main(argv=None):
    args = parse_args(argv)
    return run_load(
        args.database_url,
        duration=args.duration,
        connections=args.connections,
        email=args.email,
        password=args.password,
        threads=args.threads,
        warm_up=args.warm_up,
        timeout=args.timeout,
        proposal_id=args.proposal,
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit("interrupted: gunicorn stopped, nothing written") from None
