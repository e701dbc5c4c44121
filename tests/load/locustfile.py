"""The load mix of `make load` (locust, headless; `python -m tests.load` starts the server and runs this).

Every simulated user runs at a fixed rate (`constant_throughput`), so the offered load is
LOAD_RATE tasks per second in all, whatever the server's latency. The mix, by weight:

- 5 list reads as the superuser: connectors, firearms, tools, scopes, engine routes, receipts, drafts;
- 3 draft saves as `demo-editor` (owner of the dev tenant `acme`): PATCH a draft of a shared pool with
  If-Match set to the revision this user last saw. Users edit each other's drafts, so a save based on
  a revision someone else has moved answers 412 (409 if the draft changed state): an expected answer,
  counted as a revision conflict; the user then reads the draft again for its new ETag;
- 2 tool invokes as the superuser, with an Idempotency-Key: `os.list_tasks` (safe-retry; a new key
  runs the handler, one in five repeats the user's previous key and is replayed) and `os.create_task`
  (mode none: every call inserts a task).

Any other answer is an error. At the end it prints throughput, p50/p99 latency, the error count and
the number of 5xx, and exits 1 on any error or 5xx. Configured by the environment: LOAD_ADMIN_TOKEN,
LOAD_EDITOR_TOKEN, LOAD_RATE (tasks/s in all, default 30) and LOAD_USERS (default 10), which must
match locust's --users.
"""

import itertools
import os
import random
import uuid

from locust import HttpUser, constant_throughput, events, task

ADMIN_TOKEN = os.environ["LOAD_ADMIN_TOKEN"]
EDITOR_TOKEN = os.environ["LOAD_EDITOR_TOKEN"]
RATE = float(os.environ.get("LOAD_RATE", "30"))
USERS = int(os.environ.get("LOAD_USERS", "10"))
TENANT = "acme"

LISTS = [
    "/api/v1/connectors/",
    "/api/v1/firearms/",
    "/api/v1/tools/",
    "/api/v1/scopes/",
    "/api/v1/engine-routes/",
    "/api/v1/receipts/",
    "/api/v1/drafts/",
]
DRAFTS = "/api/v1/drafts/"
DRAFT = "/api/v1/drafts/[id]/"

# Drafts every user may save (one created by each user when it starts); one locust process, so a
# module-level list is shared by all users.
draft_pool = []
counts = {"conflicts": 0, "server_errors": 0}
verdict = {}


def _headers(token, **extra):
    return {"Authorization": f"Token {token}", "Accept": "application/json", **extra}


def _problem(response):
    """`<status> <problem code>` for an error report that groups by cause, not by body."""
    if not response.status_code:
        return f"no answer ({type(response.error).__name__})"
    try:
        code = response.json().get("code", "")
    except ValueError:
        code = ""
    return f"{response.status_code} {code}".strip()


def _expect(response, *statuses):
    if response.status_code in statuses:
        response.success()
    else:
        response.failure(f"unexpected {_problem(response)}")


class WorkbenchUser(HttpUser):
    wait_time = constant_throughput(RATE / USERS)

    def on_start(self):
        self.seen = {}  # draft id -> the revision this user last read
        self.invoke_ids = itertools.count()
        self.last_key = None
        name = f"load-{uuid.uuid4().hex[:12]}"
        body = {"tenant": TENANT, "connector_id": name}  # a new connector: version 1.0.0, no tools
        with self.client.post(
            DRAFTS, json=body, headers=_headers(EDITOR_TOKEN), name=DRAFTS, catch_response=True
        ) as response:
            _expect(response, 201)
        if response.status_code == 201:
            draft = response.json()
            self.seen[draft["id"]] = draft["revision"]
            draft_pool.append({"id": draft["id"], "spec": draft["spec_snapshot"]})

    @task(5)
    def list_read(self):
        path = random.choice(LISTS)
        with self.client.get(path, headers=_headers(ADMIN_TOKEN), name=path, catch_response=True) as response:
            _expect(response, 200)

    @task(3)
    def draft_save(self):
        if not draft_pool:
            return
        draft = random.choice(draft_pool)
        url = f"{DRAFTS}{draft['id']}/"
        if draft["id"] not in self.seen and not self._read_draft(url, draft["id"]):
            return
        spec = {**draft["spec"], "description": f"load save {uuid.uuid4().hex[:8]}"}
        with self.client.patch(
            url,
            json={"spec_snapshot": spec},
            headers=_headers(EDITOR_TOKEN, **{"If-Match": f'"{self.seen[draft["id"]]}"'}),
            name=DRAFT,
            catch_response=True,
        ) as response:
            _expect(response, 200, 409, 412)
        if response.status_code == 200:
            self.seen[draft["id"]] = response.json()["revision"]
        elif response.status_code in (409, 412):
            counts["conflicts"] += 1
            self._read_draft(url, draft["id"])

    def _read_draft(self, url, draft_id):
        headers = _headers(EDITOR_TOKEN)
        with self.client.get(url, headers=headers, name=DRAFT, catch_response=True) as response:
            _expect(response, 200)
        if response.status_code != 200:
            return False
        self.seen[draft_id] = int(response.headers["ETag"].strip('W/"'))
        return True

    @task(2)
    def tool_invoke(self):
        call = next(self.invoke_ids)
        if random.random() < 0.5:
            replay = self.last_key is not None and random.random() < 0.2
            key = self.last_key if replay else f"load-{uuid.uuid4().hex}"
            self.last_key = key
            tool, body = "os.list_tasks", {"call_id": key, "input": {"limit": 20}}
        else:
            key = f"load-{uuid.uuid4().hex}"
            tool, body = "os.create_task", {"call_id": key, "input": {"title": f"load task {call}"}}
        url = f"/api/v1/tools/{tool}/invoke/"
        with self.client.post(
            url, json=body, headers=_headers(ADMIN_TOKEN, **{"Idempotency-Key": key}), name=url,
            catch_response=True,
        ) as response:
            _expect(response, 200)


@events.request.add_listener
def _count_server_errors(response=None, exception=None, **kwargs):
    if response is not None and getattr(response, "status_code", 0) >= 500:
        counts["server_errors"] += 1


@events.quitting.add_listener
def _judge(environment, **kwargs):
    """Decide the exit code here (quitting fires before locust prints its tables); print after them."""
    total = environment.stats.total
    verdict.update(
        requests=total.num_requests,
        errors=total.num_failures,
        rps=total.total_rps,
        p50=total.get_response_time_percentile(0.5) if total.num_requests else 0,
        p99=total.get_response_time_percentile(0.99) if total.num_requests else 0,
        # Exceptions raised in a task (a broken locustfile): locust reports them, and they fail too.
        exceptions=len(environment.runner.exceptions) if environment.runner else 0,
    )
    failed = total.num_failures or counts["server_errors"] or verdict["exceptions"] or not total.num_requests
    environment.process_exit_code = 1 if failed else 0


@events.quit.add_listener
def _summary(exit_code, **kwargs):
    print(
        f"\nload check: {verdict['requests']} requests, throughput {verdict['rps']:.1f} req/s, "
        f"p50 {verdict['p50']:.0f} ms, p99 {verdict['p99']:.0f} ms, errors {verdict['errors']}, "
        f"5xx {counts['server_errors']}, revision conflicts (409/412, expected) {counts['conflicts']}"
        + (f", task exceptions {verdict['exceptions']}" if verdict["exceptions"] else ""),
        flush=True,
    )
    print(f"load check: {'FAILED' if exit_code else 'passed'}", flush=True)
