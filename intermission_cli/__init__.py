"""The `intermission` command on top of every layer: the CLI, the demo story and the test stacks (sandbox + app)."""
