"""The quarterly report: the department's tool, reading the collector's archive (``dokiem report``)."""
