"""Writing report and snapshot files as a user expects of any Unix tool.

- `-` is stdout.
- A regular file (new or existing) is written atomically: to a temporary file beside it, renamed
  over it at the end, so no reader and no interrupted run ever sees half a report. A new file gets
  the mode any program would give it (0666 & ~umask); an existing one keeps its mode.
- A symlink is written through: its target is replaced, the link stays a link.
- A FIFO, a character device (/dev/null, a terminal) or a path that is this process's stdout
  (/dev/stdout, /proc/self/fd/1) is written straight into: it cannot be renamed over, and a reader
  may be waiting on it.

`outputs()` opens several at once and commits them together: if anything fails or the run is
interrupted (Ctrl-C, SIGTERM), every temporary file is removed and no target is touched. An error
names the path it happened on.

A reader that closes a pipe early (`kfstor audit | head -n1`, on stdout or a FIFO) only ends what
that reader receives: the rest of that output is dropped, the other reports are still written in
full and the exit code stays the gate's. Neither rich (which would exit 1) nor a BrokenPipeError
ever sees the closed pipe.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, cast

STDOUT = "-"


class OutputError(Exception):
    """A report path that cannot be written (exit code 2)."""


def _reason(target: str, exc: OSError) -> str:
    return f"cannot write {target}: {exc.strerror or exc}"


class _Handle(io.TextIOBase):
    """What a renderer writes to: the real stream, with its errors named by the path. On a pipe
    (stdout, a FIFO) whose reader has gone, writes are dropped instead of raising."""

    def __init__(self, target: str, stream: TextIO, pipe: bool) -> None:
        super().__init__()
        self.target = target
        self.stream = stream
        self.pipe = pipe  # not a regular file: its reader may close it early
        self.reader_gone = False

    def _gone(self) -> None:
        self.reader_gone = True
        if self.stream is sys.stdout:
            # What stdout still buffers, and the flushes on the way out, now go nowhere instead of
            # raising again (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
            with contextlib.suppress(OSError, ValueError, AttributeError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)

    def _call(self, action: str, text: str = "") -> None:
        if self.reader_gone:
            return
        try:
            if action == "write":
                self.stream.write(text)
            elif action == "flush":
                self.stream.flush()
            else:
                self.stream.close()
        except BrokenPipeError:
            if not self.pipe:
                raise OutputError(f"cannot write {self.target}: broken pipe") from None
            self._gone()
            if action == "close":
                with contextlib.suppress(OSError, ValueError):
                    self.stream.close()
        except OSError as exc:
            raise OutputError(_reason(self.target, exc)) from None

    def write(self, text: str) -> int:
        self._call("write", text)
        return len(text)

    def flush(self) -> None:
        self._call("flush")

    def close_stream(self) -> None:
        self._call("close")

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.stream.fileno()

    @property  # rich picks its characters by it; io.TextIOBase's own is always None
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"


@dataclass
class _Pending:
    target: str  # as the user gave it
    raw: TextIO
    tmp: str = ""  # the temporary file to rename, for atomic writes
    final: str = ""  # what it is renamed to (the symlink's target for a link)
    owned: bool = True  # False for sys.stdout: never closed here
    handle: _Handle = field(init=False)

    def __post_init__(self) -> None:
        self.handle = _Handle(self.target, self.raw, pipe=not self.tmp)

    def close(self) -> None:
        if self.owned:
            self.handle.close_stream()
        else:
            self.handle.flush()

    def discard(self) -> None:
        with contextlib.suppress(OSError, OutputError):
            self.close()
        if self.tmp:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _is_stdout(info: os.stat_result) -> bool:
    try:
        return os.path.samestat(info, os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError):  # stdout closed or replaced (tests)
        return False


def _open(target: str) -> _Pending:
    if target == STDOUT:
        return _Pending(target, sys.stdout, owned=False)
    try:
        info: os.stat_result | None = os.stat(target)  # follows symlinks
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {target}: is a directory")
    if info is not None and _is_stdout(info):  # /dev/stdout, /proc/self/fd/1: our own stdout
        with contextlib.suppress(OSError):  # a reader already gone is found at the first write
            sys.stdout.flush()
        return _Pending(target, sys.stdout, owned=False)
    if info is not None and not stat.S_ISREG(info.st_mode):
        try:  # a FIFO, a device, a socket: straight in (opening a FIFO waits for its reader)
            return _Pending(target, open(target, "w", encoding="utf-8", newline=""))
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    final = os.path.realpath(target)  # through symlinks: the link stays, its target is replaced
    directory = os.path.dirname(final) or "."
    mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(final)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, mode)
        handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    return _Pending(target, handle, tmp=tmp, final=final)


@contextlib.contextmanager
def outputs(targets: Sequence[str]) -> Iterator[list[TextIO]]:
    """Handles for every target, in order; all committed when the block ends, none if it raises."""
    pending: list[_Pending] = []
    try:
        for target in targets:
            pending.append(_open(target))
        yield [cast(TextIO, p.handle) for p in pending]
        for p in pending:
            p.close()
        for p in pending:
            if p.tmp:
                try:
                    os.replace(p.tmp, p.final)
                except OSError as exc:
                    raise OutputError(_reason(p.target, exc)) from None
                p.tmp = ""
    except OSError as exc:  # not from a handle (those name their path): say which reports failed
        for p in pending:
            p.discard()
        raise OutputError(f"cannot write {', '.join(targets)}: {exc.strerror or exc}") from None
    except BaseException:
        for p in pending:
            p.discard()
        raise


@contextlib.contextmanager
def output(target: str | Path) -> Iterator[TextIO]:
    with outputs([str(target)]) as (handle,):
        yield handle


def check_stdout_use(named: Sequence[tuple[str, str]], format_given: bool) -> str | None:
    """At most one report may go to stdout. Returns the option writing to stdout, if any;
    raises OutputError naming the clash otherwise. `named` holds (option, path) pairs."""
    dashes = [option for option, path in named if path == STDOUT]
    if len(dashes) > 1:
        raise OutputError(f"{' and '.join(f'{o} -' for o in dashes)} all write to stdout: at most one may use -")
    if dashes and format_given:
        raise OutputError(f"{dashes[0]} - and --format both write to stdout: drop one of them")
    return dashes[0] if dashes else None
