"""Tracking numbers in each carrier's own format, with its check digit.

A carrier in the shipping settings names its ``tracking_format``; Shipfloor makes the
number from the carrier's account and a serial from the store sequence
``tracking:<carrier>`` (so a number is never given twice, and a voided one never comes
back), and :func:`check` says whether a scanned or typed one is well formed.

==========  ===============================================  ==================================
format      shape                                            check digit
==========  ===============================================  ==================================
``site``    the carrier's prefix, 10 digits, check digit     GS1 mod 10 over the 10 digits
            (``GP00000000017``)
``ups``     ``1Z``, 6-character shipper number (the          UPS: letters become digits
            carrier's ``account``), 2-digit service code,    ((code − 63) mod 10), odd places
            7-digit reference, check digit                   plus twice the even places,
            (``1Z999AA10123456784``)                         10 minus that mod 10
``usps``    IMpb: ``92``, 3-digit service type code, the     GS1 mod 10 (weights 3, 1 from
            9-digit mailer id (the ``account``), 7-digit     the right) over the first 21
            serial, check digit: 22 digits                   digits
``fedex``   12 digits: 11-digit serial, check digit          weights 1, 3, 7 from the right,
            (``123456789012``)                               sum mod 11, 10 counts as 0
==========  ===============================================  ==================================
"""

from __future__ import annotations

import re

FORMATS = ("site", "ups", "usps", "fedex")

_UPS = re.compile(r"1Z[0-9A-Z]{6}[0-9]{2}[0-9]{7}[0-9]")
_UPS_ACCOUNT = re.compile(r"[0-9A-Z]{6}")
_USPS = re.compile(r"92[0-9]{20}")
_MAILER_ID = re.compile(r"[0-9]{9}")
_FEDEX = re.compile(r"[0-9]{12}")
_SITE = re.compile(r"[A-Z0-9]{1,10}[0-9]{11}")

USPS_SERVICE_TYPE = "001"
"""The IMpb service type code a label carries (001: Priority Mail)."""
UPS_SERVICE_CODES = {"GROUND": "03", "EXPRESS": "01", "NEXT_DAY": "01"}


class TrackingError(ValueError):
    """A tracking number that cannot be made or is not well formed; the message says why."""


def gs1_mod10(body: str) -> int:
    """The GS1 mod-10 check digit of a string of digits (weights 3, 1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def ups_check(body: str) -> int:
    """The UPS check digit of what follows ``1Z`` (15 characters)."""
    values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
    odd = sum(values[0::2])
    even = sum(values[1::2])
    return (10 - (odd + 2 * even) % 10) % 10


def fedex_check(body: str) -> int:
    """The FedEx Express check digit of 11 digits (weights 1, 3, 7 from the right)."""
    weights = (1, 3, 7)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(body)))
    return total % 11 % 10


def make(fmt: str, serial: int, *, prefix: str = "", account: str = "", service: str = "") -> str:
    """The tracking number for store serial ``serial`` in format ``fmt``."""
    if serial < 1:
        raise TrackingError(f"tracking serial {serial} is not a positive number")
    if fmt == "site":
        if serial >= 10**10:
            raise TrackingError(f"tracking serial {serial} is outside the carrier's range")
        digits = f"{serial:010d}"
        return f"{prefix}{digits}{gs1_mod10(digits)}"
    if fmt == "ups":
        if not _UPS_ACCOUNT.fullmatch(account):
            raise TrackingError(
                f"a UPS tracking number needs the 6-character UPS shipper number as the "
                f"carrier's account, got {account!r}"
            )
        if serial >= 10**7:
            raise TrackingError(f"UPS reference {serial} has more than 7 digits")
        code = UPS_SERVICE_CODES.get(service.upper(), "03")
        body = f"{account}{code}{serial:07d}"
        return f"1Z{body}{ups_check(body)}"
    if fmt == "usps":
        if not _MAILER_ID.fullmatch(account):
            raise TrackingError(
                f"a USPS IMpb needs the 9-digit mailer id as the carrier's account, got {account!r}"
            )
        if serial >= 10**7:
            raise TrackingError(f"USPS serial {serial} has more than 7 digits")
        body = f"92{USPS_SERVICE_TYPE}{account}{serial:07d}"
        return body + str(gs1_mod10(body))
    if fmt == "fedex":
        if serial >= 10**11:
            raise TrackingError(f"FedEx serial {serial} has more than 11 digits")
        body = f"{serial:011d}"
        return body + str(fedex_check(body))
    raise TrackingError(f"unknown tracking format {fmt!r}: use one of {', '.join(FORMATS)}")


def check(fmt: str, number: str) -> str:
    """ "" when ``number`` is a well-formed ``fmt`` tracking number, else what is wrong."""
    text = number.strip().upper()
    if fmt == "ups":
        if not _UPS.fullmatch(text):
            return "a UPS number is 1Z and 16 letters or digits"
        want = ups_check(text[2:17])
    elif fmt == "usps":
        if not _USPS.fullmatch(text):
            return "a USPS IMpb is 22 digits starting 92"
        want = gs1_mod10(text[:21])
    elif fmt == "fedex":
        if not _FEDEX.fullmatch(text):
            return "a FedEx Express number is 12 digits"
        want = fedex_check(text[:11])
    elif fmt == "site":
        if not _SITE.fullmatch(text):
            return "a site tracking number is the carrier's prefix and 11 digits"
        want = gs1_mod10(text[-11:-1])
    else:
        return f"unknown tracking format {fmt!r}"
    if int(text[-1]) != want:
        return f"its check digit is {text[-1]}, it should be {want}"
    return ""
