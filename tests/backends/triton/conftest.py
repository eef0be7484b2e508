"""The triton backend's tests run kernels in Triton's CPU interpreter.

Triton chooses interpreter or compiler when a kernel module is imported, so ``TRITON_INTERPRET=1`` is
set here, before any test imports triton; tests that need the compiler (PTX, a real GPU) run in a
subprocess without it (``triton_support.run_without_interpreter``). Every module skips when triton is not
installed: it asks for ``triton.language``, which a directory named ``triton`` on ``sys.path`` cannot fake
(pytest puts the directory of each test module and conftest on ``sys.path``, so a test directory named like a
package shadows it when the package is missing: ``tests/test_layout.py`` keeps that from happening again).
"""

import os

os.environ["TRITON_INTERPRET"] = "1"
