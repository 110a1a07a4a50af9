"""The HTML report renders in a real headless browser (Debian's chromium): a screenshot
that is not blank, the title, every plot and the table of tests present."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PLOTS = (
    "daily",
    "weekday",
    "hours",
    "pyramid",
    "buyers",
    "online",
    "amounts",
    "fraud",
    "categories",
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium installed (.ci/run installs it)"
)


def _chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def test_report_renders_in_chromium(small_dataset: Path, tmp_path: Path) -> None:
    page = (small_dataset / "_fidelity" / "report.html").as_uri()
    dom = _chromium(tmp_path / "profile-dom", "--dump-dom", page).stdout
    assert "<title>synthpipe fidelity report: PASS</title>" in dom
    for anchor in PLOTS:
        assert f'id="{anchor}"' in dom, anchor
    assert dom.count("<svg") >= 10
    assert dom.count("<polyline") >= 10
    assert len(re.findall(r"<tr[ >]", dom)) > 75
    assert "http://" not in dom.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    shot = tmp_path / "report.png"
    _chromium(tmp_path / "profile-shot", "--window-size=1000,1800", f"--screenshot={shot}", page)
    image = Image.open(shot).convert("RGB")
    assert image.size == (1000, 1800)
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert len(colours) > 50  # text, bars and lines, not a blank page
    white = max(count for count, colour in colours if colour == (255, 255, 255))
    assert white < 0.95 * image.size[0] * image.size[1]
    blue, red = (31, 111, 235), (209, 36, 47)  # observed and expected series
    present = {colour for _, colour in colours}
    assert blue in present
    assert red in present
