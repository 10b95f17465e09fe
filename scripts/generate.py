#!/usr/bin/env python3
"""Writes every file derived from the stream schemas and the stream registry.

    python3 scripts/generate.py          # (re)write the derived files
    python3 scripts/generate.py --check  # exit 1 and list the stale files, write nothing

Sources (the one truth): resources/schemas/<stream>.json, resources/streams.json and, for the
settings' defaults and ranges, resources/spec.json.
Derived files:
  snowflake/app/sql/tables.sql                   the Native App's table DDL (create + evolve)
  snowflake/app/python/orchestra_app/schema.py   the Python loader's field map, MERGE statements and
                                                 the spec's setting defaults and ranges
  docs/streams.md                                the field reference per stream
  snowflake/app/python/orchestra_app.zip         the handler package as the app imports it
                                                 (IMPORTS = ('/python/orchestra_app.zip'))
Derived regions of hand-written files (between `-- GENERATED BEGIN <region>` and
`-- GENERATED END <region>` lines, so the files still read top to bottom):
  snowflake/app/setup_script.sql    per-stream SELECT grants, get_<stream>/load_<stream> routines
  snowflake/app/sql/state.sql       the stream list and per-table row counts of public.sync_status
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "resources" / "schemas"
REGISTRY = ROOT / "resources" / "streams.json"
SPEC = ROOT / "resources" / "spec.json"
COMMAND = "python3 scripts/generate.py"

TABLES_SQL = ROOT / "snowflake" / "app" / "sql" / "tables.sql"
SCHEMA_PY = ROOT / "snowflake" / "app" / "python" / "orchestra_app" / "schema.py"
STREAMS_MD = ROOT / "docs" / "streams.md"
SETUP_SQL = ROOT / "snowflake" / "app" / "setup_script.sql"
STATE_SQL = ROOT / "snowflake" / "app" / "sql" / "state.sql"
PACKAGE_DIR = SCHEMA_PY.parent
PACKAGE_ZIP = PACKAGE_DIR.parent / "orchestra_app.zip"

# Timestamps reach the MERGE canonicalised by the loader to exactly this shape, so parsing never
# depends on the consumer's TIMESTAMP_INPUT_FORMAT.
TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.FFTZH:TZM'
# Columns the app adds to every table, after the schema's properties.
LOADED_AT = "loaded_at"
EXTRA_FIELDS = "_extra_fields"

# Snowflake's reserved keywords plus the ANSI ones it reserves, and DuckDB's (fakesnow runs the
# tests on DuckDB). A column with one of these names is double-quoted in upper case, which in
# Snowflake names the same column as the unquoted identifier, so users still write `commit`.
RESERVED = frozenset(
    """
    account all alter and any as asc between by case cast check column commit connect connection
    constraint create cross current current_date current_time current_timestamp current_user
    database default delete desc distinct do drop else end except exists false fetch following
    for foreign from full grant group gscluster having ilike in increment inner insert intersect
    into is issue join lateral left like limit localtime localtimestamp minus natural not null of
    offset on only or order organization primary qualify references regexp revoke right rlike
    rollback row rows sample schema select set some start table tablesample then to trigger true
    try_cast union unique update using values view when whenever where window with
    """.split()
)


STREAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # string | timestamp | integer | number | boolean | variant
    sql_type: str
    required: bool
    description: str
    json_type: str

    @property
    def ident(self) -> str:
        return quote(self.name)


@dataclass(frozen=True)
class Stream:
    name: str
    path: str
    primary_key: str
    cursor_field: str
    status_field: str
    open_statuses: tuple[str, ...]
    id_filter: str | None
    filters: dict[str, str]
    title: str
    description: str
    columns: tuple[Column, ...]


def quote(name: str) -> str:
    return f'"{name.upper()}"' if name.lower() in RESERVED else name


def column_of(name: str, prop: dict, required: bool) -> Column:
    types = prop.get("type", "string")
    types = [types] if isinstance(types, str) else list(types)
    non_null = [t for t in types if t != "null"]
    if len(non_null) != 1:
        raise SystemExit(f"schema property {name!r}: expected one non-null type, got {types}")
    json_type = non_null[0]
    if json_type == "string" and prop.get("format") == "date-time":
        kind, sql_type = "timestamp", "TIMESTAMP_TZ"
    else:
        kind, sql_type = {
            "string": ("string", "VARCHAR"),
            "integer": ("integer", "NUMBER(38,0)"),
            "number": ("number", "FLOAT"),
            "boolean": ("boolean", "BOOLEAN"),
            "object": ("variant", "VARIANT"),
            "array": ("variant", "VARIANT"),
        }.get(json_type, ("", ""))
        if not kind:
            raise SystemExit(f"schema property {name!r}: unsupported JSON type {json_type!r}")
    shown = json_type + (" (date-time)" if kind == "timestamp" else "")
    return Column(name, kind, sql_type, required, prop.get("description", ""), shown)


def load_streams() -> list[Stream]:
    registry = json.loads(REGISTRY.read_text())
    streams = []
    for entry in registry["streams"]:
        # The name becomes a table, routine names (core.get_<name>, core.load_<name>) and Python
        # handler names: it must be a plain identifier that needs no quoting anywhere.
        if not STREAM_NAME.match(entry.get("name", "")) or entry["name"] in RESERVED:
            raise SystemExit(
                f"resources/streams.json: stream name {entry.get('name')!r} must be lower-case letters, digits "
                "and underscores, start with a letter and not be an SQL keyword"
            )
        if entry["name"] in [s.name for s in streams]:
            raise SystemExit(f"resources/streams.json: stream {entry['name']!r} is listed twice")
        if not (SCHEMAS / f"{entry['name']}.json").exists():
            raise SystemExit(f"{entry['name']}: no schema file resources/schemas/{entry['name']}.json")
        schema = json.loads((SCHEMAS / f"{entry['name']}.json").read_text())
        required = set(schema.get("required", []))
        columns = tuple(
            column_of(name, prop, name in required) for name, prop in schema["properties"].items()
        )
        names = [c.name for c in columns]
        for reserved in (LOADED_AT, EXTRA_FIELDS):
            if reserved in names:
                raise SystemExit(f"{entry['name']}: schema property {reserved!r} clashes with an app column")
        for field in (entry["primary_key"], entry["cursor_field"], entry["status_field"]):
            if field not in names:
                raise SystemExit(f"{entry['name']}: registry field {field!r} is not in the schema")
        streams.append(
            Stream(
                name=entry["name"],
                path=entry["path"],
                primary_key=entry["primary_key"],
                cursor_field=entry["cursor_field"],
                status_field=entry["status_field"],
                open_statuses=tuple(entry["open_statuses"]),
                id_filter=entry["id_filter"],
                filters=dict(entry["filters"]),
                title=schema.get("title", entry["name"]),
                description=schema.get("description", ""),
                columns=columns,
            )
        )
    return streams


# ---------------------------------------------------------------------------------------------
# snowflake/app/sql/tables.sql


def tables_sql(streams: list[Stream]) -> str:
    out = [
        f"-- GENERATED by `{COMMAND}` from resources/schemas/*.json. Do not edit by hand.",
        "-- Run by setup_script.sql on every install and upgrade: tables are created IF NOT EXISTS and",
        "-- new schema properties are added with ADD COLUMN IF NOT EXISTS, so an upgrade never loses data.",
        "",
        "CREATE SCHEMA IF NOT EXISTS public;",
    ]
    for s in streams:
        out += ["", f"-- {s.name}: {s.description}", f"CREATE TABLE IF NOT EXISTS public.{s.name} ("]
        defs = [
            f"    {c.ident} {c.sql_type}" + (" NOT NULL" if c.name == s.primary_key else "")
            for c in s.columns
        ]
        defs.append(f"    {LOADED_AT} TIMESTAMP_TZ")
        defs.append(f"    {EXTRA_FIELDS} VARIANT")
        out.append(",\n".join(defs))
        out.append(");")
        for c in s.columns:
            if c.name != s.primary_key:
                out.append(f"ALTER TABLE public.{s.name} ADD COLUMN IF NOT EXISTS {c.ident} {c.sql_type};")
        out.append(f"ALTER TABLE public.{s.name} ADD COLUMN IF NOT EXISTS {LOADED_AT} TIMESTAMP_TZ;")
        out.append(f"ALTER TABLE public.{s.name} ADD COLUMN IF NOT EXISTS {EXTRA_FIELDS} VARIANT;")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# snowflake/app/python/orchestra_app/schema.py


def source_expr(c: Column) -> str:
    """How the MERGE reads one field from a loader element {"s": seq, "r": record, "x": extras}."""
    ref = f'e.value:"r":"{c.name}"'
    return {
        "string": f"{ref}::VARCHAR",
        "timestamp": f"TO_TIMESTAMP_TZ({ref}::VARCHAR, '{TIMESTAMP_FORMAT}')",
        "integer": f"{ref}::NUMBER(38,0)",
        "number": f"{ref}::FLOAT",
        "boolean": f"{ref}::BOOLEAN",
        "variant": f"STRIP_NULL_VALUE({ref})",
    }[c.kind]


def merge_sql(s: Stream) -> str:
    """One set-based MERGE per batch of pages; `{pages}` becomes `(?), (?), ...`, one per page."""
    cols = list(s.columns)
    selects = [f"        {source_expr(c)} AS {c.ident}" for c in cols]
    selects.append(f'        STRIP_NULL_VALUE(e.value:"x") AS {EXTRA_FIELDS}')
    cursor = next(c for c in cols if c.name == s.cursor_field)
    pk = next(c for c in cols if c.name == s.primary_key)
    # Within a batch the newest version of a record wins; among equal versions the last fetched.
    order = f'{source_expr(cursor)} DESC NULLS LAST, e.value:"s"::NUMBER DESC'
    targets = [c.ident for c in cols] + [LOADED_AT, EXTRA_FIELDS]
    values = [f"s.{c.ident}" for c in cols] + ["CURRENT_TIMESTAMP()", f"s.{EXTRA_FIELDS}"]
    updates = [f"{c.ident} = s.{c.ident}" for c in cols if c.name != s.primary_key]
    updates += [f"{LOADED_AT} = CURRENT_TIMESTAMP()", f"{EXTRA_FIELDS} = s.{EXTRA_FIELDS}"]
    # Never let an older copy (a stale page) overwrite a newer row. Equal cursors update, so a
    # field that changed without moving the cursor (and every operation re-read) still lands.
    cc = cursor.ident
    guard = f" AND (t.{cc} IS NULL OR s.{cc} IS NULL OR s.{cc} >= t.{cc})"
    return "\n".join(
        [
            f"MERGE INTO public.{s.name} AS t",
            "USING (",
            "    SELECT",
            ",\n".join(selects),
            "    FROM (SELECT PARSE_JSON(column1) AS page FROM VALUES {pages}) AS p,",
            "        LATERAL FLATTEN(input => p.page) AS e",
            f'    QUALIFY ROW_NUMBER() OVER (PARTITION BY e.value:"r":"{pk.name}"::VARCHAR ORDER BY {order}) = 1',
            ") AS s",
            f"ON t.{pk.ident} = s.{pk.ident}",
            f"WHEN MATCHED{guard} THEN UPDATE SET",
            "    " + ",\n    ".join(updates),
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(targets)})",
            f"    VALUES ({', '.join(values)})",
        ]
    )


def py_literal(value: object, indent: int) -> str:
    """Deterministic, ruff-clean Python literal for the generated module."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}    {json.dumps(k)}: {py_literal(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "()"
        items = [f"{pad}    {py_literal(v, indent + 4)}," for v in value]
        return "(\n" + "\n".join(items) + f"\n{pad})"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str) and "\n" in value:
        lines = value.split("\n")
        body = "\n".join(f"{pad}    {json.dumps(line + chr(10))}" for line in lines[:-1])
        body += f"\n{pad}    {json.dumps(lines[-1])}"
        return "(\n" + body + f"\n{pad})"
    return json.dumps(value)


