"""Constants shared by the plugin-author API."""

MAX_CONTENT_SIZE = 10_000_000
DEFAULT_PRIORITY = 100
