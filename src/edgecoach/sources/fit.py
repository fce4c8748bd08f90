"""Read a FIT activity file (Garmin, Wahoo, Coros...) into a Recording: laps and heart rate.

Decoding is blocking (call it from a worker thread). A file that is not FIT, or whose
header is corrupt, raises RecordingError; a file cut short or failing its CRC after
some laps or heart-rate records keeps what was read, marked incomplete, with a warning.
"""

import logging
import math
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from edgecoach.contract.vocabulary import HEART_RATE_MAX, HEART_RATE_MIN
from edgecoach.errors import RecordingError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 64 * 1024 * 1024
# Longest workout the contract accepts (durationSeconds <= 86400).
MAX_WORKOUT_SECONDS = 86_400.0
WANTED = {"session", "lap", "record", "event", "sport"}

# FIT sport / sub-sport names -> the exercise word the coach says.
SUB_SPORT_WORDS = {
    "indoor_rowing": "row", "treadmill": "run", "indoor_cycling": "ride",
    "strength_training": "strength", "trail": "trail run", "track": "track run",
    "lap_swimming": "swim", "open_water": "swim", "virtual_activity": "ride",
}
SPORT_WORDS = {
    "running": "run", "cycling": "ride", "swimming": "swim", "walking": "walk",
    "hiking": "hike", "rowing": "row", "training": "training",
    "fitness_equipment": "training", "transition": "transition",
    "cross_country_skiing": "ski", "alpine_skiing": "ski", "e_biking": "ride",
}
DEFAULT_WORD = "workout"


@dataclass(frozen=True)
class Lap:
    """One lap, placed on the workout's timeline (seconds from the start)."""

    start: float
    end: float
    duration: float
    avg_hr: int | None
    max_hr: int | None


@dataclass(frozen=True)
class Recording:
    """What the replay needs from a FIT file."""

    path: Path
    exercise: str
    laps: tuple[Lap, ...]
    samples: tuple[tuple[float, int], ...]  # (offset seconds, bpm), in time order
    duration: float
    avg_hr: int | None
    max_hr: int | None
    complete: bool = True
    problems: tuple[str, ...] = field(default=())


