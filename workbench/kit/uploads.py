"""Caps on request bodies (`body_too_large`) and uploaded files (TSV sheets, tools.registry.json): bytes
while an upload streams in and before a file on disk is read, rows while it is parsed, so a 50 MB upload
is refused with its limit instead of filling a worker's memory. The caps are settings
(`WORKBENCH_API_MAX_BODY_BYTES`, `WORKBENCH_UPLOAD_MAX_BYTES`, `WORKBENCH_UPLOAD_MAX_ROWS`; README
"Limits")."""

from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

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


class CappedUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: counts each file's bytes as they arrive and, past the cap, stops
    handing them to the handlers that store them (memory or a temporary file). The form then gets an empty
    stand-in that knows the real size, and `check_upload` refuses it by its size, with the limit."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        return raw_data if self.received <= max_bytes() else None

    def file_complete(self, file_size):
        if self.received <= max_bytes():
            return None  # the next handler returns the stored file
        stand_in = SimpleUploadedFile(self.file_name, b"", content_type=self.content_type)
        stand_in.size = self.received
        return stand_in


def body_too_large():
    """413 for a request body over DATA_UPLOAD_MAX_MEMORY_SIZE (set from WORKBENCH_API_MAX_BODY_BYTES)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return Refusal(
        413,
        "body_too_large",
        f"The request body is larger than {limit} bytes; send less (the limit is a setting, "
        "WORKBENCH_API_MAX_BODY_BYTES).",
        limit=limit,
    )
