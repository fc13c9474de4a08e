"""The one exception type for mistakes the user can fix.

The CLI prints its message as one line and exits with code 2; the GUI shows it
in a dialog. Anything else escaping the core is a bug and keeps its traceback.
"""


class InspectorError(Exception):
    """A user-facing error: bad input, a refused action, a mismatch. Message says what to do."""
