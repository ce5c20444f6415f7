"""Passwords, tokens and API keys as values, without a database."""

from __future__ import annotations

import jwt

from fleetyard.auth import api_keys, passwords, tokens

SECRET = "s" * 40


def test_passwords_are_argon2id_and_verify():
    stored = passwords.hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "correct horse")
    assert not passwords.verify_password(stored, "correct horsE")
    assert not passwords.verify_password(None, "correct horse")  # no account: refused, same cost
    assert not passwords.verify_password("$2b$10$notourhash", "correct horse")
    assert not passwords.needs_rehash(stored)
    assert passwords.needs_rehash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g")


def test_generated_passwords():
    a, b = passwords.generate_password(), passwords.generate_password()
    assert a != b and len(a) == 20 and a.isalnum()


def test_tokens_carry_the_reference_claims():
    token = tokens.issue(SECRET, 7, "A" * 32, now=1_700_000_000, auth_time_ms=1_699_999_999_000)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {"id": 7, "jwt_secret": "A" * 32, "authTime": 1_699_999_999_000,
                      "iat": 1_700_000_000, "exp": 1_700_000_000 + 7 * 24 * 3600}


def test_reading_tokens():
    fresh = tokens.issue(SECRET, 7, "A" * 32)
    read = tokens.read(SECRET, fresh)
    assert read is not None and read.user_id == 7 and read.jwt_secret == "A" * 32
    assert tokens.read("t" * 40, fresh) is None  # signed by someone else
    assert tokens.read(SECRET, tokens.issue(SECRET, 7, "A" * 32, now=1_000_000)) is None  # expired
    assert tokens.read(SECRET, jwt.encode({"id": 7}, SECRET)) is None  # no exp, no secret
    assert tokens.read(SECRET, jwt.encode({"service": "vpn", "apikey": "x", "iat": 1, "exp": 2**40}, SECRET)) is None
    assert tokens.read(SECRET, "a.b.c") is None


def test_user_secrets_are_32_base32_characters():
    s = tokens.new_user_secret()
    assert len(s) == 32 and set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_api_keys_are_never_mistaken_for_jwts():
    key = api_keys.generate()
    assert len(key) == 32 and key.isalnum() and not tokens.looks_like_jwt(key)
    assert tokens.looks_like_jwt(tokens.issue(SECRET, 1, "A" * 32))
    assert api_keys.digest(key) == api_keys.digest(key) != api_keys.digest(api_keys.generate())
    assert len(api_keys.digest(key)) == 64
