"""The frozen program's entry point: the same as `python -m inspector`."""

import runpy

runpy.run_module("inspector", run_name="__main__", alter_sys=True)
