"""Kept for tests/bench (issue #18's files at the time of the move): the test stacks live in intermission_cli.stack."""

from intermission_cli.stack import RESOURCE_STATES, STATE_MAPPINGS, SUBSCRIBED, Stack  # noqa: F401
