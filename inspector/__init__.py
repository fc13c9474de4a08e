"""Robustness Inspector: how an image classifier behaves under adversarial attack."""

__version__ = "0.1.0"
