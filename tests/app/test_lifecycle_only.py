"""Only the order lifecycle changes an order's status: no module of app/ or data/ but the
lifecycle's data helper (data/orders.py) writes ``orders.status`` or an order's history,
whether through SQLAlchemy (``update(Order)``, ``Order.__table__.update()``, ORM attributes,
``"status": OrderStatus.…`` rows) or raw SQL (``UPDATE orders … SET status``,
``INSERT INTO order_events``).

The checker is tried on sources that do write them, so a checker that finds nothing fails
here rather than passing forever."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("app", "data")
HELPER = "data/orders.py"
"""The one module allowed to write an order's status and history (for the lifecycle)."""

ORDER_MODELS = {"Order"}
EVENT_MODELS = {"OrderEvent"}
ORDER_TABLES = {"orders"}

_RAW_STATUS = re.compile(
    r"\bUPDATE\s+(?:ONLY\s+)?orders\b[^;]{0,300}?\bSET\b[^;]{0,300}?\bstatus\b", re.I
)
_RAW_EVENTS = re.compile(r"\bINSERT\s+INTO\s+order_events\b", re.I)


@dataclass(frozen=True)
class Writer:
    """One place that writes an order's status or history."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _name(node: ast.AST) -> str | None:
    """``Order`` for ``Order`` and ``models.Order``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_order_status(node: ast.AST | None) -> bool:
    """An ``OrderStatus.X`` value (or ``OrderStatus.X.value``), anywhere in the expression."""
    if node is None:
        return False
    return any(
        isinstance(n, ast.Attribute) and _name(n.value) == "OrderStatus" for n in ast.walk(node)
    )


def _writes_orders(call: ast.Call) -> str | None:
    """What statement on the orders table a call starts, if any: ``update(Order)``,
    ``insert(Order)``, ``Order.__table__.update()``, ``orders_table.update()``."""
    func = call.func
    if _name(func) in ("update", "insert") and call.args:
        target = call.args[0]
        if _name(target) in ORDER_MODELS:
            return f"{_name(func)}({_name(target)})"
        if (
            isinstance(target, ast.Attribute)
            and target.attr == "__table__"
            and _name(target.value) in ORDER_MODELS
        ):
            return f"{_name(func)}(Order.__table__)"
    if isinstance(func, ast.Attribute) and func.attr in ("update", "insert"):
        owner = func.value
        if (
            isinstance(owner, ast.Attribute)
            and owner.attr == "__table__"
            and _name(owner.value) in ORDER_MODELS
        ):
            return f"Order.__table__.{func.attr}()"
    return None


def _statement_root(node: ast.AST) -> ast.Call | None:
    """The call a method chain (``update(Order).where(…).values(…)``) starts from."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Call)
    ):
        node = node.func.value
    return node if isinstance(node, ast.Call) else None


def _sets_status(call: ast.Call) -> bool:
    """``.values(status=…)``, ``.values({"status": …})`` or ``.values({Order.status: …})``."""
    if any(k.arg == "status" for k in call.keywords):
        return True
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            for key in arg.keys:
                if isinstance(key, ast.Constant) and key.value == "status":
                    return True
                if isinstance(key, ast.Attribute) and key.attr == "status":
                    return True
    return False


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string constant, and the literal text of every f-string, with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "?"
                for v in node.values
            )
            found.append((node.lineno, text))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


def order_status_writers(source: str, path: str = "<sample>") -> list[Writer]:
    """Every place in ``source`` that writes an order's status or history."""
    tree = ast.parse(source)
    writers: list[Writer] = []

    def add(node: ast.AST, what: str) -> None:
        writers.append(Writer(path, getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            # update(Order)….values(status=…), Order.__table__.update().values(status=…)
            if isinstance(func, ast.Attribute) and func.attr == "values" and _sets_status(node):
                root = _statement_root(func.value)
                started = _writes_orders(root) if root is not None else None
                if started:
                    add(node, f"{started}.values(status=…)")
            # Any UPDATE of the orders table: its values may come later, or as rows.
            started = _writes_orders(node)
            if started and started.startswith("update"):
                add(node, f"{started}: an UPDATE of the orders table")
            # Order(status=…), OrderEvent(…), insert(OrderEvent)
            if _name(func) in ORDER_MODELS and any(k.arg == "status" for k in node.keywords):
                add(node, "Order(status=…)")
            if _name(func) in EVENT_MODELS:
                add(node, "OrderEvent(…): an order's history row")
            if _name(func) == "insert" and node.args and _name(node.args[0]) in EVENT_MODELS:
                add(node, "insert(OrderEvent): order history rows")
            if any(k.arg == "status" and _is_order_status(k.value) for k in node.keywords):
                add(node, "status=OrderStatus.…")
            if _name(func) == "setattr" and len(node.args) == 3:
                key = node.args[1]
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "status"
                    and _is_order_status(node.args[2])
                ):
                    add(node, "setattr(…, 'status', OrderStatus.…)")
        elif isinstance(node, ast.Dict):
            for entry, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(entry, ast.Constant)
                    and entry.value == "status"
                    and _is_order_status(value)
                ):
                    add(node, '{"status": OrderStatus.…}')
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and _is_order_status(node.value)
                ):
                    add(node, ".status = OrderStatus.…")
    for line, text in _strings(tree):
        if _RAW_STATUS.search(text):
            writers.append(Writer(path, line, "raw SQL: UPDATE orders … SET status"))
        if _RAW_EVENTS.search(text):
            writers.append(Writer(path, line, "raw SQL: INSERT INTO order_events"))
    # Text the AST does not hold as one string (SQL split over implicit concatenations is
    # one constant already; this catches SQL built by joining pieces).
    flat = re.sub(r"[\"']\s*\+?\s*[\"']", "", source)
    if not any("raw SQL" in w.what for w in writers):
        for match in _RAW_STATUS.finditer(flat):
            line = flat[: match.start()].count("\n") + 1
            writers.append(Writer(path, line, "raw SQL text: UPDATE orders … SET status"))
    return sorted(set(writers), key=lambda w: (w.line, w.what))


