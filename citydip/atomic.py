"""Atomic writes, one place for the whole package: a temporary file in the target's folder,
renamed into place, so that readers never see a half-written output."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], *, binary: bool = False) -> Path:
    """Call ``write`` on a temporary file next to ``path``, then ``os.replace`` it onto ``path``.

    Readers see either the old file or the complete new one; on any error the temporary file
    is removed and ``path`` is left as it was. Missing parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if binary:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                write(fh)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, line endings as given) to ``path`` atomically."""
    return atomic_write(path, lambda fh: fh.write(text))


def atomic_csv(frame, path: str | os.PathLike) -> Path:
    """Write a DataFrame as CSV (UTF-8, '\\n' line endings, no index) atomically."""
    return atomic_write(path, lambda fh: frame.to_csv(fh, index=False, lineterminator="\n"))


def atomic_csv_gz(frame, path: str | os.PathLike) -> Path:
    """Write a DataFrame as gzip-compressed CSV (as :func:`atomic_csv`; no file name or time
    stamp in the gzip header, so the bytes depend only on the table) atomically."""
    import gzip
    import io

    def write(fh) -> None:
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz, \
                io.TextIOWrapper(gz, encoding="utf-8", newline="") as text:
            frame.to_csv(text, index=False, lineterminator="\n")

    return atomic_write(path, write, binary=True)


def atomic_parquet(frame, path: str | os.PathLike) -> Path:
    """Write a DataFrame as zstd-compressed Parquet (pyarrow, no index) atomically."""
    return atomic_write(path, lambda fh: frame.to_parquet(fh, index=False, engine="pyarrow", compression="zstd"),
                        binary=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: The process umask, read once: mkstemp creates files 0600, written files get the usual permissions.
_UMASK = _umask()
