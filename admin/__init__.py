"""Server administration: enrolment, Mosquitto's password file, TLS material, ``deploy init``."""

from dokiem.admin import messages as _messages  # noqa: F401 (the room's texts join the catalogue)
