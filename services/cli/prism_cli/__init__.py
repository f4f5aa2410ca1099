"""The `prism` command: one entry point that composes Prism's services."""
