"""Replay of real FIT recordings: every shared file, the shipped copy, damage, pacing."""

import asyncio
import logging
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgecoach.contract import WorkoutEvent
from edgecoach.errors import RecordingError
from edgecoach.sources import HeartRateSample, ReplayItem, StrainMeter, read_fit, replay

SHARED_FIT = Path(__file__).resolve().parents[2] / "shared" / "data" / "fit"
SHIPPED = Path(__file__).resolve().parents[1] / "data" / "recordings" / "2013-02-06-12-11-14.fit"
CORRUPT_HEADER = "activity-settings-corruptheader.fit"
TRUNCATED = "activity-unexpected-eof.fit"
needs_shared = pytest.mark.skipif(not SHARED_FIT.is_dir(),
                                  reason=f"shared FIT recordings not found at {SHARED_FIT}")


def shared_table() -> dict[str, tuple[int, int]]:
    """From the shared README: file -> (records with heart rate, laps), for sound files."""
    if not SHARED_FIT.is_dir():
        return {}
    rows = re.findall(r"^\| (\S+\.fit) \| [^|]+ \| (\d+) \| (\d+) \|",
                      (SHARED_FIT / "README.md").read_text(), flags=re.MULTILINE)
    return {name: (int(records), int(laps)) for name, records, laps in rows}


SOUND_FILES = shared_table()


def collect(path: Path, **options) -> list[ReplayItem]:
    async def run() -> list[ReplayItem]:
        return [item async for item in replay(path, "athlete-1", speed=0, **options)]
    return asyncio.run(run())


def events(items: list[ReplayItem]) -> list[WorkoutEvent]:
    return [item.payload for item in items if isinstance(item.payload, WorkoutEvent)]


def check_workout(items: list[ReplayItem], laps: int) -> list[WorkoutEvent]:
    """The invariants of any replay: order, set pairs, one start, one end."""
    offsets = [item.offset for item in items]
    assert offsets == sorted(offsets) and offsets[0] == 0
    fired = events(items)
    assert fired[0].trigger_id == "pre-start" and fired[-1].trigger_id == "workout-end"
    sets = [e for e in fired if e.trigger_id in ("set-start", "set-end")]
    assert [e.trigger_id for e in sets] == ["set-start", "set-end"] * laps
    assert [e.context.set_number for e in sets] == [n for n in range(1, laps + 1) for _ in "se"]
    assert [e.context.last_set for e in sets] == (
        [False] * 2 * (laps - 1) + [True] * 2 if laps else [])
    end = fired[-1].context
    assert end.total_sets == laps and end.duration_seconds >= offsets[-1] - 1e-6
    assert all(e.source == "replay" and e.user_id == "athlete-1" for e in fired)
    strains = [e.context.strain for e in fired if e.trigger_id == "strainsync"]
    assert strains == sorted(strains)
    if strains:
        assert end.strain >= strains[-1]
    return fired


@needs_shared
@pytest.mark.parametrize("name", sorted(SOUND_FILES))
def test_every_sound_recording_replays_in_order(name: str) -> None:
    records, laps = SOUND_FILES[name]
    items = collect(SHARED_FIT / name)
    fired = check_workout(items, laps)
    samples = [item.payload for item in items if isinstance(item.payload, HeartRateSample)]
    assert len(samples) == records
    assert all(s.source == "replay" for s in samples)
    ends = [e.context for e in fired if e.trigger_id == "set-end"]
    assert all(c.heart_rate and c.peak_heart_rate >= c.heart_rate for c in ends)
    assert all(c.duration_seconds > 0 for c in ends)
    workout_end = fired[-1].context
    assert workout_end.heart_rate and workout_end.peak_heart_rate
    assert workout_end.strain is not None and 0 <= workout_end.strain <= 100


def test_the_shipped_recording() -> None:
    items = collect(SHIPPED)
    fired = check_workout(items, laps=5)
    assert sum(isinstance(item.payload, HeartRateSample) for item in items) == 590
    assert {e.context.exercise for e in fired} == {"run"}
    first_lap = next(e.context for e in fired if e.trigger_id == "set-end")
    assert (first_lap.heart_rate, first_lap.peak_heart_rate) == (146, 165)
    assert first_lap.duration_seconds == pytest.approx(578.73)
    syncs = [e.context.strain for e in fired if e.trigger_id == "strainsync"]
    assert len(syncs) == 2 and syncs[0] >= 25 and syncs[1] >= 50
    end = fired[-1].context
    assert (end.heart_rate, end.peak_heart_rate, end.total_sets) == (147, 171, 5)
    assert end.duration_seconds == pytest.approx(2625.14)
    assert end.strain == pytest.approx(62.5, abs=0.1)


