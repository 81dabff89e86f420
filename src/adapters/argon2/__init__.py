"""argon2id password hashing (argon2-cffi)."""