def spec_settings() -> dict[str, dict[str, object]]:
    """Each connector option's type, default (as the text a config.settings row holds) and range,
    from resources/spec.json, so the app's settings cannot drift from the connector's."""
    props = json.loads(SPEC.read_text())["connectionSpecification"]["properties"]
    out: dict[str, dict[str, object]] = {}
    for name, prop in props.items():
        if prop.get("airbyte_secret"):
            continue  # the key is never a setting: core.set_api_key puts it in the secret
        entry: dict[str, object] = {"type": prop["type"]}
        default = prop.get("default")
        if isinstance(default, bool):
            entry["default"] = "true" if default else "false"
        elif isinstance(default, list):
            entry["default"] = ",".join(str(v) for v in default)
        else:
            entry["default"] = "" if default is None else str(default)
        for bound in ("minimum", "maximum"):
            if bound in prop:
                entry[bound] = prop[bound]
        out[name] = entry
    return out


def schema_py(streams: list[Stream]) -> str:
    data = {}
    for s in streams:
        data[s.name] = {
            "name": s.name,
            "path": s.path,
            "primary_key": s.primary_key,
            "cursor_field": s.cursor_field,
            "status_field": s.status_field,
            "open_statuses": list(s.open_statuses),
            "id_filter": s.id_filter,
            "filters": s.filters,
            "table": f"public.{s.name}",
            "columns": [[c.name, c.kind, c.sql_type] for c in s.columns],
            "merge_sql": merge_sql(s),
        }
    return "\n".join(
        [
            f'"""GENERATED by `{COMMAND}` from resources/schemas/*.json and resources/streams.json.',
            "",
            "Do not edit by hand. Each stream: the registry entry, its columns as (name, kind, Snowflake type)",
            "in table order, and the MERGE that upserts a batch of pages into its table. SPEC_SETTINGS: each",
            "option of resources/spec.json but the key, with its type, default (as settings text) and range.",
            '"""',
            "",
            f"EXTRA_FIELDS = {json.dumps(EXTRA_FIELDS)}",
            f"LOADED_AT = {json.dumps(LOADED_AT)}",
            f"TIMESTAMP_FORMAT = {json.dumps(TIMESTAMP_FORMAT)}",
            "",
            f"STREAMS: dict = {py_literal(data, 0)}",
            "",
            f"SPEC_SETTINGS: dict = {py_literal(spec_settings(), 0)}",
            "",
        ]
    )


