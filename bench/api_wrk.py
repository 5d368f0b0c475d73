"""POST /api/v1/transactions/issues under wrk, beside the framework's ceiling, in one run.

    python -m bench.api_wrk --engines sqlite,postgresql --connections 4,16 --workers 1,2

Each case loads the demo into a fresh database, starts `ledger serve` (uvicorn; `--workers N`
when N > 1) on loopback and runs wrk (Debian's `wrk`) against it from its own process for
`--seconds`, after a one-second warm-up. Every request carries its own Idempotency-Key, as the
workspace's clients send. Workloads:

- issue: the city (510100) issues 1 册 of 文摘 to one of its 20 districts, round robin;
- cycle: district i's clerk (added to the demo) transfers 1 张 of 年画 and 1 份 of 叠页 to
  district i+1 (the last to the first), the two lines in either order: clients moving stock in
  a cycle;
- cycle-fefo: the same without batch numbers, each line's batch picked (FEFO) and locked as it
  is picked.

The ceiling is `bench.ceiling_app` (a bare Litestar route decoding the same body with msgspec)
under the same uvicorn settings and the same wrk script. Each case is checked: `verify` finds
nothing, every answer was 201, as many transactions were added as were answered (or more: those
still in flight when wrk stopped), and the stock moved adds up. PostgreSQL runs in a database of
its own (`ledger_api_wrk`, made if missing) so that its `pg_stat_database.deadlocks` counts only
this load's deadlocks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.api_load import free_port

TOKEN = "lgr_demo-clerk-510100"
CLERK = "lgr_bench-clerk-"  # + a district's code: its clerk, added to the demo for the cycle
CLERKS = (
    "import sys\n"
    "from ledger.db.unit_of_work import Database\n"
    "from ledger.services.demo import COUNTIES\n"
    "from ledger.services.users import add_user\n"
    "database = Database.from_url(sys.argv[1])\n"
    "for code, name, _ in COUNTIES:\n"
    f"    add_user(database, name + '仓库保管员', 'clerk', code, '{CLERK}' + code)\n"
    "database.dispose()\n"
)
ROOT = Path(__file__).resolve().parents[1]
PG_DATABASE = "ledger_api_wrk"

WRK_SCRIPT = r"""
-- `id` and `statuses` are globals of each thread's Lua state: setup() sets the one, done()
-- reads the other with thread:get.
local counter, run, kind = 0, "run", "issue"
local districts = {%(districts)s}
local cycle = {%(cycle)s}
local threads, next_id = {}, 0
statuses = {}

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  run, kind, id = args[1] or "run", args[2] or "issue", id or 0
end

