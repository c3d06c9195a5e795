"""Staff accounts, API tokens, sign-in and roles.

- `models`: the StaffUser, ApiToken and Note tables (migration 0002);
- `passwords`: argon2 hashing;
- `accounts`: creating accounts and tokens, signing in with a lock after repeated failures (audited);
- `roles`: who may see and do what (`Principal`, and the `Forbidden` / `Unauthenticated` errors);
- `sessions`: signed session and CSRF cookies for the web console.
"""
