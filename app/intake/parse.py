"""Read JSON Lines and CSV order files into typed records, rejecting malformed ones precisely.

Only structure is checked here: types, required fields, lengths and ranges. Whether a
SKU exists or a phone number is real is verification's job (app.intake.verify).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from app.intake.records import ParsedAddress, ParsedLine, ParsedOrder, Rejection
from data.models import PaymentStatus, ServiceLevel

MAX_QUANTITY = 100_000
MAX_UNIT_PRICE = Decimal("1000000.00")
MAX_LINES = 5_000
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200

# Longest value each text field may hold (the store's column widths).
MAX_LENGTH = {
    "channel": 40,
    "external_id": 64,
    "placed_at": 40,
    "customer.name": 200,
    "customer.email": 320,
    "customer.phone": 32,
    "ship_to.name": 200,
    "ship_to.company": 200,
    "ship_to.line1": 200,
    "ship_to.line2": 200,
    "ship_to.city": 100,
    "ship_to.region": 100,
    "ship_to.postal_code": 20,
    "ship_to.country": 60,
    "service_level": 20,
    "pickup_store": 40,
    "promo_code": 40,
    "payment_status": 20,
    "currency": 3,
    "sku": 64,
}

ADDRESS_FIELDS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "country")

CSV_COLUMNS = (
    "channel",
    "order_id",
    "placed_at",
    "customer_name",
    "email",
    "phone",
    "ship_name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "service_level",
    "pickup_store",
    "promo_code",
    "payment_status",
    "currency",
    "max_packages",
    "sku",
    "quantity",
    "unit_price",
)
CSV_REQUIRED = ("channel", "order_id", "payment_status", "sku", "quantity", "unit_price")
# CSV column → the record field it fills (order-level columns only).
CSV_ORDER_FIELDS = {
    "placed_at": "placed_at",
    "customer_name": "customer.name",
    "email": "customer.email",
    "phone": "customer.phone",
    "ship_name": "ship_to.name",
    "company": "ship_to.company",
    "line1": "ship_to.line1",
    "line2": "ship_to.line2",
    "city": "ship_to.city",
    "region": "ship_to.region",
    "postal_code": "ship_to.postal_code",
    "country": "ship_to.country",
    "service_level": "service_level",
    "pickup_store": "pickup_store",
    "promo_code": "promo_code",
    "payment_status": "payment_status",
    "currency": "currency",
    "max_packages": "max_packages",
}


class FieldError(Exception):
    """One field of a record is wrong; `line` names the file line when it is not the
    record's first (a CSV order's later rows)."""

    def __init__(self, field_name: str, reason: str, line: int | None = None) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason
        self.line = line


class FileFormatError(Exception):
    """The file as a whole cannot be read (unknown extension, CSV without the needed header)."""


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, int | Decimal | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def clean_text(name: str, value: object, *, required: bool = False) -> str:
    """A stripped string within its length limit, free of control characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(name, f"expected text, got {_type_name(value)}")
    text = value.strip()
    if required and not text:
        raise FieldError(name, "is missing or empty; it is required")
    limit = MAX_LENGTH.get(name)
    # Fast path: printable text has no control characters and no undecodable bytes.
    if text.isprintable() and (limit is None or len(text) <= limit):
        return text
    for position, char in enumerate(text):
        if "\udc80" <= char <= "\udcff":
            raise FieldError(
                name,
                f"is not valid UTF-8 (byte 0x{ord(char) - 0xDC00:02x} at character "
                f"{position + 1}); save the file as UTF-8 and import it again",
            )
        if "\ud800" <= char <= "\udfff":
            raise FieldError(
                name,
                f"contains an unpaired surrogate U+{ord(char):04X} at character {position + 1}; "
                "it is not a character and cannot be stored",
            )
        if unicodedata.category(char) == "Cc":
            raise FieldError(
                name, f"contains control character U+{ord(char):04X} at character {position + 1}"
            )
    if limit is not None and len(text) > limit:
        raise FieldError(name, f"is {len(text)} characters long; at most {limit} are allowed")
    return text


