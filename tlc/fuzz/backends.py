"""The backends the fuzzer's differential oracle compares with the NumPy reference (without Hypothesis, so the
command line can list them)."""

from tlc import api

DIFFERENTIAL_BACKENDS = (*api.BACKENDS, "dask")
"""``tlc.api.BACKENDS`` and ``dask``, each used when it runs here (``dask`` needs the ``dask`` extra; its lazy
results are computed by the comparison)."""
