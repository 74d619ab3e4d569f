"""Shared kernel: infrastructure every domain uses. It holds no business rules and imports no domain."""
