"""`--comment` (and a comment through the API) is sanitized before it is stored locally."""

import json

import pytest

from edgecoach.settings import load_settings
from edgecoach.store import Store
from tests.test_cli import run, seeded_response

RAW = "great cue, mail me at jo@example.com or call 555-123-4567 from 10.1.2.3"
CLEAN = "great cue, mail me at [EMAIL] or call [PHONE] from [IP]"


def stored_texts() -> str:
    store = Store.open(load_settings().database_path)
    with store.database.reading() as db:
        text = json.dumps([list(db[name].rows) for name in db.table_names()])
    store.close()
    return text


def test_the_cli_comment_is_stored_sanitized(capsys: pytest.CaptureFixture[str]) -> None:
    response_id = seeded_response()
    code, out, _ = run(capsys, "feedback", response_id, "--rating", "5", "--comment", RAW)
    assert code == 0
    assert json.loads(out)["feedback"]["comments"] == CLEAN
    text = stored_texts()
    assert CLEAN in text
    for secret in ("jo@example.com", "555-123-4567", "10.1.2.3"):
        assert secret not in text
