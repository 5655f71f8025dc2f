"""The one SQL store behind the journal and the community tables: SQLite embedded, PostgreSQL when scaled out."""

from core.db.base import Conflict, Database, Executor, Row, open_database, opened

__all__ = ["Conflict", "Database", "Executor", "Row", "open_database", "opened"]
