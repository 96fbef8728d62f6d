"""The test point: LibreSpeed/i-Speed endpoints agents measure against (``dokiem testserver``)."""