def _scanned_files() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (ROOT / folder).rglob("*.py"))


def test_only_the_lifecycles_data_helper_writes_an_orders_status() -> None:
    files = _scanned_files()
    assert len(files) > 50, "the scan found too few modules: is ROOT right?"
    outside = [
        w
        for path in files
        if path.relative_to(ROOT).as_posix() != HELPER
        for w in order_status_writers(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert outside == [], "order status written outside the lifecycle:\n" + "\n".join(
        map(str, outside)
    )


def test_the_helper_is_where_the_writes_are() -> None:
    # If the helper stopped holding them, the scan above would be looking for nothing.
    found = order_status_writers((ROOT / HELPER).read_text(encoding="utf-8"), HELPER)
    whats = {w.what for w in found}
    assert "update(Order).values(status=…)" in whats
    assert "raw SQL: UPDATE orders … SET status" in whats
    assert "raw SQL: INSERT INTO order_events" in whats


WRITERS = {
    "update_values": (
        "stmt = update(Order).where(Order.id == 1).values(status=OrderStatus.PICKED)"
    ),
    "update_values_dict": "update(models.Order).values({'status': 'picked'})",
    "update_values_column": "update(Order).values({Order.status: new})",
    "table_update": "Order.__table__.update().values(status='picked')",
    "update_then_rows": "session.execute(update(Order), [{'id': 1, 'status': s}])",
    "rows_dict": 'rows = [{"order_id": 1, "status": OrderStatus.RELEASED}]',
    "status_keyword": "session.execute(stmt, dict(status=OrderStatus.PICKED.value))",
    "orm_attribute": "order.status = OrderStatus.CANCELLED",
    "orm_setattr": "setattr(order, 'status', OrderStatus.CANCELLED)",
    "new_order": "session.add(Order(channel_id=1, status=status))",
    "history_row": "session.add(OrderEvent(order_id=1, to_status=s))",
    "history_insert": "session.execute(insert(OrderEvent), rows)",
    "raw_update": 'text("UPDATE orders AS o SET status = :s WHERE o.id = :id")',
    "raw_update_lower": "conn.exec_driver_sql('update orders set payment_status = 1, status = 2')",
    "raw_cte": (
        'X = text(f"""\nWITH ord AS (\n    UPDATE orders AS o\n'
        "    SET status = '{OrderStatus.PICKED.value}'\n    WHERE o.id = 1\n)\n"
        'SELECT 1\n""")'
    ),
    "raw_history": "text('INSERT INTO order_events (order_id) VALUES (1)')",
    # Any UPDATE of the orders table is the helper's, even one that names no status: its
    # rows may carry one.
    "update_any_column": "update(Order).where(Order.id == 1).values(max_packages=1)",
    "raw_concatenated": 'sql = "UPDATE orders " + "SET status = :s"',
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_the_checker_finds_a_writer(name: str) -> None:
    assert order_status_writers(WRITERS[name]), f"{name} was not found"


NOT_WRITERS = {
    "shipment_status": "update(Shipment).values(status=ShipmentStatus.PICKED)",
    "list_rows": '[{"status": PickListStatus.RELEASED, "wave_id": 1}]',
    "reading": "select(Order.id, Order.status).where(Order.status == OrderStatus.PICKING)",
    "raw_read": 'text("SELECT o.id FROM orders AS o WHERE o.status = :s FOR UPDATE")',
    "raw_other_table": "text(\"UPDATE waves SET status = 'done'\")",
    "dataclass_copy": "replace(task, picked=picked, status=status)",
}


@pytest.mark.parametrize("name", sorted(NOT_WRITERS))
def test_the_checker_leaves_reads_and_other_tables_alone(name: str) -> None:
    assert order_status_writers(NOT_WRITERS[name]) == []
