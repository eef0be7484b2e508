"""The driver: plans a checked program once per input signature (``PlannedProgram``) and binds inputs.

Layers below it: ``tlc.frontend`` (source -> IR), ``tlc.analysis`` (facts), ``tlc.passes`` (IR -> IR);
above it: ``tlc.backends`` (emit and load a planned program) and ``tlc.api`` (the Python API).
"""
