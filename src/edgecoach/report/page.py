"""The report as one self-contained HTML page: styles, Plotly's script and every clip
inline (audio as data: URIs), so it opens offline, from a file, on a phone."""

import base64
import html
import time
from typing import Any

from edgecoach.report.chart import workout_figure
from edgecoach.report.data import ReportData, ReportEvent

CHART_ID = "hr-chart"  # also in SCRIPT
STYLE = """
body{font-family:system-ui,-apple-system,sans-serif;margin:0 auto;max-width:960px;
padding:12px;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:.2em 0}.source{color:#666;margin:0 0 .8em;overflow-wrap:anywhere}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(120px,1fr));gap:8px}
.figure{background:#fff;border:1px solid #ddd;border-radius:8px;padding:8px}
.figure b{display:block;font-size:1.3em}.figure span{color:#666;font-size:.85em}
#hr-chart{background:#fff;border:1px solid #ddd;border-radius:8px;margin:12px 0}
ol.events{list-style:none;padding:0}
.event{background:#fff;border:1px solid #ddd;border-left:5px solid #1f77b4;border-radius:8px;
padding:8px;margin:6px 0}.event.held{border-left-color:#ff7f0e;color:#555}
.event.focus{outline:2px solid #1f77b4}.event .when{color:#666;font-size:.85em}
.event .trigger{font-weight:600}.event audio{width:100%;margin-top:6px}
"""
# A marker tapped on the chart brings its card into view and plays its line.
SCRIPT = """
document.getElementById('hr-chart').on('plotly_click', function (click) {
  var point = click.points.find(function (p) { return p.data.name === 'events'; });
  if (!point) { return; }
  var card = document.getElementById('event-' + point.customdata);
  document.querySelectorAll('.event.focus').forEach(function (e) {
    e.classList.remove('focus'); });
  card.classList.add('focus');
  card.scrollIntoView({behavior: 'smooth', block: 'center'});
  var audio = card.querySelector('audio');
  if (audio) { audio.play(); }
});
"""


def render_report(data: ReportData) -> str:
    workout = data.workout
    chart = workout_figure(data).to_html(
        full_html=False, include_plotlyjs=True, div_id=CHART_ID,
        config={"responsive": True, "displaylogo": False})
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(workout.start))
    cards = "\n".join(_event_card(index, event) for index, event in enumerate(data.events))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workout {html.escape(started)}</title><style>{STYLE}</style></head>
<body><h1>Workout of {html.escape(started)}{"" if workout.end else " (not finished)"}</h1>
<p class="source">{html.escape(workout.source)} · workout {html.escape(workout.id)}</p>
<section class="figures">{_figures(workout.summary)}</section>
{chart}
<h2>What the coach said</h2>
<ol class="events">{cards}</ol>
<script>{SCRIPT}</script>
</body></html>
"""


def _figures(summary: dict[str, Any]) -> str:
    minutes, seconds = divmod(round(summary.get("durationSeconds") or 0), 60)
    figures = [
        (f"{minutes}:{seconds:02d}", "duration"),
        (summary.get("averageHeartRate"), "average bpm"),
        (summary.get("peakHeartRate"), "peak bpm"),
        (summary.get("strain"), "strain (0–100)"),
        (summary.get("sets"), "sets / laps"),
        (summary.get("linesSpoken"), "lines spoken"),
        (summary.get("heldBack"), "held back"),
    ]
    return "".join(
        f'<div class="figure"><b>{html.escape("–" if value is None else str(value))}</b>'
        f"<span>{label}</span></div>" for value, label in figures)


def _event_card(index: int, event: ReportEvent) -> str:
    minutes, seconds = divmod(round(event.offset), 60)
    head = (f'<span class="when">{minutes}:{seconds:02d}</span> '
            f'<span class="trigger">{html.escape(event.trigger_id)}</span>')
    if event.text:
        persona = html.escape(event.persona_id or "")
        audio = (f'<audio controls preload="metadata" src="data:audio/flac;base64,'
                 f'{base64.b64encode(event.audio_flac).decode()}"></audio>'
                 if event.audio_flac else '<div class="when">(audio no longer cached)</div>')
        return (f'<li class="event spoken" id="event-{index}">{head} · {persona}'
                f"<div>“{html.escape(event.text)}”</div>{audio}</li>")
    reason = html.escape(event.reason or event.status)
    return (f'<li class="event held" id="event-{index}">{head} · held back: {reason}</li>')
