"""What the long make targets print as they go: each step's time, make's own setup first, and the total."""

import time

from tools import stackctl
from tools.devloop import Steps


def test_make_up_counts_its_setup_as_the_first_step_and_in_the_total(capsys):
    steps = Steps(make_started=time.time() - 3.0)  # make spent 3 s on its prerequisites before the loop began
    with steps.step("synth (every stack)"):
        pass
    printed = capsys.readouterr().out
    assert printed.startswith("[1] setup (make's prerequisites): 3.0 s\n")
    assert "[2] synth (every stack)...\n[2] synth (every stack): 0.0 s" in printed
    rows = steps.summary().splitlines()
    label = "setup (make's prerequisites)"
    assert rows[1:3] == ["== timings ==", f"  {label:<44} {3.0:6.1f} s"]
    assert float(rows[-1].split()[-2]) >= 3.0  # the total includes the setup


def test_a_stackctl_action_says_how_long_it_took_and_outputs_stay_json(monkeypatch, capsys):
    monkeypatch.setattr(stackctl, "find", lambda kind: None)
    monkeypatch.setattr(stackctl, "check_before_touching", lambda stack, online=True: None)
    monkeypatch.setattr(stackctl, "drift", lambda kind: 2)
    monkeypatch.setattr(stackctl, "outputs", lambda kind: {"api_url": "u"})
    assert stackctl.main(["drift", "dev"]) == 2
    assert capsys.readouterr().out.splitlines()[-1].startswith("[stackctl] drift dev: ")
    assert stackctl.main(["outputs", "dev"]) == 0
    assert capsys.readouterr().out == '{\n  "api_url": "u"\n}\n'
