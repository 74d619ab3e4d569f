"""Signing in and staying signed in: password and two-factor login, opening API and browser
sessions, refresh-token rotation, switching tenant, a user's own sessions, the session guard
and the request authenticator."""
