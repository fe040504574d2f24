"""The application on the top floor: wiring, the CLIs, the scheduler loop, the demo.

The only package that knows every part (core, services, handlers, adapters, dashboard).
"""
