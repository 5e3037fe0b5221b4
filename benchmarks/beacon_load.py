"""Load-test the Beacon v2 API at 100 concurrent connections, and add the figures to docs/benchmarks.md.

    .venv/bin/python benchmarks/beacon_load.py            (or: make beacon-benchmark)
    .venv/bin/python benchmarks/beacon_load.py --profile  (where a request's time goes, in process)

The data is the 1000 Genomes phase 3 test slice (2,504 people × 10,000 records of GRCh37 chr22),
ingested once as the CONTROLLED dataset "1000g" into benchmarks/.work/beacon-node/ and served from
a fresh copy each run (so the Beacon budget's ledger starts empty). The server is
`genomenode serve` in its own process (the rate limit off, everything else as configured by
default); this script is the client, on loopback, over keep-alive connections (httpx2), one
worker per connection. Rows, each 3 s of warm-up and then 20 s measured:
  - one connection, closed loop (10 s): the answer time without queueing;
  - 100 connections, closed loop (each worker sends its next request as soon as its last is
    answered, as `wrk` does): the capacity, and the latency at 100 concurrent queries;
  - 100 connections, open loop at a fixed rate: EGA's published 67 requests/s (the one published
    figure there is to compare with) and half the capacity just measured.
Latency is the client's, from sending a request (open loop: from when it was due) until its whole
body has arrived. Should the server die under load, the row is run again with a new server (at
most twice) and the death is reported.

Query kinds: sequence queries (referenceName, start, referenceBases, alternateBases; ~2,000 real
alleles of the data and ~10% absent ones: a real position with a base no one carries) and range
queries (random 10 kb and 100 kb windows within the data's span). Anonymous callers ask for
count granularity and get boolean, with the evidence budget and small-count suppression applied
(what the public gets); a data steward asks for records and sees them.

The script rewrites only the "## Beacon under load" section of docs/benchmarks.md (benchmarks/
run.py keeps that section when it rewrites the rest).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / ".work"
NODE = WORK / "beacon-node"  # as ingested, never served
RUN_NODE = WORK / "beacon-node-run"  # a fresh copy per run: the Beacon ledger and audit log start empty
VCF = (
    REPO.parent
    / "shared"
    / "testdata"
    / "1000g_chr22_10k"
    / ("10k.chr22.phase3_shapeit2_mvncall_integrated_v5.20130502.genotypes.vcf.gz")
)
GENOMENODE = str(Path(sys.executable).parent / "genomenode")
DATASET = "1000g"
CHROM = "22"
ASSEMBLY = "GRCh37"
SECTION = "## Beacon under load"
ALLELES = 2000  # distinct real alleles asked about
ABSENT = 0.10  # share of sequence queries for an allele no one carries
WINDOWS = (10_000, 100_000)
EGA = "EGA beacon2-pi-api (published)"  # median 130 ms for range queries at 67 requests/s
EGA_RATE = 67.0
ELIXIR_RATE = 100.0  # 100 concurrent queries (ELIXIR Beacon Network), each a second apart
TARGET_P50, TARGET_P99 = 0.020, 0.100  # sequence queries, 100 concurrent connections
UNSENT = "not sent by the end (node behind)"
RETRIES = 2  # a row is run again, with a new server, at most this many times when the server dies

Params = dict[str, str | int]
Maker = Callable[[random.Random], tuple[Params, str]]
Who = tuple[str, dict[str, str], str]  # caller's name, headers, requested granularity
Plan = list[tuple[str, Who, float | None]]  # query kind, caller, rate (None: closed loop)


# -- the node ---------------------------------------------------------------------------------
def build_node(rebuild: bool = False) -> None:
    """Ingest the joint VCF once (the marker names the file it was built from), and copy the node
    for this run: the budget's disclosures to the anonymous caller must not carry over between runs."""
    stamp = f"{VCF} {VCF.stat().st_size} {VCF.stat().st_mtime_ns}\n"
    marker = NODE / ".built"
    if rebuild or not marker.exists() or marker.read_text() != stamp:
        _ingest(stamp, marker)
    shutil.rmtree(RUN_NODE, ignore_errors=True)
    shutil.copytree(NODE, RUN_NODE, ignore=shutil.ignore_patterns(".write.lock"))


