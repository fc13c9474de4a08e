"""The program's own demo models are found wherever a demo audit was saved; nothing else is.

A demo evaluation records the shipped files' paths (resources/demo). Its audit, saved in any
folder, names them outside that folder: they are still hashed and opened (the report's
saliency, the window's source check), because they are the program's files, and still
compared by SHA-256. A stranger's file outside the audit's folder stays "not checked".
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from inspector.core.demo import DEMO_DIR
from inspector.core.models.base import ModelInfo
from inspector.core.sources import CHANGED, NOT_CHECKED, OK, model_status

SHIPPED = DEMO_DIR / "digits_pgd.pt2"


def info(path: Path, sha256: str) -> ModelInfo:
    classes = tuple(str(i) for i in range(10))
    return ModelInfo(
        "digits_pgd", str(path), sha256, "torch.export", "cpu", (1, 8, 8), classes, None, None
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_shipped_model_is_checked_from_any_audit_folder(tmp_path: Path) -> None:
    status = model_status(info(SHIPPED, digest(SHIPPED)), folder=tmp_path)
    assert status.status == OK, status.message


def test_a_shipped_path_with_another_hash_is_changed_not_trusted(tmp_path: Path) -> None:
    status = model_status(info(SHIPPED, "0" * 64), folder=tmp_path)
    assert status.status == CHANGED, status.message


def test_a_copy_of_it_elsewhere_is_still_outside_the_folder(tmp_path: Path) -> None:
    copy = tmp_path / "theirs" / "digits_pgd.pt2"
    copy.parent.mkdir()
    shutil.copy(SHIPPED, copy)
    audit_folder = tmp_path / "audit"
    audit_folder.mkdir()
    status = model_status(info(copy, digest(copy)), folder=audit_folder)
    assert status.status == NOT_CHECKED, status.message


def test_a_path_that_only_names_the_demo_folder_on_the_way_out_is_not_shipped(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "digits_pgd.pt2"
    shutil.copy(SHIPPED, copy)
    sneaky = DEMO_DIR / Path(*[".."] * len(DEMO_DIR.resolve().parts)) / str(copy).lstrip("/")
    audit_folder = tmp_path / "audit"
    audit_folder.mkdir()
    status = model_status(info(sneaky, digest(copy)), folder=audit_folder)
    assert status.status == NOT_CHECKED, status.message
