"""Townhall core: events, routing, commands, views, settings, CLI and app wiring."""
