"""Draft history's documents, stored by content: each spec or policy document of a revision is one
DraftSnapshot row, keyed by the SHA-256 of its canonical JSON, however many revisions and drafts hold it.

A spec saved with one tool changed is stored as a *delta* against the spec of the draft's previous revision
(the tools that differ, by position, and the other top-level keys that differ), so a revision costs what
it changed. A delta's base is itself a whole document or a delta, at most MAX_DEPTH deltas from a whole
one; a delta that would carry most of the tools is stored whole instead. Readers see whole documents
(`snapshot_content`); the digest is always the whole document's.
"""

import hashlib
import json

from django.db import models

from workbench.kit.jsontext import same_json

#: The longest chain of deltas a read resolves (one query per link).
MAX_DEPTH = 16


def snapshot_digest(content):
    """SHA-256 of the canonical JSON of `content` (keys sorted, no spaces): equal documents, one digest,
    whatever their key order (PostgreSQL's jsonb keeps none)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class SnapshotContentField(models.JSONField):
    """A JSONField that PostgreSQL bulk inserts as VALUES rather than UNNEST arrays: Django 5.2 passes
    the rows of a bulk insert of plain fields as one array per column, and psycopg escapes a 40 KB
    document into an array literal character by character (a regex substitution per quote), several
    milliseconds per save; a placeholder of the field's own turns that path off."""

    def get_placeholder(self, value, compiler, connection):
        return "%s"


class DraftSnapshot(models.Model):
    """A spec or policy document of a draft revision, stored once: whole (`content`), or as `patch`
    against `base` (`depth` deltas from a whole one). Written once (INSERT ... ON CONFLICT DO NOTHING),
    never changed or deleted."""

    digest = models.CharField(primary_key=True, max_length=64, editable=False)
    content = SnapshotContentField(null=True, blank=True)
    base = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    patch = SnapshotContentField(null=True, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "draft snapshot"

    def __str__(self):
        return self.digest[:12]


def make_patch(old, new):
    """What turns document `old` into `new`: the top-level keys set and unset, and of `tools` (both
    lists) its new length and the tools that differ by position; None when a whole copy is as small."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return None
    old_tools, new_tools = old.get("tools"), new.get("tools")
    by_position = isinstance(old_tools, list) and isinstance(new_tools, list)
    patch = {
        "set": {
            key: value
            for key, value in new.items()
            if not (by_position and key == "tools") and (key not in old or not same_json(old[key], value))
        },
        "unset": [key for key in old if key not in new],
    }
    if by_position and not same_json(old_tools, new_tools):
        changed = {
            str(index): tool
            for index, tool in enumerate(new_tools)
            if index >= len(old_tools) or not same_json(old_tools[index], tool)
        }
        if len(changed) * 2 > len(new_tools):
            return None
        patch["tools"] = {"length": len(new_tools), "changed": changed}
    return patch


def apply_patch(document, patch):
    """`document` (changed in place) turned into the one `patch` was made for."""
    for key in patch.get("unset", ()):
        document.pop(key, None)
    document.update(patch.get("set", {}))
    if "tools" in patch:
        tools = (document.get("tools") or [])[: patch["tools"]["length"]]
        tools.extend([None] * (patch["tools"]["length"] - len(tools)))
        for index, tool in patch["tools"]["changed"].items():
            tools[int(index)] = tool
        document["tools"] = tools
    return document


def snapshot_content(snapshot):
    """The whole document of `snapshot` (a row or its digest): its content, or its base's with the
    deltas applied (one query per delta, at most MAX_DEPTH)."""
    if not isinstance(snapshot, DraftSnapshot):
        snapshot = DraftSnapshot.objects.get(pk=snapshot)
    patches = []
    while snapshot.base_id is not None:
        patches.append(snapshot.patch)
        # A fresh row each time: the base's document is changed in place below.
        snapshot = DraftSnapshot.objects.only("content", "base", "patch").get(pk=snapshot.base_id)
    document = snapshot.content
    for patch in reversed(patches):
        document = apply_patch(document, patch)
    return document


def store_snapshots(drafts):
    """The (spec, policy) digests of each draft's content, after making sure a DraftSnapshot row holds
    each document: one INSERT ... ON CONFLICT DO NOTHING for all of them, which writes only the documents
    not stored yet and is safe when two transactions store the same one at once (in digest order, so
    two such inserts never wait on each other crosswise). A draft that says which stored spec it was
    changed from (`spec_base`: (digest, document, depth), set by the save) gets its spec stored as a
    delta of that one."""
    rows, pairs = {}, []
    for draft in drafts:
        pair = []
        # The save may have computed them already (`snapshot_digests`: (document, digest) pairs).
        known = {id(content): digest for content, digest in getattr(draft, "snapshot_digests", ())}
        for name in ("spec_snapshot", "policy_snapshot"):
            content = getattr(draft, name)
            digest = known.get(id(content)) or snapshot_digest(content)
            if digest not in rows:
                base = getattr(draft, "spec_base", None) if name == "spec_snapshot" else None
                rows[digest] = _row(digest, content, base)
            pair.append(digest)
        pairs.append(tuple(pair))
    if rows:
        DraftSnapshot.objects.bulk_create([rows[digest] for digest in sorted(rows)], ignore_conflicts=True)
    return pairs


def _row(digest, content, base):
    if base is not None:
        base_digest, base_document, base_depth = base
        if base_digest != digest and base_depth < MAX_DEPTH:
            patch = make_patch(base_document, content)
            if patch is not None:
                return DraftSnapshot(digest=digest, base_id=base_digest, patch=patch, depth=base_depth + 1)
    return DraftSnapshot(digest=digest, content=content)


class DraftHistoryContent(models.Model):
    """What a history row of a draft holds instead of copies of its snapshots: their digests
    (simple-history's `bases`); `spec_snapshot` and `policy_snapshot` read as the draft's fields did."""

    # No index: nothing looks history rows up by snapshot, and snapshots are never deleted.
    spec_content = models.ForeignKey(
        DraftSnapshot, on_delete=models.PROTECT, related_name="+", db_column="spec_digest", db_index=False
    )
    policy_content = models.ForeignKey(
        DraftSnapshot, on_delete=models.PROTECT, related_name="+", db_column="policy_digest", db_index=False
    )

    class Meta:
        abstract = True

    @property
    def spec_snapshot(self):
        if not hasattr(self, "_spec_snapshot"):
            self._spec_snapshot = snapshot_content(self.spec_content)
        return self._spec_snapshot

    @property
    def policy_snapshot(self):
        if not hasattr(self, "_policy_snapshot"):
            self._policy_snapshot = snapshot_content(self.policy_content)
        return self._policy_snapshot