def test_strain_follows_the_athlete_settings() -> None:
    # A fitter athlete (higher max heart rate) gets a lower strain for the same run.
    relaxed = events(collect(SHIPPED, meter=StrainMeter(resting_hr=45, max_hr=200)))
    assert relaxed[-1].context.strain < 62.5
    bands = StrainMeter(bands={"easy": 5, "hard": 95})
    fired = events(collect(SHIPPED, meter=bands))
    assert len([e for e in fired if e.trigger_id == "strainsync"]) == 1


@needs_shared
def test_corrupt_header_is_rejected_cleanly() -> None:
    with pytest.raises(RecordingError, match="corrupt FIT header"):
        collect(SHARED_FIT / CORRUPT_HEADER)


@needs_shared
def test_truncated_file_replays_what_is_readable_with_a_warning(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="edgecoach.sources.fit")
    recording = read_fit(SHARED_FIT / TRUNCATED)
    assert not recording.complete and "ends early" in recording.problems[0]
    assert "ends early" in caplog.text
    fired = check_workout(collect(SHARED_FIT / TRUNCATED), laps=1)
    assert fired[-1].context.strain is None  # no heart rate in what was read


@pytest.mark.parametrize("content", [b"", b"not a fit file at all", b"\x0e\x10" + b"\x00" * 40])
def test_non_fit_input_is_a_recording_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "workout.fit"
    path.write_bytes(content)
    with pytest.raises(RecordingError):
        collect(path)


def test_missing_file_is_a_recording_error(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="cannot read"):
        collect(tmp_path / "absent.fit")


def survives(data: bytes) -> None:
    """Replaying `data` either works (and is coherent) or raises RecordingError only."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.fit"
        path.write_bytes(data)
        try:
            items = collect(path)
        except RecordingError:
            return
    check_workout(items, laps=sum(e.trigger_id == "set-start" for e in events(items)))


SHIPPED_BYTES = SHIPPED.read_bytes()
quick = settings(max_examples=30, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@quick
@given(st.binary(max_size=2048))
def test_random_bytes_raise_only_recording_error(data: bytes) -> None:
    survives(data)


@quick
@given(st.binary(max_size=512))
def test_random_bytes_after_a_real_header_raise_only_recording_error(data: bytes) -> None:
    survives(SHIPPED_BYTES[:14] + data)


@quick
@given(st.integers(0, len(SHIPPED_BYTES) - 1))
def test_truncated_copies_raise_only_recording_error(length: int) -> None:
    survives(SHIPPED_BYTES[:length])


@quick
@given(st.integers(14, len(SHIPPED_BYTES) - 1), st.integers(0, 255))
def test_corrupted_bytes_raise_only_recording_error(position: int, value: int) -> None:
    damaged = bytearray(SHIPPED_BYTES)
    damaged[position] = value
    survives(bytes(damaged))


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("speed", [1.0, 60.0])
async def test_items_fire_at_their_offset_divided_by_speed(speed: float) -> None:
    time = FakeTime()
    fired_at: list[tuple[float, float]] = []
    async for item in replay(SHIPPED, "athlete-1", speed=speed, sleep=time.sleep,
                             monotonic=time.monotonic,
                             wall_clock=lambda: 1_750_000_000.0 + time.now):
        fired_at.append((item.offset, time.now))
        assert item.payload.timestamp == pytest.approx(1_750_000_000.0 + time.now)
    assert all(now == pytest.approx(offset / speed) for offset, now in fired_at)
    assert time.now == pytest.approx(2625.14 / speed)


@pytest.mark.parametrize("speed", [0.0, float("inf")])
async def test_as_fast_as_possible_never_waits_but_yields(speed: float) -> None:
    time = FakeTime()
    count = 0
    async for _ in replay(SHIPPED, "athlete-1", speed=speed, sleep=time.sleep,
                          monotonic=time.monotonic):
        count += 1
    assert time.now == 0 and time.slept and set(time.slept) == {0}
    assert count == 590 + 14


async def test_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError):
        async for _ in replay(SHIPPED, "athlete-1", speed=-1):
            pass
