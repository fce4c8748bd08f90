"""`python -m edgecoach.bench int8` on one line: both splits measured, the figures printed."""

import re

import pytest

from edgecoach.bench import int8


def figure(pattern: str, text: str) -> list[float]:
    return [float(value) for value in re.findall(pattern, text)]


def test_the_int8_benchmark_prints_memory_cpu_and_sound_for_both(capsys) -> None:
    int8.main(["--lines", "1", "--runs", "1"])
    out = capsys.readouterr().out
    on_disk = figure(r"\w+: parts ([\d.]+) MB", out)
    assert len(on_disk) == 2 and on_disk[0] < on_disk[1] / 2  # int8 first, float32 second
    held = figure(r"after 1 lines ([\d.]+) MB", out)
    assert len(held) == 2 and held[0] < held[1] - 20  # the int8 voice holds less
    apart = figure(r"\(noise off\): mean ([\d.]+) dB", out)
    draws = figure(r"renderings \(Piper's noise\): mean ([\d.]+) dB", out)
    assert apart and draws and 0 < apart[0] < draws[0]
    assert len(figure(r"word error rate ([\d.]+) %", out)) == 2


def test_the_int8_benchmark_refuses_a_line_count_out_of_range(capsys) -> None:
    with pytest.raises(SystemExit):
        int8.main(["--lines", "0"])
    assert "--lines must be 1-48" in capsys.readouterr().err


def test_the_int8_benchmark_refuses_a_run_count_out_of_range(capsys) -> None:
    with pytest.raises(SystemExit):
        int8.main(["--runs", "0"])
    assert "--runs must be 1-20" in capsys.readouterr().err
