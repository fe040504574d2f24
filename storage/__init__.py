"""Central storage: SQLAlchemy models, repositories, migrations and engine setup."""
