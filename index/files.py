"""Writing a file, or a folder of files, so that a reader, a crash or a kill never sees half of it."""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
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


@contextlib.contextmanager
def folder_written_whole(directory: Path) -> Iterator[Path]:
    """A scratch folder beside `directory` to write the new files into. When the block ends it replaces `directory`
    (the old folder removed, then one rename); when the block fails it is removed and `directory` is left as it was.
    Nothing ever finds some new files beside some old ones, or half a new set (used for the encoder's and the
    reader's exports and the encoder's adapter)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        yield scratch
        scratch.chmod(0o755)  # mkdtemp's 0700 would hide the files from other users of an install
        shutil.rmtree(directory, ignore_errors=True)
        os.rename(scratch, directory)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
