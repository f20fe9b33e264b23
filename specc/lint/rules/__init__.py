"""One module per lint rule; `specc.lint.all_rules()` finds them all."""
