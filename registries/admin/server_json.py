"""The connector page's "Download server.json": each published version's server.json, the bytes the /v0
registry API answers as its `server` member and `manage.py export_server_json` writes."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from registries.selectors import server_json
from workbench.kit import identifiers as ids


class ServerJsonDownloads:
    """ModelAdmin mixin of the connector admin: a download URL per version and a link to the latest."""

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/server-json/",
                self.admin_site.admin_view(self.server_json_view),
                name=f"{opts.app_label}_{opts.model_name}_server_json",
            ),
            *super().get_urls(),
        ]

    def server_json_url(self, connector, version="latest"):
        opts = self.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_server_json", args=[connector.pk])
        return f"{url}?{urlencode({'version': version})}"

    def server_json_view(self, request, object_id):
        """?version=MAJOR.MINOR.PATCH, or the latest version without one."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        connector = self.get_object(request, unquote(object_id))
        if connector is None:
            raise Http404("No such connector.")
        version = request.GET.get("version") or "latest"
        item = None
        if version == "latest" or ids.validate_semver.regex.fullmatch(version):
            item = server_json.server_version(connector_id=connector.connector_id, version=version)
        if item is None:
            raise Http404("No such published version.")
        response = HttpResponse(server_json.dumps(item["server"]), content_type="application/json")
        filename = f"{connector.connector_id}-{item['server']['version']}.server.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.display(description="server.json")
    def server_json_download(self, obj):
        if obj is None or obj.pk is None or obj.latest_spec_id is None:
            return "-"
        return format_html(
            '<a class="button" href="{}" download>Download server.json</a> (latest version; each version '
            "has its own in the table above)",
            self.server_json_url(obj),
        )
