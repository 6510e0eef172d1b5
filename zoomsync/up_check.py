"""`make up`'s first step: refuse, with plain words, a production start that cannot work.

Reads the environment as honcho will give it to the processes (the shell, then the env file
over it) and checks: DEBUG and ZOOMSYNC_SANDBOX off, DATABASE_URL is PostgreSQL, CELERY_BROKER_URL is Redis, the
secrets are set. Exit 0 when all is well, else 2 with one line per problem.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def env_file_read(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (comments, blanks and `export ` prefixes allowed), as honcho reads them."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def up_problems(environ: dict[str, str]) -> list[str]:
    problems = []
    if environ.get("DEBUG", "0").lower() in ("1", "true", "yes", "on"):
        problems.append("DEBUG is on: production runs with DEBUG=0")
    if environ.get("ZOOMSYNC_SANDBOX", "0").lower() in ("1", "true", "yes", "on"):
        problems.append("ZOOMSYNC_SANDBOX is on: the sandbox is for development only (unset it)")
    if not environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "pgsql://")):
        problems.append("DATABASE_URL must be a PostgreSQL URL (postgres://USER:PASSWORD@HOST:5432/NAME)")
    if not environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://")):
        problems.append("CELERY_BROKER_URL must be a Redis URL (redis://HOST:6379/0)")
    if not environ.get("ALLOWED_HOSTS", "").strip(" ,"):
        problems.append("ALLOWED_HOSTS is not set (the host names this server answers to)")
    for secret in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS"):
        if not environ.get(secret):
            problems.append(f"{secret} is not set (see .env.example for how to generate one)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env-file", default=".env")
    args = parser.parse_args(argv)
    environ = {**os.environ, **env_file_read(Path(args.env_file))}
    problems = up_problems(environ)
    if problems:
        sys.stderr.write("make up: cannot start the production stack:\n")
        for problem in problems:
            sys.stderr.write(f"  - {problem}\n")
        sys.stderr.write("Set these in the shell or in the env file (UP_ENV_FILE, default .env);"
                         " for a local try-out use `make dev`.\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
