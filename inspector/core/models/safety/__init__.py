"""Static checks on untrusted torch files, run before torch is allowed to read them.

Nothing here unpickles, imports or runs anything from the file: pickles are walked with
pickletools, zip archives are judged from their central directory, and graphs are checked
op by op against a reviewed allowlist.
"""