def read_fit(path: Path) -> Recording:
    """Decode `path`; RecordingError when nothing usable can be read."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise RecordingError(f"{path}: cannot read: {error.strerror or error}") from None
    if size > MAX_FILE_BYTES:
        raise RecordingError(f"{path}: {size} bytes is too large for a workout recording")
    messages, problem = _decode(path)
    usable = messages["lap"] or messages["record"]
    # An empty file, a clean one without data and one cut before its first lap or record
    # all have nothing to replay, and say so alike.
    if not usable and (problem or not messages["session"]):
        raise RecordingError(f"{path}: no laps or heart-rate records to replay "
                             f"({problem or 'none in the file'})")
    recording = _build(path, messages, problem)
    if problem:
        log.warning("%s: %s; replaying the %d lap(s) and %d heart-rate record(s) read",
                    path.name, problem, len(recording.laps), len(recording.samples))
    return recording


def _decode(path: Path) -> tuple[dict[str, list[Any]], str | None]:
    """Data messages by name, and what went wrong (None for a clean file)."""
    import fitdecode  # here: the daemon, which replays nothing, does not hold it (2 MB)

    messages: dict[str, list[Any]] = {name: [] for name in WANTED}
    try:
        with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE,
                                 error_handling=fitdecode.ErrorHandling.RAISE) as reader:
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage) and frame.name in WANTED:
                    messages[frame.name].append(frame)
    except fitdecode.FitHeaderError as error:
        raise RecordingError(f"{path}: corrupt FIT header ({error})") from None
    except fitdecode.FitEOFError as error:
        return messages, f"file ends early ({error})"
    except fitdecode.FitCRCError as error:
        return messages, f"CRC check failed ({error})"
    except Exception as error:  # untrusted bytes: any decoder failure is a damaged file
        return messages, f"undecodable data ({type(error).__name__}: {error})"
    return messages, None


def _build(path: Path, messages: dict[str, list[Any]], problem: str | None) -> Recording:
    start = _start_time(messages)
    samples = sorted(_samples(messages["record"], start))
    placed = (_lap(message, start, samples) for message in messages["lap"])
    laps = tuple(sorted((lap for lap in placed if lap is not None), key=lambda lap: lap.start))
    sessions = messages["session"]
    session = sessions[-1] if sessions else None
    duration = _number(_value(session, "total_elapsed_time")) if session else None
    if duration is None:
        ends = [lap.end for lap in laps] + [offset for offset, _ in samples[-1:]]
        duration = max(ends, default=0.0)
    bpms = [bpm for _, bpm in samples]
    avg_hr = _bpm(_value(session, "avg_heart_rate")) or _mean(bpms)
    max_hr = _bpm(_value(session, "max_heart_rate")) or (max(bpms) if bpms else None)
    return Recording(
        path=path, exercise=_exercise(messages), laps=laps, samples=tuple(samples),
        duration=min(max(duration, 0.0), MAX_WORKOUT_SECONDS), avg_hr=avg_hr, max_hr=max_hr,
        complete=problem is None, problems=(problem,) if problem else (),
    )


def _start_time(messages: dict[str, list[Any]]) -> float:
    """The session start, else the first timer start, lap start or record."""
    candidates: Iterable[float | None] = (
        *(_seconds(_value(s, "start_time")) for s in messages["session"]),
        *(_seconds(_value(e, "timestamp")) for e in messages["event"]
          if _value(e, "event") == "timer" and _value(e, "event_type") == "start"),
        *(_seconds(_value(lap, "start_time")) for lap in messages["lap"]),
        *(_seconds(_value(r, "timestamp")) for r in messages["record"][:1]),
    )
    for candidate in candidates:
        if candidate is not None:
            return candidate
    return 0.0


def _samples(records: list[Any], start: float) -> Iterator[tuple[float, int]]:
    for record in records:
        moment, bpm = _seconds(_value(record, "timestamp")), _bpm(_value(record, "heart_rate"))
        if moment is None or bpm is None:
            continue
        offset = moment - start
        if 0 <= offset <= MAX_WORKOUT_SECONDS:
            yield offset, bpm


def _lap(message: Any, start: float, samples: list[tuple[float, int]]) -> Lap | None:
    began = _seconds(_value(message, "start_time"))
    ended = _seconds(_value(message, "timestamp"))
    elapsed = _number(_value(message, "total_elapsed_time"))
    if began is None:
        return None
    offset = began - start
    if elapsed is None:
        elapsed = (ended - began) if ended is not None else 0.0
    if not 0 <= offset <= MAX_WORKOUT_SECONDS or elapsed < 0:
        return None
    elapsed = min(elapsed, MAX_WORKOUT_SECONDS - offset)
    timer = _number(_value(message, "total_timer_time"))
    duration = timer if timer is not None and 0 <= timer <= elapsed else elapsed
    inside = [bpm for moment, bpm in samples if offset <= moment <= offset + elapsed]
    return Lap(
        start=offset, end=offset + elapsed, duration=round(duration, 3),
        avg_hr=_bpm(_value(message, "avg_heart_rate")) or _mean(inside),
        max_hr=_bpm(_value(message, "max_heart_rate")) or (max(inside) if inside else None),
    )


def _exercise(messages: dict[str, list[Any]]) -> str:
    for message in (*messages["session"], *messages["lap"], *messages["sport"]):
        sub_sport, sport = _value(message, "sub_sport"), _value(message, "sport")
        if isinstance(sub_sport, str) and sub_sport in SUB_SPORT_WORDS:
            return SUB_SPORT_WORDS[sub_sport]
        if isinstance(sport, str) and sport in SPORT_WORDS:
            return SPORT_WORDS[sport]
        if isinstance(sport, str) and sport not in ("generic", "all"):
            return sport.replace("_", " ")[:64] or DEFAULT_WORD
    return DEFAULT_WORD


def _value(message: Any, name: str) -> Any:
    if message is None:
        return None
    try:
        return message.get_value(name, fallback=None)
    except Exception:  # a damaged field reads as missing
        return None


def _seconds(value: Any) -> float | None:
    if isinstance(value, datetime):
        try:
            return value.timestamp()
        except (OverflowError, ValueError, OSError):
            return None
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _bpm(value: Any) -> int | None:
    if isinstance(value, int | float) and HEART_RATE_MIN <= value <= HEART_RATE_MAX:
        return round(value)
    return None


def _mean(values: list[int]) -> int | None:
    return round(statistics.fmean(values)) if values else None
