"""Who belongs where: tenants and users, sign-up, members and invitations, account security
(password change and reset, e-mail verification) and platform administration."""
