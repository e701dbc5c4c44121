"""export_server_json CONNECTOR[@VERSION] [--output PATH]: a published version's server.json, the bytes the
registry API answers as its `server` member (GET /v0/servers/{name}/versions/{version})."""

from registries.selectors import server_json
from workbench.kit import identifiers as ids
from workbench.kit.commands import RefusalCommand
from workbench.kit.refusals import Refusal


def server_json_bytes(reference):
    """The server.json of `connector[@version]` (the latest version without one)."""
    connector_id, _, version = reference.partition("@")
    version = version or "latest"
    if not ids.validate_connector_id.regex.fullmatch(connector_id) or not (
        version == "latest" or ids.validate_semver.regex.fullmatch(version)
    ):
        raise Refusal(400, "invalid", f"{reference!r} is not CONNECTOR or CONNECTOR@MAJOR.MINOR.PATCH.")
    item = server_json.server_version(connector_id=connector_id, version=version)
    if item is None:
        raise Refusal(404, "not_found", f"No published version {reference} of a connector.")
    return server_json.dumps(item["server"])


class Command(RefusalCommand):
    help = (
        "Export a published connector version as server.json (to stdout unless --output is given): the "
        "bytes the /v0 registry API serves for it."
    )

    def add_arguments(self, parser):
        parser.add_argument("reference", metavar="CONNECTOR[@VERSION]", help="e.g. github or github@1.2.0")
        parser.add_argument("--output", "-o", help="File to write; stdout when omitted.")

    def handle(self, *args, reference, output=None, **options):
        data = server_json_bytes(reference)
        if not output:
            self.stdout.write(data.decode("utf-8"), ending="")
            return
        with open(output, "wb") as handle:
            handle.write(data)
        self.stderr.write(f"Wrote {output}.")
