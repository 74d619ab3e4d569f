"""The shell's own page in the platform admin console: the services the gateway routes to."""
