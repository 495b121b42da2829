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


def test_calls_that_never_suspend_and_calls_that_do_interleave_correctly(worker):
    """Calls run eagerly until they first suspend; the suspended ones finish later as tasks."""
    assert worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])["ok"] is True
    assert worker.request({"id": 1, "op": "init"})["ok"] is True
    frames = []
    for i in range(10, 30):
        frames.append(call(i, "multi_await" if i % 2 else "ok", n=i))
    worker.proc.stdin.write(b"".join(json.dumps(f).encode() + b"\n" for f in frames))
    worker.proc.stdin.flush()
    answers = {r["id"]: r for r in (worker.read() for _ in frames)}
    assert sorted(answers) == list(range(10, 30))
    for i, r in answers.items():
        assert r["ok"] is True, r
        if i % 2:
            assert r["result"]["metadata"] == {"steps": 3, "n": i}
        else:
            assert r["result"]["metadata"]["action"] == "ok"


def test_each_call_has_its_own_contextvars_context(worker):
    assert worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])["ok"] is True
    assert worker.request({"id": 1, "op": "init"})["ok"] is True
    for i, suspend in enumerate([False, True, False, True]):
        r = worker.request(call(10 + i, "ctxvar", mark=f"m{i}", suspend=suspend))
        assert r["ok"] is True, r
        assert r["result"]["metadata"] == {"seen": "unset", "after": f"m{i}"}


def test_a_cancel_that_lands_before_the_call_started_is_still_answered(worker):
    """Call and cancel in one read: the task is cancelled before its first step, so the call's
    own handler never runs; the worker must answer it anyway (the host would otherwise kill it)."""
    assert worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])["ok"] is True
    assert worker.request({"id": 1, "op": "init"})["ok"] is True
    both = json.dumps(call(5, "sleep", seconds=30)).encode() + b"\n" + json.dumps({"op": "cancel", "target": 5}).encode()
    worker.send(both)
    r = worker.read()
    assert r["id"] == 5 and r["ok"] is False and r["error"]["code"] == "cancelled"
    # A cancel for a call that already started is answered once, by the call itself.
    worker.send(call(6, "sleep", seconds=30))
    time.sleep(0.05)
    worker.send({"op": "cancel", "target": 6})
    r = worker.read()
    assert r["id"] == 6 and r["error"]["code"] == "cancelled"
    assert worker.request(call(7, "ok"))["id"] == 7


SPIN_PROBE = r"""
import json, os, socket, sys, threading, time
import worker as W

out = {}
a, b = socket.socketpair()
sel = W._SpinSelector(0.01)
sel.register(a, W.selectors.EVENT_READ)

# 1. Nothing arrives: it polls once, then sleeps; a wait longer than the window: polling does not pay.
sel.select(0.05)
out["after_long_wait"] = {"spins": sel.spins, "pays": sel.pays}
# 2. While it does not pay, waits (longer than the window) sleep at once ...
for _ in range(10):
    sel.select(0.015)
out["skipped_waits"] = {"spins": sel.spins, "pays": sel.pays}
# 3. ... for 32 waits; then it probes again, and a frame arriving inside the window makes it pay.
for _ in range(22):
    sel.select(0.015)
out["before_probe"] = {"spins": sel.spins}
sel.spin = 0.5
threading.Timer(0.005, lambda: b.send(b"x")).start()
ready = sel.select(None)
out["probe_hit"] = {"spins": sel.spins, "pays": sel.pays, "ready": len(ready)}
a.recv(1)
# 4. A wait shorter than the window also means polling would have paid.
sel.pays = False
sel.skipped = 0
threading.Timer(0.005, lambda: b.send(b"y")).start()
sel.select(None)
out["short_wait"] = {"spins": sel.spins, "pays": sel.pays}
a.recv(1)
# 5. Window 0 turns it off entirely.
sel.spin = 0.0
sel.select(0.01)
out["off"] = {"spins": sel.spins}
with open(OUT, "w") as f:
    json.dump(out, f)
"""


def test_idle_poll_window_is_adaptive(tmp_path):
    """The worker's selector polls before sleeping only while that pays (see PythonHostOptions.spinUs)."""
    result = tmp_path / "spin.json"
    code = f"OUT = {str(result)!r}\n{SPIN_PROBE}"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(WORKER))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    out = json.loads(result.read_text())
    assert out["after_long_wait"] == {"spins": 1, "pays": False}
    assert out["skipped_waits"] == {"spins": 1, "pays": False}
    assert out["before_probe"] == {"spins": 1}
    assert out["probe_hit"] == {"spins": 2, "pays": True, "ready": 1}
    assert out["short_wait"] == {"spins": 2, "pays": True}
    assert out["off"] == {"spins": 2}


def test_load_frame_sets_the_poll_window(worker):
    r = worker.request(
        {
            "id": 0,
            "op": "load",
            "class_path": "hp_plugins.chaos.Chaos",
            "config": {"name": "t", "kind": "hp_plugins.chaos.Chaos", "hooks": ["tool_pre_invoke"], "config": {}},
            "import_roots": [FIXTURES],
            "spin_us": 250,
        }
    )
    assert r["ok"] is True
    assert worker.request({"id": 1, "op": "init"})["ok"] is True
    # An idle worker with a window set sleeps: it burns (next to) no CPU while nothing arrives.
    def cpu():
        with open(f"/proc/{worker.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    if not os.path.exists(f"/proc/{worker.proc.pid}/stat"):
        pytest.skip("no /proc on this platform")
    before = cpu()
    time.sleep(0.5)
    assert cpu() - before < 0.1
    assert worker.request(call(2, "ok"))["ok"] is True


def test_every_call_runs_in_a_task_of_its_own(worker):
    """asyncio.current_task() is the call's task from the hook's first line (asyncio.timeout and
    anyio cancel scopes, e.g. under httpx, depend on it)."""
    assert worker.load("hp_plugins.chaos.Chaos", ["tool_pre_invoke"])["ok"] is True
    assert worker.request({"id": 1, "op": "init"})["ok"] is True
    r = worker.request(call(2, "needs_task"))
    assert r["ok"] is True, r
    assert r["result"]["metadata"] == {"task": True}
    # Tasks the hook makes while its own task is starting run as ordinary tasks.
    r = worker.request(call(3, "spawn"))
    assert r["ok"] is True, r
    assert r["result"]["metadata"] == {"child": [42, True], "gathered": [2, 4]}
    # Many at once, in one read: each its own task, all answered.
    frames = [call(10 + i, "needs_task" if i % 2 else "spawn") for i in range(10)]
    worker.proc.stdin.write(b"".join(json.dumps(f).encode() + b"\n" for f in frames))
    worker.proc.stdin.flush()
    answers = [worker.read() for _ in frames]
    assert sorted(a["id"] for a in answers) == list(range(10, 20))
    assert all(a["ok"] is True for a in answers), answers
