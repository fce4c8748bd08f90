"""The workout chart (Plotly): heart rate with the target zone as a band, laps, strain,
and one marker per event. Plotly draws it; this module only says what to draw."""

import plotly.graph_objects as go

from edgecoach.report.data import ReportData

HEART_RATE_COLOUR = "#d62728"
STRAIN_COLOUR = "#7f7f7f"
ZONE_COLOUR = "#2ca02c"
SPOKEN_COLOUR = "#1f77b4"
HELD_BACK_COLOUR = "#ff7f0e"
MINUTE = 60.0


def workout_figure(data: ReportData) -> go.Figure:
    figure = go.Figure()
    samples = data.samples
    figure.add_trace(go.Scatter(
        name="heart rate", x=[(s.at - data.workout.start) / MINUTE for s in samples],
        y=[s.heart_rate for s in samples], mode="lines",
        # One vertex per sample: no simplification of the drawn line.
        line={"color": HEART_RATE_COLOUR, "width": 1.5, "simplify": False},
        hovertemplate="%{x:.1f} min: %{y} bpm<extra></extra>",
    ))
    if any(s.strain is not None for s in samples):
        figure.add_trace(go.Scatter(
            name="strain", x=[(s.at - data.workout.start) / MINUTE for s in samples],
            y=[s.strain for s in samples], mode="lines", yaxis="y2",
            line={"color": STRAIN_COLOUR, "width": 1, "dash": "dot"},
            hovertemplate="%{x:.1f} min: strain %{y:.1f}<extra></extra>",
        ))
    figure.add_trace(_event_markers(data))
    _add_zone(figure, data)
    _add_laps(figure, data)
    figure.update_layout(
        margin={"l": 44, "r": 44, "t": 24, "b": 40}, height=380,
        legend={"orientation": "h", "y": -0.18}, hovermode="closest",
        xaxis={"title": "minutes", "rangemode": "tozero"},
        yaxis={"title": "bpm"},
        yaxis2={"title": "strain", "overlaying": "y", "side": "right", "range": [0, 100],
                "dtick": 25,
                "showgrid": False},
        plot_bgcolor="white",
    )
    return figure


def _event_markers(data: ReportData) -> go.Scatter:
    """One marker per event, on the curve; its index (customdata) finds its card."""
    fallback = data.workout.summary.get("averageHeartRate") or 100
    events = data.events
    return go.Scatter(
        name="events", x=[e.offset / MINUTE for e in events],
        y=[e.heart_rate or fallback for e in events], mode="markers",
        customdata=list(range(len(events))),
        text=[_marker_text(e.trigger_id, e.text, e.reason) for e in events],
        marker={"size": 11, "line": {"width": 1, "color": "white"},
                "symbol": ["circle" if e.text else "x" for e in events],
                "color": [SPOKEN_COLOUR if e.text else HELD_BACK_COLOUR for e in events]},
        hovertemplate="%{x:.1f} min<br>%{text}<extra></extra>",
    )


def _marker_text(trigger_id: str, text: str | None, reason: str | None) -> str:
    said = f"“{text}”" if text else f"held back: {reason or 'no line'}"
    return f"<b>{trigger_id}</b><br>{_wrap(said)}"


def _wrap(text: str, width: int = 48) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) > width:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def _add_zone(figure: go.Figure, data: ReportData) -> None:
    zone = data.workout.summary.get("targetZone")
    if zone:
        figure.add_hrect(y0=zone["low"], y1=zone["high"], fillcolor=ZONE_COLOUR, opacity=0.12,
                         line_width=0, layer="below",
                         annotation_text=f"target {zone['low']}–{zone['high']} bpm",
                         annotation_position="top left")


def _add_laps(figure: go.Figure, data: ReportData) -> None:
    for lap in data.laps:
        figure.add_vrect(x0=lap.start / MINUTE, x1=lap.end / MINUTE, layer="below",
                         fillcolor="#1f77b4" if lap.number % 2 else "#9467bd", opacity=0.06,
                         line_width=0, annotation_text=f"{lap.number}",
                         annotation_position="top", annotation_font_size=10)
