"""Reports from the archive: the quarterly report the department sends up (XLSX, PDF, CSV).

``quarterly`` turns a quarter's results into figures per group, ``tables`` names and translates
them, ``sheets`` and ``pdf`` write them, ``build`` runs the whole thing for ``dokiem report``.
"""
