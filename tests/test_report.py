"""The workout report: its content, `edgecoach report` / `workouts`, and the API route.
A workout recorded into a real SQLite file (tests/test_workouts.py), a real uvicorn."""

import asyncio
import base64
import io
import json
import re
from pathlib import Path

import httpx
import pytest
import soundfile

from edgecoach.api import ApiServer, create_app
from edgecoach.cli import main
from edgecoach.report import workout_report_html
from edgecoach.report.data import load_report_data
from edgecoach.settings import ApiSettings, load_settings
from edgecoach.store import Store
from tests.conftest import FakeClock
from tests.daemon_double import QueueDaemonPort
from tests.test_workouts import USER, record_workout

TOKEN = "r" * 43
AUDIO_SOURCES = re.compile(r'<audio [^>]*src="data:audio/flac;base64,([A-Za-z0-9+/=]+)"')


def test_report_data_pairs_laps_and_places_markers(store: Store, clock: FakeClock) -> None:
    rates = [100 + i for i in range(120)]
    data = load_report_data(store, record_workout(store, clock, heart_rates=rates))
    assert [(lap.number, lap.start, lap.end) for lap in data.laps] == [(1, 1, 60), (2, 60, 120)]
    assert len(data.samples) == 120
    set_end = next(e for e in data.events if e.trigger_id == "set-end")
    assert set_end.heart_rate == rates[60]  # the reading at that moment
    assert sum(e.audio_flac is not None for e in data.events) == 4


def test_the_page_holds_every_line_its_audio_and_the_figures(store: Store,
                                                             clock: FakeClock) -> None:
    page = workout_report_html(store, record_workout(store, clock))
    clips = AUDIO_SOURCES.findall(page)
    assert len(clips) == 4
    samples, rate = soundfile.read(io.BytesIO(base64.b64decode(clips[0])))
    assert rate == 22050 and len(samples) == 11025  # the stored clip itself
    assert page.count("held back: cooldown</li>") == 2
    for said in ("Let us go.", "Lap one done.", "Last lap done.", "Good run."):
        assert f"“{said}”" in page
    assert '<div class="figure"><b>2:00</b><span>duration</span>' in page
    # Self-contained: no external script, style, font or image.
    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)="(?!data:)', page)
    assert 'name="viewport"' in page


def test_a_clip_gone_from_the_cache_is_said_not_embedded(store: Store,
                                                         clock: FakeClock) -> None:
    workout_id = record_workout(store, clock)
    with store.database.transaction() as db:
        db.execute("delete from audio_cache")
    page = workout_report_html(store, workout_id)
    assert "<audio" not in page and page.count("(audio no longer cached)") == 4


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def daemon_store() -> Store:
    """The store the CLI opens (EDGECOACH_DATA_DIR is a temporary folder)."""
    settings = load_settings()
    opened = Store.open(settings.database_path, clock=FakeClock())
    yield opened
    opened.close()


def test_report_last_and_by_id(capsys, tmp_path: Path, daemon_store: Store) -> None:
    user = load_settings().user_id
    first = record_workout(daemon_store, daemon_store.database.clock, user=user)
    daemon_store.database.clock.advance(3600)
    second = record_workout(daemon_store, daemon_store.database.clock, user=user)
    code, out, _ = run(capsys, "report", "--last", "--out", str(tmp_path / "last.html"))
    assert code == 0 and json.loads(out)["workoutId"] == second
    assert second in (tmp_path / "last.html").read_text()
    code, out, _ = run(capsys, "report", first, "--out", str(tmp_path / "first.html"))
    assert code == 0 and first in (tmp_path / "first.html").read_text()
    code, out, _ = run(capsys, "workouts")
    assert [w["id"] for w in json.loads(out)] == [second, first]


@pytest.mark.parametrize(("argv", "message"), [
    (["report", "--out", "{tmp}/a.html"], "give a workout id or --last"),
    (["report", "some-id", "--last", "--out", "{tmp}/a.html"], "give a workout id or --last"),
    (["report", "--last", "--out", "{tmp}"], "is a directory"),
    (["report", "--last", "--out", "{tmp}/no/such/a.html"], "does not exist"),
    (["report", "--last", "--out", "/dev/null"], "/dev/null is not a regular file"),
    (["report", "no-such-workout", "--out", "{tmp}/a.html"], "workout no-such-workout not found"),
    (["report", "--last", "--out", "{tmp}/a.html"], "no finished workout"),
])
def test_bad_report_requests_say_why_and_write_nothing(capsys, tmp_path: Path, argv: list[str],
                                                       message: str) -> None:
    code, out, err = run(capsys, *[arg.format(tmp=tmp_path) for arg in argv])
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.glob("**/*.html")) == [] and list(tmp_path.glob("**/.*partial")) == []


async def test_the_api_serves_the_report_behind_the_token(store: Store,
                                                          clock: FakeClock) -> None:
    workout_id = record_workout(store, clock)
    app = create_app(store, TOKEN, QueueDaemonPort(asyncio.Queue()),
                     user_id=USER)
    async with ApiServer(app, ApiSettings(port=0)) as server, httpx.AsyncClient(
            base_url=server.address, timeout=30) as client:
        path = f"/v1/workouts/{workout_id}/report"
        assert (await client.get(path)).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        reply = await client.get(path, headers=auth)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
        assert len(AUDIO_SOURCES.findall(reply.text)) == 4
        assert (await client.get("/v1/workouts/nope/report", headers=auth)).status_code == 404
        listed = (await client.get("/v1/workouts", headers=auth)).json()
        assert [w["id"] for w in listed] == [workout_id]
        one = (await client.get(f"/v1/workouts/{workout_id}", headers=auth)).json()
        assert one["summary"]["linesSpoken"] == 4


def test_an_interrupted_workout_is_reported_as_not_finished(store: Store,
                                                            clock: FakeClock) -> None:
    finished = record_workout(store, clock)
    open_id = store.workouts.begin(USER, "live", clock() + 7200)  # a crash: never finished
    assert store.workouts.last(USER).id == finished
    page = workout_report_html(store, open_id)
    assert "(not finished)" in page and "(not finished)" not in workout_report_html(
        store, finished)


def test_replay_checks_the_report_path_before_coaching(capsys, tmp_path: Path) -> None:
    from edgecoach.paths import DATA_DIR

    recording = DATA_DIR / "recordings" / "2013-02-06-12-11-14.fit"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, out, err = run(capsys, "replay", str(recording), "--speed", "0", "--report",
                         str(blocker / "r.html"))
    assert code == 2 and "--report" in err and err.count("\n") == 1
    assert "replaying" not in out  # refused before any coaching began
