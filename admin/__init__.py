"""Server administration: enrolment, Mosquitto's password file, TLS material, ``deploy init``."""
