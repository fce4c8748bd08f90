#!/usr/bin/env python3
"""`make pi-check`: EdgeCoach installed and run on arm64, as on a Raspberry Pi.

A Debian bookworm arm64 root file system (the Debian and Python 3.11 of Raspberry Pi OS
Bookworm) is built once with debootstrap into the cache dir and run through
qemu-user-static and binfmt_misc. The project is installed in it as the README's
"Raspberry Pi" section says, then each step runs there: an import of every module,
`edgecoach line` for each trigger, `edgecoach say --out` in both personas (checked as a
WAV), `edgecoach replay --events-only` of a FIT file, the store, contract and coach tests.

Every step is printed with its time and exit status. A step the machine cannot run
(no binfmt_misc, no debootstrap, not root) is SKIPPED with the reason, and so is every
step after it: the check then exits 3 and says the project is not proven, never 0.
Exit 0: every step passed; 1: a step failed; 3: steps were skipped.

    python3 scripts/pi_check.py [--root DIR] [--only NAMES] [--here]

`--here` runs the in-root steps on this machine with this checkout's .venv (how its
tests exercise them, and how it runs on a Pi itself). Emulated commands run under
`nice -n 15`. /sys is never mounted into the root: onnxruntime's cpuinfo then reads
the host CPU and segfaults under qemu.
"""

import argparse
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SHARED_FIT = PROJECT.parent / "shared" / "data" / "fit"
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
HOST_PACKAGES = ("qemu-user-static", "binfmt-support", "debootstrap")
SUITE, MIRROR = "bookworm", "http://deb.debian.org/debian"
ROOT_PROJECT = "/opt/edgecoach"  # the checkout inside the root (tests look for ../shared)
TRIGGERS = ("onboarding", "pre-start", "set-start", "set-end", "strainsync", "workout-end",
            "hr-zone")
PERSONAS = ("alice", "aiden")
SAY_TEXT = "Good set. Breathe."
REPLAY_FILE = "data/recordings/2013-02-06-12-11-14.fit"  # from the shared FIT files
TEST_FILES = "tests/test_store.py tests/test_contract.py tests/test_coach_*.py"
TEST_PACKAGES = "pytest>=8 pytest-asyncio>=0.23 hypothesis>=6.100"
# Under emulation the voice runs with one ONNX Runtime thread that does not spin: idle
# spinning threads of a pool each take a host core away from the one doing the work.
ROOT_ENV = {"EDGECOACH_VOICE_THREADS": "1", "EDGECOACH_DATA_DIR": "/tmp/pi-check-data",
            "PYTHONUNBUFFERED": "1"}
STEP_TIMEOUT_S = 3600


class Skip(Exception):
    """The machine cannot run this step; the message says why."""


class Failed(Exception):
    """The step ran and failed; the message says how."""


@dataclass
class Result:
    name: str
    status: str  # passed, failed, skipped
    seconds: float
    detail: str = ""


@dataclass
class Check:
    root: Path
    here: bool = False
    binfmt_dir: Path = BINFMT_DIR
    out: Callable[[str], None] = print
    results: list[Result] = field(default_factory=list)

    # The runner: each step is timed, printed, and stops the steps after it unless passed.

    def step(self, name: str, action: Callable[[], str | None]) -> Result:
        blocked = next((r for r in self.results if r.status != "passed"), None)
        started = time.monotonic()
        if blocked is not None:
            result = Result(name, "skipped", 0.0, f"after {blocked.name} {blocked.status}")
        else:
            self.out(f"pi-check: {name} ...")
            try:
                result = Result(name, "passed", 0.0, action() or "")
            except Skip as reason:
                result = Result(name, "skipped", 0.0, str(reason))
            except Failed as reason:
                result = Result(name, "failed", 0.0, str(reason))
            result.seconds = time.monotonic() - started
        self.results.append(result)
        self.out(f"pi-check: {name}: {result.status.upper()} in {result.seconds:.1f} s"
                 + (f" ({result.detail})" if result.detail else ""))
        return result

    def summary(self) -> int:
        counts = {status: sum(r.status == status for r in self.results)
                  for status in ("passed", "failed", "skipped")}
        total = sum(r.seconds for r in self.results)
        self.out(f"pi-check: {counts['passed']} passed, {counts['failed']} failed, "
                 f"{counts['skipped']} skipped in {total:.0f} s")
        if counts["failed"]:
            return 1
        if counts["skipped"]:
            self.out("pi-check: NOT PROVEN on arm64: steps were skipped (reasons above)")
            return 3
        return 0

    # Commands inside the root (or here, with --here).

    def run(self, command: str, timeout: float = STEP_TIMEOUT_S) -> str:
        """A shell command in the project inside the root; Failed with its last lines."""
        if self.here:
            argv = ["bash", "-c", f"cd {shlex.quote(str(PROJECT))} && {command}"]
            env = {**os.environ, **ROOT_ENV, "EDGECOACH_DATA_DIR": str(self.root / "data")}
        else:
            inner = f"cd {ROOT_PROJECT} && {command}"
            argv = ["nice", "-n", "15", "chroot", str(self.root), "/usr/bin/env", "-i",
                    "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/root",
                    "LANG=C.UTF-8", *(f"{k}={v}" for k, v in ROOT_ENV.items()),
                    "bash", "-c", inner]
            env = None
        self.out(f"  $ {command}")
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                  env=env, check=False)
        except subprocess.TimeoutExpired:
            raise Failed(f"no end after {timeout:.0f} s: {command}") from None
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-6:]
            raise Failed(f"exit {done.returncode}: " + " | ".join(tail))
        return done.stdout

    def project_path(self, relative: str) -> Path:
        """A path of the project as the host sees it."""
        return (PROJECT if self.here else self.root / ROOT_PROJECT.lstrip("/")) / relative


