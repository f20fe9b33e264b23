"""One module per `specc` sub-command: `add_arguments(parser)` and `run(args) -> exit code`."""

# sub-command name -> module in specc.commands; a new command is one module and one row here.
COMMANDS: dict[str, str] = {
    "check": "check",
    "rules": "rules",
    "explain": "explain",
    "summary": "summary",
    "compile": "compile",
    "run": "run",
    "graph": "graph",
    "notebook": "notebook",
}
