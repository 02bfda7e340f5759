"""The results file of a resumable sweep (`--results FILE.jsonl`): one finished point a line.

Each line is a JSON object: the task's key and identity (spec hash, path, constants, engine,
options, stormproof version) and its outcome. A line is appended and flushed as soon as its
point finishes, so a sweep killed at any moment keeps every point it finished. A rerun with
the same file reuses the points whose key matches (the same spec text and options) and
checks only the rest. Lines of other sweeps are kept and ignored, so one file can serve
several. An unreadable line (a truncated last line after a kill, or garbage) is ignored and
its point redone; a truncated last line is cut off before anything is appended.

Internal errors are not stored: they may come from a worker that ran out of memory or died,
so a rerun tries those points again. Spec errors are stored: they depend only on the task.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from checker.commands.executor import INTERNAL_ERROR, SPEC_ERROR, Cell, Outcome, Task
from checker.errors import UsageError

FORMAT = 1


@dataclass
class Loaded:
    """What a results file holds: outcomes by task key, and how many lines could not be read."""

    outcomes: dict[str, Outcome]
    unreadable: int


def _encode(task: Task, outcome: Outcome) -> str:
    out: dict[str, Any] = {"format": FORMAT, "key": task.key, "task": task.identity()}
    if outcome.error is not None:
        out["error"] = {"kind": outcome.kind, "message": outcome.error}
    else:
        out["cells"] = [[name, c.status, c.ticks, c.bound, c.reason] for name, c in outcome.cells]
    return json.dumps(out, sort_keys=True, ensure_ascii=False) + "\n"


def _optional_int(x: object) -> int | None:
    if x is None or (isinstance(x, int) and not isinstance(x, bool)):
        return x
    raise TypeError(f"expected an integer or null, got {x!r}")


def _optional_str(x: object) -> str | None:
    if x is None or isinstance(x, str):
        return x
    raise TypeError(f"expected a string or null, got {x!r}")


def _decode(line: str) -> tuple[str, Outcome]:
    """Parse one line; raise ValueError (or KeyError, TypeError) on anything malformed."""
    doc = json.loads(line)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("key"), str):
        raise ValueError("not a stormproof results line")
    if "error" in doc:
        err = doc["error"]
        if err["kind"] != SPEC_ERROR or not isinstance(err["message"], str):
            raise TypeError("bad error entry")
        return doc["key"], Outcome.failed(SPEC_ERROR, err["message"])
    cells = []
    for name, status, ticks, bound, reason in doc["cells"]:
        if not isinstance(name, str) or not isinstance(status, str):
            raise TypeError("bad cell")
        cells.append((name, Cell(status, _optional_int(ticks), _optional_int(bound), _optional_str(reason))))
    return doc["key"], Outcome(tuple(cells))


class ResultsFile:
    """An append-only JSONL store of finished points; open it with `load`, then `append`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stream: IO[str] | None = None

    def load(self) -> Loaded:
        """Read every finished point; cut off a truncated last line; open the file for appending."""
        p = Path(self.path)
        outcomes: dict[str, Outcome] = {}
        unreadable = 0
        try:
            raw = p.read_bytes() if p.exists() else b""
            complete, _, tail = raw.rpartition(b"\n")  # tail: bytes after the last newline
            if tail:  # a line cut short by a kill: redo its point, and append after the last full line
                unreadable += 1
                with p.open("r+b") as f:
                    f.truncate(len(raw) - len(tail))
            for line in complete.split(b"\n") if complete else []:
                if not line.strip():
                    continue
                try:
                    key, outcome = _decode(line.decode("utf-8"))
                except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                    unreadable += 1
                    continue
                outcomes.setdefault(key, outcome)
            self.stream = p.open("a", encoding="utf-8")
        except IsADirectoryError:
            raise UsageError(f"--results {self.path}: is a directory, not a file") from None
        except OSError as e:
            raise UsageError(f"--results {self.path}: cannot use it: {e.strerror or e}") from None
        return Loaded(outcomes, unreadable)

    def append(self, task: Task, outcome: Outcome) -> None:
        """Write one finished point and flush it; internal errors are left out, to be redone."""
        if self.stream is None or outcome.kind == INTERNAL_ERROR:
            return
        self.stream.write(_encode(task, outcome))
        self.stream.flush()
        os.fsync(self.stream.fileno())

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
