"""dokiem: broadband quality measurement for a province (shared core: wire contract, CLI)."""

__version__ = "0.1.0"

from dokiem import messages as _messages  # noqa: F401 (the core's texts join the catalogue)
