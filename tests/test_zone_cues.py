"""Heart-rate zone cues: zones from settings, smoothing, hold, hysteresis, grace, gaps."""

import functools
from pathlib import Path

import fitdecode
import pytest

from edgecoach.contract import WorkoutContext
from edgecoach.session import (
    HeartRateZone,
    ZoneBounds,
    ZoneCue,
    ZoneCueDetector,
    ZoneCueTuning,
    target_zone,
)
from edgecoach.session.zone_cues import (
    GRACE_SECONDS,
    HOLD_SECONDS,
    MIN_GAP_SECONDS,
    REMIND_SECONDS,
    WINDOW_SECONDS,
    TrimmedMean,
)
from edgecoach.settings import AthleteSettings

FIT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "fit"
# Karvonen 60-80 % of a 60-190 reserve: 138-164 bpm.
ATHLETE = AthleteSettings(max_heart_rate=190, resting_heart_rate=60)


def steady(bpm: int, start: float, end: float, step: float = 1.0) -> list[tuple[float, int]]:
    count = int(round((end - start) / step))
    return [(start + i * step, bpm) for i in range(count)]


def run(detector: ZoneCueDetector, trace: list[tuple[float, int]]) -> list[ZoneCue]:
    cues = []
    for t, bpm in trace:
        cue = detector.feed(bpm, t)
        if cue is not None:
            cues.append(cue)
    return cues


def test_karvonen_zone_when_resting_heart_rate_is_known():
    zone = ZoneCueDetector(ATHLETE).zone
    assert (zone.low, zone.high, zone.method) == (138, 164, "karvonen")


def test_percent_of_max_from_tanaka_or_default_when_resting_is_unknown():
    work = ZoneBounds(reserve=(0.6, 0.8), maximum=(0.65, 0.85))
    tanaka = target_zone(AthleteSettings(age=40), work)  # 208 - 28 = 180
    assert (tanaka.low, tanaka.high, tanaka.method) == (117, 153, "percent-max")
    default = target_zone(AthleteSettings(), work)  # 190 bpm
    assert (default.low, default.high) == (round(0.65 * 190), round(0.85 * 190))
    configured = target_zone(AthleteSettings(age=40, max_heart_rate=200), work)
    assert (configured.low, configured.high) == (130, 170)


def test_phases_and_fixed_zones():
    detector = ZoneCueDetector(ATHLETE, {"work": HeartRateZone(140, 150)})
    assert (detector.zone.low, detector.zone.high, detector.zone.method) == (140, 150, "fixed")
    detector.set_phase("cooldown", 0.0)
    assert detector.zone.high < 140
    with pytest.raises(ValueError):
        detector.set_phase("sprint", 0.0)
    with pytest.raises(ValueError):
        ZoneBounds(reserve=(0.8, 0.6), maximum=(0.6, 0.7))
    with pytest.raises(ValueError):
        HeartRateZone(150, 140)


def test_trimmed_mean_ignores_a_single_beat_spike():
    mean = TrimmedMean(window=15, trim=0.2)
    for t in range(14):
        mean.add(150, float(t))
    mean.add(240, 14.0)
    assert mean.value() == 150
    mean.add(150, 40.0)  # older readings left the window
    assert mean.value() == 150


def test_spikes_and_dropouts_inside_the_zone_say_nothing():
    trace = steady(150, 0, 900)
    for i in range(200, 900, 30):
        trace[i] = (trace[i][0], 220)  # single-beat spike
    for i in range(215, 900, 45):
        trace[i] = (trace[i][0], 0)    # strap without contact
    detector = ZoneCueDetector(ATHLETE)
    assert run(detector, trace) == []
    assert detector.smoothed == 150


def test_excursion_shorter_than_the_hold_says_nothing():
    hold_minus = HOLD_SECONDS - WINDOW_SECONDS / 2 - 5
    trace = steady(150, 0, 300) + steady(180, 300, 300 + hold_minus) + steady(150, 300 + hold_minus,
                                                                            600)
    assert run(ZoneCueDetector(ATHLETE), trace) == []


def test_sustained_excursion_fires_once_per_direction_with_context():
    trace = steady(150, 0, 300) + steady(180, 300, 420) + steady(150, 420, 600) + steady(
        120, 600, 720)
    cues = run(ZoneCueDetector(ATHLETE), trace)
    assert [cue.direction for cue in cues] == ["above-zone", "below-zone"]
    above, below = cues
    assert 300 + HOLD_SECONDS <= above.timestamp <= 300 + HOLD_SECONDS + WINDOW_SECONDS
    assert above.heart_rate > above.zone_high == 164 and above.zone_low == 138
    assert below.heart_rate < below.zone_low
    assert above.context() == WorkoutContext(heart_rate=above.heart_rate, zone_low=138,
                                             zone_high=164)


def test_long_excursion_reminds_only_every_remind_seconds():
    trace = steady(150, 0, 200) + steady(185, 200, 200 + 3 * REMIND_SECONDS + 60)
    cues = run(ZoneCueDetector(ATHLETE), trace)
    assert len(cues) == 4
    gaps = [b.timestamp - a.timestamp for a, b in zip(cues, cues[1:], strict=False)]
    assert all(gap >= REMIND_SECONDS for gap in gaps)


