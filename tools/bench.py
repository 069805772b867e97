"""``make bench``: measure synth, tests, emulator apply, the handler and the log archive's cost, side by side.

Writes ``docs/BENCHMARKS.md`` and ``docs/benchmarks.json`` for the machine it runs on. Every timed figure is
the min and median over repeated runs (the count is in the table). Targets are checked here, not in tests.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tools import emulator, manifest, stackctl
from tools.bench_report import PRICES, render
from tools.processes import free_port

PROJECT_DIR = Path(__file__).resolve().parent.parent
DOCS = PROJECT_DIR / "docs"
PY = sys.executable
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))


def _tree_rss_kb(pid: int) -> int:
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending += [int(c) for c in children.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, the whole process tree, sampled every 10 ms) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kb(process.pid))
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}")
    return elapsed, peak / 1024


def summary(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3), "runs": len(values)}


def bench_synth(work: Path) -> dict:
    results = {}
    # The project's synth is `make synth`'s command; the naive one imports the prebuilt provider as documented.
    commands = {"project": ([PY, "-O", "main.py"], "0"), "naive_prebuilt": ([PY, "main.py"], "1")}
    for label, (command, eager) in commands.items():
        env = {
            **manifest.PLACEHOLDER_DEPLOYMENT,  # every stack, prod included (its validate is the floor below)
            "CDKTF_OUTDIR": str(work / label),
            "BASELINE_EAGER_IMPORT": eager,
            "PYTHONDONTWRITEBYTECODE": "",
        }
        measure(command, env)  # warm-up: the jsii package cache and bytecode, as after any first run
        runs = [measure(command, env) for _ in range(REPEATS if eager == "0" else max(3, REPEATS // 2))]
        results[label] = {"seconds": summary([r[0] for r in runs]), "peak_rss_mib": summary([r[1] for r in runs])}
    stack = manifest.find("prod", work / "project")
    stackctl.init(stack, backend=False, capture=True)
    floor = [measure(["terraform", f"-chdir={stack.directory}", "validate", "-no-color"])[0] for _ in range(3)]
    results["terraform_validate_floor"] = {"seconds": summary(floor)}
    results["speedup_median"] = round(
        results["naive_prebuilt"]["seconds"]["median"] / results["project"]["seconds"]["median"], 2
    )
    return results


def bench_tests() -> dict:
    unit = [
        measure(
            [
                PY,
                "-m",
                "pytest",
                "-q",
                "-n",
                "2",
                "-m",
                "not emulator and not terraform and not checkov and not slow",
                "-p",
                "no:cacheprovider",
            ]
        )[0]
        for _ in range(2)
    ]
    results = {"unit": summary(unit)}
    if os.environ.get("BENCH_FULL_TESTS", "1") == "1":
        # `make test` itself (its workers, its environment), with the ten slowest tests listed.
        env = {**os.environ, "PYTEST_ADDOPTS": "-q --durations=10 -p no:cacheprovider"}
        started = time.perf_counter()
        run = subprocess.run(["make", "test"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise RuntimeError(f"the test suite failed:\n{run.stdout[-3000:]}")
        results["full"] = summary([time.perf_counter() - started])
        slowest = run.stdout.split("slowest 10 durations", 1)[-1].splitlines()
        results["slowest"] = [line.strip() for line in slowest if re.match(r"\s*\d+\.\d+s ", line)][:10]
    return results


def bench_up() -> dict:
    """`make up` from a stopped emulator and no bootstrap state (cold), then again with nothing changed (warm)."""

    def make(target: str) -> tuple[float, str]:
        started = time.perf_counter()
        run = subprocess.run(["make", target], cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise RuntimeError(f"make {target} failed:\n{run.stdout[-3000:]}{run.stderr[-2000:]}")
        return time.perf_counter() - started, run.stdout

    make("down")
    cold, cold_out = make("up")
    warm, warm_out = make("up")
    make("down")
    steps = lambda text: text.split("== timings ==", 1)[-1].strip("\n").splitlines()  # noqa: E731
    return {
        "cold": summary([cold]),
        "warm": summary([warm]),
        "cold_steps": steps(cold_out),
        "warm_steps": steps(warm_out),
        "cold_slowest_resources": slowest_resources(cold_out),
    }


def bench_fresh_clone(work: Path) -> dict:
    """A new user's first run and CI's: a clone of HEAD, `make up` with a stopped emulator (its first step is
    `make setup-app`, what it needs, and its total counts it), the rest of `make setup` (what `make test` adds), then
    `make test` in that clone (cold bytecode and caches, as on a fresh CI machine)."""
    clone = work / "fresh-clone"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_DIR), str(clone)], check=True)
    # The clone's tools must not find this checkout's caches or outputs.
    env = {k: v for k, v in os.environ.items() if k not in ("CDKTF_OUTDIR", "VIRTUAL_ENV")}

    def make(*args: str) -> tuple[float, str]:
        started = time.perf_counter()
        run = subprocess.run(["make", *args], cwd=clone, env=env, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise RuntimeError(
                f"make {' '.join(args)} in a fresh clone failed:\n{run.stdout[-3000:]}{run.stderr[-2000:]}"
            )
        return time.perf_counter() - started, run.stdout

    subprocess.run(["make", "down"], cwd=PROJECT_DIR, capture_output=True, check=False)
    up, up_out = make("up")  # the first command of a new user: its setup-app is its first step
    make("down")
    rest, _ = make("setup")
    steps = up_out.split("== timings ==", 1)[-1].strip("\n").splitlines()
    setup_app = next(float(line.split()[-2]) for line in steps if line.strip().startswith("setup"))
    results = {
        "setup_app": summary([setup_app]),
        "setup_rest": summary([rest]),
        "up_with_setup": summary([up]),
        "up_steps": steps,
    }
    if os.environ.get("BENCH_FULL_TESTS", "1") == "1":
        wall, test_out = make("test")
        found = re.search(r"\d+ passed.* in ([\d.]+)s", test_out)
        if not found:
            raise RuntimeError(f"make test in a fresh clone reported no test time:\n{test_out[-2000:]}")
        results["test"] = summary([float(found.group(1))])
        results["test_wall"] = summary([wall])
    return results


# Terraform's own per-resource timing in an apply's output: "aws_kms_key.key_F64E54E4: Creation complete after 8s".
COMPLETE = re.compile(r"^([\w.\[\]\"-]+): (?:Creation|Modifications|Destruction) complete after (\d+)m?(\d*)s", re.M)


def slowest_resources(output: str, at_least_seconds: int = 2) -> list[str]:
    """The resources Terraform took the longest on, slowest first (what a cold `make up` waits for)."""
    found = []
    for address, first, second in COMPLETE.findall(output):
        seconds = int(first) * 60 + int(second) if second else int(first)
        if seconds >= at_least_seconds:
            found.append((seconds, address))
    return [f"{seconds:4d} s  {address}" for seconds, address in sorted(found, key=lambda f: (-f[0], f[1]))]


def bench_emulator(work: Path) -> dict:
    port = free_port()
    env = {"EMULATOR_PORT": str(port), "CDKTF_OUTDIR": str(work / "emu"), "BOOTSTRAP_STATE_DIR": str(work / "state")}
    saved = dict(os.environ)
    os.environ.update(env)
    emulator.start(port)
    try:
        subprocess.run([PY, "main.py"], cwd=PROJECT_DIR, check=True, capture_output=True)
        started = time.perf_counter()
        stackctl.apply("bootstrap", capture=True)
        bootstrap = time.perf_counter() - started
        started = time.perf_counter()
        stackctl.apply("local", capture=True)
        apply = time.perf_counter() - started
        # Wall and CPU (Terraform and its provider processes) of a no-op re-plan, at the Makefile's GOGC and at
        # Go's default: what the setting buys on every plan and apply.
        replans: dict[str, list[tuple[float, float]]] = {"400": [], "100": []}
        for _ in range(3):
            for gogc, runs in replans.items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                stackctl.plan("local", env={"GOGC": gogc}, detailed_exitcode=True, capture=True)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
                runs.append((time.perf_counter() - started, cpu))
    finally:
        emulator.stop(port)
        os.environ.clear()
        os.environ.update(saved)
    results = {"bootstrap_apply": summary([bootstrap]), "local_apply": summary([apply])}
    for gogc, runs in replans.items():
        results[f"noop_replan_gogc{gogc}"] = summary([wall for wall, _ in runs])
        results[f"noop_replan_gogc{gogc}_cpu"] = summary([cpu for _, cpu in runs])
    return results


HANDLER_COLD = """
import json, os, resource, sys, time
os.environ.update(POWERTOOLS_SERVICE_NAME="serverless-app", POWERTOOLS_METRICS_NAMESPACE="bench")
t = time.perf_counter()
import functions.api.handler
print(json.dumps({"ms": (time.perf_counter() - t) * 1000,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

HANDLER_WARM = """
import io, json, os, sys, time, contextlib
os.environ.update(POWERTOOLS_SERVICE_NAME="serverless-app", POWERTOOLS_METRICS_NAMESPACE="bench")
from tools.lambda_runtime import LambdaContext, proxy_event
from functions.api import handler
handler.logger.registered_handler.stream = io.StringIO()
out = {}
for name, event in (("get_health", proxy_event("GET", "/health")),
                    ("post_events", proxy_event("POST", "/events", json.dumps({"type": "t", "payload": {"a": 1}})))):
    samples = []
    with contextlib.redirect_stdout(io.StringIO()):
        for i in range(3000):
            t = time.perf_counter_ns()
            handler.lambda_handler(event, LambdaContext())
            samples.append((time.perf_counter_ns() - t) / 1000)
            if i % 500 == 0:
                handler.logger.registered_handler.stream = io.StringIO()
    samples = sorted(samples[200:])
    out[name] = {"p50_us": samples[len(samples) // 2], "p99_us": samples[int(len(samples) * 0.99)]}
import resource
out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def bench_handler() -> dict:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "", "POWERTOOLS_TRACE_DISABLED": "true", "PYTHONWARNINGS": "ignore"}
    # Cold import as on Lambda: tracing on, and LAMBDA_TASK_ROOT set, which makes the X-Ray SDK use its Lambda
    # sampler instead of building a botocore client for the X-Ray daemon (about 130 ms elsewhere).
    lambda_env = {
        **env,
        "LAMBDA_TASK_ROOT": str(PROJECT_DIR),
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "POWERTOOLS_TRACE_DISABLED": "false",
    }
    subprocess.run([PY, "-c", "import functions.api.handler"], cwd=PROJECT_DIR, env=env, check=True)  # compile .pyc
    cold = [
        json.loads(
            subprocess.run(
                [PY, "-c", HANDLER_COLD], cwd=PROJECT_DIR, env=lambda_env, check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(max(REPEATS, 7))
    ]
    cold_off_lambda = [
        json.loads(
            subprocess.run(
                [PY, "-c", HANDLER_COLD], cwd=PROJECT_DIR, env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(3)
    ]
    warm = [
        json.loads(
            subprocess.run(
                [PY, "-c", HANDLER_WARM], cwd=PROJECT_DIR, env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(3)
    ]
    return {
        "cold_import_ms": summary([c["ms"] for c in cold]),
        "cold_import_off_lambda_ms": summary([c["ms"] for c in cold_off_lambda]),
        "get_health_p50_us": summary([w["get_health"]["p50_us"] for w in warm]),
        "get_health_p99_us": summary([w["get_health"]["p99_us"] for w in warm]),
        "post_events_p50_us": summary([w["post_events"]["p50_us"] for w in warm]),
        "post_events_p99_us": summary([w["post_events"]["p99_us"] for w in warm]),
        "peak_rss_mib": summary([w["rss_mib"] for w in warm]),
    }


def log_cost_model(bytes_per_request: int = 1100, records_per_request: float = 0.2) -> dict:
    """Archive cost per million requests: our subscription -> Firehose -> S3 path vs one PutObject per request.

    ``bytes_per_request``: one Powertools JSON line (~600 B) plus one access-log line (~500 B).
    ``records_per_request``: CloudWatch Logs delivers batches; at a few requests per second one subscription
    record carries several requests' lines. 1.0 is the worst case (each request its own record).
    """
    million = 1_000_000
    gb = bytes_per_request * million / 1024**3
    rounding_gb = records_per_request * million * PRICES["firehose_record_rounding_kb"] / 1024**2
    billed_gb = max(gb, rounding_gb)
    # Firehose also bills the decompression it does; charged here at the ingestion rate (an assumption).
    firehose = billed_gb * PRICES["firehose_ingest_per_gb"] + gb * PRICES["firehose_ingest_per_gb"]
    # One object per 5 MiB buffer (gzip shrinks ~8x, so objects are written per ~40 MiB of raw log lines).
    objects = max(1.0, gb * 1024 / 40)
    ours = firehose + objects * PRICES["s3_put_per_1000"] / 1000
    naive = million * PRICES["s3_put_per_1000"] / 1000
    naive_without_bucket_keys = naive + million * PRICES["kms_per_10000"] / 10000
    worst = log_cost_model(bytes_per_request, 1.0) if records_per_request != 1.0 else None
    return {
        "assumptions": {
            "bytes_per_request": bytes_per_request,
            "records_per_request": records_per_request,
            "prices_usd": PRICES,
        },
        "ours_usd_per_million": round(ours, 4),
        "put_per_request_usd_per_million": round(naive, 4),
        "put_per_request_without_bucket_keys_usd_per_million": round(naive_without_bucket_keys, 4),
        "ratio": round(naive / ours, 1),
        **(
            {"worst_case": {"ours_usd_per_million": worst["ours_usd_per_million"], "ratio": worst["ratio"]}}
            if worst
            else {}
        ),
    }


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 1024**2, 1),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main(argv: list[str] | None = None) -> int:
    """``--only a,b`` re-measures those steps and keeps the rest of ``docs/benchmarks.json``."""
    argv = sys.argv[1:] if argv is None else argv
    only = set(argv[1].split(",")) if len(argv) == 2 and argv[0] == "--only" else None
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    previous = DOCS / "benchmarks.json"
    try:
        results = json.loads(previous.read_text()) if only and previous.exists() else {}
        results["machine"] = machine()
        steps = (
            ("synth", lambda: bench_synth(work)),
            ("handler", bench_handler),
            ("emulator", lambda: bench_emulator(work)),
            ("tests", bench_tests),
            ("up", bench_up),
            ("fresh", lambda: bench_fresh_clone(work)),
            ("log_cost", log_cost_model),
        )
        for name, step in steps:
            if only and name not in only:
                continue
            print(f"bench: {name}...", flush=True)
            results[name] = step()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    DOCS.mkdir(exist_ok=True)
    (DOCS / "benchmarks.json").write_text(json.dumps(results, indent=2) + "\n")
    (DOCS / "BENCHMARKS.md").write_text(render(results))
    print((DOCS / "BENCHMARKS.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
