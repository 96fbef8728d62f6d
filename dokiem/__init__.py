"""dokiem: broadband quality measurement for a province (shared core: wire contract, CLI)."""

__version__ = "0.1.0"
