"""The llvm backend's output for the programs of ``golden_programs``, pinned as text in ``golden/``:
``NAME.py`` is the emitted Python module (``Program.source()``) and ``NAME.ll`` the LLVM IR of its kernels,
each as lowered from the kernel description before optimisation (the text llvmlite parses; the optimised IR
depends on the host CPU, so it is not pinned), headed by the kernel's call name and one-line description.

After an intended change to the emitted code, regenerate the files and review the diff:
``TLC_REGENERATE_GOLDEN=1 python -m pytest tests/backends/llvm/test_llvm_golden.py``
"""

import pytest

pytest.importorskip("llvmlite")

import tlc  # noqa: E402
from golden_programs import PROGRAMS, inputs  # noqa: E402
from tlc.backends.llvm.jit import lower  # noqa: E402
from tlc.backends.llvm.kernel import describe, symbol_for  # noqa: E402


def specialise(name: str):
    source, _, outputs = PROGRAMS[name]
    # an explicit memory limit: the default (half the memory available) could change contraction slicing
    return tlc.compile(source, backend="llvm", outputs=outputs, memory_limit="1G").specialisation(**inputs(name))


@pytest.mark.parametrize("name", PROGRAMS)
def test_emitted_module_is_pinned(name, golden):
    golden(f"{name}.py", specialise(name).source)


@pytest.mark.parametrize("name", PROGRAMS)
def test_kernel_ir_is_pinned(name, golden):
    kernels = specialise(name).emitted.kernels
    parts = [f"; {call}: {describe(kernel)}\n{lower(kernel, symbol_for(kernel))}" for call, kernel in kernels.items()]
    golden(f"{name}.ll", "\n".join(parts) if parts else "; no native kernels\n")


def test_some_programs_have_kernels():
    """The pinned IR is not all empty: the dense layers, recurrences and min= fixpoint compile to kernels."""
    for name in ("dense", "recurrence", "shortest", "hostile"):
        assert specialise(name).emitted.kernels, name
