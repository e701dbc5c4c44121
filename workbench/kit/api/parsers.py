"""The one JSON parser of the API: a body is read up to a cap and refused whole when it holds what the
rest of the system cannot take (see `workbench.kit.jsontext`), before any view sees it. A body longer than
`WORKBENCH_API_MAX_BODY_BYTES` is a 413 `body_too_large`: Django refuses a declared Content-Length over
DATA_UPLOAD_MAX_MEMORY_SIZE (the same setting) before reading, and this parser reads no further than the
cap whatever the header said."""

from django.conf import settings
from rest_framework.parsers import JSONParser

from workbench.kit import jsontext
from workbench.kit.uploads import body_too_large


def read_capped(stream, limit):
    """Up to `limit` bytes of `stream`; 413 when there is more."""
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise body_too_large()
    return data


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = read_capped(stream, settings.WORKBENCH_API_MAX_BODY_BYTES)
        if not data:
            return {}
        return jsontext.loads(data)
