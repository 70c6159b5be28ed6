"""JSON objects that are tables rather than records: what pandas' `DataFrame.to_json` writes.

- orient "columns" (its default): `{"question": {"0": "...", "1": "..."}, "answer": {...}}`
- orient "index", or records keyed by id: `{"0": {"question": ..., "answer": ...}, ...}`; the
  key is kept as field `key` (so it lands in `meta`)
- orient "split": `{"columns": [...], "index": [...], "data": [[...], ...]}`

Their rows have no line of their own: every row is given the document's first line, so
`read_file` numbers them 1, 2, ... (`"numbering": "index"`) when there are several.
"""

from __future__ import annotations

import json

from curate.stages.ingest.raw import RawRecord


def table_records(doc: object, line: int, is_record) -> list[RawRecord] | None:
    """The rows of `doc` when it is one of the tables above, else None. `is_record(dict)`:
    whether an object has a question and an answer field."""
    if not isinstance(doc, dict) or not doc:
        return None
    rows = _columns(doc, is_record) or _index(doc, is_record) or _split(doc, is_record)
    if rows is None:
        return None
    return [RawRecord(line, json.dumps(row, ensure_ascii=False), row) for row in rows]


def _columns(doc: dict, is_record) -> list[dict] | None:
    columns = list(doc.values())
    if not is_record(doc) or not all(isinstance(c, dict) for c in columns):
        return None
    labels = list(columns[0])
    if any(list(c) != labels for c in columns):
        return None  # not one row label per column: not a table
    return [{name: doc[name][label] for name in doc} for label in labels]


def _index(doc: dict, is_record) -> list[dict] | None:
    rows = list(doc.items())
    if is_record(doc) or not all(isinstance(r, dict) and is_record(r) for _, r in rows):
        return None
    return [row if "key" in row else {**row, "key": key} for key, row in rows]


def _split(doc: dict, is_record) -> list[dict] | None:
    columns, data = doc.get("columns"), doc.get("data")
    if set(doc) - {"columns", "index", "data"} or not isinstance(columns, list):
        return None
    if not isinstance(data, list) or not all(isinstance(r, list) for r in data):
        return None
    if not is_record(dict.fromkeys(map(str, columns))):
        return None
    # A row longer than the columns keeps its extra cells (as `column4`, ...), not silently cut;
    # a shorter one lacks the last fields.
    names = [str(c) for c in columns]
    names += [f"column{i}" for i in range(len(names) + 1, max(map(len, data), default=0) + 1)]
    return [dict(zip(names, row, strict=False)) for row in data]
