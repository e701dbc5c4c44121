"""Handlers of the seed registry's tools: module = the tool's domain, function = the rest of its name.

`leads.create` -> `registries.handlers.leads.create`; `a.b.c` -> module `a`, function `b_c`.
A handler is `fn(input, *, context) -> result`: `input` is already valid against the tool's
input_schema, `context` is a `registries.services.gateway.ToolContext` (tool, call_id, user, tenant).
It runs inside the gateway's transaction, so its database work commits with the receipt or not at all;
it raises `registries.services.gateway.ToolError` for refusals the caller should see. A model
ValidationError is answered 400 naming `input.<field>`, so name row fields after input fields; read
date-times with `_kit.input_datetime` (it refuses instants no datetime can hold).
"""
