"""Users' PINs: salted scrypt hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.actor import Actor
from data import users as user_rows
from data.models import Role
from data.store import StoreEngine
from data.types import utcnow
from data.uow import StoreSession, UnitOfWork, run_in_transaction

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


# --- logging in at a station ----------------------------------------------------------

MAX_FAILURES = 5
"""Wrong PINs in a row that lock a badge."""
LOCK_FOR = timedelta(minutes=15)

STATION_ROLES = {
    "pick": Role.PICKER,
    "pack": Role.PACKER,
    "ship": Role.SHIPPER,
    "returns": Role.RETURNS,
    "supervisor": Role.SUPERVISOR,
}
"""The user role each station role needs."""


class LoginError(ValueError):
    """A refused login; ``outcome`` is the word recorded in the login history."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True)
class LoggedIn:
    """A person logged in at a station: everything they do is attributed to both."""

    user_id: int
    badge: str
    name: str
    roles: frozenset[Role]
    station_id: int
    station_code: str
    station_role: str
    node_id: int
    node_code: str
    node_timezone: str

    @property
    def actor(self) -> Actor:
        return Actor(name=self.badge, user_id=self.user_id, station_id=self.station_id)


def badge_of(scan: str) -> str:
    """The badge id in a badge scan (``BADGE-U1001``) or typed alone (``U1001``)."""
    text = scan.strip()
    if text.upper().startswith("BADGE-"):
        return text[6:].upper()
    return text.upper()


def check_pin(
    session: StoreSession, badge: str, user: user_rows.LoginRow | None, pin: str, now: datetime
) -> None:
    """Refuse (LoginError) an unknown or inactive badge, a locked one, or a wrong PIN, which
    counts towards locking it; the right PIN clears the wrong tries. ``user`` is the row
    of ``badge``, locked for the caller's transaction (``for_login``)."""
    if user is None:
        raise LoginError("unknown_badge", f"badge {badge} is not known here: see a supervisor")
    if not user.active:
        raise LoginError("inactive", f"{user.name} ({badge}) is not active: see a supervisor")
    if user.locked_until is not None and user.locked_until > now:
        raise LoginError(
            "locked",
            f"badge {badge} is locked after {MAX_FAILURES} wrong PINs until "
            f"{user.locked_until:%H:%M} UTC: try again then, or see a supervisor",
        )
    if not pin:
        raise LoginError("blank_pin", "enter your PIN (4 to 12 digits), then Enter")
    if not verify_pin(pin, user.pin_hash):
        failures = 0 if user.locked_until is not None else user.failed_logins
        failures += 1
        locked = now + LOCK_FOR if failures >= MAX_FAILURES else None
        user_rows.set_failures(session, user.id, 0 if locked else failures, locked)
        if locked:
            raise LoginError(
                "locked",
                f"wrong PIN {MAX_FAILURES} times: badge {badge} is locked for "
                f"{int(LOCK_FOR.total_seconds() // 60)} minutes: see a supervisor",
            )
        left = MAX_FAILURES - failures
        tries = "1 try" if left == 1 else f"{left} tries"
        raise LoginError("wrong_pin", f"wrong PIN for {badge}: {tries} left before it locks")
    # The right PIN proves who it is, whatever is decided next.
    if user.failed_logins or user.locked_until is not None:
        user_rows.set_failures(session, user.id, 0, None)


def login(
    engine: StoreEngine,
    station_code: str,
    station_role: str,
    badge_scan: str,
    pin: str,
    *,
    now: datetime | None = None,
    uow: UnitOfWork | None = None,
) -> LoggedIn:
    """Check badge and PIN at a station; every try, good or bad, is recorded."""
    now = now or utcnow()
    badge = badge_of(badge_scan)
    needed = STATION_ROLES.get(station_role)
    if needed is None:
        raise LoginError(
            "wrong_role", f"no station role {station_role!r}: use {', '.join(STATION_ROLES)}"
        )

    def work(uow: UnitOfWork) -> tuple[user_rows.LoginRow, user_rows.StationRow]:
        station = user_rows.station(uow.session, station_code)
        if station is None or not station.active:
            raise LoginError("unknown_station", f"there is no active station {station_code!r}")
        user = user_rows.for_login(uow.session, badge)

        def refuse(outcome: str, message: str) -> LoginError:
            user_rows.add_login_event(
                uow.session,
                badge=badge,
                user_id=user.id if user else None,
                station_id=station.id,
                outcome=outcome,
                at=now,
            )
            uow.commit()
            return LoginError(outcome, message)

        try:
            check_pin(uow.session, badge, user, pin, now)
        except LoginError as refused:
            raise refuse(refused.outcome, str(refused)) from None
        assert user is not None
        if needed not in user.roles:
            raise refuse(
                "wrong_role",
                f"{user.name} may not use a {station_role} station (it needs the "
                f"{needed.value} role)",
            )
        if station.role.value != station_role:
            raise refuse(
                "wrong_role",
                f"station {station_code} is a {station.role.value} station, not {station_role}",
            )
        user_rows.add_login_event(
            uow.session, badge=badge, user_id=user.id, station_id=station.id, outcome="ok", at=now
        )
        uow.commit()
        return user, station

    # A refusal is recorded and committed before it is raised; a busy store retries the
    # whole try, the PIN checked again.
    user, station = run_in_transaction(uow or engine, work)
    return LoggedIn(
        user_id=user.id,
        badge=user.badge,
        name=user.name,
        roles=user.roles,
        station_id=station.id,
        station_code=station.code,
        station_role=station_role,
        node_id=station.node_id,
        node_code=station.node_code,
        node_timezone=station.node_timezone,
    )


def logout(
    engine: StoreEngine, who: LoggedIn, *, idle: bool = False, uow: UnitOfWork | None = None
) -> None:
    def work(uow: UnitOfWork) -> None:
        user_rows.add_login_event(
            uow.session,
            badge=who.badge,
            user_id=who.user_id,
            station_id=who.station_id,
            outcome="idle_logout" if idle else "logout",
            at=utcnow(),
        )
        uow.commit()

    run_in_transaction(uow or engine, work)