# Host steps: tools, binfmt, the root file system.

def is_arm64_host() -> bool:
    return platform.machine() in ("aarch64", "arm64")


def as_root(what: str) -> None:
    if os.geteuid() != 0:
        raise Skip(f"{what} needs root (run `sudo make pi-check`)")


def host_tools() -> str:
    missing = [p for p, tool in zip(HOST_PACKAGES, ("qemu-aarch64-static", "update-binfmts",
                                                    "debootstrap"), strict=True)
               if shutil.which(tool) is None and not (p != "debootstrap" and is_arm64_host())]
    if not missing:
        return "present"
    if shutil.which("apt-get") is None:
        raise Skip(f"missing {', '.join(missing)} and no apt-get to install them")
    as_root(f"installing {', '.join(missing)}")
    command = ["apt-get", "install", "-y", "-q", *missing]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if done.returncode != 0:
        raise Failed(f"apt-get install {' '.join(missing)}: {done.stderr.strip()[-300:]}")
    return f"installed {', '.join(missing)}"


def binfmt(binfmt_dir: Path) -> str:
    """arm64 binaries run directly: binfmt_misc mounted and qemu-aarch64 registered."""
    if is_arm64_host():
        return "arm64 host: runs natively"
    if not binfmt_dir.is_dir():
        raise Skip(f"{binfmt_dir} does not exist: the kernel has no binfmt_misc")
    if not (binfmt_dir / "register").exists():
        as_root(f"mounting binfmt_misc on {binfmt_dir}")
        mount = subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt_dir)],
                               capture_output=True, text=True, check=False)
        if mount.returncode != 0:
            raise Skip(f"cannot mount binfmt_misc on {binfmt_dir} (a container?): "
                       f"{mount.stderr.strip()}")
    entry = binfmt_dir / "qemu-aarch64"
    if not entry.exists():
        as_root("registering qemu-aarch64 with binfmt_misc")
        subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], check=False,
                       capture_output=True)
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        raise Skip(f"{entry} is not registered and enabled (update-binfmts --enable "
                   "qemu-aarch64)")
    return entry.read_text().splitlines()[1]  # the interpreter


def mirror() -> str:
    """The Debian mirror this machine's apt sources name (deb.debian.org otherwise)."""
    for sources in (Path("/etc/apt/sources.list.d/debian.sources"),
                    Path("/etc/apt/sources.list")):
        if sources.is_file():
            found = re.search(r"^(?:URIs:\s*|deb\s+)(https?://\S+/debian)\s*$",
                              sources.read_text(), re.MULTILINE)
            if found:
                return found.group(1)
    return MIRROR


def root_fs(root: Path) -> str:
    """The root file system, built once: a complete one has the stamp debootstrap's
    second stage ends with (a half-built one from a killed run is built again)."""
    stamp = root / ".pi-check-complete"
    if stamp.is_file():
        return f"cached in {root}"
    as_root("debootstrap")
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    command = ["nice", "-n", "15", "debootstrap", "--arch=arm64", "--variant=minbase",
               "--include=python3,ca-certificates", SUITE, str(partial), mirror()]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Failed("debootstrap: " + " | ".join(done.stdout.strip().splitlines()[-4:]))
    (partial / stamp.name).write_text(" ".join(command) + "\n")
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)
    return f"built in {root}"


def enter(root: Path) -> str:
    """The machine's CA bundle and resolver, /proc and /dev (never /sys), the project."""
    as_root("mounting /proc and /dev into the root")
    certificates = Path("/etc/ssl/certs/ca-certificates.crt")
    if certificates.is_file():
        shutil.copyfile(certificates, root / "etc/ssl/certs/ca-certificates.crt")
    shutil.copyfile("/etc/resolv.conf", root / "etc/resolv.conf")
    for mount in ("proc", "dev"):
        target = root / mount
        if not os.path.ismount(target):
            subprocess.run(["mount", "--bind", f"/{mount}", str(target)], check=True)
    copy_project(root / ROOT_PROJECT.lstrip("/"))
    if SHARED_FIT.is_dir():
        shutil.copytree(SHARED_FIT, root / "opt/shared/data/fit", dirs_exist_ok=True)
    return f"project copied to {ROOT_PROJECT}"


