"""Command line: the same evaluations as the window, for scripted use."""
