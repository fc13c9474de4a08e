"""PyInstaller hook for the inspector package: its shipped files and its lazily imported
modules (the window, the report, the loaders are imported inside functions)."""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

hiddenimports = collect_submodules("inspector")
datas = collect_data_files("inspector._resources")
