"""Helpers of the draft admin tests: a staff member of a tenant, the admin's URLs, and the card's POST
data as a browser sends it."""

from html.parser import HTMLParser

from django.contrib.admin.utils import quote
from django.forms import MultipleChoiceField
from django.urls import reverse

from tests.workbench.factories import MembershipFactory, StaffFactory
from workbench.models.drafts import STAGE_PATH

PERMS = ["workbench.view_workbenchdraft", "workbench.add_workbenchdraft", "workbench.change_workbenchdraft"]


def staff_member(tenant=None, perms=PERMS, **kwargs):
    user = StaffFactory(perms=list(perms), **kwargs)
    MembershipFactory(user=user, **({"tenant": tenant} if tenant else {}))
    return user


def url(name, *args):
    # As the admin builds them: primary keys quoted ("draft_.." -> "draft_5F..").
    return reverse(f"admin:workbench_workbenchdraft_{name}", args=[quote(arg) for arg in args])


def form_data(response):
    """POST data equal to what a browser submits for the card as rendered."""
    data = {}
    forms = [
        response.context["card"],
        response.context["scopes"].management_form,
        *response.context["scopes"],
    ]
    for form in forms:
        for field in form:
            if field.field.disabled:
                continue
            value = field.value()
            if isinstance(field.field, MultipleChoiceField):
                data[field.html_name] = [str(item) for item in value or []]
            elif isinstance(value, bool):
                if value:
                    data[field.html_name] = "on"
            else:
                data[field.html_name] = "" if value is None else field.field.prepare_value(value)
    return data


def walk_in_admin(client, draft, stage="verification"):
    """Move a draft to `stage` on its card, one save per stage, as staff do; returns the last card page."""
    card = client.get(url("change", draft.pk))
    while STAGE_PATH.index(card.context["draft"].stage) < STAGE_PATH.index(stage):
        data = form_data(card)
        data["stage"] = STAGE_PATH[STAGE_PATH.index(card.context["draft"].stage) + 1]
        saved = client.post(url("change", draft.pk), data)
        assert saved.status_code == 302, saved.context["card"].errors
        card = client.get(url("change", draft.pk))
    return card


class Links(HTMLParser):
    """The links and form actions of a page, as a browser would follow them."""

    def __init__(self, html):
        super().__init__()
        self.hrefs, self.actions = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "form" and attrs.get("action"):
            self.actions.append(attrs["action"])


def draft_links(response, draft):
    links = Links(response.content.decode())
    pick = [href for href in links.hrefs + links.actions if f"/workbenchdraft/{quote(draft.pk)}/" in href]
    return sorted(set(pick))
