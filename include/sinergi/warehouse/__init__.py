"""The warehouse: the loaded tables (``raw``), the audit trail (``audit``) and their DDL.

DuckDB (embedded default) and PostgreSQL (production) share one schema definition; only the
connection and the bulk-load path differ (see ``sinergi.warehouse.connection``).
"""
