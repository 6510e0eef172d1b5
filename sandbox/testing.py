"""pytest fixtures for the sandbox (filled in by the sandbox issue)."""
