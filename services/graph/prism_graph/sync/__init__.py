"""The API side of the PSA sync (issue 7: S1-S3, S7): connections, program sync settings,
live pickers, product sync requests, preview and run history."""
