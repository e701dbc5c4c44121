"""Caps on uploaded files (TSV sheets, tools.registry.json): bytes before a file is read, rows while it is
parsed, so a 50 MB upload is refused with its limit instead of filling a worker's memory. The caps are
settings (`WORKBENCH_UPLOAD_MAX_BYTES`, `WORKBENCH_UPLOAD_MAX_ROWS`; README "Limits")."""

from pathlib import Path

from django import forms
from django.conf import settings

from workbench.kit.refusals import Refusal


def max_bytes():
    return settings.WORKBENCH_UPLOAD_MAX_BYTES


def max_rows():
    return settings.WORKBENCH_UPLOAD_MAX_ROWS


def too_large(size, what="The file"):
    return Refusal(
        413,
        "upload_too_large",
        f"{what} is {size} bytes; at most {max_bytes()} bytes are taken (WORKBENCH_UPLOAD_MAX_BYTES).",
        limit=max_bytes(),
    )


def check_size(size, what="The file"):
    if size > max_bytes():
        raise too_large(size, what)


def read_file(path):
    """The bytes of the file at `path`, refused (413) before reading when it is larger than the cap."""
    path = Path(path)
    check_size(path.stat().st_size, str(path))
    return path.read_bytes()


def check_upload(upload):
    """A form's clean: refuse an uploaded file over the cap before anything reads it."""
    if upload is not None and upload.size > max_bytes():
        raise forms.ValidationError(
            f"The file is {upload.size} bytes; at most {max_bytes()} bytes are taken.",
            code="upload_too_large",
        )
    return upload
