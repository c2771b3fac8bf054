"""The report page in a real headless browser (Debian's chromium), with every network request made to fail."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from saved_figures import pixels_of_colour

from gan_study.analysis.style import model_color

pytestmark = pytest.mark.browser

PROBE = ('<script>window.addEventListener("load", function () { var out = document.createElement("pre");'
         ' out.id = "probe"; out.textContent = JSON.stringify(Array.from(document.images).map(function (i) {'
         ' return [i.alt, i.naturalWidth, i.naturalHeight]; })); document.body.appendChild(out); });</script>')
INSTALL = Path(__file__).resolve().parents[1] / "infra" / "install_chromium.sh"
NO_NETWORK = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]


@pytest.fixture(scope="session")
def chromium(suite) -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found and os.geteuid() == 0:
        subprocess.run(["bash", str(INSTALL)], capture_output=True, timeout=900)
        found = shutil.which("chromium")
    if not found:
        suite.unavailable("chromium is not installed (tests/infra/install_chromium.sh installs Debian's package)")
    return found


def run_browser(chromium: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", *NO_NETWORK, *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def decoded_images(chromium: str, page: Path, workdir: Path) -> list[list]:
    """[alt, naturalWidth, naturalHeight] of every <img> once the page has loaded (0 × 0: not decoded)."""
    probe = workdir / f"probe_{page.stem}.html"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    done = run_browser(chromium, workdir / "profile_dom", "--virtual-time-budget=5000", "--dump-dom",
                       probe.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no probe output; chromium said: {done.stderr[-2000:]}"
    return json.loads(found.group(1))


def test_every_figure_renders_offline_and_a_screenshot_is_kept(chromium, built_report, tmp_path):
    images = decoded_images(chromium, built_report.page, tmp_path)
    pngs = [Image.open(paths["png"]) for paths in built_report.figures.values()]
    assert [(width, height) for _, width, height in images] == [png.size for png in pngs]  # each decoded in full
    artefacts = Path(os.environ.get("GAN_STUDY_ARTIFACTS") or tmp_path)
    artefacts.mkdir(parents=True, exist_ok=True)
    screenshot = artefacts / "report_screenshot.png"
    screenshot.unlink(missing_ok=True)
    run_browser(chromium, tmp_path / "profile_shot", f"--screenshot={screenshot}", "--window-size=1280,2000",
                built_report.page.as_uri())
    shot = Image.open(screenshot)
    assert shot.format == "PNG" and shot.size == (1280, 2000)
    for model in ("ns_gan", "wgan_gp", "hinge_gan"):  # the first figures, drawn: each model's curves in its colour
        assert pixels_of_colour(shot, model_color(model)) > 100, model


def test_the_probe_sees_a_broken_image(chromium, tmp_path):
    """The check above can fail: an undecodable image and a remote one both read as 0 × 0."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><img alt="corrupt" src="data:image/png;base64,iVBORw0KGgoAAAA">'
                    '<img alt="remote" src="https://example.org/figure.png"></body></html>')
    assert decoded_images(chromium, page, tmp_path) == [["corrupt", 0, 0], ["remote", 0, 0]]
