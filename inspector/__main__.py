"""`python -m inspector` is the same as the `robustness-inspector` command.

Ctrl-C is handled from here on, before the imports (torch alone takes a second or more).
"""

import sys

from inspector.cli import interrupts

interrupts.install()
with interrupts.exit_on_interrupt():  # also covers the moments before main()'s own handling
    from inspector.launch import main

    code = main()
    if code == interrupts.EXIT_INTERRUPTED:
        interrupts.exit_process(code)
sys.exit(code)
