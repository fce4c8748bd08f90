"""The report as an athlete opens it: a real replay's report in headless Chromium.

Debian's `chromium` and `chromium-driver` (scripts/setup.sh test) driven by Selenium; no
browser is downloaded. The shipped FIT recording is coached through the real model and
voice by `edgecoach replay --report`, then the page is checked: no console error, no
request leaving the file, one chart point per heart-rate sample of the FIT file, one
marker per event, one playing audio element per spoken line. The screenshot is kept in
the test's temporary folder (its path is printed) to be looked at.
"""

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgecoach.cli import main
from edgecoach.paths import DATA_DIR
from edgecoach.sources import read_fit
from edgecoach.transcript import read_transcript

webdriver = pytest.importorskip("selenium.webdriver")

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
RECORDING = DATA_DIR / "recordings" / "2013-02-06-12-11-14.fit"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
PHONE = {"width": 412, "height": 915, "pixelRatio": 1.0}  # a phone's viewport, in CSS px
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "chrome-extension:")

# Plays every clip (muted, fast) and reports how far each got.
PLAY_ALL = """
const done = arguments[arguments.length - 1];
const clips = Array.from(document.querySelectorAll('audio'));
Promise.all(clips.map(a => new Promise(resolve => {
  a.muted = true; a.playbackRate = 4;
  const report = () => resolve({duration: a.duration, reached: a.currentTime,
                                error: a.error ? a.error.code : null});
  a.addEventListener('error', report);
  a.play().then(() => setTimeout(report, 600), e => resolve({error: String(e)}));
}))).then(done);
"""
CHART_FACTS = """
const chart = document.getElementById('hr-chart');
const names = chart.data.map(t => t.name);
// Each drawn trace is a group classed by its trace's uid.
const drawn = name => chart.querySelector('.scatterlayer .trace.trace' +
                                          chart._fullData[names.indexOf(name)].uid);
const line = drawn('heart rate').querySelector('path.js-line');
return {names: names,
        heartRatePoints: chart.data[names.indexOf('heart rate')].x.length,
        lineVertices: line.getAttribute('d').split(/[ML]/).filter(s => s).length,
        markers: drawn('events').querySelectorAll('path.point').length,
        audio: document.querySelectorAll('audio').length,
        spokenCards: document.querySelectorAll('.event.spoken').length,
        heldCards: document.querySelectorAll('.event.held').length,
        pageWidth: document.documentElement.scrollWidth, viewWidth: window.innerWidth};
"""


@pytest.fixture
def browser() -> Iterator:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian chromium and chromium-driver are not installed "
                    "(scripts/setup.sh test installs them)")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="edgecoach-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_a_replays_report_in_headless_chromium(browser, tmp_path: Path) -> None:
    report, transcript = tmp_path / "report.html", tmp_path / "transcript.jsonl"
    code = main(["replay", str(RECORDING), "--speed", "0", "--persona", "aiden",
                 "--report", str(report), "--transcript", str(transcript)])
    assert code == 0 and report.exists()
    events = read_transcript(transcript)
    spoken = [e for e in events if e["status"] == "spoken"]
    fit_samples = len(read_fit(RECORDING).samples)
    assert fit_samples > 500 and 5 < len(spoken) < len(events)

    browser.get(report.as_uri())
    facts = browser.execute_script(CHART_FACTS)
    assert facts["heartRatePoints"] == facts["lineVertices"] == fit_samples
    assert facts["markers"] == len(events)
    assert facts["audio"] == facts["spokenCards"] == len(spoken)
    assert facts["heldCards"] == len(events) - len(spoken)
    assert facts["viewWidth"] == PHONE["width"]
    assert facts["pageWidth"] <= facts["viewWidth"]  # no sideways scrolling on a phone

    browser.set_script_timeout(30)
    played = browser.execute_async_script(PLAY_ALL)
    assert len(played) == len(spoken)
    for clip in played:
        assert clip["error"] is None and clip["duration"] > 0.5 and clip["reached"] > 0.1, clip

    screenshot = tmp_path / "report-phone.png"
    browser.save_screenshot(str(screenshot))
    print(f"screenshot: {screenshot}")

    console = browser.get_log("browser")
    assert [entry for entry in console if entry["level"] == "SEVERE"] == []
    requests = [json.loads(entry["message"])["message"]["params"]
                for entry in browser.get_log("performance")
                if '"Network.requestWillBeSent"' in entry["message"]]
    urls = [request["request"]["url"] for request in requests]
    assert report.as_uri() in urls
    leaving = [url for url in urls if not url.startswith(LOCAL_SCHEMES)]
    assert leaving == []
    from_page = [request["request"]["url"] for request in requests
                 if request.get("documentURL") == report.as_uri()]
    assert all(url.startswith(("file:", "data:")) for url in from_page), from_page