def _ingest(stamp: str, marker: Path) -> None:
    shutil.rmtree(NODE, ignore_errors=True)
    print(f"ingesting {VCF.name} into {NODE} ...", flush=True)
    t = time.perf_counter()
    cmd = [GENOMENODE, "--data-dir", str(NODE), "ingest", str(VCF), "--dataset", DATASET, "--centre", "igsr"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(f"  {time.perf_counter() - t:.1f} s", flush=True)
    marker.write_text(stamp)


def steward_token() -> str:
    """A token for a data steward of the node (as tests/conftest.py issues one)."""
    sys.path.insert(0, str(REPO / "src"))
    from genomenode.access.gate import AccessControl
    from genomenode.catalog import sharing
    from genomenode.settings import Settings

    settings = Settings(data_dir=RUN_NODE)
    gate = AccessControl(settings)
    try:
        with gate.Session() as s, s.begin():
            sharing.upsert_user(s, issuer=settings.public_url, subject="load-steward", roles=["steward"])
        return gate.issue_token(issuer=settings.public_url, subject="load-steward")
    finally:
        gate.close()


# -- what is asked ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    present: list[tuple[int, str, str]]  # (1-based pos, ref, alt)
    absent: list[tuple[int, str, str]]
    span: tuple[int, int]  # first and last position

    def sequence(self, rng: random.Random) -> tuple[Params, str]:
        tag = "absent" if rng.random() < ABSENT else "present"
        pos, ref, alt = rng.choice(self.absent if tag == "absent" else self.present)
        return {**_common(), "start": pos - 1, "referenceBases": ref, "alternateBases": alt}, tag

    def range(self, rng: random.Random) -> tuple[Params, str]:
        width = rng.choice(WINDOWS)
        start = rng.randint(self.span[0] - 1, self.span[1] - width)
        return {**_common(), "start": start, "end": start + width}, f"{width // 1000} kb"


def _common() -> Params:
    return {"referenceName": CHROM, "assemblyId": ASSEMBLY}


def workload(seed: int = 7) -> Workload:
    """Real alleles from the VCF (sites whose alleles are plain bases, multi-allelic ones only if
    all SNVs, so the node's normalised form is the VCF's), and absent ones at real SNV sites."""
    out = subprocess.run(
        ["bcftools", "query", "-f", "%POS\t%REF\t%ALT\n", str(VCF)], check=True, capture_output=True, text=True
    ).stdout
    alleles: list[tuple[int, str, str]] = []
    snv_sites: list[tuple[int, str, list[str]]] = []
    positions: list[int] = []
    for line in out.splitlines():
        pos_s, ref, alts_s = line.split("\t")
        pos, alts = int(pos_s), alts_s.split(",")
        positions.append(pos)
        if not all(set(a) <= set("ACGT") for a in [ref, *alts]):
            continue
        if len(alts) > 1 and not all(len(a) == len(ref) == 1 for a in alts):
            continue
        alleles.extend((pos, ref, alt) for alt in alts)
        if len(ref) == 1 and all(len(a) == 1 for a in alts):
            snv_sites.append((pos, ref, alts))
    rng = random.Random(seed)
    present = rng.sample(sorted(set(alleles)), min(ALLELES, len(set(alleles))))
    absent = []
    for pos, ref, alts in rng.sample(snv_sites, round(ALLELES * ABSENT)):
        free = sorted(set("ACGT") - {ref, *alts})
        absent.append((pos, ref, rng.choice(free)))
    return Workload(present, absent, (min(positions), max(positions)))


# -- the load client --------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    caller: str
    load: str  # "closed", or "<rate>/s"
    duration: float
    connections: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)  # tag → answers saying the variant exists
    asked: Counter[str] = field(default_factory=Counter)  # tag → answers
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    server_exit: int | None = None  # the server's exit status, if it died during this row
    crashed: list[Phase] = field(default_factory=list)  # earlier attempts at this row, where the server died

    @property
    def ok_throughput(self) -> float:
        return self.statuses["200"] / self.duration

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def answered(self) -> int:
        return self.requests - self.statuses[UNSENT]

    @property
    def throughput(self) -> float:
        return self.answered / self.duration

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s != "200")

    def pct(self, q: float) -> float:
        values = sorted(self.latencies)
        return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


