"""Dashboard pages; each module exposes ``routes()``."""
