"""`python -m sandbox serve|generate ...`: the `sandbox` command with ZOOMSYNC_SANDBOX=1 set."""

import os
import sys

if __name__ == "__main__":
    os.environ["ZOOMSYNC_SANDBOX"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomsync.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", "sandbox", *sys.argv[1:]])
