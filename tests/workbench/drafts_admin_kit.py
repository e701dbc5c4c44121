"""Helpers of the draft admin tests: a staff member of a tenant, the admin's URLs, and the card's POST
data as a browser sends it."""

from html.parser import HTMLParser

from django.contrib.admin.utils import quote
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


class FormFields(HTMLParser):
    """The successful controls of one form as a browser submits them (inputs, checked boxes, textareas,
    selected options), leaving out disabled ones, submit buttons and anything inside a <template>."""

    def __init__(self, html, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.template = form_id, False, 0
        self.fields = []  # (name, value) in page order
        self.textarea = self.select = None
        self.options = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "template":
            self.template += 1
        if self.template or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value") or "on"))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self.fields.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self.textarea = [name, ""]
        elif tag == "select" and name:
            self.select, self.options = (name, "multiple" in attrs), []
        elif tag == "option" and self.select:
            self.options.append((attrs.get("value", ""), "selected" in attrs))

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "template" and self.inside:
            self.template -= 1
        elif tag == "textarea" and self.textarea is not None:
            # The HTML parser drops the newline right after <textarea>; browsers send CRLF line ends.
            name, text = self.textarea
            self.fields.append((name, text.removeprefix("\n").replace("\n", "\r\n")))
            self.textarea = None
        elif tag == "select" and self.select:
            (name, multiple), chosen = self.select, [value for value, selected in self.options if selected]
            if not multiple and not chosen and self.options:
                chosen = [self.options[0][0]]
            self.fields.extend((name, value) for value in chosen)
            self.select = None


def form_fields(response, form_id="draft-card-form"):
    """(name, value) pairs of the card form as a browser submits it, in page order."""
    return FormFields(response.content.decode(), form_id).fields


def form_data(response, form_id="draft-card-form"):
    """POST data equal to what a browser submits for the card as rendered (a list where a name repeats)."""
    data = {}
    for name, value in form_fields(response, form_id):
        if name in data:
            data[name] = [*data[name], value] if isinstance(data[name], list) else [data[name], value]
        else:
            data[name] = value
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
