"""Row validation of one staged contract file, written as Ibis expressions.

Given the staged file (contract column names, raw values, and ``_row``), build
one expression that types every column and, beside it, one ``_err_<column>``
text per column: null when the value is fine, else a reason a person can act
on. Rows with no reason are valid. Cross-table rules (foreign keys) compare
against tables of known keys passed in by the importer.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from helix.ingest.sources import ROW
from helix.warehouse.schema import ATTRIBUTES, Column, TableSpec

ERR = "_err_"
VALID = "_valid"
_SHOW = 60  # characters of a bad value quoted back in a message

_KIND_WORDS = {
    "date": "a date (YYYY-MM-DD)",
    "timestamp": "a timestamp (ISO-8601, e.g. 2025-03-01T14:30:00Z)",
    "money": "an amount (a plain decimal number, e.g. 1250.00)",
    "decimal": "a number",
    "double": "a number",
    "integer": "a whole number",
}


def _quoted(value: ir.Value) -> ir.StringValue:
    text = value.cast("string")
    short = ibis.ifelse(text.length() > _SHOW, text.substr(0, _SHOW) + "...", text)
    return ibis.literal("'") + short + ibis.literal("'")


def _is_missing(raw: ir.Value) -> ir.BooleanValue:
    if raw.type().is_string():
        return raw.isnull() | (raw == "")
    return raw.isnull()


def _parse_timestamp(text: ir.StringValue) -> ir.TimestampValue:
    """ISO-8601 text to naive UTC.

    Text with an offset (``+02:00``, ``-05``) or a zone name goes through the
    zone-aware parser; plain text and ``Z`` take the fast plain parser, which
    would silently drop an offset, hence the split.
    """
    tail = text.substr(10)
    plain = (
        ~tail.contains("+")
        & ~tail.contains("-")
        & ((text.length() <= 26) | text.endswith("Z"))
    )
    zoned = text.try_cast(dt.Timestamp(timezone="UTC")).cast(dt.Timestamp())
    return ibis.ifelse(plain, text.try_cast(dt.Timestamp()), zoned)


def typed_value(col: Column, raw: ir.Value) -> ir.Value:
    """``raw`` converted to the column's warehouse type (null where it cannot be)."""
    target = col.dtype
    src = raw.type()
    if col.kind == "string":
        return raw if src.is_string() else raw.cast("string")
    if col.kind == "timestamp":
        if src.is_timestamp():
            # zone-aware values are converted to UTC; naive ones are taken as UTC
            return raw.cast(dt.Timestamp()) if src.timezone else raw
        if src.is_date():
            return raw.cast(dt.Timestamp())
        return _parse_timestamp(raw.cast("string"))
    if col.kind == "date":
        if src.is_date():
            return raw
        if src.is_timestamp():
            return raw.cast(dt.date)
        return raw.cast("string").try_cast(dt.date)
    if col.kind == "integer":
        exact = raw.try_cast(dt.Decimal(38, 9))
        as_int = raw.try_cast(dt.int64)
        return ibis.ifelse(exact.notnull() & (exact == as_int.cast(dt.Decimal(38, 9))), as_int, None)
    if col.kind in ("money", "decimal"):
        if src.is_floating():
            return ibis.ifelse(raw.isnan() | raw.isinf(), None, raw.try_cast(target))
        return raw.try_cast(target)
    return raw.try_cast(target)


Check = tuple[ir.BooleanValue, ir.StringValue]
"""A rule: the condition under which a value is wrong, and the reason to give."""


def column_checks(
    col: Column,
    raw: ir.Value,
    typed: ir.Value,
    known: Mapping[str, ir.Table],
) -> list[Check]:
    """The rules ``raw`` must pass for ``col``, first to be reported first."""
    missing = _is_missing(raw)
    checks: list[Check] = []
    if col.required:
        checks.append((missing, ibis.literal(f"missing required value: fill in {col.name}")))
    if col.kind != "string":
        checks.append(
            (
                ~missing & typed.isnull(),
                _quoted(raw) + ibis.literal(f" is not {_KIND_WORDS[col.kind]}"),
            )
        )
    if col.choices:
        allowed = ", ".join(col.choices)
        checks.append(
            (
                ~missing & ~typed.isin(list(col.choices)),
                _quoted(raw) + ibis.literal(f" is not one of: {allowed}"),
            )
        )
    if col.minimum is not None:
        checks.append(
            (
                typed.notnull() & (typed < col.minimum),
                _quoted(raw) + ibis.literal(f" is below the minimum of {col.minimum:g}"),
            )
        )
    if col.maximum is not None:
        checks.append(
            (
                typed.notnull() & (typed > col.maximum),
                _quoted(raw) + ibis.literal(f" is above the maximum of {col.maximum:g}"),
            )
        )
    if col.references:
        ref_table, ref_col = col.references.split(".")
        if ref_table in known:
            ref = known[ref_table][ref_col]
            checks.append(
                (
                    ~missing & ~typed.isin(ref),
                    ibis.literal(f"unknown {ref_col} ")
                    + _quoted(raw)
                    + ibis.literal(f": it is not in {ref_table}; import that {ref_table} row first"),
                )
            )
    return checks


