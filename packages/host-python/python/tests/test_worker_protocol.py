"""The worker's framing and isolation, driven over real pipes."""

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import FIXTURES, WORKER


class Worker:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.hello = self.read()

    def send(self, frame):
        line = frame if isinstance(frame, bytes) else json.dumps(frame).encode()
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()

    def read(self):
        line = self.proc.stdout.readline()
        assert line, f"worker closed stdout; stderr: {self.proc.stderr.read().decode()[-2000:]}"
        return json.loads(line)

    def request(self, frame):
        self.send(frame)
        return self.read()

    def load(self, class_path, hooks, config=None):
        return self.request(
            {
                "id": 0,
                "op": "load",
                "class_path": class_path,
                "config": {"name": "t", "kind": class_path, "hooks": hooks, "config": config or {}},
                "import_roots": [FIXTURES],
            }
        )

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            s.close()


@pytest.fixture
def worker():
    w = Worker()
    yield w
    w.close()


CTX = {"state": {}, "metadata": {}, "global_context": {"request_id": "r1", "state": {}, "metadata": {}}}


def call(id_, action, **args):
    return {"id": id_, "op": "call", "hook": "tool_pre_invoke", "payload": {"name": "t", "args": {"action": action, **args}}, "context": CTX}


def test_hello_reports_the_runtime(worker):
    h = worker.hello
    assert h["op"] == "hello" and h["protocol"] == 1 and h["pid"] == worker.proc.pid
    assert h["pydantic"].startswith("2.")
    assert h["cpex"]["origin"] in ("installed", "bundled")


def test_load_resolves_hooks_and_calls_round_trip(worker):
    assert worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"]) == {
        "id": 0, "ok": True, "result": {"hooks": {"tool_pre_invoke": {"params": 2}}}
    }
    assert worker.request({"id": 1, "op": "init"})["ok"] is True
    r = worker.request(call(2, "ok"))
    assert r["ok"] is True and r["result"]["continue_processing"] is True
    assert r["result"]["metadata"]["pid"] == worker.proc.pid
    # Nothing was sent and nothing changed: the context is not echoed (the host keeps its own).
    assert "context" not in r


def test_context_comes_back_when_it_was_or_became_non_empty(worker):
    worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])
    r = worker.request(call(30, "set_state"))
    assert r["context"] == {"state": {"seen": True}, "metadata": {}, "global_state": {}, "global_metadata": {}}
    # Sent non-empty, cleared by the plugin: the empty dicts must come back (the host applies them).
    full = {"state": {"a": 1}, "metadata": {}, "global_context": {"request_id": "r1", "state": {}, "metadata": {"m": 2}}}
    r = worker.request({**call(31, "clear_state"), "context": full})
    assert r["context"] == {"state": {}, "metadata": {}, "global_state": {}, "global_metadata": {}}
    # Sent non-empty, untouched: echoed as it was.
    r = worker.request({**call(32, "ok"), "context": full})
    assert r["context"] == {"state": {"a": 1}, "metadata": {}, "global_state": {}, "global_metadata": {"m": 2}}


def test_many_pipelined_calls_in_one_write_all_answered(worker):
    worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])
    # More frames than one flush batch, in a single write, split mid-frame across two writes.
    blob = b"".join(json.dumps(call(100 + i, "ok")).encode() + b"\n" for i in range(50))
    cut = len(blob) // 2 + 7
    worker.proc.stdin.write(blob[:cut])
    worker.proc.stdin.flush()
    time.sleep(0.05)
    worker.proc.stdin.write(blob[cut:] + b"\n  \n")
    worker.proc.stdin.flush()
    ids = sorted(worker.read()["id"] for _ in range(50))
    assert ids == list(range(100, 150))
    assert worker.request(call(200, "ok"))["ok"] is True  # blank lines were skipped, not errors


def test_prints_and_fd1_writes_do_not_touch_the_protocol(worker):
    worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])
    r = worker.request(call(5, "print"))
    assert r["id"] == 5 and r["ok"] is True


def test_cancel_stops_a_cooperative_call_and_answers_it(worker):
    worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])
    worker.send(call(7, "sleep", seconds=30))
    time.sleep(0.2)
    worker.send({"op": "cancel", "target": 7})
    r = worker.read()
    assert r == {"id": 7, "ok": False, "error": {"code": "cancelled", "message": "call cancelled by the host"}}


def test_bad_frames_are_answered_not_fatal(worker):
    worker.send(b"{not json")
    assert worker.read()["error"]["code"] == "protocol"
    assert worker.request({"id": 3, "op": "frobnicate"})["error"]["code"] == "protocol"
    worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])
    r = worker.request({"id": 4, "op": "call", "hook": "tool_pre_invoke", "payload": {"args": {}}, "context": CTX})
    assert r["error"]["code"] == "invalid_payload" and "name" in r["error"]["message"]


def test_pipelined_calls_complete_out_of_order(worker):
    worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])
    worker.send(call(10, "sleep", seconds=0.5))
    worker.send(call(11, "ok"))
    first, second = worker.read(), worker.read()
    assert [first["id"], second["id"]] == [11, 10]


def test_refused_modules_and_bad_paths(worker):
    for path in ("os.System", "subprocess.Popen", "a..b.C", "NoDots"):
        r = worker.load(path, ["tool_pre_invoke"])
        assert r["ok"] is False and r["error"]["code"] in ("plugin_load", "module_not_found"), path


def test_stdin_eof_ends_the_worker(worker):
    worker.proc.stdin.close()
    assert worker.proc.wait(timeout=10) == 0


def test_user_context_is_modelled_or_dropped_never_fatal(worker):
    worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])
    good = {**CTX, "global_context": {**CTX["global_context"], "user_context": {"user_id": "u1", "email": "a@example.com"}}}
    r = worker.request({**call(20, "ok"), "context": good})
    assert r["ok"] is True and r["result"]["metadata"]["user_email"] == "a@example.com"
    odd = {**CTX, "global_context": {**CTX["global_context"], "user": "bob", "user_context": {"email": "no-user-id"}}}
    r = worker.request({**call(21, "ok"), "context": odd})
    assert r["ok"] is True and r["result"]["metadata"]["user_email"] == "bob"


def test_context_without_request_id_is_invalid_payload(worker):
    worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])
    r = worker.request({**call(22, "ok"), "context": {"state": {}, "global_context": {}}})
    assert r["ok"] is False and r["error"]["code"] == "invalid_payload" and "request_id" in r["error"]["message"]


def test_secrets_in_results_go_back_as_their_values():
    # The worker's result conversion, run in a child (importing the worker rewires fds 0 and 1).
    code = f"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("w", {WORKER!r})
w = importlib.util.module_from_spec(spec); spec.loader.exec_module(w)
from pydantic import BaseModel, SecretStr
class M(BaseModel):
    token: SecretStr
    empty: SecretStr
    masked_text: str
    n: int = 1
m = M(token="s3cr3t", empty="", masked_text="**********")
sys.stderr.write(json.dumps(w._model(m)) + "\\n")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    last = out.stderr.decode().strip().splitlines()[-1]
    assert json.loads(last) == {"token": "s3cr3t", "empty": "", "masked_text": "**********", "n": 1}
