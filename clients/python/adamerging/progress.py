"""A progress bar on stderr: redrawn in place on a terminal, a line per tenth (or new label) in a log."""
from __future__ import annotations

import sys
from typing import TextIO


class Bar:
    width = 30

    def __init__(self, stream: TextIO | None = None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.last: tuple[str, int] | None = None
        self.drawn = False

    def update(self, label: str, done: float, total: float, suffix: str = "") -> None:
        if not self.enabled:
            return
        fraction = min(max(done / total, 0.0), 1.0) if total else 0.0
        filled = int(fraction * self.width)
        line = f"{label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%} {suffix}".rstrip()
        if self.tty:
            self.stream.write("\r" + line.ljust(100)[:160])
            self.drawn = True
        elif self.last != (label, int(fraction * 10)):   # a log gets a line per tenth, not one per chunk
            self.stream.write(line + "\n")
        self.last = (label, int(fraction * 10))
        self.stream.flush()

    def say(self, message: str) -> None:
        if not self.enabled:
            return
        self.finish()
        self.stream.write(message + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.drawn = False
        self.last = None
