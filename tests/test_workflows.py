"""The CI pipeline: actionlint-clean, zizmor-clean at medium severity and above, and hardened as promised."""

import json
import re
import subprocess

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
