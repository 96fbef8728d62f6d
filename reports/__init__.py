"""The quarterly report: the department's tool, reading the collector's archive (``dokiem report``)."""

from dokiem.reports import messages as _messages  # noqa: F401 (the room's texts join the catalogue)
