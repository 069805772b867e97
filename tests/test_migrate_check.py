"""`make migrate-check`: the app synthesized with CDK Terrain in a side venv, compared with today's output."""

import pytest

from tools import migrate_check


def test_compare_names_every_kind_of_difference():
    today = {"resource": {"aws_s3_bucket": {"a": {"bucket": "x", "tags": {"k": "1"}}, "gone": {}}}, "output": {}}
    cdktn = {"resource": {"aws_s3_bucket": {"a": {"bucket": "x", "tags": {"k": "2"}}, "new": {}}}, "output": {"o": 1}}
    diff = migrate_check.compare("s", today, cdktn)
    assert (diff.resources, diff.equal) == (2, 0)
    assert diff.only_today == ["aws_s3_bucket.gone"] and diff.only_cdktn == ["aws_s3_bucket.new"]
    assert diff.changed == {"aws_s3_bucket.a": ['tags.k: "1" -> "2"']}
    assert diff.other == ["output.o: null -> 1"]
    broken = migrate_check.compare("s", today, {"error": {"error": "TypeError: x", "at": "modules/a.py:1"}})
    assert broken.broken and "does not synthesize" in migrate_check.render([broken], seconds=1)


@pytest.mark.slow  # a side venv with CDK Terrain (about 280 MB) and two full synths
def test_the_service_stacks_move_unchanged_and_the_bootstrap_names_what_breaks(tmp_path):
    report = tmp_path / "MIGRATION.md"
    assert migrate_check.main(["--report", str(report)]) == 0
    text = report.read_text()
    for stack in ("serverless-app-local", "serverless-app-dev", "serverless-app-prod"):
        row = next(line for line in text.splitlines() if line.startswith(f"| {stack} |"))
        resources, equal, changed, only_today, only_cdktn, other = row.split("|")[2:8]
        assert int(resources) > 100 and resources == equal, row
        assert (changed, only_today, only_cdktn, other) == (" 0 ", " 0 ", " 0 ", " 2 "), row
    assert "reset_on_delete" in text and "at `modules/api_gateway_account.py:" in text
