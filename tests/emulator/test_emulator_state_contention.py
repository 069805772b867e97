"""Remote state under contention: a held lock refuses a second apply, and is released after."""

import subprocess
import time

from tools import manifest, stackctl

STATE_KEY = "serverless-app-local/terraform.tfstate"


def test_a_held_lock_refuses_a_second_apply_until_released(deployed, record_property):
    stack = manifest.find("local")
    # `terraform console` holds the state lock for as long as it runs: a real second writer.
    holder = subprocess.Popen(
        ["terraform", f"-chdir={stack.directory}", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        s3 = deployed.client("s3")
        bucket = deployed.bootstrap["state_bucket_name"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
            if f"{STATE_KEY}.tflock" in keys:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the console never took the lock")
        refused = stackctl.terraform(
            stack, "apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s", check=False, capture=True
        )
        assert refused.returncode != 0
        assert "Error acquiring the state lock" in refused.stdout
    finally:
        holder.communicate("exit\n", timeout=60)
    # Released: the lock object is gone, so the next writer gets in (test_emulator_release.py's plans and apply).
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert f"{STATE_KEY}.tflock" not in keys and STATE_KEY in keys
    record_property("summary", "state lock: second apply refused while the lock was held, lock released after")
