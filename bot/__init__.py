"""Townhall core: events, routing, the command grammar, views, settings, dispatch, delivery."""