async def _one(
    client: httpx2.AsyncClient, params: Params, headers: dict[str, str], began: float
) -> tuple[float, str, bool | None]:
    try:
        r = await client.get("/api/g_variants", params=params, headers=headers)
        body = r.content
    except Exception as e:
        return time.perf_counter() - began, type(e).__name__, None
    latency = time.perf_counter() - began
    if r.status_code != 200:
        return latency, str(r.status_code), None
    return latency, "200", bool(json.loads(body)["responseSummary"]["exists"])


async def run_phase(
    base: str,
    phase: Phase,
    make: Maker,
    *,
    headers: dict[str, str],
    concurrency: int,
    warmup: float,
    rate: float | None = None,
    server_pid: int,
    alive: Callable[[], bool] = lambda: True,
) -> Phase:
    """`concurrency` workers on as many keep-alive connections; closed loop, or open at `rate`/s.
    Only requests begun (open loop: due) after the warm-up count; none is sent after warm-up +
    duration: in an open loop, those due by then but not yet sent (the node fell behind) are
    counted as errors, `UNSENT`. Should the server die (`alive`), the row stops there."""
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=60.0, trust_env=False) as client:
        t0 = time.perf_counter()
        measure_from, stop = t0 + warmup, t0 + warmup + phase.duration
        ticket = itertools.count()
        cpu0, server0 = time.process_time(), _cpu_seconds(server_pid)
        marks: dict[str, float] = {}

        def record(began: float, latency: float, status: str, exists: bool | None, tag: str) -> None:
            if began < measure_from:
                return
            phase.latencies.append(latency)
            phase.statuses[status] += 1
            if exists is not None:
                phase.asked[tag] += 1
                phase.found[tag] += exists

        async def worker(seed: str) -> None:
            rng = random.Random(seed)
            while True:
                if rate is None:
                    began = time.perf_counter()
                else:  # open loop: the i-th request is due at t0 + i/rate; latency counts from then
                    began = t0 + next(ticket) / rate
                    if began >= stop:
                        return
                    if (now := time.perf_counter()) >= stop:  # due, but every worker was busy until the end
                        if began >= measure_from:
                            phase.statuses[UNSENT] += 1
                        continue
                    if began > now:
                        await asyncio.sleep(began - now)
                if began >= stop:
                    return
                if began >= measure_from and not marks:  # CPU used so far, when measuring starts
                    marks["server"], marks["client"] = _cpu_seconds(server_pid), time.process_time()
                params, tag = make(rng)
                latency, status, exists = await _one(client, params, headers, began)
                record(began, latency, status, exists, tag)
                if not status.isdigit() and not alive():
                    return

        await asyncio.gather(*(worker(f"{phase.name}-{phase.caller}-{phase.load}-{i}") for i in range(concurrency)))
        elapsed = time.perf_counter() - measure_from
        phase.server_cpu = (_cpu_seconds(server_pid) - marks.get("server", server0)) / elapsed
        phase.client_cpu = (time.process_time() - marks.get("client", cpu0)) / elapsed
    return phase


