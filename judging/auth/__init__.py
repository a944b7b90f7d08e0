"""Users, passwords, sign-in and sign-out, and one-time sign-in links."""
