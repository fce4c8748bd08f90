"""A workout as one offline HTML page: heart rate, zone, laps, strain and every line.

Plotly is imported only when a page is rendered (report/page.py), not with the CLI.
"""

import os
from pathlib import Path

from edgecoach.errors import ValidationFailed
from edgecoach.store import Store


def check_out_path(out: Path, option: str = "--out") -> None:
    """A report goes to a file in an existing folder; say so before any long work."""
    if out.is_dir():
        raise ValidationFailed(option, f"{out} is a directory; give a file name")
    if out.exists() and not out.is_file():  # a device or a pipe is not replaced
        raise ValidationFailed(option, f"{out} is not a regular file")
    if not out.parent.is_dir():
        raise ValidationFailed(option, f"folder {out.parent} does not exist")


def workout_report_html(store: Store, workout_id: str) -> str:
    """The report page of a stored workout; NotFound for an unknown id."""
    from edgecoach.report.data import load_report_data
    from edgecoach.report.page import render_report

    return render_report(load_report_data(store, workout_id))


def write_report(store: Store, workout_id: str, out: Path) -> Path:
    """Write the report to `out` whole or not at all (a temporary file, then a rename)."""
    check_out_path(out)
    page = workout_report_html(store, workout_id)
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise ValidationFailed("--out", f"cannot write {out}: {error.strerror}") from None
    return out


__all__ = ["check_out_path", "workout_report_html", "write_report"]