def _alive(server: subprocess.Popen[bytes]) -> bool:
    return server.poll() is None


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):  # gone, and waited for
        return None


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of a process and its children (the worker processes of
    `serve --workers N`), their threads included."""
    fields = _stat(pid)
    if fields is None:
        return float("nan")
    total = int(fields[11]) + int(fields[12])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (child := _stat(int(entry.name))) is not None and child[1] == str(pid):
            total += int(child[11]) + int(child[12])
    return total / os.sysconf("SC_CLK_TCK")


# -- the server -------------------------------------------------------------------------------
def start_server(port: int, log: Path, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENOMENODE_")}
    env["GENOMENODE_BEACON_RATE_LIMIT"] = "0"  # the load client is one caller; it must not be throttled
    env["PYTHONFAULTHANDLER"] = "1"  # should it crash, the log shows where
    with log.open("wb") as out:
        server = subprocess.Popen(
            [GENOMENODE, "--data-dir", str(RUN_NODE), "serve", "--port", str(port), "--workers", str(workers)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    for _ in range(300):
        if server.poll() is not None:
            sys.exit(f"the server stopped (exit {server.returncode}); see {log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"the server did not answer /health within 60 s; see {log}")


def server_failures() -> list[str]:
    """What the server's logs say went wrong: each fatal error with the frame it died in (and the
    node's own frame that called it), and each exception behind a 500, counted."""
    found: Counter[str] = Counter()
    for log in sorted(WORK.glob("beacon-serve*.log")):
        lines = log.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Fatal Python error:"):
                here = next((j for j in range(i, len(lines)) if lines[j].startswith("Current thread")), None)
                frames = []
                for ln in lines[here + 1 :] if here is not None else []:
                    if not ln.startswith("  File "):
                        break
                    frames.append(
                        re.sub(r'^  File ".*?/(site-packages|src)/(.*)", line (\d+) in (.*)$', r"\4 (\2:\3)", ln)
                    )
                ours = next((f for f in frames if "genomenode/" in f), "")
                where = " ← ".join(dict.fromkeys(f for f in [*frames[:1], ours] if f)) or "no thread dump"
                found[f"{line.removeprefix('Fatal Python error: ')} in {where}"] += 1
            elif re.match(r"^[\w.]+(Error|Exception|Invalid|Warning)\w*: ", line) and not line.startswith(
                ("INFO", "ERROR", "WARNING")
            ):
                found[f"500: {line[:110]}"] += 1
    return [f"{n}× {what}" for what, n in found.most_common()]


# -- report -----------------------------------------------------------------------------------
def ms(x: float) -> str:
    if x != x:  # nan: nothing answered
        return "—"
    return f"{x * 1000:.1f} ms" if x < 10 else f"{x:.1f} s"


