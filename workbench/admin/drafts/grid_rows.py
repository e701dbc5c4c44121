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


def _editable_row(row):
    i = row.index
    title = f' value="{escape(row.title)}"' if row.title else ""
    parts = [
        f'<tr id=t{i}{_flag(row.deleted, " class=del")}><th><input name=t{i}.n value="{escape(row.name)}">',
        _errors(row.errors),
        f"<td><input name=t{i}.t{title}>",
        f"<td><textarea name=t{i}.d>\n{textarea_text(row.description)}</textarea>",
    ]
    parts += [
        f'<td{_flag(unset, " class=u")}><input type=checkbox name=t{i}.{code}{_flag(checked, " checked")}>'
        for code, _label, checked, unset in row.hints
    ]
    parts.append(f"<td><details><summary>JSON</summary><textarea name=t{i}.s>\n{textarea_text(row.schema)}")
    removed = _flag(row.deleted, " checked")
    parts.append(f"</textarea></details><td><input type=checkbox name=t{i}.z{removed}>")
    parts += [
        f'<td><input type=checkbox name=t{i}.{j}{_flag(cell, " checked")}>'
        for j, cell in enumerate(row.cells)
    ]
    return "".join(parts)


def _text_row(row):
    parts = [
        f"<tr id=t{row.index}><th><code>{escape(row.name)}</code><td>{escape(row.title)}",
        f"<td>{escape(row.description)}",
    ]
    parts += [
        f'<td{_flag(unset, " class=u")}>{_flag(checked, "✓")}' for _code, _label, checked, unset in row.hints
    ]
    parts.append(f"<td><details><summary>JSON</summary><pre>{escape(row.schema)}</pre></details>")
    parts += [f"<td>{_flag(cell, '✓')}" for cell in row.cells]
    return "".join(parts)


def tool_rows_html(grid):
    """The <tr> of every tool row: inputs while the tools are editable, text otherwise."""
    render = _editable_row if grid.editable else _text_row
    return mark_safe("\n".join(render(row) for row in grid.rows))  # noqa: S308 (each value escaped above)
