"""What a report says, as plain data and prose built from the results (no Qt, no drawing).

Above the core (it reads results, metrics and threat models), below the renderers that lay
it out (`inspector.render`) and the front ends that ask for it.
"""
