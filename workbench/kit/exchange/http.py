"""The download of an export: a streaming response, so the first bytes leave before the last row is
read and a file of a million rows never sits in memory."""

from django.http import StreamingHttpResponse

from workbench.kit.exchange import tsv


def tsv_response(resource, within=None):
    response = StreamingHttpResponse(resource.stream(within), content_type=tsv.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{resource.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
