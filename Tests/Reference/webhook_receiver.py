#!/usr/bin/env python3
"""A real HTTP receiver for Tandem's webhook tests, on 127.0.0.1, written independently of Tandem.

usage: webhook_receiver.py LOG_FILE [PORT_FILE]
Prints its port on the first line of stdout (and into PORT_FILE). Every request is appended to LOG_FILE as one
JSON line: {path, method, headers, body, answer}. The first path segment chooses the behaviour:
  /ok/…             200
  /github/…         checks GitHub's commit-status shape and `Authorization: Bearer $GITHUB_TOKEN`; 201 or 422/401
  /gitlab/…         checks GitLab's commit-status shape and `PRIVATE-TOKEN: $GITLAB_TOKEN`; 201 or 400/401
  /signed/…         verifies the Standard Webhooks signature with $WEBHOOK_SECRET (whsec_…); 204 or 401
  /slack/…          checks a Slack incoming-webhook body (text and blocks); 200 "ok" or 400
  /fail500/…        500
  /throttle/…       429 with Retry-After: 1 for the first two requests of each webhook-id, then 200
  /flaky/…          503 for the first request of each webhook-id, then 200
  /reject/…         400
  /hang/…           sleeps 30 s before answering
  /slow/…           200 after 0.2 s (so that senders running at the same time overlap)
  /reset/…          closes the connection without an answer
  /huge/…           200 with a 256 MiB body, streamed (a receiver that tries to exhaust the sender's memory)
GET /ghapi/SCENARIO/repos/OWNER/REPO/actions/runs/RUN_ID/approvals
                    GitHub's "Get the review history for a workflow run" (REST API 2022-11-28), with the documented
                    response shape (state, comment, environments[], user{login,…}); needs
                    `Authorization: Bearer $GITHUB_TOKEN` (else 401 with GitHub's error body). SCENARIO lists the
                    reviews in order, `+`-separated, each STATE:LOGIN:ENVIRONMENT (`approved:bob:prod`), or `none`.
"""
import base64, hashlib, hmac, json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]
lock = threading.Lock()
seen = {}

def verify_standard_webhook(headers, body):
    secret = os.environ.get("WEBHOOK_SECRET", "")
    msg_id, ts, sig = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    if not (msg_id and ts and sig):
        return False, "missing webhook headers"
    if abs(time.time() - int(ts)) > 300:
        return False, "timestamp too far from now"
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    for part in sig.split(" "):
        version, _, value = part.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True, "ok"
    return False, "no valid signature"

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # answers go out in two writes; without this each waits for a delayed ACK

    def log_message(self, *args):
        pass

    def answer(self, status, text="", extra=None):
        data = text.encode()
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, body, answer):
        entry = {"path": self.path, "method": self.command, "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": body.decode("utf-8", "replace"), "answer": answer}
        with lock:
            with open(LOG, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def count(self, key):
        with lock:
            seen[key] = seen.get(key, 0) + 1
            return seen[key]

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        headers = {k.lower(): v for k, v in self.headers.items()}
        if len(parts) == 9 and parts[0] == "ghapi" and parts[2] == "repos" and parts[5:7] == ["actions", "runs"] \
                and parts[8] == "approvals":
            if headers.get("authorization") != "Bearer " + os.environ.get("GITHUB_TOKEN", "-"):
                self.record(b"", 401)
                return self.answer(401, json.dumps({"message": "Bad credentials",
                                                    "documentation_url": "https://docs.github.com/rest"}))
            reviews = []
            for i, item in enumerate([] if parts[1] == "none" else parts[1].split("+")):
                state, login, env = item.split(":")
                reviews.append({
                    "state": state, "comment": f"{state} by {login}",
                    "environments": [{
                        "id": 161088068 + i, "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4", "name": env,
                        "url": f"https://api.github.com/repos/{parts[3]}/{parts[4]}/environments/{env}",
                        "html_url": f"https://github.com/{parts[3]}/{parts[4]}/deployments/activity_log?environments_filter={env}",
                        "created_at": "2020-11-23T22:00:40Z", "updated_at": "2020-11-23T22:00:40Z"}],
                    "user": {"login": login, "id": 1000 + i, "node_id": "MDQ6VXNlcjE=", "avatar_url": "",
                             "gravatar_id": "", "url": f"https://api.github.com/users/{login}",
                             "html_url": f"https://github.com/{login}", "type": "User", "site_admin": False}})
            self.record(b"", 200)
            return self.answer(200, json.dumps(reviews), {"Content-Type": "application/json; charset=utf-8"})
        self.record(b"", 404)
        return self.answer(404, json.dumps({"message": "Not Found"}))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        mode = self.path.strip("/").split("/")[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        msg = headers.get("webhook-id", self.path)
        if mode == "reset":
            self.record(body, "reset")
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode == "slow":
            time.sleep(0.2)
            self.record(body, 200)
            return self.answer(200, "ok")
        if mode == "huge":
            self.record(body, "huge")
            self.send_response(200)
            self.send_header("Content-Length", str(256 << 20))
            self.end_headers()
            chunk = b"x" * (1 << 20)
            try:
                for _ in range(256):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if mode == "hang":
            self.record(body, "hang")
            time.sleep(30)
            return self.answer(200)
        if mode == "github":
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            ok = (headers.get("authorization") == "Bearer " + os.environ.get("GITHUB_TOKEN", "-")
                  and isinstance(doc, dict) and doc.get("state") in ("pending", "success", "failure", "error")
                  and isinstance(doc.get("context"), str) and len(doc.get("description", "")) <= 140
                  and "/repos/" in self.path and "/statuses/" in self.path)
            self.record(body, 201 if ok else 422)
            return self.answer(201 if ok else 422, json.dumps({"state": doc.get("state") if doc else None}))
        if mode == "gitlab":
            doc = json.loads(body or b"{}")
            ok = (headers.get("private-token") == os.environ.get("GITLAB_TOKEN", "-")
                  and doc.get("state") in ("pending", "running", "success", "failed", "canceled") and "name" in doc
                  and "/projects/" in self.path and "/statuses/" in self.path)
            self.record(body, 201 if ok else 400)
            return self.answer(201 if ok else 400)
        if mode == "signed":
            ok, why = verify_standard_webhook(headers, body)
            self.record(body, 204 if ok else 401)
            return self.answer(204 if ok else 401, "" if ok else why)
        if mode == "slack":
            doc = json.loads(body or b"{}")
            ok = isinstance(doc.get("text"), str) and isinstance(doc.get("blocks"), list) and len(doc["blocks"]) >= 2
            self.record(body, 200 if ok else 400)
            return self.answer(200 if ok else 400, "ok" if ok else "invalid_blocks")
        if mode == "fail500":
            self.record(body, 500)
            return self.answer(500, "boom token=" + os.environ.get("GITHUB_TOKEN", ""))
        if mode == "throttle":
            n = self.count(("throttle", msg))
            status = 429 if n <= 2 else 200
            self.record(body, status)
            return self.answer(status, "", {"Retry-After": "1"} if status == 429 else None)
        if mode == "flaky":
            n = self.count(("flaky", msg))
            status = 503 if n == 1 else 200
            self.record(body, status)
            return self.answer(status)
        if mode == "reject":
            self.record(body, 400)
            return self.answer(400, '{"message": "bad request"}')
        self.record(body, 200)
        return self.answer(200, "ok")

    do_PUT = do_POST

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
port = server.server_address[1]
print(port, flush=True)
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as f:
        f.write(str(port))
server.serve_forever()
