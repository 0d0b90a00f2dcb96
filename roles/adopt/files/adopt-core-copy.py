"""Copy Mailman core's tables from an upgraded SQLite copy into this host's database.

Run as `list` after `mailman -C <copy's config> info` brought the copy's schema to
this Mailman's (its alembic migrations run at start). The rows are read and written
through Mailman's own models: its column types turn SQLite's CHAR(32) UUIDs, 0/1
booleans, integer enums and pickles into the target's (PostgreSQL's uuid, boolean...).
Every table of the target is emptied first, in one transaction with the copy: the
copy is all or nothing. Foreign keys pointing forward in the insertion order
(user.preferred_address_id and address.user_id point at each other) are written
after every row is in. Prints the rows copied per table as JSON.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from typing import Any

import mailman.model
from mailman.config import config
from mailman.core.initialize import initialize
from mailman.database.model import Model
from sqlalchemy import Integer, Table, create_engine, func, inspect, select, text
from sqlalchemy import table as table_clause

CONFIG = "/etc/mailman3/mailman.cfg"


def quote(name: str) -> str:
    """A table's name as PostgreSQL reads it (user is a reserved word)."""
    return '"' + name.replace('"', '""') + '"'


def forward_keys(tables: list[Table]) -> dict[str, list[str]]:
    """Per table, the foreign-key columns whose target is not inserted before it."""
    order = {table.name: index for index, table in enumerate(tables)}
    return {
        table.name: [
            column.name
            for column in table.columns
            if any(order[key.column.table.name] >= order[table.name] for key in column.foreign_keys)
        ]
        for table in tables
    }


def check_schemas(source: Any, tables: list[Table]) -> None:
    """Stop when the copy holds columns or tables with rows this Mailman does not know."""
    inspector = inspect(source)
    known = {table.name: table for table in tables}
    problems = []
    for name in inspector.get_table_names():
        if name == "alembic_version":
            continue
        if name not in known:
            with source.connect() as connection:
                rows = connection.execute(
                    select(func.count()).select_from(table_clause(name))
                ).scalar()
            if rows:
                problems.append(f"table {name} ({rows} rows) is not in Mailman's schema")
            continue
        columns = {column["name"] for column in inspector.get_columns(name)}
        extra = columns - set(known[name].columns.keys())
        if extra:
            problems.append(f"table {name} has columns Mailman does not know: {sorted(extra)}")
    if problems:
        raise SystemExit(
            "the upgraded copy does not match Mailman's schema: " + "; ".join(problems)
        )


def copy(source_path: str) -> dict[str, int]:
    initialize(CONFIG)
    for module in pkgutil.iter_modules(mailman.model.__path__):
        importlib.import_module(f"mailman.model.{module.name}")
    # Mailman's models still define tables its migrations dropped (language).
    present = set(inspect(config.db.engine).get_table_names()) - {"alembic_version"}
    tables = [t for t in Model.metadata.sorted_tables if t.name in present]
    source = create_engine(f"sqlite:///{source_path}")
    check_schemas(source, tables)
    forward = forward_keys(tables)
    counts: dict[str, int] = {}
    with source.connect() as reading, config.db.engine.begin() as writing:
        names = ", ".join(quote(table.name) for table in tables)
        writing.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        later: list[tuple[Table, dict[str, Any]]] = []
        for table in tables:
            rows = [dict(row._mapping) for row in reading.execute(select(table))]
            counts[table.name] = len(rows)
            if not rows:
                continue
            deferred = forward[table.name]
            for row in rows:
                if any(row[name] is not None for name in deferred):
                    later.append((table, row))
            writing.execute(table.insert(), [{**row, **dict.fromkeys(deferred)} for row in rows])
        for table, row in later:
            keys = [column.name for column in table.primary_key.columns]
            condition = [table.c[key] == row[key] for key in keys]
            values = {name: row[name] for name in forward[table.name]}
            writing.execute(table.update().where(*condition).values(**values))
        for each in tables:
            if "id" in each.c and each.c.id.primary_key and isinstance(each.c.id.type, Integer):
                sequence = func.pg_get_serial_sequence(quote(each.name), "id")
                top = func.max(each.c.id)
                writing.execute(
                    select(func.setval(sequence, func.coalesce(top, 1), top.isnot(None)))
                )
    return counts


if __name__ == "__main__":
    print(json.dumps(copy(sys.argv[1]), sort_keys=True))