_DIGITS = re.compile(r"-?[0-9]{1,12}", re.ASCII)
_AMOUNT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,12})?", re.ASCII)


def parse_quantity(
    name: str, value: object, *, from_text: bool = False, what: str = "units"
) -> int:
    """A positive whole number (of `what`): a JSON integer, or (CSV) ASCII digits."""
    if from_text and isinstance(value, str):
        text = value.strip()
        if not text:
            raise FieldError(name, "is missing or empty; it is required")
        if not _DIGITS.fullmatch(text):
            raise FieldError(name, f"{text[:40]!r} is not a whole number of {what}")
        if len(text) > 30:
            raise FieldError(
                name,
                f"a {len(text)}-digit number is more than the {MAX_QUANTITY} units "
                "one line may hold",
            )
        number = int(text)
    elif isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(name, f"expected a whole number of {what}, got {_type_name(value)}")
    else:
        number = value
    if number <= 0:
        raise FieldError(name, f"{number} is not a positive quantity; it must be at least 1")
    if number > MAX_QUANTITY:
        shown = str(number) if number < 10**30 else f"a {len(str(number))}-digit number"
        raise FieldError(name, f"{shown} is more than the {MAX_QUANTITY} units one line may hold")
    return number


def parse_price(name: str, value: object) -> Decimal:
    """A non-negative amount with at most two decimal places: a JSON number, or text of
    ASCII digits with a decimal point such as "12.50"."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise FieldError(name, "is missing or empty; it is required")
        if not _AMOUNT.fullmatch(text):
            raise FieldError(name, f"{text[:40]!r} is not a decimal amount such as 12.50")
        amount = Decimal(text)
    elif isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise FieldError(name, f"expected an amount such as 12.50, got {_type_name(value)}")
    else:
        amount = Decimal(value)
    if not amount.is_finite():
        raise FieldError(name, f"{value!r} is not a finite amount")
    if amount < 0:
        raise FieldError(name, f"{amount} is negative; prices are zero or more")
    if amount > MAX_UNIT_PRICE:
        raise FieldError(name, f"{amount} is more than the largest unit price, {MAX_UNIT_PRICE}")
    if amount != amount.quantize(Decimal("0.01")):
        raise FieldError(name, f"{amount} has more than two decimal places")
    return amount.quantize(Decimal("0.01"))


def parse_timestamp(name: str, value: object) -> datetime | None:
    """An ISO 8601 instant with a UTC offset, or None when absent."""
    text = clean_text(name, value)
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise FieldError(
            name, f"{text!r} is not an ISO 8601 time such as 2026-11-20T10:15:00Z"
        ) from None
    if stamp.tzinfo is None:
        raise FieldError(name, f"{text!r} has no UTC offset; write it as {text}Z or with +HH:MM")
    if not EARLIEST_YEAR <= stamp.year <= LATEST_YEAR:
        raise FieldError(
            name, f"{text!r} is not a plausible order time (years {EARLIEST_YEAR}-{LATEST_YEAR})"
        )
    return stamp


E = TypeVar("E", ServiceLevel, PaymentStatus)


def parse_choice(name: str, value: object, choices: type[E], *, required: bool) -> E | None:
    """One of an enum's values, case-insensitively."""
    text = clean_text(name, value, required=required).lower()
    if not text:
        return None
    try:
        return choices(text)
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise FieldError(name, f"{text!r} is not one of: {allowed}") from None


@dataclass
class _OrderFields:
    """An order's values gathered from one JSON object or several CSV rows."""

    values: dict[str, object] = field(default_factory=dict)
    lines: list[tuple[object, object, object, int]] = field(default_factory=list)
    first_line: int = 0
    problem: Rejection | None = None


