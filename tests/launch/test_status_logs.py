"""`gan-sweep status` counts and `gan-sweep logs` files, on real studies in a journal file (no scheduler), and
the sub-commands' word checks."""
from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from gan_study.launch.commands import run_command
from gan_study.launch.logs import trial_logs
from gan_study.launch.status import format_status, status_counts
from gan_study.study.config import ConfigError
from gan_study.study.search.storage import open_storage


def add_trial(url: str, study_name: str, state: TrialState, **attrs) -> int:
    """A trial in `state` with user attributes `attrs`, as workers leave them; returns its number."""
    storage = open_storage(url)
    study = optuna.create_study(storage=storage, study_name=study_name, load_if_exists=True)
    study.enqueue_trial({}, user_attrs=attrs)
    trial = study.get_trials(deepcopy=False)[-1]
    if state != TrialState.WAITING:
        storage.set_trial_state_values(trial._trial_id, TrialState.RUNNING)
    if state in (TrialState.COMPLETE, TrialState.FAIL):
        storage.set_trial_state_values(trial._trial_id, state, [1.0] if state == TrialState.COMPLETE else None)
    return trial.number


@pytest.fixture
def url(tmp_path) -> str:
    return f"journal:{tmp_path / 'studies.journal'}"


def test_status_counts_each_model_across_the_matching_studies(url):
    plan = [("mnist-wide-ns_gan", "ns_gan", TrialState.COMPLETE, "completed", 2),
            ("mnist-wide-ns_gan", "ns_gan", TrialState.COMPLETE, "diverged", 1),
            ("mnist-wide-ns_gan", "ns_gan", TrialState.FAIL, "failed", 1),
            ("mnist-wide-ns_gan", "ns_gan", TrialState.RUNNING, None, 1),
            ("mnist-wide-ns_gan", "ns_gan", TrialState.WAITING, None, 3),
            ("mnist-wide-wgan", "wgan", TrialState.COMPLETE, "completed", 1),
            ("mnist-wide-wgan", "wgan", TrialState.WAITING, None, 1),
            ("cifar10-wide-wgan", "wgan", TrialState.COMPLETE, "completed", 5)]  # not matched below
    for study, model, state, status, n in plan:
        for _ in range(n):
            add_trial(url, study, state, model=model, **({"status": status} if status else {}))
    counts = status_counts(url, ["mnist-wide-*"])
    assert {model: dict(c) for model, c in counts.items()} == {
        "ns_gan": {"done": 2, "diverged": 1, "failed": 1, "running": 1, "queued": 3},
        "wgan": {"done": 1, "queued": 1}}
    assert format_status(counts).splitlines() == [
        "model     queued   running      done  diverged    pruned    failed      lost",
        "ns_gan         3         1         2         1         0         1         0",
        "wgan           1         0         1         0         0         0         0",
        "total          4         1         3         1         0         1         0"]


def test_status_names_a_study_pattern_that_matches_nothing(url):
    add_trial(url, "mnist-wide-ns_gan", TrialState.WAITING, model="ns_gan")
    with pytest.raises(ConfigError, match=r"study = 'celeba-\*' is not allowed: no study .* \['mnist-wide-ns_gan'\]"):
        status_counts(url, ["celeba-*"])


def test_logs_prints_the_trial_its_stderr_and_its_job_logs_only(url, tmp_path):
    job = tmp_path / "runs" / "s" / "logs" / "77_3"
    job.mkdir(parents=True)
    files = {"trial_4.out": "step 2/6\nstep 4/6\nstep 6/6", "trial_4.err": "a warning",
             "77_3_0_log.out": "submitit: requeued", "77_3_0_log.err": "", "trial_40.out": "another trial",
             "trial_5.out": "the packed neighbour", "trial_4.task.pkl": "binary"}
    for name, text in files.items():
        (job / name).write_text(text)
    add_trial(url, "s", TrialState.WAITING, model="ns_gan")
    number = add_trial(url, "s", TrialState.RUNNING, model="ns_gan", job_id="77_3", log_path=str(job / "trial_4.out"))
    text = trial_logs(url, "s", number)
    headers = [line for line in text.splitlines() if line.startswith("==>")]
    assert headers == [f"==> {job / name} <==" for name in ("trial_4.out", "trial_4.err", "77_3_0_log.err",
                                                             "77_3_0_log.out")]
    assert "step 4/6" in text and "a warning" in text and "submitit: requeued" in text
    assert "another trial" not in text and "packed neighbour" not in text
    assert trial_logs(url, "s", number, tail=1).count("step") == 1


