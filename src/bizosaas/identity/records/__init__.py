"""What identity writes down: the tenant's audit log and outgoing mail (outbox and sink)."""
