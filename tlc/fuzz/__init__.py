"""Fuzzing tlc: random well-typed programs, their inputs, an IR mutator and a differential oracle.

Needs Hypothesis, which comes with the ``test`` extra (``pip install "tlc[test]"``); ``import tlc`` alone
never imports it (and the names below are imported on first use).

```python
from hypothesis import given
import tlc.fuzz

@given(tlc.fuzz.programs())                   # FuzzProgram: .source (text) and .ir (tlc IR)
def test_my_pass_keeps_the_ir_valid(program):
    my_pass(program.ir)

@given(tlc.fuzz.cases())                      # (program, inputs) pairs; see inputs_for()
def test_every_backend_agrees(case):
    program, inputs = case
    tlc.fuzz.check(program, inputs).raise_if_failed()   # every backend x -O0..3 x pass order vs NumPy -O0
```

From the command line, ``tlc fuzz --time 600`` (``tlc.fuzz.campaign``) runs a campaign and writes a
minimised reproducer (``.tl``, ``.npz``, a pytest file) for every distinct failure; ``--hostile-names``
(``tlc.fuzz.names``) renames programs with names that trip emitters, and ``--mutate-source --jobs N``
(``tlc.fuzz.source_mutate``) mangles program text and wants a result or a ``TlcError``, never anything else.
``tlc.fuzz.check_gradient(program, inputs)`` (``tlc.fuzz.gradient``) differentiates a program and compares its
gradients with central finite differences.
"""

import importlib

_HOMES = {
    "FuzzProgram": "generate", "cases": "generate", "inputs_for": "generate", "programs": "generate",
    "sources": "generate",
    "MUTATORS": "mutate", "Mutation": "mutate", "check_mutation": "mutate", "check_with_mutations": "mutate",
    "mutations": "mutate", "random_mutation": "mutate",
    "Failure": "oracle", "OracleFailure": "oracle", "Report": "oracle", "available_backends": "oracle",
    "check": "oracle", "compare_values": "oracle",
    "campaign_seed": "campaign", "load_case": "campaign", "write_case": "campaign",
    "HostileProgram": "names", "hostile_programs": "names",
    "check_source": "source_mutate", "mutate_source": "source_mutate", "source_campaign": "source_mutate",
    "check_gradient": "gradient",
}


def __getattr__(name: str):
    # Imported on first use, so that ``tlc.fuzz.campaign.add_arguments`` (the ``tlc fuzz`` options)
    # works without Hypothesis; everything else here needs it.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tlc.fuzz' has no attribute {name!r}")
    return getattr(importlib.import_module(f"tlc.fuzz.{home}"), name)


__all__ = ["MUTATORS", "Failure", "FuzzProgram", "HostileProgram", "Mutation", "OracleFailure", "Report",
           "available_backends", "campaign_seed", "cases", "check", "check_gradient", "check_mutation", "check_source",
           "check_with_mutations", "compare_values", "hostile_programs", "inputs_for", "load_case", "mutate_source",
           "mutations", "programs", "random_mutation", "source_campaign", "sources", "write_case"]