def report(
    phases: list[Phase], args: argparse.Namespace, work: Workload, load_before: float, failures: list[str]
) -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    load_after = os.getloadavg()[0]

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    capacity = {(p.name, p.caller): p for p in phases if p.load == "closed" and p.connections > 1}
    rows, saturated = [], []
    for p in phases:
        target = ""
        if p.connections > 1 and p.name == "sequence":
            ok = p.errors == 0 and p.pct(0.5) < TARGET_P50 and p.pct(0.99) < TARGET_P99
            target = f"no errors, p50 < 20 ms, p99 < 100 ms — {met(ok)}"
            if p.load == "closed":
                target += " (saturated: p50 ≈ connections ÷ throughput)"
        elif p.connections > 1 and p.load == "closed":
            target = f"no errors — {met(p.errors == 0)}"
        elif p.name == "range" and p.load == f"{EGA_RATE:.0f}/s":
            target = "EGA: median 130 ms at 67/s (next row)"
        rows.append(
            f"| {p.name} | {p.caller} | {p.connections} | {p.load} | {p.requests:,} | {p.errors:,} | "
            f"{p.throughput:.0f}/s | {ms(p.pct(0.5))} | {ms(p.pct(0.95))} | {ms(p.pct(0.99))} | {target} |"
        )
        top = capacity.get((p.name, p.caller))
        if p.load != "closed" and top is not None and float(p.load[:-2]) > top.ok_throughput:
            saturated.append(f"{p.name} at {p.load} (the closed loop got {top.ok_throughput:.0f}/s)")
    rows.append(f"| range | public | ? | {EGA_RATE:.0f}/s | | | {EGA_RATE:.0f}/s | 130 ms (median) | | | {EGA} |")
    details = []
    for p in phases:
        errors = ", ".join(f"{n:,}× {s}" for s, n in sorted(p.statuses.items()) if s != "200")
        found = "; ".join(f"{t}: {p.found[t] / p.asked[t]:.0%} exist" for t in sorted(p.asked))
        before = (
            f"; **the server died in {len(p.crashed)} earlier attempt(s) at this row** (exit status "
            f"{', '.join(str(c.server_exit) for c in p.crashed)}; {sum(c.errors for c in p.crashed):,} requests "
            f"failed there), the figures are from attempt {len(p.crashed) + 1}"
            if p.crashed
            else ""
        )
        details.append(
            f"  - {p.name}, {p.caller}, {p.connections} conn, {p.load}: server {p.server_cpu:.2f} cores, "
            f"client {p.client_cpu:.2f}"
            + (f"; {found}" if found else "")
            + (f"; errors: {errors}" if errors else "")
            + (f"; **the server process died (exit status {p.server_exit})**" if p.server_exit is not None else "")
            + before
        )
    crashes = sum(len(p.crashed) + (p.server_exit is not None) for p in phases)
    server_errors = sum(
        n
        for q in [*phases, *(c for p in phases for c in p.crashed)]
        for s, n in q.statuses.items()
        if s not in ("200", UNSENT)
    )
    lines = [
        SECTION,
        "",
        "Written by `benchmarks/beacon_load.py` (`make beacon-benchmark`), one run: the Beacon API",
        f"(`GET /api/g_variants`) of a running `genomenode serve --workers {args.workers}` ({args.workers} server "
        "processes; `make demo` starts one), with the per-caller rate limit turned off, under a load client in "
        "another process on loopback.",
        "",
        f"- Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average {load_before:.1f} before the run and "
        f"{load_after:.1f} after (the server and the client share these cores"
        + (", and other work was running on them" if load_before >= 0.5 else "")
        + ").",
        f"- Data: 1000 Genomes phase 3 test slice, {VCF.name} (2,504 people × 10,000 records, "
        f"{ASSEMBLY} chr{CHROM}:{work.span[0]:,}-{work.span[1]:,}), dataset `{DATASET}`, CONTROLLED.",
        f'- Load: keep-alive connections (httpx2), one worker each. "closed" = each worker sends its next '
        'request when its last is answered (like `wrk`); "N/s" = requests due at a fixed rate, latency '
        f"counted from when each was due. {args.warmup:.0f} s warm-up, then {args.duration:.0f} s measured "
        "per row (10 s on one connection); latency is the client's, request sent to body received.",
        f"- Sequence queries: {len(work.present):,} real alleles, and for {ABSENT:.0%} of queries one of "
        f"{len(work.absent)} absent ones (a real position, a base no one carries). Range queries: random "
        f"{' and '.join(f'{w // 1000} kb' for w in WINDOWS)} windows within the data's span.",
        "- Callers: public = anonymous, asking for count granularity and answered boolean (the CONTROLLED",
        "  dataset's public answer, with the evidence budget and small-count suppression); steward =",
        "  a data steward's token, asking for and given records (10 a page). Every run serves a fresh copy",
        "  of the node, so the budget's ledger starts empty; within the run, all anonymous requests spend",
        "  the one anonymous caller's budget, as they would in service.",
        f"- Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| query | caller | connections | load | requests | errors | throughput | p50 | p95 | p99 | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Notes:",
        f"- The last row is {EGA}: the only published Beacon v2 figure we know, median 130 ms for range",
        f"  queries at {EGA_RATE:.0f} requests/s (its data, machine, connections and client differ from these).",
        "- ELIXIR Beacon Network: members must take at least 100 concurrent queries; "
        + (
            "every request sent above was answered 200, and the server never died."
            if server_errors == 0 and not crashes
            else f"**not met: {server_errors:,} requests failed"
            + (f" and the server process died {crashes}× (restarted each time; see below)" if crashes else "")
            + "** (the server's own account is below)."
        ),
        "- In a closed loop, latency ≈ connections ÷ throughput (Little's law): a p50 under 20 ms at 100",
        "  connections needs about 5,000 answers a second. The one-connection rows give the answer time",
        "  without queueing; the closed rows at 100 connections the capacity; the fixed-rate rows at 100",
        "  connections the latency at a given load (EGA's 67/s; ELIXIR's 100 concurrent queries, taken as",
        "  100 a second; half the range capacity measured here). The sequence target is judged on those.",
    ]
    if failures:
        lines += ["- The server's logs (`benchmarks/.work/beacon-serve*.log`) on what failed:"]
        lines += [f"  - {f}" for f in failures]
    if saturated:
        lines += [
            f"- Past capacity: {'; '.join(saturated)}. There requests queue, so latency grows for as long as",
            "  the run lasts, and those still due at the end were never sent (counted as errors).",
        ]
    lines += [
        "- Per row: CPU cores the server and the client kept busy, and the share of answers that said",
        "  the variant exists (the budget withholds rare alleles from an anonymous caller once spent):",
        *details,
        "- Where a request's time goes: `benchmarks/beacon_load.py --profile` profiles these queries in process.",
        "",
        "Reproduce: `make beacon-benchmark` (the node is built once into `benchmarks/.work/beacon-node/`).",
    ]
    return "\n".join(lines) + "\n"


