"""Only the package list, which pyproject.toml cannot say: the checkout's top-level
resources/ ships inside the import package as `inspector._resources` (the demo models,
the icons, the desktop files), so that a wheel works outside the checkout. Everything
else, the package data included, is in pyproject.toml."""

from setuptools import find_packages, setup

DATA = {"inspector._resources": "resources"}
for folder in ("demo", "icons", "desktop"):  # data folders: listed, or setuptools warns
    DATA[f"inspector._resources.{folder}"] = f"resources/{folder}"

setup(
    packages=[*find_packages(include=["inspector", "inspector.*"]), *DATA],
    package_dir=DATA,
)
