"""The window: thin Qt views on inspector.core (napari's split: no logic lives here)."""
