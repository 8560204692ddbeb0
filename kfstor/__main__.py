"""`python -m kfstor` runs the CLI, like the `kfstor` command."""

from kfstor.cli import main

main()
