"""Domain services shared by handlers, the dashboard, the CLIs and benchmarks.

Results, cards, item lifecycle, screening and exports: imports ``bot/`` and ``storage/`` only.
"""
