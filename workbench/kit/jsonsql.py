"""Parts of a JSON column read in SQL, so a query returns what it needs of a large document (how many
scopes a draft has, not its tools) instead of the whole of it. SQLite and PostgreSQL, the databases the
project runs on: each expression gives the same JSON on both, decoded by JSONField as the column would
be, and the same as Python reading the whole document.

Keys are plain names (letters, digits, underscores), quoted in JSON paths passed as query parameters,
never formatted into the SQL.
"""

import re

from django.db import NotSupportedError
from django.db.models import Func, JSONField

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _path(keys):
    # Plain names only: SQLite's path language has no escapes, so a quote in a key could not be written.
    if not keys:
        raise ValueError("name at least one key")
    for key in keys:
        if not isinstance(key, str) or not _NAME.fullmatch(key):
            raise ValueError(f"not a plain key name: {key!r}")
    return "$" + "".join(f'."{key}"' for key in keys)


def _sqlite_value(sql, path):
    # json_extract gives true and false as 1 and 0; a string as SQL text and an object or array as
    # JSON, which json_array takes as they are.
    return (
        f"CASE json_type({sql}, %s) WHEN 'true' THEN json('true') WHEN 'false' THEN json('false')"
        f" ELSE json_extract({sql}, %s) END"
    ), [path, path]


class _JsonSql(Func):
    output_field = JSONField()

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"{type(self).__name__} is written for SQLite and PostgreSQL only.")

    def _compiled(self, compiler, index=0):
        return compiler.compile(self.get_source_expressions()[index])


class JsonValues(_JsonSql):
    """[the value at each of `paths`] of the column, as a JSON array: each path is a tuple of keys
    (objects all the way down); None where a key is missing, the value is null, or something on the
    way is not an object."""

    def __init__(self, column, *paths):
        self.paths = [tuple(keys) for keys in paths]
        for keys in self.paths:
            _path(keys)
        super().__init__(column)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = self._compiled(compiler)
        values = ", ".join([f"{sql} #> %s::text[]"] * len(self.paths))
        return f"jsonb_build_array({values})", [
            value for keys in self.paths for value in (*params, list(keys))
        ]

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = self._compiled(compiler)
        parts, all_params = [], []
        for keys in self.paths:
            part, part_params = _sqlite_value(sql, _path(keys))
            parts.append(part)
            all_params += [*params, part_params[0], *params, part_params[1]]
        return f"json_array({', '.join(parts)})", all_params


class StringCounts(_JsonSql):
    """[how many different strings `item_key` the objects of the array at `keys` hold, how many of them
    are keys of the object at `keyed_in` = (column, *keys)], as a JSON array. Items that are not
    objects, or whose `item_key` is missing or not a string, do not count; no array: [0, 0]; no object
    at `keyed_in`: none is keyed. Counts, not the strings: what is read does not grow with the array."""

    def __init__(self, column, *keys, item_key, keyed_in):
        self.array, self.item = _path(keys), _path([item_key])
        self.keyed_keys = list(keyed_in[1:])
        self.keyed = _path(self.keyed_keys)
        super().__init__(column, keyed_in[0])

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = self._compiled(compiler)
        other, other_params = self._compiled(compiler, 1)
        item = self.item[1:]
        # strict: a non-array or non-object on the way is an error, which silent (the last argument)
        # turns into no item; in the filter, an error is "unknown", so that item is left out.
        path = f'strict {self.array}[*] ? (@{item}.type() == "string"){item}'
        keyed, keys = f"({other} #> %s::text[])", self.keyed_keys
        strings = f"jsonb_path_query_array({sql}, %s::jsonpath, '{{}}'::jsonb, true)"
        return (
            "(SELECT jsonb_build_array(count(DISTINCT string.value), count(DISTINCT string.value)"
            f" FILTER (WHERE jsonb_typeof({keyed}) = 'object' AND {keyed} ? string.value))"
            f" FROM jsonb_array_elements_text({strings}) AS string(value))"
        ), [*other_params, keys, *other_params, keys, *params, path]

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = self._compiled(compiler)
        other, other_params = self._compiled(compiler, 1)
        # A name of printable ASCII without a quote or a backslash is stored as it is, so it is looked up
        # by path (the object parsed once per row: SQLite keeps the last documents it parsed); any other
        # is stored escaped, which a path does not match, so the object's keys are walked for it.
        keyed = (
            f"CASE WHEN json_type({other}, %s) = 'object' THEN"
            " CASE WHEN name GLOB '*[^ -~]*' OR instr(name, '\"') OR instr(name, '\\')"
            f" THEN EXISTS (SELECT 1 FROM json_each({other}, %s) AS keyed WHERE keyed.key = name)"
            f" ELSE json_type({other}, %s || '.\"' || name || '\"') IS NOT NULL END END"
        )
        keyed_params = [*other_params, self.keyed, *other_params, self.keyed, *other_params, self.keyed]
        # CASE, not AND: json_type on an item's value is only safe once the item is known to be an
        # object (a string item's value is its bare text, not JSON).
        return (
            f"CASE WHEN json_type({sql}, %s) = 'array' THEN (SELECT json_array(count(DISTINCT name),"
            f" count(DISTINCT CASE WHEN {keyed} THEN name END))"
            f" FROM (SELECT json_extract(part.value, %s) AS name FROM json_each({sql}, %s) AS part"
            " WHERE CASE WHEN part.type = 'object' THEN json_type(part.value, %s) END = 'text'))"
            " ELSE json_array(0, 0) END"
        ), [*params, self.array, *keyed_params, self.item, *params, self.array, self.item]
