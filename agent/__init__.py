"""The measuring side: probes, the run that turns them into a Result, and the agent CLI."""
