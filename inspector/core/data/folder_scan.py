"""List an image folder, `ROOT/<class>/<image>`, in bounded time whatever the tree holds.

Only those two levels are listed (a spec of `/` used to walk tens of thousands of
folders), the entries listed are counted against a limit, a folder inside a class folder
is refused (it means the layout is not an image folder, or its images would be silently
left out), and every image is a regular file whose real path stays inside ROOT.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from inspector.core.data.limits import MAX_FOLDER_ENTRIES, MAX_FOLDER_IMAGES
from inspector.core.errors import InspectorError
from inspector.core.safe_files import check_link, scan

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES and not name.startswith(".")


def _visible(folder: Path, budget: list[int], where: str) -> list[os.DirEntry]:
    """Entries not starting with a dot, sorted by name (the order labels and files get)."""
    entries = [e for e in scan(folder, budget, MAX_FOLDER_ENTRIES, where) if e.name[:1] != "."]
    return sorted(entries, key=lambda e: e.name)


def _is_dir(entry: os.DirEntry, root: Path) -> bool:
    """A (possibly linked) folder; a link leaving ROOT is refused before it is looked into."""
    try:
        found = entry.is_dir()  # stat() only: safe on pipes and devices
    except OSError:
        return False
    if found and entry.is_symlink():
        check_link(Path(entry.path), root)
    return found


def class_dirs(root: Path, budget: list[int] | None = None, where: str = "") -> list[Path]:
    """Visible subfolders of ROOT, sorted by name: the sorted names are the class names."""
    budget = budget if budget is not None else [MAX_FOLDER_ENTRIES.value()]
    where = where or str(root)
    return [Path(e.path) for e in _visible(root, budget, where) if _is_dir(e, root)]


def _image_entry(entry: os.DirEntry, root: Path) -> bool:
    """True for an image to use; refuses folders, special files and links out of ROOT."""
    if _is_dir(entry, root):
        raise InspectorError(
            f"{entry.path} is a folder inside a class folder; an image folder is "
            "ROOT/<class>/<image>, so move its images up a level or point to the right folder"
        )
    if not is_image_name(entry.name):
        return False
    if entry.is_symlink():
        check_link(Path(entry.path), root)
    try:
        mode = entry.stat().st_mode  # follows a link (already checked to stay inside ROOT)
    except OSError as exc:
        raise InspectorError(f"cannot read image {entry.path} ({exc}); remove the file") from exc
    if not stat.S_ISREG(mode):
        raise InspectorError(
            f"{entry.path} is not a regular file (a pipe, device or socket); "
            "an image folder may hold only image files, so remove it"
        )
    return True


def images_in(folder: Path, root: Path, budget: list[int], where: str) -> list[Path]:
    """The image files directly inside one class folder, sorted by name."""
    return [Path(e.path) for e in _visible(folder, budget, where) if _image_entry(e, root)]


def has_direct_image(folder: Path, budget: list[int], where: str) -> bool:
    """Cheap test: some visible entry of `folder` has an image suffix (nothing is opened)."""
    return any(is_image_name(e.name) for e in scan(folder, budget, MAX_FOLDER_ENTRIES, where))


def looks_like_image_folder(root: Path) -> bool:
    """True when some class subfolder directly holds a file named like an image."""
    budget = [MAX_FOLDER_ENTRIES.value()]
    return any(has_direct_image(d, budget, str(root)) for d in class_dirs(root, budget))


def scan_image_folder(root: Path, where: str) -> tuple[list[Path], list[Path], list[int]]:
    """(class folders, image files, their labels), all bounded by the folder limits."""
    budget = [MAX_FOLDER_ENTRIES.value()]
    limit = MAX_FOLDER_IMAGES.value()
    classes = class_dirs(root, budget, where)
    files: list[Path] = []
    labels: list[int] = []
    for label, folder in enumerate(classes):
        found = images_in(folder, root, budget, where)
        files.extend(found)
        labels.extend([label] * len(found))
        if len(files) > limit:
            raise MAX_FOLDER_IMAGES.exceeded(where, "the class folders")
    return classes, files, labels
