#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomsync.settings")
    if sys.argv[1:2] == ["sandbox"]:
        # `manage.py sandbox serve` mounts the sandbox app itself (unless told otherwise).
        os.environ.setdefault("ZOOMSYNC_SANDBOX", "1")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration problem (typically a secret not set with DEBUG off) is a message for
        # the operator, not a traceback.
        sys.stderr.write(
            f"manage.py: the configuration is incomplete: {exc}\n"
            "  For development, set DEBUG=1 (the make targets do) or use `make dev`;\n"
            "  for production, set the variables .env.example documents.\n"
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