def test_hysteresis_keeps_an_excursion_alive_across_a_shallow_dip():
    high = ZoneCueDetector(ATHLETE).zone.high
    out_in_out = steady(150, 0, 200) + steady(high + 8, 200, 220)
    shallow = out_in_out + steady(high - 1, 220, 245) + steady(high + 8, 245, 265)
    deep = out_in_out + steady(high - 10, 220, 245) + steady(high + 8, 245, 265)
    assert len(run(ZoneCueDetector(ATHLETE), shallow)) == 1
    assert run(ZoneCueDetector(ATHLETE), deep) == []


def test_oscillation_at_the_border_does_not_flap():
    high = ZoneCueDetector(ATHLETE).zone.high
    trace = steady(150, 0, 150)
    t = 150.0
    while t < 1350:  # 20 minutes of 45 s just above the zone, 20 s just inside it
        trace += steady(high + 6, t, t + 45) + steady(high - 2, t + 45, t + 65)
        t += 65
    with_hysteresis = run(ZoneCueDetector(ATHLETE), trace)
    without = run(ZoneCueDetector(ATHLETE, tuning=ZoneCueTuning(reentry_margin_bpm=0)), trace)
    print(f"border oscillation, 20 min: {len(with_hysteresis)} cues with hysteresis, "
          f"{len(without)} without")
    gaps = [b.timestamp - a.timestamp
            for a, b in zip(with_hysteresis, with_hysteresis[1:], strict=False)]
    assert 1 <= len(with_hysteresis) <= 1 + 1200 // REMIND_SECONDS
    assert all(gap >= REMIND_SECONDS for gap in gaps)
    assert len(without) > len(with_hysteresis)


def test_grace_period_at_the_start_and_after_a_phase_change():
    warmup = steady(100, 0, 400)  # well below the work zone from the first second
    cues = run(ZoneCueDetector(ATHLETE), warmup)
    assert cues and cues[0].timestamp >= GRACE_SECONDS + HOLD_SECONDS
    explicit_start = ZoneCueDetector(ATHLETE, start=-100.0)
    assert run(explicit_start, warmup)[0].timestamp < GRACE_SECONDS + HOLD_SECONDS

    detector = ZoneCueDetector(ATHLETE)
    run(detector, steady(150, 0, 300))
    detector.set_phase("cooldown", 300.0)
    cues = run(detector, steady(150, 300, 600))  # still at work pace after switching
    assert cues and cues[0].direction == "above-zone"
    assert cues[0].timestamp >= 300 + GRACE_SECONDS + HOLD_SECONDS


def test_minimum_gap_between_zone_cues():
    trace = steady(150, 0, 200) + steady(185, 200, 240) + steady(110, 240, 500)
    cues = run(ZoneCueDetector(ATHLETE), trace)
    assert [cue.direction for cue in cues] == ["above-zone", "below-zone"]
    assert cues[1].timestamp - cues[0].timestamp >= MIN_GAP_SECONDS
    # Without the gap the below-zone cue would have come earlier.
    no_gap = run(ZoneCueDetector(ATHLETE, tuning=ZoneCueTuning(min_gap_seconds=0)), trace)
    assert no_gap[1].timestamp < cues[1].timestamp


def test_a_strap_dropout_resets_the_hold():
    trace = (steady(150, 0, 200) + steady(185, 200, 220)     # out for 20 s
             + steady(185, 260, 275))                          # 40 s with no reading, 15 s out
    assert run(ZoneCueDetector(ATHLETE), trace) == []


@functools.cache
def fit_heart_rate(path: Path) -> list[tuple[float, int]]:
    samples = []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                if not frame.has_field("heart_rate") or frame.get_value("heart_rate") is None:
                    continue
                samples.append((frame.get_value("timestamp").timestamp(),
                                int(frame.get_value("heart_rate"))))
    start = samples[0][0]
    return [(t - start, bpm) for t, bpm in samples]


@pytest.mark.parametrize("name", ["activity-small-fenix2-run.fit", "2013-02-06-12-11-14.fit"])
@pytest.mark.parametrize("athlete", [AthleteSettings(), ATHLETE, AthleteSettings(age=45)],
                         ids=["default", "karvonen", "tanaka"])
def test_real_fit_trace_keeps_the_invariants(name: str, athlete: AthleteSettings):
    path = FIT_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    trace = fit_heart_rate(path)
    detector = ZoneCueDetector(athlete)
    cues = []
    for t, bpm in trace:
        cue = detector.feed(bpm, t)
        if cue is not None:
            assert cue.heart_rate == detector.smoothed
            cues.append(cue)
    zone = detector.zone
    fired = [(round(cue.timestamp), cue.direction, cue.heart_rate) for cue in cues]
    print(f"{name} zone {zone.low}-{zone.high} ({zone.method}), {len(trace)} readings over "
          f"{trace[-1][0] / 60:.0f} min: {fired}")
    assert cues, "a real run leaves the zone at least once (else the invariants prove nothing)"
    assert all(cue.timestamp >= GRACE_SECONDS for cue in cues)
    assert all(not zone.low <= cue.heart_rate <= zone.high for cue in cues)
    assert all(b.timestamp - a.timestamp >= MIN_GAP_SECONDS
               for a, b in zip(cues, cues[1:], strict=False))
