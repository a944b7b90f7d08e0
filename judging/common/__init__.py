"""What every domain shares: enums, role decorators, error pages, audit log, database set-up."""
