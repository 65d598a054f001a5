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
    """A scratch folder beside `directory` to write the new files into. When the block ends, the old folder is renamed
    aside, the scratch folder renamed in, and the old one removed; when the block fails, the scratch folder is removed
    and `directory` is left as it was. Nothing ever finds new files beside old ones or half a new set; for an instant
    between the two renames `directory` is absent. The files are not flushed one by one: after a crash the encoder's
    and the reader's exports (a cache) are made again, and a damaged adapter fails to load by name."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        yield scratch
        scratch.chmod(0o755)  # mkdtemp's 0700 would hide the files from other users of an install
        old = scratch.with_name(f"{scratch.name}-old")  # as unique as the scratch folder's own name
        replacing = directory.exists()
        if replacing:
            os.rename(directory, old)
        try:
            os.rename(scratch, directory)
        except BaseException:
            if replacing:
                os.rename(old, directory)
            raise
        fsync_dir(directory.parent)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
