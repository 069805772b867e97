"""``docs/BENCHMARKS.md`` from ``docs/benchmarks.json``: each figure against its target, then the details (the
steps of ``make up``, the slowest resources and tests)."""

from __future__ import annotations

# Public us-east-1 list prices used by the cost model (per the AWS pricing pages, read 2026-11-24).
PRICES = {
    "s3_put_per_1000": 0.005,  # S3 Standard PUT/COPY/POST/LIST requests
    "firehose_ingest_per_gb": 0.029,  # Firehose Direct PUT ingestion, first 500 TB/month, 5 KB record rounding
    "firehose_record_rounding_kb": 5,
    "kms_per_10000": 0.03,  # KMS API requests (SSE-KMS data keys without bucket keys)
}


def _row(name: str, figure: dict, unit: str, target: str = "") -> str:
    return f"| {name} | {figure['min']:g} {unit} | {figure['median']:g} {unit} | {figure['runs']} | {target} |"


def _details(results: dict) -> list[str]:
    lines = []
    if "up" in results:
        lines += ["", "`make up` steps, cold:", "", "```", *results["up"]["cold_steps"], "```"]
        lines += ["", "and warm:", "", "```", *results["up"]["warm_steps"], "```"]
        if results["up"].get("cold_slowest_resources"):
            lines += [
                "",
                "The resources the cold `make up`'s applies waited longest for (Terraform's per-resource timings; the",
                "rest of each apply is Terraform planning and the provider reading back what it made; see README):",
                "",
                "```",
                *results["up"]["cold_slowest_resources"],
                "```",
            ]
    if results["tests"].get("slowest"):
        lines += ["", "The ten slowest tests of that `make test` run:", "", "```", *results["tests"]["slowest"], "```"]
    return lines


