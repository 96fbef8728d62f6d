"""The test point: LibreSpeed/i-Speed endpoints agents measure against (``dokiem testserver``)."""

from dokiem.testserver import messages as _messages  # noqa: F401 (the room's texts join the catalogue)