def build_order(line_no: int, fields: Mapping[str, object], lines: list[Any]) -> ParsedOrder:
    """Check and type an order's fields (flat names such as `ship_to.city`).

    `lines` holds (sku, quantity, unit_price) from JSON, or (sku, quantity, unit_price,
    file line) from CSV, where quantities are text.
    """
    channel = clean_text("channel", fields.get("channel"), required=True)
    external_id = clean_text("external_id", fields.get("external_id"), required=True)
    address = ParsedAddress(
        **{f: clean_text(f"ship_to.{f}", fields.get(f"ship_to.{f}")) for f in ADDRESS_FIELDS}
    )
    currency = clean_text("currency", fields.get("currency")).upper() or "USD"
    if not (len(currency) == 3 and currency.isalpha() and currency.isascii()):
        raise FieldError("currency", f"{currency!r} is not a three-letter ISO 4217 code")
    payment = parse_choice(
        "payment_status", fields.get("payment_status"), PaymentStatus, required=True
    )
    assert payment is not None
    if not lines:
        raise FieldError("lines", "the order has no lines; it needs at least one")
    if len(lines) > MAX_LINES:
        raise FieldError("lines", f"{len(lines)} lines; one order may have at most {MAX_LINES}")
    parsed_lines = []
    for number, raw in enumerate(lines, start=1):
        sku, quantity, price = raw[0], raw[1], raw[2]
        row_line = raw[3] if len(raw) > 3 else None
        try:
            parsed_lines.append(
                ParsedLine(
                    sku=clean_text(f"lines[{number}].sku", sku, required=True),
                    quantity=parse_quantity(
                        f"lines[{number}].quantity", quantity, from_text=row_line is not None
                    ),
                    unit_price=parse_price(f"lines[{number}].unit_price", price),
                )
            )
        except FieldError as exc:
            exc.line = row_line
            raise
    return ParsedOrder(
        source_line=line_no,
        channel=channel,
        external_id=external_id,
        placed_at=parse_timestamp("placed_at", fields.get("placed_at")),
        customer_name=clean_text("customer.name", fields.get("customer.name")),
        email=clean_text("customer.email", fields.get("customer.email")),
        phone=clean_text("customer.phone", fields.get("customer.phone")),
        ship_to=address,
        service_level=parse_choice(
            "service_level", fields.get("service_level"), ServiceLevel, required=False
        ),
        pickup_store=clean_text("pickup_store", fields.get("pickup_store")),
        promo_code=clean_text("promo_code", fields.get("promo_code")).upper(),
        payment_status=payment,
        currency=currency,
        lines=tuple(parsed_lines),
        max_packages=_max_packages(
            fields.get("max_packages"), from_text=any(len(raw) > 3 for raw in lines)
        ),
    )


def _max_packages(value: object, *, from_text: bool) -> int | None:
    """An order's package limit: absent or null follows the channel; else 1 to 99 (a JSON
    integer, or digits in a CSV cell)."""
    if value is None or value == "":
        return None
    number = parse_quantity("max_packages", value, from_text=from_text, what="packages")
    if number > 99:
        raise FieldError("max_packages", f"{number} packages is not a split policy; use 1 to 99")
    return number


# ---------------------------------------------------------------- JSON Lines


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a number JSON allows")