local function body()
  local n = counter + id * 7
  if kind == "cycle" or kind == "cycle-fefo" then
    local i = n %% #cycle
    local batch = kind == "cycle" and ',"batch_number":"2014-01"' or ""
    local a = '{"item_code":"NH2014","quantity":1' .. batch .. '}'
    local b = '{"item_code":"DY2014","quantity":1' .. batch .. '}'
    if n %% 2 == 1 then a, b = b, a end
    return string.format('{"source_code":"%%s","destination_code":"%%s","lines":[%%s,%%s]}',
      cycle[i + 1], cycle[(i + 1) %% #cycle + 1], a, b)
  end
  return string.format('{"source_code":"510100","destination_code":"%%s","lines":' ..
    '[{"item_code":"WZ2014","quantity":1,"batch_number":"2014-01"}]}',
    districts[n %% #districts + 1])
end

function request()
  counter = counter + 1
  local token = "%(token)s"
  if kind ~= "issue" then  -- each district's own clerk
    token = "%(clerk)s" .. cycle[(counter + id * 7) %% #cycle + 1]
  end
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("%%s-%%d-%%d", run, id, counter),
  }
  return wrk.format("POST", "/api/v1/transactions/issues", headers, body())
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
    table.insert(parts, string.format('"%%d":%%d', status, count))
  end
  io.write(string.format('WRK {"requests":%%d,"seconds":%%.3f,"p50_ms":%%.2f,"p99_ms":%%.2f,' ..
    '"max_ms":%%.2f,"socket_errors":%%d,"statuses":{%%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ",")))
end
"""


def wrk_script(folder: Path) -> Path:
    from ledger.services.demo import COUNTIES

    districts = ",".join(f'"{code}"' for code, _, _ in COUNTIES)
    # 简阳市 (510185) holds no 年画 or 叠页 in the demo: the cycle goes through the other 19
    cycle = ",".join(f'"{code}"' for code, _, _ in COUNTIES if code != "510185")
    path = folder / "post_issue.lua"
    values = {"districts": districts, "cycle": cycle, "token": TOKEN, "clerk": CLERK}
    path.write_text(WRK_SCRIPT % values)
    return path


def wrk(script: Path, base: str, seconds: float, connections: int, run: str, kind: str) -> dict:
    threads = min(2, connections)
    options = [f"-t{threads}", f"-c{connections}", f"-d{round(seconds)}s", "--timeout", "10s"]
    done = subprocess.run(
        ["wrk", *options, "-s", str(script), base, "--", run, kind],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("WRK "))
    figures = json.loads(line.removeprefix("WRK "))
    figures["requests_per_second"] = round(figures["requests"] / figures["seconds"], 1)
    return figures


def serve(command: list[str], env: dict, port: int, tree: Path = ROOT) -> subprocess.Popen:
    server = subprocess.Popen(
        command,
        env=env,
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"server exited with {server.returncode}") from None
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def ceiling(script: Path, seconds: float, connections: int) -> dict:
    """The bare route under the same uvicorn settings as `ledger serve`."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "bench.ceiling_app:create_app"]
    command += ["--port", str(port), "--log-level", "info", "--no-access-log"]
    server = serve(command, dict(os.environ), port)
    try:
        base = f"http://127.0.0.1:{port}"
        wrk(script, base, 1, connections, "warm", "issue")
        return wrk(script, base, seconds, connections, "ceiling", "issue")
    finally:
        stop(server)


# ---- what the ledger holds ---------------------------------------------------------------------


def snapshot(url: str) -> dict:
    """Transactions, the stock moved by the workloads, and deadlocks so far (PostgreSQL)."""
    from sqlalchemy import text

    from ledger.db.engine import make_engine

    engine = make_engine(url)
    try:  # in one snapshot: the server may still be committing
        options = {"isolation_level": "REPEATABLE READ"} if "postgresql" in url else {}
        with engine.connect().execution_options(**options) as connection, connection.begin():
            figures = {
                "transactions": connection.execute(
                    text("SELECT count(*) FROM transactions")
                ).scalar_one(),
                "stock": {
                    f"{row[0]}/{row[1]}": row[2]
                    for row in connection.execute(
                        text(
                            "SELECT l.code, i.code, sum(b.on_hand) FROM balances b "
                            "JOIN locations l ON l.id = b.location_id "
                            "JOIN items i ON i.id = b.item_id "
                            "WHERE i.code IN ('WZ2014', 'NH2014', 'DY2014') "
                            "GROUP BY l.code, i.code"
                        )
                    )
                },
            }
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_stat_clear_snapshot()"))
                figures["deadlocks"] = connection.execute(
                    text(
                        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
                    )
                ).scalar_one()
        return figures
    finally:
        engine.dispose()


def verified(url: str, tree: Path) -> bool:
    """`ledger verify` (of the tree that served) finds nothing."""
    done = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "verify"],
        env=tree_env(tree, LEDGER_DATABASE_URL=url),
        cwd=tree,
        capture_output=True,
        text=True,
    )
    return done.returncode == 0


def has_workers(tree: Path) -> bool:
    """Whether the ledger of `tree` serves with `--workers`."""
    done = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "serve", "--help"],
        env=tree_env(tree),
        cwd=tree,
        capture_output=True,
        text=True,
    )
    return "--workers" in done.stdout


def tree_env(tree: Path, **values: str) -> dict:
    """The environment of a process running the ledger of `tree` (a worktree of another commit:
    the figures before a change)."""
    return dict(os.environ, PYTHONPATH=str(tree), **values)


def checked(before: dict, after: dict, figures: dict, kind: str) -> dict:
    """What the run did to the ledger, and whether it adds up."""
    added = after["transactions"] - before["transactions"]
    moved = {
        key: after["stock"].get(key, 0) - before["stock"].get(key, 0)
        for key in set(before["stock"]) | set(after["stock"])
    }
    answered = figures["statuses"].get("201", 0)
    items = ("WZ2014",) if kind == "issue" else ("NH2014", "DY2014")
    in_transit = {item: moved.get(f"in-transit/{item}", 0) for item in items}
    physical = {
        item: sum(v for k, v in moved.items() if k.endswith(f"/{item}") and k[0].isdigit())
        for item in items
    }
    # Each transaction moves 1 of each item from a district (or the city) into transit.
    adds_up = all(in_transit[item] == added and physical[item] == -added for item in items)
    return {
        "transactions_added": added,
        "answered_201": answered,
        "only_201": set(figures["statuses"]) == {"201"} and figures["socket_errors"] == 0,
        "stock_adds_up": adds_up and added >= answered,
    }


def case(url: str, script: Path, kind: str, seconds: float, connections: int, workers: int, tree):
    """Serve the database at `url` with the ledger of `tree` and load it; the figures, checked."""
    port = free_port()
    command = [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    server = serve(command, tree_env(tree, LEDGER_DATABASE_URL=url), port, tree)
    try:
        base = f"http://127.0.0.1:{port}"
        run = uuid.uuid4().hex[:8]
        wrk(script, base, 1, connections, f"warm-{run}", kind)
        before = snapshot(url)
        figures = wrk(script, base, seconds, connections, run, kind)
    finally:
        stop(server)
    time.sleep(1.0)  # PostgreSQL's statistics reach pg_stat_database within a second
    after = snapshot(url)
    figures.update(checked(before, after, figures, kind))
    if "deadlocks" in after:
        figures["deadlocks"] = after["deadlocks"] - before["deadlocks"]
    figures["verify_ok"] = verified(url, tree)
    return figures


def demo_database(engine_name: str, folder: Path, tree: Path):
    """A context: the URL of a fresh demo ledger on `engine_name`, removed afterwards."""
    from contextlib import contextmanager

    @contextmanager
    def made():
        env_url = (
            f"sqlite:///{folder / (uuid.uuid4().hex + '.db')}"
            if engine_name == "sqlite"
            else _pg_schema_url()
        )
        for command in (["-m", "ledger.cli", "demo", "load"], ["-c", CLERKS, env_url]):
            subprocess.run(
                [sys.executable, *command],
                env=tree_env(tree, LEDGER_DATABASE_URL=env_url),
                cwd=tree,
                check=True,
                capture_output=True,
            )
        try:
            yield env_url
        finally:
            if engine_name == "postgresql":
                _drop_pg_schema(env_url)

    return made()


def _pg_admin_url() -> str:
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_URL

    return make_url(PG_URL).set(database=PG_DATABASE).render_as_string(hide_password=False)


def _pg_schema_url() -> str:
    from sqlalchemy import create_engine, text

    from tests.conftest import PG_URL

    server = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": PG_DATABASE}
        ).first()
        if not exists:
            connection.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
    server.dispose()
    schema = f"wrk_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return f"{_pg_admin_url()}?options=-csearch_path%3D{schema}"


def _drop_pg_schema(url: str) -> None:
    from sqlalchemy import create_engine, text

    schema = url.rsplit("%3D", 1)[1]
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workloads", default="issue,cycle")
    parser.add_argument("--connections", default="4,16")
    parser.add_argument("--workers", default="1")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument(
        "--trees",
        default=str(ROOT),
        help="Serve with the ledger of each of these work trees (comma-separated), side by side: "
        "e.g. a worktree of the commit before a change, then this one.",
    )
    arguments = parser.parse_args()
    connections = [int(value) for value in arguments.connections.split(",")]
    workers = [int(value) for value in arguments.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="ledger-wrk-") as directory:
        folder = Path(directory)
        script = wrk_script(folder)
        if not arguments.no_ceiling:
            for count in connections:
                row = {"case": "ceiling", "connections": count, "load": load_average()}
                row.update(ceiling(script, arguments.seconds, count))
                print(json.dumps(row, ensure_ascii=False), flush=True)
        trees = [Path(tree).resolve() for tree in arguments.trees.split(",")]
        for engine_name in arguments.engines.split(","):
            for kind in arguments.workloads.split(","):
                for worker_count in workers:
                    for count in connections:
                        for tree in trees:
                            if worker_count > 1 and not has_workers(tree):
                                continue  # (a commit before `ledger serve --workers`)
                            row = {
                                "case": f"{engine_name}-{kind}",
                                "tree": tree.name,
                                "workers": worker_count,
                                "connections": count,
                                "load": load_average(),
                            }
                            with demo_database(engine_name, folder, tree) as url:
                                row.update(
                                    case(
                                        url,
                                        script,
                                        kind,
                                        arguments.seconds,
                                        count,
                                        worker_count,
                                        tree,
                                    )
                                )
                            print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
