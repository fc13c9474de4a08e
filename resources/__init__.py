"""Package data, installed as `inspector._resources`: demo/ (models + sidecars), icons/,
desktop/ (freedesktop entry, MIME type, AppStream). Read through inspector.core.package_data,
which also finds this folder in a checkout run without installing (PYTHONPATH=.)."""
