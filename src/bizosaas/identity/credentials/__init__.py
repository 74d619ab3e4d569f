"""What proves who someone is: passwords and their policy, signing keys and access tokens,
opaque secrets, TOTP and recovery codes, MFA challenges, e-mailed one-time tokens, API keys
and the login throttle."""
