"""The API's bearer token: made once on first start, kept in a file only its owner reads.

An existing token file with wider permissions (group or others) is tightened to 0600
with a warning, so a daemon restarted after a careless copy keeps working; a file that
is not a regular file, belongs to another user or holds no usable token is refused.
"""

import logging
import os
import re
import secrets
import stat
from pathlib import Path

from edgecoach.errors import ConfigError

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
# secrets.token_urlsafe(32) gives 43 characters; anything shorter was not made by us.
MIN_TOKEN_LENGTH = 43
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_token(path: Path) -> str:
    """The token stored at `path`, creating the file (mode 0600) on first start."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        # O_EXCL: two starting daemons cannot both write a token; O_NOFOLLOW: no symlink games.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        return _read_existing(path)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        os.fchmod(file.fileno(), FILE_MODE)  # exactly 0600, whatever the umask
        file.write(token + "\n")
        file.flush()
        os.fsync(file.fileno())
    log.info("created API token file %s", path)
    return token


def _read_existing(path: Path) -> str:
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path}: API token file is not a regular file; refusing it")
    if info.st_uid != os.getuid():
        raise ConfigError(f"{path}: API token file belongs to another user; refusing it")
    if stat.S_IMODE(info.st_mode) != FILE_MODE:
        log.warning("%s: API token file had mode %o; tightened to %o",
                    path, stat.S_IMODE(info.st_mode), FILE_MODE)
        os.chmod(path, FILE_MODE)
    token = path.read_text(encoding="ascii", errors="replace").strip()
    if len(token) < MIN_TOKEN_LENGTH or not TOKEN_PATTERN.fullmatch(token):
        raise ConfigError(
            f"{path}: API token file holds no usable token (url-safe, {MIN_TOKEN_LENGTH}+ "
            "characters); delete it to make a new one")
    return token
