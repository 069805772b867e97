"""The CI pipeline: actionlint-clean, zizmor-clean at medium severity and above, and hardened as promised."""

import json
import os
import re
import subprocess
import sys

import pytest
from stack_helpers import PROJECT_DIR

TOOLS = PROJECT_DIR / ".cache" / "ci-tools" / "bin"
WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))


def test_there_is_a_pipeline():
    assert [w.name for w in WORKFLOWS] == ["ci.yml"]


def test_actionlint_is_clean():
    assert (TOOLS / "actionlint").exists(), "run `make setup` (it installs the workflow linters)"
    result = subprocess.run(
        [str(TOOLS / "actionlint"), *map(str, WORKFLOWS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_at_medium_or_above(record_property):
    result = subprocess.run(
        [str(TOOLS / "zizmor"), "--offline", "--min-severity", "medium", "--format", "json", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=1)[:4000]
    record_property("summary", f"workflows: actionlint clean, zizmor 0 findings >= medium in {len(WORKFLOWS)} file(s)")


TEXT = "\n".join(w.read_text() for w in WORKFLOWS)


def test_every_action_is_pinned_to_a_full_commit_sha():
    uses = re.findall(r"uses:\s*(\S+)", TEXT)
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses


def test_no_access_keys_and_id_token_only_where_a_role_is_assumed():
    assert "aws-access-key-id" not in TEXT and "secrets." not in TEXT
    jobs = re.split(r"\n  (?=[a-z-]+:\n)", TEXT.split("\njobs:\n", 1)[1])
    for job in jobs:
        assumes = "configure-aws-credentials" in job
        assert ("id-token: write" in job) == assumes, job.splitlines()[0]
    assert re.search(r"^permissions: \{\}$", TEXT, re.M)


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_applies_use_the_saved_plan_behind_their_github_environment_one_at_a_time(environment):
    job = TEXT.split(f"\n  apply-{environment}:\n", 1)[1].split("\n  apply-", 1)[0]
    assert f"environment: {environment}" in job
    assert f"group: apply-{environment}" in job and "cancel-in-progress: false" in job
    assert f"make apply-plan ENV={environment}" in job and f"name: plan-{environment}" in job


def test_no_untrusted_expression_is_expanded_inside_a_run_script():
    scripts = re.findall(r"run: (.+)", TEXT)
    assert scripts and not [s for s in scripts if "${{" in s]


def _jobs() -> dict[str, str]:
    body = TEXT.split("\njobs:\n", 1)[1]
    parts = re.split(r"\n  (?=[a-z-]+:\n)", "\n" + body)
    return {part.split(":", 1)[0].strip(): part for part in parts if part.strip()}


def test_every_job_has_a_timeout_and_the_comment_job_can_check_out_a_private_repository():
    jobs = _jobs()
    assert set(jobs) == {"test", "plan", "comment", "apply-dev", "apply-prod", "drift"}
    assert all(re.search(r"\n    timeout-minutes: \d+\n", job) for job in jobs.values()), jobs.keys()
    assert "contents: read" in jobs["comment"] and "pull-requests: write" in jobs["comment"]


def test_repository_variables_reach_only_the_jobs_that_synthesize_to_plan():
    head = TEXT.split("\njobs:\n", 1)[0]
    assert "vars." not in head  # no workflow-level variable reaches the test job
    jobs = _jobs()
    assert "vars." not in jobs["test"]
    # Each variable the plan job sets is one the configuration reads, and the tests clear every one of those.
    from stacks.environments import DEPLOYMENT_VARIABLES

    patterns = [re.escape(v).replace(r"\{ENV\}", "(DEV|PROD)") for v in DEPLOYMENT_VARIABLES]
    set_in_env = re.findall(r"\n      ([A-Z_]+): \$\{\{ vars\.", jobs["plan"])
    assert set_in_env and all(any(re.fullmatch(p, name) for p in patterns) for name in set_in_env), set_in_env


@pytest.mark.slow
def test_the_suite_is_immune_to_every_variable_the_pipeline_and_github_set(tmp_path):
    # The test job runs without the repository's variables, but a job or a laptop may have any of them, and GitHub
    # sets GITHUB_REPOSITORY in every job: the tests that read configuration must pass with all of them set.
    from stacks.environments import DEPLOYMENT_VARIABLES

    values = {
        "AWS_ACCOUNT_ID_{ENV}": "444455556666",
        "TF_STATE_KMS_KEY_ARN_{ENV}": "arn:aws:kms:us-east-1:444455556666:key/44444444-4444-4444-8444-444444444444",
        "ALARM_EMAILS_{ENV}": "someone@example.com",
        "ALARM_HTTPS_ENDPOINTS_{ENV}": "https://hooks.example.com/alarm",
        "GITHUB_REPOSITORY": "someone/else",
        "GITHUB_OIDC_PROVIDER_ARN": "arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com",
        "TF_STATE_BUCKET": "someone-elses-state",
        "TF_STATE_KEY_PREFIX": "elsewhere/",
        "TF_STATE_REGION": "us-east-1",
        "BOOTSTRAP_ENV": "prod",
        "BOOTSTRAP_STATE_DIR": str(tmp_path / "state"),
        "EMULATOR_PORT": "4999",
    }
    assert set(values) == set(DEPLOYMENT_VARIABLES)
    environ = {**os.environ}
    for pattern, value in values.items():
        for environment in ("LOCAL", "DEV", "PROD"):
            environ[pattern.format(ENV=environment)] = value
    suites = [
        "tests/test_config.py",
        "tests/test_remote_state.py",
        "tests/test_bootstrap_stack.py",
        "tests/test_preflight.py",
        "tests/test_monitoring.py",
        "tests/test_api.py",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", *suites],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_pull_requests_plan_dev_only_and_a_refused_plan_still_replaces_the_comment():
    plan = _jobs()["plan"]
    assert "github.event_name == 'pull_request' && '[\"dev\"]'" in plan
    summary, upload = plan.split("- name: Summary", 1)[1], plan.split("name: plan-summary-", 1)[0]
    assert "if: always()" in summary.split("\n      - ", 1)[0]
    assert "if: always()" in upload.rsplit("- uses: actions/upload-artifact", 1)[1]
    assert "retention-days: 3" in plan


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_applies_release_what_they_published(environment):
    job = _jobs()[f"apply-{environment}"]
    assert job.index(f"make apply-plan ENV={environment}") < job.index(f"make release-applied ENV={environment}")


def test_drift_is_checked_every_day_with_the_plan_roles():
    assert re.search(r"schedule:\n    - cron: ", TEXT)
    drift = _jobs()["drift"]
    assert "github.event_name == 'schedule'" in drift and "PLAN_ROLE_ARN" in drift and "APPLY_ROLE" not in drift
    assert 'make drift ENV="$ENV"' in drift


def test_a_cache_hit_marks_every_setup_target_current():
    # A restored tree is older than the fresh checkout's lock files: every marker `make setup` checks must be touched,
    # or make reinstalls what the cache just restored (and the cache would save nothing).
    makefile = (PROJECT_DIR / "Makefile").read_text()
    variables = dict(re.findall(r"^(SETUP_\w+|CACHE|TF_CLI_CONFIG_FILE) := (.*)$", makefile, flags=re.M))
    markers = set(variables["SETUP_ALL"].replace("$(SETUP_APP)", variables["SETUP_APP"]).split())
    generated = {"$(TF_CLI_CONFIG_FILE)"}  # written from the repository's own script in a second, never cached
    touched = set(re.search(r"touch ((?:[^\n\\]|\\\n)+)", TEXT).group(1).replace("\\\n", " ").split())
    assert {m.replace("$(CACHE)", ".cache") for m in markers - generated} <= touched
