"""Database layer: models (schema ``migration``), engines, tenant context, repositories."""
