"""Qt-free core: models, datasets, threat model, attacks, metrics, results.

Nothing under this package may import PySide6, pyqtgraph or superqt; the
import-linter contract in pyproject.toml and tests/test_architecture.py enforce it.
"""