class DuplicateKey(ValueError):
    """One JSON object names the same key twice: which value was meant cannot be known."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} appears twice in one object")
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKey(key)
        obj[key] = value
    return obj


TOO_DEEP = (
    "nests lists or objects too deeply to read (an order nests three levels: "
    "order, lines, line); fix the record"
)


# Python refuses to read integers this long with advice meant for programmers, so such a
# number is refused here first, in the record's words; shorter ones reach the field checks.
MAX_NUMBER_DIGITS = sys.get_int_max_str_digits() or 4300


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise ValueError(
            f"a number {len(text):,} digits long; no quantity or price comes near "
            f"{MAX_NUMBER_DIGITS:,} digits"
        )
    return int(text)


def _load_json(text: str) -> Any:
    return json.loads(
        text,
        parse_int=_parse_int,
        parse_float=Decimal,
        parse_constant=_reject_constant,
        object_pairs_hook=_unique_keys,
    )


def _external_id_hint(raw: bytes) -> str | None:
    """The record's external id if it can be recovered from a broken line, for the message."""
    try:
        obj = _load_json(raw.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    if isinstance(obj, dict) and isinstance(obj.get("external_id"), str):
        return str(obj["external_id"])[:64]
    return None


def _first_id(text: str) -> str | None:
    """The external id of a record that cannot be loaded whole (keys kept as first given)."""
    try:
        pairs = json.loads(text, object_pairs_hook=lambda p: p)
    except (ValueError, RecursionError):
        return None
    if isinstance(pairs, list):
        for key, value in pairs:
            if key == "external_id" and isinstance(value, str):
                return value[:80]
    return None


def _flatten_json(obj: dict[str, Any]) -> tuple[dict[str, object], list[Any]]:
    fields: dict[str, object] = {}
    for key in (
        "max_packages",
        "channel",
        "external_id",
        "placed_at",
        "service_level",
        "pickup_store",
        "promo_code",
        "payment_status",
        "currency",
    ):
        fields[key] = obj.get(key)
    for group in ("customer", "ship_to"):
        part = obj.get(group)
        if part is None:
            if group == "ship_to":
                raise FieldError("ship_to", "is missing; an order needs an address object")
            raise FieldError("customer", "is missing; an order needs a customer object")
        if not isinstance(part, dict):
            raise FieldError(group, f"expected an object, got {_type_name(part)}")
        for key, value in part.items():
            fields[f"{group}.{key}"] = value
    raw_lines = obj.get("lines")
    if raw_lines is None:
        raise FieldError("lines", "is missing; an order needs a list of lines")
    if not isinstance(raw_lines, list):
        raise FieldError("lines", f"expected a list of lines, got {_type_name(raw_lines)}")
    lines: list[Any] = []
    for number, item in enumerate(raw_lines, start=1):
        if not isinstance(item, dict):
            raise FieldError(f"lines[{number}]", f"expected an object, got {_type_name(item)}")
        for required in ("sku", "quantity", "unit_price"):
            if required not in item or item[required] is None:
                raise FieldError(f"lines[{number}].{required}", "is missing; it is required")
        lines.append((item["sku"], item["quantity"], item["unit_price"]))
    return fields, lines


def read_jsonl(data: bytes) -> Iterator[ParsedOrder | Rejection]:
    """Records of a JSON Lines file, one order object per line; blank lines are skipped."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for line_no, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Rejection(
                line_no,
                _external_id_hint(raw),
                "record",
                f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1}); "
                "save the file as UTF-8 and import it again",
            )
            continue
        try:
            obj = _load_json(text)
        except DuplicateKey as exc:
            yield Rejection(
                line_no,
                _first_id(text),
                exc.key,
                "appears twice in one object; keep one value and import the record again",
            )
            continue
        except RecursionError:
            yield Rejection(line_no, None, "record", TOO_DEEP)
            continue
        except ValueError as exc:
            yield Rejection(line_no, None, "record", f"is not valid JSON: {exc}")
            continue
        if not isinstance(obj, dict):
            yield Rejection(
                line_no, None, "record", f"expected a JSON object, got {_type_name(obj)}"
            )
            continue
        raw_id = obj.get("external_id")
        hint = str(raw_id)[:80] if isinstance(raw_id, str | int) and raw_id != "" else None
        try:
            fields, lines = _flatten_json(obj)
            yield build_order(line_no, fields, lines)
        except FieldError as exc:
            yield Rejection(exc.line or line_no, hint, exc.field, exc.reason)
        except RecursionError:
            yield Rejection(line_no, hint, "record", TOO_DEEP)
        except (ValueError, TypeError, ArithmeticError) as exc:
            # A value no check above foresaw must cost this record, never the import.
            yield Rejection(line_no, hint, "record", f"cannot be read: {exc}")


# ---------------------------------------------------------------- CSV


def _recover_ids(raw_line: str, index: Mapping[str, int]) -> tuple[str, str] | None:
    """(channel, order_id) from a line the strict CSV reader refused, if they can be read."""
    try:
        cells = next(csv.reader([raw_line]))
    except (csv.Error, StopIteration):
        return None
    try:
        channel, order_id = cells[index["channel"]].strip(), cells[index["order_id"]].strip()
    except IndexError:
        return None
    return (channel, order_id) if channel and order_id else None


def read_csv(data: bytes) -> Iterator[ParsedOrder | Rejection]:
    """Records of a CSV file: one row per order line; the rows of one order (same channel
    and order_id) are consecutive, and order-level columns may repeat on each of them but
    must then agree. An order whose rows appear again later is a second copy of it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # surrogateescape keeps undecodable bytes visible, so the row can be rejected by name.
    text = data.decode("utf-8", errors="surrogateescape")
    physical = text.splitlines()
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise FileFormatError(f"the CSV header cannot be read: {exc}") from None
    columns = [c.strip().lower() for c in header]
    missing = [c for c in CSV_REQUIRED if c not in columns]
    if missing:
        raise FileFormatError(
            f"the CSV header lacks {', '.join(missing)}; the columns are: {', '.join(CSV_COLUMNS)}"
        )
    index = {name: columns.index(name) for name in CSV_COLUMNS if name in columns}

    orders: list[tuple[tuple[str, str], _OrderFields]] = []
    orphans: list[Rejection] = []
    current: _OrderFields | None = None
    current_key: tuple[str, str] | None = None
    while True:
        start_line = reader.line_num + 1
        row: list[str] | None
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problem_text = f"is not valid CSV: {exc}"
            raw = physical[start_line - 1] if start_line - 1 < len(physical) else ""
            ids = _recover_ids(raw, index)
            row = None
        else:
            assert row is not None
            if not any(cell.strip() for cell in row):
                continue
            ids = None
            problem_text = ""
            if len(row) != len(columns):
                problem_text = f"has {len(row)} cells; the header has {len(columns)}"
                ids = _recover_ids(",".join(row), index)
        if row is None or problem_text:
            if ids is None:
                orphans.append(Rejection(start_line, None, "record", problem_text))
                continue
            key = ids
        else:
            key = (row[index["channel"]].strip(), row[index["order_id"]].strip())
        if key != current_key:
            current = _OrderFields(first_line=start_line)
            current_key = key
            orders.append((key, current))
        assert current is not None
        if current.problem is not None:
            continue
        ident = key[1] or None
        if row is None or problem_text:
            current.problem = Rejection(start_line, ident, "record", problem_text)
            continue
        cell = {name: row[i] for name, i in index.items()}
        for column, name in CSV_ORDER_FIELDS.items():
            if column not in cell:
                continue
            value = cell[column].strip()
            if not value:
                continue
            previous = current.values.get(name)
            if previous is None:
                current.values[name] = value
            elif str(previous).casefold() != value.casefold():
                current.problem = Rejection(
                    start_line,
                    ident,
                    name,
                    f"{value!r} differs from {previous!r} given on line {current.first_line} "
                    "for the same order",
                )
                break
        current.values["channel"] = key[0]
        current.values["external_id"] = key[1]
        current.lines.append((cell["sku"], cell["quantity"], cell["unit_price"], start_line))

    yield from orphans
    for (_, external_id), gathered in orders:
        if gathered.problem is not None:
            yield gathered.problem
            continue
        try:
            yield build_order(gathered.first_line, gathered.values, list(gathered.lines))
        except FieldError as exc:
            yield Rejection(
                exc.line or gathered.first_line, external_id or None, exc.field, exc.reason
            )
        except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
            yield Rejection(
                gathered.first_line, external_id or None, "record", f"cannot be read: {exc}"
            )


def read_file(path: Path) -> Iterator[ParsedOrder | Rejection]:
    """Records of an order file, by its extension: .jsonl / .ndjson / .json, or .csv."""
    suffix = path.suffix.lower()
    if suffix not in {".jsonl", ".ndjson", ".json", ".csv"}:
        raise FileFormatError(
            f"{path.name}: unknown file type {suffix or '(none)'}; use .jsonl (JSON Lines) or .csv"
        )
    data = path.read_bytes()
    if suffix == ".csv":
        return read_csv(data)
    return read_jsonl(data)
