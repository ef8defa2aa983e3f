"""One rule for every ``-o``: a new path or a regular file, replaced in one step.

``compile -o`` once replaced a symlink, a FIFO or a device with a regular file (as root
it replaced ``/dev/full``) while ``document -o`` wrote through a symlink. Now every verb
refuses anything at the path that is not a regular file (a symlink included, whatever
it points to), writes a temporary file beside it and renames it over, so a failed run
never leaves half a file, and says what it did in one line: ``wrote FILE`` or
``FILE unchanged`` (same bytes: the file is not touched).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from sopflow.errors import SopflowError

__all__ = ["OutputFileError", "check_output", "write_output"]


class OutputFileError(SopflowError):
    """The file named by ``-o`` cannot be written (not a regular file, or an OS error)."""


def check_output(path: str | Path) -> Path:
    """``path`` if it is new or a regular file; OutputFileError otherwise."""
    target = Path(path)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputFileError(f"{target}: cannot write: {exc.strerror or exc}") from None
    if stat.S_ISLNK(mode):
        raise OutputFileError(f"{target}: is a symbolic link; -o writes only regular files")
    if not stat.S_ISREG(mode):
        raise OutputFileError(f"{target}: is not a regular file; -o writes only regular files")
    return target


def _mode(target: Path) -> int:
    """The replaced file's permissions, or what a plain ``open`` would give a new file."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_output(path: str | Path, data: bytes) -> str:
    """Write ``data`` to ``path`` by the rule above; the one line to print."""
    target = check_output(path)
    try:
        if target.exists() and target.read_bytes() == data:
            return f"{target} unchanged"
    except OSError:
        pass  # unreadable: replace it
    directory = target.parent if str(target.parent) else Path(".")
    temp = None
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temp, _mode(target))
        os.replace(temp, target)
        temp = None
    except OSError as exc:
        raise OutputFileError(f"{target}: cannot write: {exc.strerror or exc}") from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
    return f"wrote {target}"
