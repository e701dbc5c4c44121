"""The grid's tool rows as HTML. They are written here rather than in the card's template because a
300-tool, 10-scope card has some 6,000 cells: Django's template engine takes a third of a second or more
for them, this a few milliseconds. Every value goes through `escape` (or, inside a textarea, through
`textarea_text`, which escapes what a textarea's content needs)."""

from django.utils.html import escape
from django.utils.safestring import mark_safe


def textarea_text(value):
    """Textarea content escaped only where HTML needs it (`&` and `<`, so `</textarea>` cannot end it):
    quotes stay quotes, which keeps a card of 300 schemas small."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;")


def _errors(messages):
    if not messages:
        return ""
    return "<ul class=errorlist>" + "".join(f"<li>{escape(message)}</li>" for message in messages) + "</ul>"


def _flag(on, text):
    return text if on else ""


def _content(text):
    """Textarea content: the parser drops one leading newline, so one is written only when needed."""
    text = textarea_text(text)
    return "\n" + text if text.startswith("\n") else text


def _schema_cell(row, filled):
    """The row's schema editor. A stored tool's is filled only when opened (by the card's script, from
    `?schemas=json`) unless the page asks for every schema or its text was posted: 300 schemas would
    weigh more than the rest of the card."""
    if not (filled or row.schema_posted):
        return "<td><details><summary>JSON</summary></details>"
    opened = _flag(any("schema" in message.lower() for message in row.errors), " open")
    return (
        f"<td><details{opened}><summary>JSON</summary>"
        f'<textarea name=t{row.index}.s aria-label="Input schema">{_content(row.schema)}</textarea></details>'
    )


def _editable_row(row, filled):
    # Accessible names: the few text inputs carry an aria-label; the checkboxes are named by the table's
    # headers (the row header holds the tool's name, each column has a <th scope=col>), which costs no
    # bytes per cell.
    i = row.index
    title = f' value="{escape(row.title)}"' if row.title else ""
    parts = [
        f'<tr id=t{i}{_flag(row.deleted, " class=del")}><th scope=row>'
        f'<input name=t{i}.n aria-label=Name value="{escape(row.name)}">',
        _errors(row.errors),
        f"<td><input name=t{i}.t aria-label=Title{title}>",
        f"<td><textarea name=t{i}.d aria-label=Description>{_content(row.description)}</textarea>",
    ]
    parts += [
        f'<td{_flag(unset, " class=u")}><input type=checkbox name=t{i}.{code}{_flag(checked, " checked")}>'
        for code, _label, checked, unset in row.hints
    ]
    parts.append(_schema_cell(row, filled))
    parts.append(f"<td><input type=checkbox name=t{i}.z{_flag(row.deleted, ' checked')}>")
    parts += [
        f'<td><input type=checkbox name=t{i}.{j}{_flag(cell, " checked")}>'
        for j, cell in enumerate(row.cells)
    ]
    return "".join(parts)


def _text_row(row):
    parts = [
        f"<tr id=t{row.index}><th scope=row><code>{escape(row.name)}</code><td>{escape(row.title)}",
        f"<td>{escape(row.description)}",
    ]
    parts += [
        f'<td{_flag(unset, " class=u")}>{_flag(checked, "✓")}' for _code, _label, checked, unset in row.hints
    ]
    parts.append(f"<td><details><summary>JSON</summary><pre>{escape(row.schema)}</pre></details>")
    parts += [f"<td>{_flag(cell, '✓')}" for cell in row.cells]
    return "".join(parts)


def tool_rows_html(grid, *, all_schemas=False):
    """The <tr> of every tool row: inputs while the tools are editable (every schema editor filled when
    `all_schemas`), text otherwise."""
    if grid.editable:
        rows = (_editable_row(row, all_schemas) for row in grid.rows)
    else:
        rows = (_text_row(row) for row in grid.rows)
    return mark_safe("\n".join(rows))  # noqa: S308 (each value escaped above)
