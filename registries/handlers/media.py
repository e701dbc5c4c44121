"""Media: `media.register_asset` (keyed by file_ref)."""

from registries.models import MediaAsset

from ._kit import create_row, iso


def register_asset(input, *, context):
    asset = MediaAsset(
        file_ref=input["file_ref"],
        media_type=input["media_type"],
        title=input.get("title", ""),
        size_bytes=input.get("size_bytes"),
        call_id=context.call_id,
        tenant=context.tenant,
    )
    create_row(asset, what="media asset", key="file_ref")
    return {
        "asset_id": asset.pk,
        "file_ref": asset.file_ref,
        "media_type": asset.media_type,
        "registered_at": iso(asset.created_at),
    }
