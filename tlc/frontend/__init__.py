"""Frontend: Lark parsing of ``.tl`` source into a located AST, and lowering to IR."""
