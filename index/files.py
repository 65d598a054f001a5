"""Writing a file so that a reader, a crash or a kill never sees half of it."""

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """A hidden temporary file in the same directory, flushed to disk, then one rename (and the directory
    flushed too): `path` holds the old bytes or the new ones, never a mix, and no temporary file is left."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp", delete=False) as out:
        try:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        except BaseException:
            os.unlink(out.name)
            raise
    try:
        os.replace(out.name, path)
    except BaseException:  # e.g. a directory in the way
        os.unlink(out.name)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
