"""`edgecoach setup`: unattended by flags, and interactively through a pseudo-terminal
(pexpect), with the real settings loader, store and voices (to a WAV folder)."""

# The bus fixtures come from tests/test_bluez.py; their names are the tests' parameters.
# ruff: noqa: F811
import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from edgecoach.cli import main
from edgecoach.settings import load_settings, user_settings_file
from edgecoach.store import Store
from tests.test_bluez import BluezControl, bluez, system_bus  # noqa: F401 (fixtures)
from tests.test_devices import STRAP, add_nearby


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stored_persona_and_chattiness() -> tuple[str | None, str | None]:
    settings = load_settings()
    if not settings.database_path.exists():
        return None, None
    store = Store.open(settings.database_path)
    try:
        if not store.subscriptions.exists(settings.user_id):
            return None, None
        from edgecoach.session.talk_budget import TalkBudget

        return (store.subscriptions.get(settings.user_id).preferred_persona,
                TalkBudget(store.database).state(settings.user_id)["chattiness"])
    finally:
        store.close()


@pytest.fixture
def wav_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every line the set-up says lands here as a WAV file."""
    directory = tmp_path / "said"
    monkeypatch.setenv("EDGECOACH_AUDIO__OUTPUT", "wav")
    monkeypatch.setenv("EDGECOACH_AUDIO__WAV_DIR", str(directory))
    return directory


def test_unattended_by_flags_writes_settings_and_subscription(capsys, wav_dir: Path) -> None:
    # No terminal: nothing is asked. (The voices are heard in the terminal test below.)
    code, out, err = run(capsys, "setup", "--coach", "aiden", "--age", "40", "--resting-hr",
                         "55", "--chattiness", "quiet", "--no-pairing", "--no-voice")
    assert code == 0, err
    summary = json.loads(out[out.index("{"):])
    assert summary["settingsFile"] == str(user_settings_file())
    assert summary["zones"]["work"] == [130, 155]  # Karvonen: 55 + (180 - 55) * 0.6..0.8
    text = user_settings_file().read_text()
    assert "# EdgeCoach settings." in text  # the shipped file's comments are kept
    code, out, _ = run(capsys, "config", "show")
    shown = json.loads(out)["settings"]
    assert shown["persona"] == "aiden"
    assert shown["athlete"] == {"age": 40, "max_heart_rate": None, "resting_heart_rate": 55}
    assert stored_persona_and_chattiness() == ("aiden", "quiet")
    assert list(wav_dir.glob("*.wav")) == []


@pytest.mark.parametrize(("argv", "message"), [
    (["--coach", "bob"], "coach: must be one of alice, aiden"),
    (["--age", "300"], "age: Input should be less than or equal to 100"),
    (["--max-hr", "110", "--resting-hr", "115"], "must be below the maximum heart rate"),
    (["--chattiness", "loud"], "chattiness: must be one of quiet, normal, chatty"),
    (["--pair", "strap"], "'strap' is not a Bluetooth address"),
    (["--age", "forty"], "Invalid value for '--age'"),
])
def test_bad_flags_exit_2_and_change_nothing(capsys, argv: list[str], message: str) -> None:
    code, _, err = run(capsys, "setup", "--no-voice", "--no-pairing", "--yes", *argv)
    assert code == 2 and message in err
    assert not user_settings_file().exists()
    assert stored_persona_and_chattiness() == (None, None)


def spawn(*argv: str, env: dict[str, str] | None = None) -> pexpect.spawn:
    env = {**(env or os.environ), "NO_COLOR": "1"}  # the reasons are red in a real terminal
    return pexpect.spawn(sys.executable, ["-m", "edgecoach", "setup", *argv], env=env,
                         encoding="utf-8", timeout=30, dimensions=(50, 120))


def test_interactive_in_a_terminal_asks_again_with_the_reason(wav_dir: Path) -> None:
    child = spawn("--no-pairing")
    child.expect("alice.*warm")
    child.expect(r"Coach \(alice or aiden\) \[alice\]: ")
    child.sendline("bob")
    child.expect("must be one of alice, aiden - try again")
    child.sendline("aiden")
    child.expect("Age: ")
    child.sendline("forty")
    child.expect("'forty' is not a number - try again")
    child.sendline("38")
    child.expect("Maximum heart rate: ")
    child.sendline("")
    child.expect("Resting heart rate: ")
    child.sendline("200")
    child.expect("resting heart rate: Input should be less than or equal to 120 - try again")
    child.expect(r"Age \[38\]: ")  # the first round's answers are the defaults
    child.sendline("")
    child.expect("Maximum heart rate: ")
    child.sendline("182")
    child.expect(r"Resting heart rate \[200\]: ")
    child.sendline("60")
    child.expect("work +\\S* +(\\d+) +\\S* +(\\d+)")
    assert child.match.groups() == ("133", "158")  # 60 + (182 - 60) * 0.6..0.8
    child.expect(r"Chattiness \(quiet, normal, chatty\) \[normal\]: ")
    child.sendline("loud")
    child.expect("try again")
    child.sendline("chatty")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    settings = load_settings()
    assert (settings.persona, settings.athlete.max_heart_rate) == ("aiden", 182)
    assert stored_persona_and_chattiness() == ("aiden", "chatty")
    # A sample line in each voice, then the test line in the chosen one.
    assert [path.name for path in sorted(wav_dir.glob("*.wav"))] == [
        "0001-setup.wav", "0002-setup.wav", "0003-setup.wav"]


def test_ctrl_c_leaves_the_old_settings_untouched(capsys) -> None:
    code, _, _ = run(capsys, "setup", "--coach", "alice", "--age", "50", "--no-voice",
                     "--no-pairing", "--yes")
    assert code == 0
    before = user_settings_file().read_bytes()
    child = spawn("--no-voice", "--no-pairing")
    child.expect("Coach .*: ")
    child.sendline("aiden")
    child.expect(r"Age \[50\]: ")
    child.sendline("30")
    child.expect("Maximum heart rate: ")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1 and "aborted" in child.before
    assert user_settings_file().read_bytes() == before
    assert stored_persona_and_chattiness() == ("alice", "normal")


async def test_unattended_pairing_records_the_strap(bluez: BluezControl, system_bus: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys) -> None:
    await add_nearby(bluez)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_bus)
    child = spawn("--pair", STRAP, "--no-voice", "--yes", env=dict(os.environ))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    paired = json.loads(child.before[child.before.index("{"):])["paired"]
    assert [(d["address"], d["paired"], d["trusted"]) for d in paired] == [(STRAP, True, True)]
    assert load_settings().sources.ble_address == STRAP


async def test_interactive_pairing_scans_and_pairs_the_chosen_strap(
        bluez: BluezControl, system_bus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await add_nearby(bluez)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_bus)
    child = spawn("--no-voice", "--coach", "alice", "--age", "45", "--chattiness", "normal",
                  "--scan-seconds", "1", env=dict(os.environ))
    child.expect(r"Pair a heart-rate strap or earbuds now\? \[Y/n\]: ")
    child.sendline("y")
    child.expect(f"found {STRAP} +heart-rate strap +Polar H10 AB01")
    child.expect(r"Address to pair \(blank when done\): ")
    child.sendline("nonsense")
    child.expect("is not a Bluetooth address like .* - try again")
    child.sendline(STRAP)
    child.expect("paired Polar H10 AB01")
    child.expect(r"Address to pair \(blank when done\): ")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert load_settings().sources.ble_address == STRAP