def _reason(checks: list[Check]) -> ir.StringValue:
    """The reason of the first rule broken, or null."""
    if not checks:
        return ibis.null(dt.string)
    return ibis.cases(*checks, else_=ibis.null(dt.string))


def _passes(checks: list[Check]) -> ir.BooleanValue:
    """True when no rule is broken (a rule whose condition is null is not broken,
    as in :func:`_reason`'s CASE)."""
    broken = [cond.fill_null(False) for cond, _ in checks]
    if not broken:
        return ibis.literal(True)
    any_broken = broken[0]
    for b in broken[1:]:
        any_broken = any_broken | b
    return ~any_broken


def _row_rules(spec: TableSpec, typed: Mapping[str, ir.Value]) -> dict[str, list[Check]]:
    """Rules across columns of one row, keyed by the column the error is reported on."""
    rules: dict[str, list[Check]] = {}

    def after(later: str, earlier: str, strict: bool, words: str) -> None:
        if later in typed and earlier in typed:
            a, b = typed[later], typed[earlier]
            bad = (a <= b) if strict else (a < b)
            rules.setdefault(later, []).append(
                (a.notnull() & b.notnull() & bad, ibis.literal(words))
            )

    if spec.name == "subscriptions":
        after("end_date", "start_date", True, "end_date must be after start_date (periods are half-open)")
    if spec.name == "contacts":
        after("ended_at", "started_at", False, "ended_at is before started_at")
    if spec.name == "tickets":
        after("resolved_at", "created_at", False, "resolved_at is before created_at")
    if spec.name == "survey_responses" and "score" in typed and "survey" in typed:
        score, survey = typed["score"], typed["survey"]
        rules.setdefault("score", []).extend(
            [
                (
                    (survey == "nps") & score.notnull() & ((score < 0) | (score > 10)),
                    ibis.literal("an NPS score must be between 0 and 10"),
                ),
                (
                    (survey == "csat") & score.notnull() & ((score < 1) | (score > 5)),
                    ibis.literal("a CSAT score must be between 1 and 5"),
                ),
            ]
        )
    return rules


def checked_table(
    raw: ir.Table,
    spec: TableSpec,
    known: Mapping[str, ir.Table],
    extra_columns: list[str],
) -> ir.Table:
    """The staged file with typed contract columns, ``attributes``, ``_err_*`` columns
    and the ``_valid`` flag (no rule broken).

    Contract columns absent from the file are null. ``extra_columns`` (not in the
    contract) are folded into the JSON text column ``attributes``.
    """
    typed: dict[str, ir.Value] = {}
    checks: dict[str, list[Check]] = {}
    for col in spec.columns:
        if col.name in raw.columns:
            value = typed_value(col, raw[col.name])
            typed[col.name] = value
            checks[col.name] = column_checks(col, raw[col.name], value, known)
        else:
            typed[col.name] = ibis.null(col.dtype)
    for name, rules in _row_rules(spec, typed).items():
        checks[name] = checks.get(name, []) + rules  # a value's own rules are reported first
    if extra_columns:
        attrs = ibis.struct({c: raw[c] for c in extra_columns}).cast("json").cast("string")
    else:
        attrs = ibis.null(dt.string)
    out = {name: value.cast(spec.column(name).dtype) for name, value in typed.items()}
    out[ATTRIBUTES] = attrs
    out[ROW] = raw[ROW]
    out.update({f"{ERR}{name}": _reason(rules) for name, rules in checks.items()})
    # the same rules as one flag: cheaper to filter on than the reasons
    out[VALID] = _passes([rule for rules in checks.values() for rule in rules])
    return raw.select(**out)


def error_columns(checked: ir.Table) -> list[str]:
    """Names of the ``_err_*`` columns of a checked table."""
    return [c for c in checked.columns if c.startswith(ERR)]


def valid_rows(checked: ir.Table) -> ir.Table:
    """Rows of ``checked`` with no error (without the ``_valid`` flag)."""
    if VALID in checked.columns:
        return checked.filter(checked[VALID]).drop(VALID)
    errs = error_columns(checked)
    if not errs:
        return checked
    return checked.filter(*[checked[e].isnull() for e in errs])


def row_errors(checked: ir.Table) -> ir.Table:
    """One row per (record, column) error: ``_row``, ``column``, ``reason``."""
    errs = error_columns(checked)
    parts = [
        checked.filter(checked[e].notnull()).select(
            ROW, column=ibis.literal(e.removeprefix(ERR)), reason=checked[e]
        )
        for e in errs
    ]
    if not parts:
        return checked.select(ROW, column=ibis.null(dt.string), reason=ibis.null(dt.string)).limit(0)
    return ibis.union(*parts) if len(parts) > 1 else parts[0]