def write_section(section: str) -> None:
    """Replace the section in docs/benchmarks.md (up to the next `## ` heading), or append it."""
    path = REPO / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == SECTION), None)
    if start is None:
        head, tail = text.rstrip("\n") + "\n\n", ""
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        head, tail = "".join(lines[:start]), "".join(lines[end:])
    path.write_text(head + section + ("\n" + tail if tail else ""))


# -- where the time goes ----------------------------------------------------------------------
def profile(work: Workload, n: int) -> None:
    """The same queries in process, one at a time: the whole request (TestClient, no sockets),
    the service call alone, and cProfile's top costs of the service call. (The API runs the
    service in a worker thread, where a profiler enabled around TestClient calls does not see.)"""
    import cProfile
    import pstats

    sys.path.insert(0, str(REPO / "src"))
    from fastapi.testclient import TestClient

    from genomenode.access.policy import Caller
    from genomenode.api.app import create_app
    from genomenode.beacon.request import from_query
    from genomenode.settings import Settings

    settings = Settings(data_dir=RUN_NODE, beacon_rate_limit=0)
    token = steward_token()
    with TestClient(create_app(settings)) as client:
        service = client.app.state.beacon  # type: ignore[attr-defined]
        for caller_name, headers in (("public", {}), ("steward", {"Authorization": f"Bearer {token}"})):
            caller = service.gate.caller_for_token(token) if caller_name == "steward" else Caller()
            gran = "count" if caller_name == "public" else "record"
            for kind in ("sequence", "range"):
                make = work.sequence if kind == "sequence" else work.range
                rng = random.Random(1)
                queries = [{**make(rng)[0], "requestedGranularity": gran} for _ in range(n)]
                parsed = [from_query("g_variants", {k: [str(v)] for k, v in q.items()}) for q in queries]
                for q in queries[:20]:
                    client.get("/api/g_variants", params=q, headers=headers)
                t = time.perf_counter()
                for q in queries:
                    r = client.get("/api/g_variants", params=q, headers=headers)
                    assert r.status_code == 200, r.text
                whole = (time.perf_counter() - t) / n
                t = time.perf_counter()
                for one in parsed:
                    service.g_variants(caller, one)
                alone = (time.perf_counter() - t) / n
                prof = cProfile.Profile()
                prof.enable()
                for one in parsed:
                    service.g_variants(caller, one)
                prof.disable()
                print(
                    f"\n=== {kind}, {caller_name} ({n} queries, one at a time): {ms(whole)} a request through "
                    f"TestClient, {ms(alone)} of it in BeaconService.g_variants; its profile: ==="
                )
                stats = pstats.Stats(prof)
                stats.sort_stats("cumulative").print_stats(40)
                stats.sort_stats("tottime").print_stats(20)


