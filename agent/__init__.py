"""The measuring side: probes, the run that turns them into a Result, and the agent CLI."""

from dokiem.agent import messages as _messages  # noqa: F401 (the room's texts join the catalogue)
