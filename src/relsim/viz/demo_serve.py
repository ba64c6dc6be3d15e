"""``relsim demo --serve``: the classroom page, live, from this computer only.

A standard-library HTTP server bound to 127.0.0.1 serves the page (:func:`relsim.viz.demo.render`
with the live levers) and answers it: ``POST api/run`` with the levers' values and a seed starts
a recomputation (a few runs per strategy first, then more, refined while the class watches);
``GET api/job/<n>`` says how far it is and, once a stage is done, returns its numbers. Only the
newest request is computed (an older one stops at its next stage). Ctrl-C stops the server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from relsim.experiment.pool import WorkerPool
from relsim.scenario import Scenario, load_scenario
from relsim.viz.demo import LatestJourneys, demo_data, render

STAGES = (2, 6)
"""Replications per strategy of each stage of a live recomputation (the default)."""


def live_levers(scenario: Scenario) -> list[dict[str, Any]]:
    """The handful of levers the live page offers, those the scenario has: a price cut's
    price, the points reward, how fast rivals copy, the desk's staff, the rival's price."""
    levers = []

    def add(key: str, path: str, label: str, value: float, low: float, high: float, step: float):
        levers.append(
            {"key": key, "path": path, "label": label, "value": value, "min": low, "max": high}
            | {"step": step}
        )

    for i, s in enumerate(scenario.strategies):
        if s.price_index is not None and not any(x["key"] == "price" for x in levers):
            add(
                "price",
                f"strategies.{i}.price_index",
                f"{s.name}: price",
                s.price_index,
                0.8,
                1.1,
                0.01,
            )
        if s.bonds.points is not None and not any(x["key"] == "reward" for x in levers):
            value = s.bonds.points.reward_value
            add(
                "reward",
                f"strategies.{i}.bonds.points.reward_value",
                "reward per card",
                value,
                0,
                60,
                2.5,
            )
        if s.staffing.desk.count > 0 and not any(x["key"] == "desk" for x in levers):
            add(
                "desk",
                f"strategies.{i}.staffing.desk.count",
                "desk staff",
                s.staffing.desk.count,
                0,
                2,
                0.1,
            )
    lag = scenario.rivalry.points.lag.mean_weeks
    add("lag", "rivalry.points.lag.mean_weeks", "weeks until copied", lag, 2, 104, 2)
    if len(scenario.firms) > 1:
        add(
            "rival",
            "firms.1.price_index",
            "rival's price",
            scenario.firms[1].price_index,
            0.7,
            1.1,
            0.01,
        )
    return levers


class Jobs:
    """The live recomputations: the newest one runs, in stages, in one background thread."""

    def __init__(
        self,
        compute: Callable[[dict[str, Any], int, int], dict[str, Any]],
        stages: tuple[int, ...] = STAGES,
    ):
        self.compute = compute
        self.stages = stages
        self.lock = threading.Lock()
        self.newest = 0
        self.states: dict[int, dict[str, Any]] = {}

    def start(self, overrides: dict[str, Any], seed: int) -> int:
        with self.lock:
            self.newest += 1
            job = self.newest
            self.states[job] = {"state": "waiting", "message": "waiting to start", "data": None}
        threading.Thread(target=self._run, args=(job, overrides, seed), daemon=True).start()
        return job

    def state(self, job: int) -> dict[str, Any] | None:
        with self.lock:
            return dict(self.states[job]) if job in self.states else None

    def _set(self, job: int, **values: Any) -> None:
        with self.lock:
            self.states[job].update(values)

    def _run(self, job: int, overrides: dict[str, Any], seed: int) -> None:
        for k, replications in enumerate(self.stages):
            if job != self.newest:
                self._set(job, state="done", message="replaced by a newer request")
                return
            self._set(job, state="running", message=f"computing {replications} runs per strategy…")
            start = time.monotonic()
            try:
                data = self.compute(overrides, seed, replications)
            except Exception as error:  # a bad lever value: say so on the page
                self._set(job, state="error", message=f"could not compute: {error}")
                return
            except KeyboardInterrupt:  # the workers' Stopped: Ctrl-C is stopping the server
                self._set(job, state="error", message="stopped")
                return
            last = k == len(self.stages) - 1
            took = f"{time.monotonic() - start:.0f} s"
            message = (
                f"done: {replications} runs per strategy ({took}), seed {seed}"
                if last
                else f"{replications} runs per strategy shown ({took}), seed {seed}; refining…"
            )
            self._set(job, state="done" if last else "refining", message=message, data=data)


class KeptComparisons:
    """The newest request's comparison folder, kept between its stages, so that a stage adds
    replications to the stage before instead of computing them again (the first stage's 2 runs
    per strategy are the first 2 of the next stage's 6: each replication has its own seed).
    Another request (levers, seed or the scenario file's bytes), or the same one sent again
    (fewer replications than its folder was asked for), gets a new folder and the old one
    goes; :meth:`close` removes them all, and a stage still running removes what it wrote."""

    def __init__(self, path: Path):
        self.path = path
        self.root = Path(tempfile.mkdtemp(prefix="relsim-live-"))
        # also removed when the server is let go or Python exits without close()
        weakref.finalize(self, shutil.rmtree, self.root, ignore_errors=True)
        self.closed = False
        self._key: str | None = None
        self._count = self._most = 0

    def folder(self, overrides: dict[str, Any], seed: int, replications: int) -> Path:
        """The folder of the comparison under ``overrides`` and ``seed`` (not created), for
        ``replications`` per strategy."""
        if self.closed:
            raise RuntimeError("the live page is closing")
        scenario = hashlib.sha256(self.path.read_bytes()).hexdigest()
        key = json.dumps([scenario, overrides, seed], sort_keys=True, default=str)
        if key != self._key or replications < self._most:
            shutil.rmtree(self.root / str(self._count), ignore_errors=True)
            self._key, self._count, self._most = key, self._count + 1, 0
        self._most = max(self._most, replications)
        return self.root / str(self._count)

    def close(self) -> None:
        self.closed = True
        shutil.rmtree(self.root, ignore_errors=True)


class LiveServer(ThreadingHTTPServer):
    """The live classroom's HTTP server, owning the worker pool every recomputation uses (its
    workers start with the first one and stay: a lever change does not wait for new worker
    processes to start and import relsim). :meth:`close` ends both."""

    pool: WorkerPool
    kept: KeptComparisons

    def close(self, interrupted: bool = False) -> None:
        """Stop serving, end the workers (``interrupted``: Ctrl-C, which stops the
        replications they are running instead of waiting for them) and remove the kept
        comparisons."""
        self.server_close()
        self.pool.__exit__(KeyboardInterrupt if interrupted else None, None, None)
        self.kept.close()


def make_server(
    path: Path,
    port: int = 0,
    strategies: list[str] | None = None,
    stages: tuple[int, ...] = STAGES,
    workers: int | None = None,
) -> tuple[LiveServer, Jobs]:
    """The live classroom's server on 127.0.0.1 (``port`` 0: any free port), not yet serving;
    the page it serves shows the first stage's numbers for the scenario as written. Its
    ``workers`` processes (default: one per core) serve every recomputation; the caller ends
    them with :meth:`LiveServer.close`."""
    scenario = load_scenario(path)
    compute_lock = threading.Lock()
    pool = WorkerPool(workers, None).__enter__()
    journeys = LatestJourneys()
    kept = KeptComparisons(path)

    def compute(overrides: dict[str, Any], seed: int, replications: int) -> dict[str, Any]:
        with compute_lock:
            try:
                return _data(overrides, seed, replications)
            finally:
                if kept.closed:  # closed while this stage ran: what it wrote goes too
                    kept.close()

    def _data(overrides: dict[str, Any], seed: int, replications: int) -> dict[str, Any]:
        return demo_data(
            path,
            strategies,
            replications,
            levers=[],
            seed=seed,
            overrides=overrides,
            pool=pool,
            journeys=journeys,
            kept=kept.folder(overrides, seed, replications),
        )

    try:
        pool.start_workers()  # here, on the main thread: the jobs' threads come and go
        jobs = Jobs(compute, stages)
        first = compute({}, scenario.seed, stages[0])
        page = render(first, {"levers": live_levers(scenario)}).encode("utf-8")
        handler = type("Handler", (_Handler,), {"page": page, "jobs": jobs})
        server = LiveServer(("127.0.0.1", port), handler)
    except BaseException as error:
        pool.__exit__(type(error), error, None)
        kept.close()
        raise
    server.pool, server.kept = pool, kept
    return server, jobs


class _Handler(BaseHTTPRequestHandler):
    page: bytes = b""
    jobs: Jobs

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the class sees the page
        pass

    def _send(self, body: bytes, kind: str = "application/json", status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path in ("/", "/index.html"):
            self._send(self.page, "text/html; charset=utf-8")
        elif self.path.startswith("/api/job/") and self.path[9:].isdigit():
            state = self.jobs.state(int(self.path[9:]))
            if state is None:
                self._send(b'{"error": "no such job"}', status=404)
            else:
                self._send(json.dumps(state, allow_nan=False).encode("utf-8"))
        else:
            self._send(b'{"error": "not found"}', status=404)

    def do_POST(self) -> None:
        if self.path != "/api/run":
            self._send(b'{"error": "not found"}', status=404)
            return
        try:
            asked = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            overrides = {str(k): float(v) for k, v in dict(asked.get("overrides", {})).items()}
            seed = int(asked.get("seed", 0))
        except (ValueError, TypeError, AttributeError):
            self._send(b'{"error": "expected {overrides: {path: number}, seed: int}"}', status=400)
            return
        self._send(json.dumps({"job": self.jobs.start(overrides, seed)}).encode("utf-8"))


def serve(
    path: Path,
    port: int = 0,
    strategies: list[str] | None = None,
    stages: tuple[int, ...] = STAGES,
    notify: Callable[[str], None] = print,
    workers: int | None = None,
) -> None:
    """Serve the live classroom until Ctrl-C; ``notify`` hears the address."""
    notify(f"relsim: computing the first numbers for {path} ...")
    server, _ = make_server(path, port, strategies, stages, workers)
    host, port = server.server_address[:2]
    notify(f"relsim: live classroom at http://{host}:{port}/ (this computer only; Ctrl-C stops)")
    interrupted = False
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        interrupted = True
        notify("relsim: stopping the live classroom")
    finally:
        server.close(interrupted)


__all__ = ["STAGES", "Jobs", "LiveServer", "live_levers", "make_server", "serve"]
