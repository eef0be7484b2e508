"""Package data: the Lark grammar of Tensor Logic (installed as ``tlc.grammar``)."""