def test_logs_explains_a_trial_without_a_log_and_a_trial_that_does_not_exist(url):
    add_trial(url, "s", TrialState.WAITING, model="ns_gan")
    with pytest.raises(ConfigError, match="trial 0 of 's' has no log yet: it is waiting"):
        trial_logs(url, "s", 0)
    with pytest.raises(ConfigError, match=r"trial = 9 is not allowed: study 's' has trials 0..0"):
        trial_logs(url, "s", 9)


def test_the_status_command_prints_the_table_of_the_studies_the_words_name(url, capsys):
    for state, status in ((TrialState.COMPLETE, "completed"), (TrialState.WAITING, None), (TrialState.WAITING, None)):
        add_trial(url, "mnist-wide-ns_gan", state, model="ns_gan", **({"status": status} if status else {}))
    add_trial(url, "celeba-wide-ns_gan", TrialState.FAIL, model="ns_gan", status="failed")  # not matched
    assert run_command("status", ["study=mnist-*", f"storage.url={url}"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "model     queued   running      done  diverged    pruned    failed      lost",
        "ns_gan         2         0         1         0         0         0         0",
        "total          2         0         1         0         0         0         0"]


def test_the_logs_command_prints_the_last_lines_of_the_trials_files(url, tmp_path, capsys):
    job = tmp_path / "logs" / "pid-1"
    job.mkdir(parents=True)
    (job / "trial_0.out").write_text("step 2/6\nstep 4/6\nstep 6/6")
    add_trial(url, "s", TrialState.RUNNING, model="ns_gan", log_path=str(job / "trial_0.out"))
    assert run_command("logs", ["study=s", "trial=0", "tail=2", f"storage.url={url}"]) == 0
    assert capsys.readouterr().out == f"==> {job / 'trial_0.out'} <==\nstep 4/6\nstep 6/6\n"


@pytest.mark.parametrize("command, words, message", [
    ("status", ["sudy=mnist-*"], "'sudy=mnist-*' is not allowed: gan-sweep status study=PATTERN"),
    ("status", ["study=x", "model=ns_gan"], "'model=ns_gan' is not allowed: gan-sweep status study=PATTERN"),
    ("status", ["study"], "'study' is not allowed: gan-sweep status study=PATTERN"),
    ("status", [], "study = '<missing>' is not allowed: gan-sweep status study=PATTERN"),
    ("logs", ["study=s"], "trial = '<missing>' is not allowed: an integer >= 0"),
    ("logs", ["study=s", "trial=x"], "trial = 'x' is not allowed: one integer >= 0"),
    ("logs", ["study=s", "trial=1", "tail=0"], "tail = '0' is not allowed: one integer >= 1"),
    ("logs", ["study=s", "study=t", "trial=1"], "study = ['s', 't'] is not allowed: logs takes one study name"),
    ("status", ["study=x", "storage.urll=y"], "storage.urll"),
    ("status", ["study=x", "storage.url=journal:/nonexistent/gan.journal"],
     "storage.url = 'journal:/nonexistent/gan.journal' is not allowed: no such file"),
])
def test_a_bad_word_exits_2_naming_it_and_what_is_allowed(command, words, message, capsys):
    assert run_command(command, words) == 2
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err.startswith(f"gan-sweep {command}: ") and message in printed.err
