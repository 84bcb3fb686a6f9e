"""Users' PINs: salted scrypt hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# scrypt cost parameters (RFC 7914): N=2^14, r=8, p=1 takes ~50 ms and 16 MiB, which
# makes guessing a 4-6 digit PIN from a stolen store slow while a login stays quick.
_N, _R, _P = 2**14, 8, 1
_DKLEN = 32


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """A self-describing hash of the PIN: `scrypt$N$r$p$salt$hash` (hex)."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("a PIN is 4 to 12 digits")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True if `pin` matches the stored hash."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        pin.encode(),
        salt=bytes.fromhex(salt_hex),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(digest_hex) // 2,
    )
    return hmac.compare_digest(digest.hex(), digest_hex)
