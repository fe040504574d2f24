"""Browser tests (Playwright + Chromium)."""
