"""Authentication: passwords, activation links, login throttling and sessions that can be killed.

A session cookie carries ``"<user id>:<session epoch>"``. Logging out, changing a password or
disabling an account raises the user's epoch, so every cookie issued before (on any device, or copied
by someone) stops working at once without any server-side session store. Login failures are counted
in the database (lms.ratelimit) so the limits hold across all server processes.
"""