# ---------------------------------------------------------------------------------------------
# docs/streams.md


def md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def streams_md(streams: list[Stream]) -> str:
    out = [
        f"<!-- GENERATED by `{COMMAND}` from resources/schemas/*.json and resources/streams.json. "
        "Do not edit by hand. -->",
        "",
        "# Stream field reference",
        "",
        "The streams of the Airbyte source and the tables of the Snowflake Native App (one per stream)",
        "share these fields. Records are snake_case: the API's top-level camelCase keys are converted",
        "(`pipelineVersionNumber` becomes `pipeline_version_number`); nested objects stay exactly as the",
        "API sent them. Every field is present in every record (null when the API omitted it); fields",
        "the API adds later pass through (Airbyte: as extra record fields; Snowflake: in",
        f"`{EXTRA_FIELDS}`). Timestamps are ISO 8601 strings with an offset in records and",
        "`TIMESTAMP_TZ` in Snowflake.",
        "",
        "| Stream | API path | Primary key | Cursor | Status field | Re-polled while | Re-poll filter |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in streams:
        open_ = ", ".join(s.open_statuses) or "(never: its records do not change)"
        out.append(
            f"| `{s.name}` | `GET {s.path}` | `{s.primary_key}` | `{s.cursor_field}` | "
            f"`{s.status_field}` | {open_} | {f'`{s.id_filter}`' if s.id_filter else '-'} |"
        )
    for s in streams:
        out += [
            "",
            f"## {s.name}",
            "",
            md_escape(s.description),
            "",
            f"Snowflake table: `public.{s.name}`.",
            "",
            "| Field | JSON type | Snowflake type | Required | Description |",
            "|---|---|---|---|---|",
        ]
        for c in s.columns:
            out.append(
                f"| `{c.name}` | {c.json_type} | `{c.sql_type}` | {'yes' if c.required else 'no'} | "
                f"{md_escape(c.description)} |"
            )
        out.append(
            f"| `{LOADED_AT}` | (Snowflake only) | `TIMESTAMP_TZ` | yes | When the row was last merged |"
        )
        out.append(
            f"| `{EXTRA_FIELDS}` | (Snowflake only) | `VARIANT` | no | "
            "Top-level fields the API sent that the schema does not list yet (snake_case keys) |"
        )
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Regions of hand-written files: snowflake/app/setup_script.sql and snowflake/app/sql/state.sql

REGION = re.compile(r"^([ \t]*)-- GENERATED BEGIN ([\w ]+?)(?: \(.*\))?$")
# The routine text the setup script's Scripting block builds; `python`, `loader` and `bind` are
# variables it declares (the runtime, the runtime with pandas, the integration and secret).
GET_FN = (
    "EXECUTE IMMEDIATE 'CREATE OR REPLACE FUNCTION core.get_{name}({params}) RETURNS VARIANT' || python || "
    "' HANDLER = ''orchestra_app.udfs.get_{name}''' || bind;"
)
LOAD_PROC = (
    "EXECUTE IMMEDIATE 'CREATE OR REPLACE PROCEDURE core.load_{name}() RETURNS VARIANT' || loader || "
    "' HANDLER = ''orchestra_app.handlers.load_{name}''' || bind || ' EXECUTE AS OWNER';"
)
# core.get_<stream>: page and page size (the README's examples), or with an explicit time window.
GET_OVERLOADS = (
    ("page NUMBER DEFAULT 1, per_page NUMBER DEFAULT 100", "NUMBER, NUMBER"),
    (
        "page NUMBER, per_page NUMBER, time_from TIMESTAMP_TZ, time_to TIMESTAMP_TZ",
        "NUMBER, NUMBER, TIMESTAMP_TZ, TIMESTAMP_TZ",
    ),
)


def setup_regions(streams: list[Stream]) -> dict[str, list[str]]:
    grants = [f"GRANT SELECT ON TABLE public.{s.name} TO APPLICATION ROLE app_viewer;" for s in streams]
    routines = []
    for s in streams:
        for params, types in GET_OVERLOADS:
            routines.append(GET_FN.format(name=s.name, params=params))
            routines.append(f"GRANT USAGE ON FUNCTION core.get_{s.name}({types}) TO APPLICATION ROLE app_admin;")
        routines.append(LOAD_PROC.format(name=s.name))
        routines.append(f"GRANT USAGE ON PROCEDURE core.load_{s.name}() TO APPLICATION ROLE app_admin;")
    return {"viewer grants": grants, "stream routines": routines}


def state_regions(streams: list[Stream]) -> dict[str, list[str]]:
    values = ", ".join(f"('{s.name}')" for s in streams)
    rows = []
    for i, s in enumerate(streams):
        if i:
            rows.append("UNION ALL")
        rows.append(
            f"SELECT '{s.name}' AS stream, COUNT(*) AS row_count, MAX({LOADED_AT}) AS last_loaded_at "
            f"FROM public.{s.name}"
        )
    return {"stream list": [f"SELECT column1 AS stream FROM VALUES {values}"], "table rows": rows}


def fill_regions(path: Path, regions: dict[str, list[str]]) -> str:
    """The file with each region's lines replaced (indented like its BEGIN line); everything
    outside the markers is kept byte for byte."""
    where = path.relative_to(ROOT)
    lines = path.read_text().split("\n")
    out: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(lines):
        out.append(lines[i])
        m = REGION.match(lines[i])
        i += 1
        if not m:
            continue
        indent, name = m.group(1), m.group(2)
        if name not in regions:
            raise SystemExit(f"{where}: unknown generated region {name!r} (known: {', '.join(regions)})")
        end = f"{indent}-- GENERATED END {name}"
        try:
            stop = lines.index(end, i)
        except ValueError:
            raise SystemExit(f"{where}: region {name!r} has no closing line {end.strip()!r}") from None
        out += [indent + line for line in regions[name]]
        out.append(end)
        seen.add(name)
        i = stop + 1
    missing = [name for name in regions if name not in seen]
    if missing:
        raise SystemExit(
            f"{where}: no '-- GENERATED BEGIN {missing[0]}' line; restore the marker pair so the generator "
            "knows where that region's lines go"
        )
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------


def package_zip(generated: dict[Path, str]) -> bytes:
    """The handler package, byte-for-byte reproducible: sorted entries, fixed dates, no compression
    (compressed bytes could differ between zlib builds and make --check flap)."""
    buffer = io.BytesIO()
    sources = {p: p.read_bytes() for p in PACKAGE_DIR.glob("*.py")}
    for path, text in generated.items():
        if path.parent == PACKAGE_DIR:
            sources[path] = text.encode()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(sources):
            info = zipfile.ZipInfo(f"orchestra_app/{path.name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, sources[path])
    return buffer.getvalue()


def outputs() -> dict[Path, str | bytes]:
    streams = load_streams()
    texts: dict[Path, str] = {
        TABLES_SQL: tables_sql(streams),
        SCHEMA_PY: schema_py(streams),
        STREAMS_MD: streams_md(streams),
    }
    result: dict[Path, str | bytes] = dict(texts)
    result[PACKAGE_ZIP] = package_zip(texts)
    result[SETUP_SQL] = fill_regions(SETUP_SQL, setup_regions(streams))
    result[STATE_SQL] = fill_regions(STATE_SQL, state_regions(streams))
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="list stale files and exit 1; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for path, content in outputs().items():
        data = content.encode() if isinstance(content, str) else content
        if path.exists() and path.read_bytes() == data:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    if args.check:
        if stale:
            print("Generated files are stale (run `" + COMMAND + "` and commit the result):", file=sys.stderr)
            for p in stale:
                print(f"  {p}", file=sys.stderr)
            return 1
        print("generated files are current")
        return 0
    for p in stale:
        print(f"wrote {p}")
    if not stale:
        print("generated files were already current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
