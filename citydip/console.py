"""What the command line prints: one line per step, a progress bar while a long step runs (on a
terminal only), and everything else in a log file in the build folder.

Sub-steps ("reading BEA controls", "M4 PPML", "executing 03_fixed_effects.py"), Python warnings
and the log records of the libraries (traitlets, nbclient, nbconvert, jupyter_client, pyfixest,
...) go to the log file; with ``verbose`` they are also shown. The notebook kernels' own output
is sent to the same file by :mod:`citydip.report.execute`. With ``quiet`` the console shows
only errors and the command's final summary.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

#: The logger of the console's own lines (kept out of the verbose stream handler: shown once).
LOGGER = "citydip.console"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Console:
    """Step lines on ``stream`` (default stderr) and an optional progress bar per step.

    ``step(message, total=...)`` starts a step: prints its one line (unless quiet) and, on a
    terminal, opens a bar (``total`` units if known, else a counter); ``detail(message)``
    records a sub-step in the log, advances the bar by one unit (``count=False``: only shows
    the message) and prints it when verbose; ``tick()`` advances the bar without a message."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False, stream: TextIO | None = None,
                 bars: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self.bars = not quiet and (is_terminal(self.stream) if bars is None else bars)
        self.log = logging.getLogger(LOGGER)
        self._bar = None

    def step(self, message: str, total: int | None = None) -> None:
        self.close()
        self.log.info(message)
        if not self.quiet:
            self._write(message)
        if self.bars:
            from tqdm import tqdm

            fmt = None if total else "      {n} done [{elapsed}]{postfix}"
            self._bar = tqdm(total=total, file=self.stream, leave=False, dynamic_ncols=True, bar_format=fmt,
                             desc="     ", unit=" step")

    def detail(self, message: str, *, count: bool = True) -> None:
        self.log.info("  %s", message)
        if self.verbose:
            self._write("      " + message)
        if self._bar is not None:
            self._bar.set_postfix_str(message, refresh=not count)
            if count:
                self._bar.update(1)

    def tick(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def say(self, message: str) -> None:
        """A line shown unless quiet (and logged), outside any step's bar."""
        self.log.info(message)
        if not self.quiet:
            self._write(message)

    def close(self) -> None:
        """Close the current step's bar (the next step or the final summary starts on a clean line)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _write(self, text: str) -> None:
        if self._bar is not None:
            from tqdm import tqdm

            tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)


class LineConsole(Console):
    """The console of a caller that passes one ``say`` callable: every step and sub-step is a
    line given to ``say`` (sub-steps indented); no bars."""

    def __init__(self, say) -> None:
        super().__init__(bars=False)
        self._say = say

    def step(self, message: str, total: int | None = None) -> None:
        self._say(message)

    def detail(self, message: str, *, count: bool = True) -> None:
        self._say("      " + message)

    def say(self, message: str) -> None:
        self._say(message)


class _NotConsole(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(LOGGER)


@contextmanager
def logging_to(path: Path, *, verbose: bool = False, stream: TextIO | None = None) -> Iterator[Path]:
    """Send every log record and Python warning to ``path`` (rewritten) while the block runs;
    with ``verbose`` also to ``stream`` (default stderr). The root logger's handlers (some
    libraries install one printing to stderr) are set aside and restored afterwards."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    path.write_text("", encoding="utf-8")  # appended to, also by the kernels (see citydip.report.execute)
    file_handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handlers: list[logging.Handler] = [file_handler]
    if verbose:
        shown = logging.StreamHandler(stream if stream is not None else sys.stderr)
        shown.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        shown.addFilter(_NotConsole())
        handlers.append(shown)
    root.handlers = handlers
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    try:
        yield path
    finally:
        logging.captureWarnings(False)
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        file_handler.close()
