"""The CLI reaches the daemon only over its private Unix socket, after a peer check: a
process squatting the TCP port, a socket answering HTML or a list, or another user's
socket never gets the token and never gives a traceback."""

import http.server
import json
import os
import socket
import socketserver
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from campaigns.harness import DaemonProcess, unused_port

from edgecoach.cli import main
from edgecoach.settings import load_settings

TOKEN = "k" * 43


def write_token(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (data_dir / "api-token").write_text(TOKEN + "\n")
    (data_dir / "api-token").chmod(0o600)


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the server's canned reply; remembers the headers it saw."""

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        self.server.seen.append(dict(self.headers))  # type: ignore[attr-defined]
        kind, body = self.server.reply  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class UnixHTTPServer(socketserver.UnixStreamServer):
    def get_request(self):  # BaseHTTPRequestHandler wants an address pair
        request, _ = super().get_request()
        return request, ("local", 0)


@pytest.fixture
def squatter() -> Iterator[tuple[int, list[dict]]]:
    """Another user's server on the API's TCP port, while the daemon is down."""
    port = unused_port()
    server = http.server.HTTPServer(("127.0.0.1", port), Recorder)
    server.seen, server.reply = [], ("application/json", b'{"daemon": {"evil": true}}')
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port, server.seen
    server.shutdown()
    server.server_close()


def serve_on_socket(path: Path, reply: tuple[str, bytes]) -> UnixHTTPServer:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    server = UnixHTTPServer(str(path), Recorder)
    server.seen, server.reply = [], reply  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_port_squatter_never_gets_the_token(capsys, monkeypatch, squatter,
                                             isolated_data_dir: Path) -> None:
    port, seen = squatter
    monkeypatch.setenv("EDGECOACH_API__PORT", str(port))
    write_token(isolated_data_dir)
    assert main(["status"]) == 0
    assert json.loads(capsys.readouterr().out)["daemon"] == "not running"
    assert seen == []  # not even a connection carried a request


@pytest.mark.parametrize(("reply", "words"), [
    (("text/html", b"<html><body>hello</body></html>"), "text/html"),
    (("application/json", b'["a", "list"]'), "application/json"),
    (("application/json", b'{"daemon": "nope"}'), "application/json"),
], ids=["html", "json-list", "daemon-not-an-object"])
def test_a_socket_answering_something_else_is_one_line(capsys, reply, words: str,
                                                       isolated_data_dir: Path) -> None:
    write_token(isolated_data_dir)
    path = load_settings().api.cli_socket
    assert path is not None
    server = serve_on_socket(path, reply)
    try:
        code = main(["status"])
        err = capsys.readouterr().err
    finally:
        server.shutdown()
        server.server_close()
        path.unlink()
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "not the daemon" in err or "other than the daemon" in err
    assert words in err


@pytest.mark.skipif(os.geteuid() != 0, reason="a socket of another user needs root")
def test_another_users_socket_never_gets_the_token(capsys, isolated_data_dir: Path) -> None:
    write_token(isolated_data_dir)
    path = load_settings().api.cli_socket
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Bound here, then listened on by a process that has become "nobody": the kernel
    # reports the listener's credentials as they were at listen().
    child = subprocess.Popen([sys.executable, "-c", f"""
import os, socket, sys
sock = socket.socket(socket.AF_UNIX)
sock.bind({str(path)!r})
os.setuid(65534)
sock.listen()
print("ready", flush=True)
connection, _ = sock.accept()
connection.settimeout(5)
sys.stdout.write(repr(connection.recv(65536)))
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        code = main(["status"])
        err = capsys.readouterr().err
        received = child.communicate(timeout=30)[0]
    finally:
        child.kill()
        path.unlink(missing_ok=True)
    assert code == 2 and "user 65534" in err and err.count("\n") == 1
    assert TOKEN not in received and received in ("b''", "")


def test_the_cli_reads_the_running_daemons_status_over_its_private_socket(
        tmp_path: Path) -> None:
    with DaemonProcess(tmp_path / "data") as daemon:
        daemon.wait_ready()
        env = {**daemon.env, "EDGECOACH_API__PORT": "9"}  # the TCP port is never used
        done = subprocess.run([sys.executable, "-m", "edgecoach", "status"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "queueSize" in json.loads(done.stdout)["daemon"]
        path = load_settings_for(daemon.env).api.cli_socket
        assert path is not None
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        with socket.socket(socket.AF_UNIX) as probe:  # it is a live socket, not a file
            probe.connect(str(path))
        assert daemon.terminate() == 0
    assert not path.exists()


def load_settings_for(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
