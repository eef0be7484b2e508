"""The triton backend's tests run kernels in Triton's CPU interpreter.

Triton chooses interpreter or compiler when a kernel module is imported, so ``TRITON_INTERPRET=1`` is
set here, before any test imports triton; tests that need the compiler (PTX, a real GPU) run in a
subprocess without it (``triton_support.run_without_interpreter``). Every module skips when triton is not
installed.
"""

import os

os.environ["TRITON_INTERPRET"] = "1"
