"""The emitted code's wrapped comment lines: the schedule's own filling of plain words is ``textwrap.wrap``'s."""

import textwrap

from hypothesis import given, strategies as st

from tlc.backends.shared.schedule import _wrapped

BOUND = ("converges within 2001 rounds, or fails: a chain of derivations visits at most 2000 elements; a best one "
         "repeats none unless a cycle keeps improving it, so values still changing after 2001 rounds mean a negative "
         "cycle (min=) or a gaining one (max=)")


def test_a_round_bound_wraps_as_textwrap_wraps_it():
    assert _wrapped(BOUND, 110) == textwrap.wrap(BOUND, 110) and len(_wrapped(BOUND, 110)) == 3


@given(st.text(alphabet="ab (),;=.", max_size=300) | st.text(alphabet="ab (),;=.-\t\n", max_size=300),
       st.sampled_from([7, 20, 110]))
def test_any_text_wraps_as_textwrap_wraps_it(text, width):
    assert _wrapped(text, width) == textwrap.wrap(text, width)
