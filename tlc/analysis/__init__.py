"""Analyses: facts read from a program (shapes, strata, projections, relation and contraction plans, the
memory budget check); they never rewrite it. Transforms live in ``tlc.passes``."""