def leave(root: Path) -> None:
    for mount in ("dev", "proc"):
        if os.path.ismount(root / mount):
            subprocess.run(["umount", "--lazy", str(root / mount)], check=False)


def copy_project(target: Path) -> None:
    """The checkout's tracked and new files (not .venv, not .git) over the root's copy."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=PROJECT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for name in listed:
        source = PROJECT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


# The README is what a new user follows: its Pi section's commands are what is run.

def readme_install_commands(readme: Path = PROJECT / "README.md") -> list[str]:
    """The Pi section's apt-get and setup lines (not clone, systemd or group commands)."""
    section = readme.read_text().split("## Raspberry Pi", 1)[-1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    if block is None:
        raise Failed("README.md: no sh block in the Raspberry Pi section")
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    picked = [line.removeprefix("sudo ") for line in lines
              if line.startswith(("sudo apt-get install", "scripts/setup.sh"))]
    if len(picked) != 2:
        raise Failed(f"README.md: expected the apt-get and setup lines, found {picked}")
    return picked


def valid_wav(path: Path) -> str:
    """A mono 16-bit WAV with at least 0.3 s of audio, or Failed saying what is wrong."""
    try:
        with wave.open(str(path), "rb") as clip:
            channels, width = clip.getnchannels(), clip.getsampwidth()
            seconds = clip.getnframes() / clip.getframerate()
    except (OSError, EOFError, wave.Error) as error:
        raise Failed(f"{path}: not a WAV file: {error}") from None
    if channels != 1 or width != 2 or seconds < 0.3:
        raise Failed(f"{path}: {channels} channels, {8 * width}-bit, {seconds:.2f} s")
    return f"{seconds:.2f} s of 16-bit mono audio"


# The steps run inside the root.

def project_steps(check: Check) -> list[tuple[str, Callable[[], str | None]]]:
    venv = ".venv/bin"

    def quiet(command: str) -> Callable[[], None]:
        def action() -> None:
            check.run(command)
        return action

    steps: list[tuple[str, Callable[[], str | None]]] = []
    if not check.here:
        apt, setup = readme_install_commands()
        packages = " ".join(map(shlex.quote, TEST_PACKAGES.split()))
        steps += [("readme apt packages",
                   quiet(f"apt-get update -qq && DEBIAN_FRONTEND=noninteractive {apt}")),
                  ("readme install", quiet(setup)),
                  ("test packages", quiet(f"{venv}/pip install -q {packages}"))]
    steps.append(("import every module", lambda: check.run(
        f"{venv}/python -c 'import importlib, pkgutil, edgecoach; names = [m.name for m in "
        "pkgutil.walk_packages(edgecoach.__path__, \"edgecoach.\") if not m.name.endswith("
        "\"__main__\")]; [importlib.import_module(n) for n in names]; print(len(names))'"
    ).strip() + " modules"))
    for trigger in TRIGGERS:
        steps.append((f"line {trigger}", lambda trigger=trigger: " ".join(check.run(
            f"{venv}/edgecoach line --trigger {trigger}").split())[:120]))
    for persona in PERSONAS:
        def say(persona: str = persona) -> str:
            out = f"/tmp/pi-check-say-{persona}.wav"
            check.run(f"rm -f {out} && {venv}/edgecoach say --persona {persona} "
                      f"--text {shlex.quote(SAY_TEXT)} --out {out}")
            return valid_wav(Path(out) if check.here else check.root / out.lstrip("/"))
        steps.append((f"say {persona}", say))
    steps.append(("replay --events-only --speed 0", lambda: check.run(
        f"{venv}/edgecoach replay {REPLAY_FILE} --events-only --speed 0 | tail -1").strip()))
    steps.append(("store, contract, coach tests", lambda: check.run(
        f"{venv}/python -m pytest -q -p no:cacheprovider {TEST_FILES} | tail -1").strip()))
    return steps


def cache_root() -> Path:
    base = os.environ.get("EDGECOACH_CACHE_DIR") or os.path.expanduser("~/.cache/edgecoach")
    return Path(base) / "pi-check" / f"{SUITE}-arm64"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/pi_check.py", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--root", type=Path, default=cache_root(),
                        help="the arm64 root file system (built there once)")
    parser.add_argument("--only", default="", help="comma-separated step-name prefixes")
    parser.add_argument("--here", action="store_true",
                        help="run the project steps here with .venv, without a root")
    args = parser.parse_args(argv)
    check = Check(args.root, here=args.here)
    steps: list[tuple[str, Callable[[], str | None]]] = []
    if not args.here:
        steps += [("host tools", host_tools), ("binfmt", lambda: binfmt(check.binfmt_dir)),
                  ("root file system", lambda: root_fs(args.root)),
                  ("enter root", lambda: enter(args.root))]
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    chosen = [(name, action) for name, action in project_steps(check)
              if not wanted or name.startswith(tuple(wanted))]
    if not chosen:
        print(f"pi-check: --only {args.only!r} names no step", file=sys.stderr)
        return 2
    steps += chosen
    try:
        for name, action in steps:
            check.step(name, action)
    finally:
        if not args.here:
            leave(args.root)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
