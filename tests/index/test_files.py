"""A folder of files replaced whole: the new set once it is complete, or the old one untouched."""

import pytest

from index.files import folder_written_whole


def test_a_folder_is_replaced_whole_once_its_new_files_are_written(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "old.onnx").write_text("old")
    with folder_written_whole(target) as scratch:
        (scratch / "new.onnx").write_text("new")
        assert (target / "old.onnx").read_text() == "old"  # nothing new is seen before the block ends
    assert [path.name for path in target.iterdir()] == ["new.onnx"]
    assert [path.name for path in tmp_path.iterdir()] == ["export"]  # no scratch folder left beside it
    assert target.stat().st_mode & 0o777 == 0o755  # readable by every user of an install, not mkdtemp's 0700


def test_a_failed_write_leaves_the_old_folder_and_no_scratch(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "old.onnx").write_text("old")
    with pytest.raises(RuntimeError, match="export failed"), folder_written_whole(target) as scratch:
        (scratch / "half.onnx").write_text("half")
        raise RuntimeError("export failed")
    assert [path.name for path in target.iterdir()] == ["old.onnx"]
    assert [path.name for path in tmp_path.iterdir()] == ["export"]


def test_a_folder_that_is_not_there_yet_is_written_whole(tmp_path):
    target = tmp_path / "cache" / "export"
    with folder_written_whole(target) as scratch:
        (scratch / "model.onnx").write_text("new")
    assert (target / "model.onnx").read_text() == "new"
    assert [path.name for path in target.parent.iterdir()] == ["export"]
