"""Identity: users, passwords, tokens, API keys and the rule sets callers run with.

No HTTP here (that is `api/auth_routes.py` and `api/callers.py`): `passwords` (argon2id),
`tokens` (HS256 JWTs), `api_keys` (hashed keys), `users` (accounts and organizations),
`principals` (a credential → who is calling), `permissions` (the rule sets), `bootstrap`
(the signing secret and the admin on start) and `store` (the secret-reading lookups).
"""