def render(results: dict) -> str:
    s, t, e, h, c, m = (results[k] for k in ("synth", "tests", "emulator", "handler", "log_cost", "machine"))
    ok = lambda flag: "met" if flag else "**missed**"  # noqa: E731
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {m['date']}: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Python {m['python']}. Raw numbers: `docs/benchmarks.json`.",
        "",
        "| figure | min | median | runs | target |",
        "| --- | --- | --- | --- | --- |",
        _row(
            "synth, all stacks (project)",
            s["project"]["seconds"],
            "s",
            f"< 3 s: {ok(s['project']['seconds']['median'] < 3)}",
        ),
        _row("synth, all stacks (naive prebuilt import)", s["naive_prebuilt"]["seconds"], "s"),
        f"| speedup (naive / project, medians) | | {s['speedup_median']}x | | >= 4x: {ok(s['speedup_median'] >= 4)} |",
        _row(
            "synth peak RSS (project, process tree)",
            s["project"]["peak_rss_mib"],
            "MiB",
            f"< 800 MiB: {ok(s['project']['peak_rss_mib']['median'] < 800)}",
        ),
        _row("synth peak RSS (naive)", s["naive_prebuilt"]["peak_rss_mib"], "MiB"),
        _row("`terraform validate` of prod (the floor)", s["terraform_validate_floor"]["seconds"], "s"),
        _row("unit tests (`make test-unit`)", t["unit"], "s", f"< 15 s: {ok(t['unit']['median'] < 15)}"),
    ]
    if "full" in t:
        lines.append(
            _row("all tests (`make test`, working copy)", t["full"], "s", f"< 120 s: {ok(t['full']['median'] < 120)}")
        )
    if "up" in results:
        u = results["up"]
        lines += [
            _row(
                "`make up`, cold (emulator stopped, no state)",
                u["cold"],
                "s",
                f"< 60 s: {ok(u['cold']['median'] < 60)}",
            ),
            _row("`make up` again, nothing changed", u["warm"], "s", f"< 20 s: {ok(u['warm']['median'] < 20)}"),
        ]
    if "fresh" in results:
        f = results["fresh"]
        # One run of each half: their sum is the whole `make setup` of that clone.
        setup_all = {k: round(f["setup_app"][k] + f["setup_rest"][k], 3) for k in ("min", "median")} | {"runs": 1}
        lines += [
            _row("fresh clone: `make setup-app` (venv, Terraform CLI config)", f["setup_app"], "s"),
            _row("fresh clone: the rest of `make setup` (tool venvs, npm, bytecode)", f["setup_rest"], "s"),
            _row(
                "fresh clone: `make setup`, all of it",
                setup_all,
                "s",
                f"< 60 s: {ok(setup_all['median'] < 60)}",
            ),
            _row(
                "fresh clone: first `make up`, its setup included",
                f["up_with_setup"],
                "s",
                f"< 90 s: {ok(f['up_with_setup']['median'] < 90)}",
            ),
        ]
        if "test" in f:
            lines += [
                _row(
                    "fresh clone: `make test`, test time (setup done)",
                    f["test"],
                    "s",
                    f"< 120 s: {ok(f['test']['median'] < 120)}",
                ),
                _row("fresh clone: `make test`, wall time of the command", f["test_wall"], "s"),
            ]
    lines += [
        _row("emulator: bootstrap apply", e["bootstrap_apply"], "s"),
        _row("emulator: apply of `local`", e["local_apply"], "s"),
        _row("emulator: no-op re-plan of `local` (GOGC=400, the Makefile's)", e["noop_replan_gogc400"], "s"),
        _row("the same, CPU of Terraform and its provider processes", e["noop_replan_gogc400_cpu"], "s"),
        _row("emulator: no-op re-plan of `local` at Go's default GOGC=100", e["noop_replan_gogc100"], "s"),
        _row("the same, CPU", e["noop_replan_gogc100_cpu"], "s"),
        _row(
            "handler cold import, Lambda environment (Powertools + X-Ray SDK)",
            h["cold_import_ms"],
            "ms",
            f"< 300 ms: {ok(h['cold_import_ms']['median'] < 300)}",
        ),
        _row(
            "handler cold import outside Lambda (X-Ray SDK builds a daemon client)",
            h["cold_import_off_lambda_ms"],
            "ms",
        ),
        _row("handler warm `GET /health` p50", h["get_health_p50_us"], "µs"),
        _row(
            "handler warm `GET /health` p99",
            h["get_health_p99_us"],
            "µs",
            f"< 1000 µs: {ok(h['get_health_p99_us']['median'] < 1000)}",
        ),
        _row("handler warm `POST /events` p50", h["post_events_p50_us"], "µs"),
        _row("handler warm `POST /events` p99", h["post_events_p99_us"], "µs"),
        _row("handler process peak RSS", h["peak_rss_mib"], "MiB"),
        *_details(results),
        "",
        "The project's synth is `make synth`'s command (`python -O main.py`): `synth/fast_import.py` imports only the "
        "provider bindings the stacks use and preloads `synth/fast_import.cjs` into the jsii runtime so that node "
        "loads only their JavaScript. The naive synth is the same app with both off (`BASELINE_EAGER_IMPORT=1 "
        "python main.py`); its output is byte-identical (`tests/test_fast_import.py`). Both synths are timed after "
        "one warm-up run (jsii package cache, bytecode).",
        "",
        "## Log archive cost per million requests",
        "",
        f"Prices (us-east-1 list prices, read {m['date'][:10]}): S3 PUT ${PRICES['s3_put_per_1000']}/1,000; Firehose "
        f"Direct PUT ingestion ${PRICES['firehose_ingest_per_gb']}/GB billed per record rounded up to "
        f"{PRICES['firehose_record_rounding_kb']} KB; KMS ${PRICES['kms_per_10000']}/10,000 requests. Firehose's "
        "CloudWatch Logs decompression is charged at the ingestion rate here (an assumption to check against the "
        "current price list). CloudWatch Logs ingestion is left out of both sides: Lambda and API Gateway write "
        "to CloudWatch Logs either way.",
        "",
        f"Assumed {c['assumptions']['bytes_per_request']} bytes of log lines and "
        f"{c['assumptions']['records_per_request']} subscription records per request.",
        "",
        "| path | USD per million requests |",
        "| --- | --- |",
        f"| subscription -> Firehose -> S3 (this project) | {c['ours_usd_per_million']} |",
        f"| one synchronous S3 PutObject per request | {c['put_per_request_usd_per_million']} |",
        f"| the same without S3 bucket keys (one KMS call per PUT) | "
        f"{c['put_per_request_without_bucket_keys_usd_per_million']} |",
        f"| ratio | {c['ratio']}x (target >= 50x: {ok(c['ratio'] >= 50)}) |",
        f"| worst case, one subscription record per request | {c['worst_case']['ours_usd_per_million']} "
        f"({c['worst_case']['ratio']}x) |",
        "",
        "The PUT-per-request path also adds an S3 round trip (typically tens of milliseconds) to every request's "
        "latency; the subscription path adds none.",
    ]
    return "\n".join(lines) + "\n"
