"""Teaching output: explanation texts, lessons, diagrams, notebooks and --teach comments."""
