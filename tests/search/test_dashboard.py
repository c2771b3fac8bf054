"""A finished study's storage opens in optuna-dashboard: started on loopback, its trials read back over HTTP."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


from gan_study.launch.debug import DebugExecutor
from gan_study.launch.sweep import run_sweep
from stand_in_trainers import mixed_trainer
from gan_study.study.search.storage import dashboard_argument
from sweep_testkit import study_of, sweep_config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_dashboard_serves_the_trials_of_a_finished_study(tmp_path):
    command = shutil.which("optuna-dashboard", path=str(Path(sys.executable).parent))
    assert command is not None, "optuna-dashboard is not installed: pip install -e .[test]"
    url = f"journal:{tmp_path / 'gan.journal'}"
    cfg = sweep_config(url, tmp_path / "runs", "n_trials=4")
    run_sweep(cfg, executor=DebugExecutor(mixed_trainer))
    name = cfg.study_name
    stored = study_of(cfg).get_trials()

    port = free_port()
    server = subprocess.Popen([command, dashboard_argument(url), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                studies = get_json(f"{base}/api/studies")["study_summaries"]
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "optuna-dashboard did not answer within 60 s"
                time.sleep(0.2)
        study_id = next(s["study_id"] for s in studies if s["study_name"] == name)
        detail = get_json(f"{base}/api/studies/{study_id}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    trials = detail["trials"]
    assert [t["number"] for t in trials] == [t.number for t in stored] == [0, 1, 2, 3]
    assert [t["state"] for t in trials] == ["Complete", "Fail", "Complete", "Complete"]
    assert trials[2]["values"] == [250.0]  # the diverged trial: its best evaluation before diverging
    for served, trial in zip(trials, stored):
        if trial.values:
            assert served["values"] == [trial.value]
        attrs = {a["key"]: a["value"] for a in served["user_attrs"]}
        assert attrs["status"] == trial.user_attrs["status"]
        served_params = {p["name"]: p["param_external_value"] for p in served["params"]}
        assert served_params == {name: str(value) for name, value in trial.params.items()}
