"""The strain score: TRIMP on heart-rate reserve, mapped to 0-100, bands fired once."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from edgecoach.settings import AthleteSettings, StrainSettings, load_settings
from edgecoach.sources import StrainMeter
from edgecoach.sources.strain import MAX_GAP_SECONDS


def steady(meter: StrainMeter, bpm: int, minutes: float, start: float = 0.0) -> list[str]:
    crossed = []
    for second in range(int(minutes * 60) + 1):
        band = meter.feed(bpm, start + second)
        if band:
            crossed.append(band)
    return crossed


def test_documented_figures() -> None:
    # An hour at 70 % of heart-rate reserve (60..190 bpm -> 151 bpm) is about 75.
    hour = StrainMeter()
    steady(hour, 151, 60)
    assert hour.trimp == pytest.approx(103.06, abs=0.05)
    assert hour.strain == pytest.approx(74.7, abs=0.1)
    # An easy half hour at 50 % (125 bpm) is about 28.
    easy = StrainMeter()
    steady(easy, 125, 30)
    assert easy.strain == pytest.approx(28.4, abs=0.1)


def test_bands_fire_once_each_in_order() -> None:
    meter = StrainMeter()
    crossed = steady(meter, 175, 120)
    assert crossed == ["low", "mid", "high", "peak"]
    assert meter.band == "peak" and meter.strain < 100
    assert steady(meter, 175, 10, start=7300) == []


def test_below_resting_rate_adds_nothing_and_band_is_none() -> None:
    meter = StrainMeter(resting_hr=60, max_hr=190)
    assert steady(meter, 55, 30) == []
    assert meter.strain == 0 and meter.band is None


def test_a_gap_counts_at_most_max_gap() -> None:
    meter = StrainMeter()
    meter.feed(190, 0)
    meter.feed(190, 3600)  # the strap was off for an hour
    capped = StrainMeter()
    capped.feed(190, 0)
    capped.feed(190, MAX_GAP_SECONDS)
    assert meter.trimp == pytest.approx(capped.trimp) and meter.trimp > 0


def test_crossing_several_bands_at_once_reports_the_highest() -> None:
    meter = StrainMeter(scale=1.0)
    meter.feed(190, 0)
    assert meter.feed(190, 30) == "high"  # 25, 50 and 75 passed in one step
    assert meter.fired == {"low", "mid", "high"}
    assert meter.feed(190, 60) == "peak"


def test_from_settings_uses_age_rest_and_bands() -> None:
    meter = StrainMeter.from_settings(AthleteSettings(age=40, resting_heart_rate=50),
                                      StrainSettings(bands={"mid": 50, "easy": 10}, scale=90))
    assert (meter.resting_hr, meter.max_hr, meter.scale) == (50, 180, 90)
    assert list(meter.bands) == ["easy", "mid"]
    assert StrainMeter.from_settings(AthleteSettings(max_heart_rate=200)).max_hr == 200


def test_strain_settings_are_validated_and_loaded(tmp_path, monkeypatch) -> None:
    with pytest.raises(ValidationError):
        StrainSettings(bands={"peak": 120})
    config = tmp_path / "edgecoach.toml"
    config.write_text("[strain]\nscale = 60\n[strain.bands]\nlow = 20\nhigh = 70\n")
    monkeypatch.setenv("EDGECOACH_CONFIG", str(config))
    assert load_settings().strain == StrainSettings(bands={"low": 20, "high": 70}, scale=60)


@given(st.lists(st.tuples(st.integers(0, 260), st.floats(0, 120)), max_size=200))
def test_strain_stays_in_range_and_never_falls(steps: list[tuple[int, float]]) -> None:
    meter = StrainMeter()
    moment, previous, fired = 0.0, 0.0, []
    for bpm, gap in steps:
        moment += gap
        band = meter.feed(bpm, moment)
        if band:
            fired.append(band)
        assert previous <= meter.strain <= 100
        previous = meter.strain
    assert len(fired) == len(set(fired))