# -- main -------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--duration", type=float, default=20.0, help="seconds measured per row")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring, per row")
    ap.add_argument("--port", type=int, default=18766)
    ap.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server processes (`serve --workers`; default: cores)"
    )
    ap.add_argument("--no-steward", action="store_true", help="only the anonymous (public) rows")
    ap.add_argument("--rebuild", action="store_true", help="ingest the VCF again (after the store format changed)")
    ap.add_argument("--no-write", action="store_true", help="print the section, leave docs/benchmarks.md alone")
    ap.add_argument("--profile", type=int, nargs="?", const=300, default=0, metavar="N", help="profile N queries")
    args = ap.parse_args()
    if shutil.which("bcftools") is None:
        sys.exit("missing: bcftools; install with: apt-get install bcftools")
    if not VCF.exists():
        sys.exit(f"test data not found: {VCF}")
    WORK.mkdir(parents=True, exist_ok=True)
    build_node(rebuild=args.rebuild)
    work = workload()
    if args.profile:
        profile(work, args.profile)
        return
    token = None if args.no_steward else steward_token()
    load_before = os.getloadavg()[0]
    for old in WORK.glob("beacon-serve*.log"):
        old.unlink()
    server = start_server(args.port, WORK / "beacon-serve.log", args.workers)
    base = f"http://127.0.0.1:{args.port}"
    public: Who = ("public", {}, "count")
    steward: Who = ("steward", {"Authorization": f"Bearer {token}"}, "record")
    closed: Plan = [
        ("sequence", public, None),
        ("range", public, None),
        *([("sequence", steward, None), ("range", steward, None)] if token else []),
    ]

    def fixed_rate() -> Plan:
        """EGA's rate and ELIXIR's 100 a second for sequence queries; EGA's rate and half what the
        node answered in the closed loop for range queries."""
        capacity = {
            p.name: p.ok_throughput
            for p in phases
            if p.caller == "public" and p.load == "closed" and p.connections > 1 and p.ok_throughput > 0
        }
        half = [("range", public, max(1.0, round(capacity["range"] / 2)))] if "range" in capacity else []
        sequence = [("sequence", public, rate) for rate in (EGA_RATE, ELIXIR_RATE)]
        return [*sequence, ("range", public, EGA_RATE), *half]

    phases: list[Phase] = []

    def row(kind: str, who: Who, rate: float | None, connections: int = args.concurrency) -> None:
        nonlocal server
        caller, headers, granularity = who
        base_make = work.sequence if kind == "sequence" else work.range

        def make(rng: random.Random) -> tuple[Params, str]:
            params, tag = base_make(rng)
            return {**params, "requestedGranularity": granularity}, tag

        load = "closed" if rate is None else f"{rate:.0f}/s"
        duration = args.duration if connections > 1 else min(args.duration, 10.0)
        print(f"{kind}, {caller}, {connections} conn, {load}: {args.warmup:.0f} s + {duration:.0f} s ...", flush=True)
        crashed: list[Phase] = []
        while True:
            phase = asyncio.run(
                run_phase(
                    base,
                    Phase(kind, caller, load, duration, connections),
                    make,
                    headers=headers,
                    concurrency=connections,
                    warmup=args.warmup,
                    rate=rate,
                    server_pid=server.pid,
                    alive=functools.partial(_alive, server),
                )
            )
            print(
                f"  {phase.requests} requests, {phase.errors} errors, {phase.throughput:.0f}/s, "
                f"p50 {ms(phase.pct(0.5))}, p95 {ms(phase.pct(0.95))}, p99 {ms(phase.pct(0.99))}; "
                f"server {phase.server_cpu:.2f} cores, client {phase.client_cpu:.2f}",
                flush=True,
            )
            if server.poll() is None:
                break
            # it died under load: keep the attempt for the report, start another server, try again
            phase.server_exit = server.returncode
            crashed.append(phase)
            log = WORK / f"beacon-serve-{sum(len(p.crashed) for p in phases) + len(crashed)}.log"
            print(f"  the server died (exit status {server.returncode}); restarting it, log in {log.name}", flush=True)
            server = start_server(args.port, log, args.workers)
            if len(crashed) > RETRIES:
                break
        phase.crashed = crashed if phase.server_exit is None else crashed[:-1]
        phases.append(phase)

    try:
        for kind, who, rate in closed:  # one connection first: the answer time without queueing
            row(kind, who, rate, connections=1)
        for kind, who, rate in closed:
            row(kind, who, rate)
        for kind, who, rate in fixed_rate():
            row(kind, who, rate)
    finally:
        server.terminate()
        server.wait(timeout=15)
    section = report(phases, args, work, load_before, server_failures())
    print("\n" + section)
    if not args.no_write:
        write_section(section)


if __name__ == "__main__":
    main()
