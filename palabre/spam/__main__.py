"""`python -m palabre.spam ...` until the main `palabre` command mounts the group."""

from .cli import spam_cli

if __name__ == "__main__":
    spam_cli()
