"""The toast: a glanceable summary (<= 60 characters) of the facts behind the line."""

from collections.abc import Mapping

from edgecoach.contract import WorkoutContext

TOAST_MAX = 60


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _facts(trigger_id: str, context: WorkoutContext,
           values: Mapping[str, str]) -> list[str | None]:
    v = values.get
    load = None
    if v("reps") and v("weight"):
        load = f"{v('reps')} x {v('weight')} kg"
    elif v("reps"):
        load = f"{v('reps')} reps"
    elif context.duration_seconds:
        load = _clock(context.duration_seconds)
    heart = f"HR {v('hr')}" if v("hr") else None
    strain = f"strain {v('strain')}" if v("strain") else None
    title = (v("exercise") or "").capitalize()
    if v("set"):
        title = f"{title} set {v('set')}".strip()
    if trigger_id == "set-start":
        return [title, load]
    if trigger_id == "set-end":
        rest = f"rest {v('rest')} s" if v("rest") else None
        return [f"{title or 'Set'} done", load, heart, rest]
    if trigger_id == "strainsync":
        return [strain.capitalize() if strain else "Strain", heart]
    if trigger_id == "hr-zone":
        low, high = v("zone_low"), v("zone_high")
        zone = f"zone {low}-{high}" if low and high else None
        return [heart, zone]
    if trigger_id == "pre-start":
        sleep = f"sleep {v('sleep')} h" if v("sleep") else None
        return ["Ready", sleep, strain]
    if trigger_id == "workout-end":
        sets = f"{v('sets')} sets" if v("sets") else None
        volume = f"{v('volume')} kg" if v("volume") else None
        time = _clock(context.duration_seconds) if context.duration_seconds else None
        peak = f"peak {v('peak_hr')}" if v("peak_hr") else None
        return ["Workout done", sets, volume, time, heart, peak, strain]
    return []


def toast_message(trigger_id: str, context: WorkoutContext, values: Mapping[str, str],
                  text: str) -> str:
    """Facts joined while they fit; for a moment without facts, the line's first sentence."""
    facts = [fact for fact in _facts(trigger_id, context, values) if fact]
    toast = ""
    for fact in facts:
        candidate = f"{toast}, {fact}" if toast else fact
        if len(candidate) > TOAST_MAX:
            break
        toast = candidate
    if len(facts) > 1 and toast:
        return toast
    first = text.split(". ")[0].split("! ")[0].split("? ")[0].rstrip(".!?")
    if len(first) > TOAST_MAX:
        first = first[:TOAST_MAX - 3].rsplit(" ", 1)[0] + "..."
    return first
