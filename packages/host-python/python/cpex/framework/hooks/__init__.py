"""Hook payload classes and the hook registry."""
