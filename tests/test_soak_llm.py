"""The soak with a fake LLM, short: `bench/soak.py --minutes 1 --kills 2 --llm` runs the
judge, the same-event check and the LLM briefs under faults (garbled answers, dropped
connections) besides the platform and feed faults, and every invariant must hold. The
10-minute run (`bench/soak.py --llm`) adds a 429 storm, a 5xx outage and slow answers."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.judge import SYSTEM as JUDGE
from feeds.llm_prompt import CHECK, SYSTEM as BRIEF
from feeds.same_event import SYSTEM as SAME_EVENT

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from soak_llm import answer, request_kind  # noqa: E402


def test_the_fake_llm_tells_the_products_requests_apart():
    def body(system: str) -> dict:
        return {"messages": [{"role": "system", "content": system},
                             {"role": "user", "content": "Title: Alibaba cuts prices\n\n"
                                                         "Alibaba said so. More. Even more."}]}
    assert [request_kind(body(s)) for s in (JUDGE, SAME_EVENT, BRIEF, CHECK, "other")] == \
        ["judge", "same-event", "brief", "check", "other"]
    assert answer("judge", body(JUDGE))["strategy"] is True
    assert answer("same-event", body(SAME_EVENT))["same"] is False
    brief = answer("brief", body(BRIEF))
    assert brief["headline"] == "Alibaba cuts prices" and len(brief["bullets"]) == 3


@pytest.mark.timeout(400)
def test_short_soak_with_the_llm_passes_every_invariant(tmp_path):
    out = tmp_path / "soak.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--minutes", "1",
                           "--kills", "2", "--publish-every", "3", "--llm", "--json", str(out)],
                          capture_output=True, text=True, timeout=360, cwd=ROOT)
    output = proc.stdout + proc.stderr
    data = json.loads(out.read_text()) if out.exists() else {}
    assert proc.returncode == 0, output[-4000:]
    assert data["failures"] == [] and "RESULT: PASS" in output
    llm = data["llm"]
    assert llm["by_kind"]["judge"] > 0 and llm["by_kind"]["brief"] > 0
    assert llm["by_fault"]["garbled"] > 0 and llm["by_fault"]["dropped"] > 0
    assert "llm: fake LLM saw" in output
    rows = {r[0]: r for r in data["delivery"]}
    for label in ("discord #d1", "discord #d2", "slack #s1"):
        _label, should, got, lost, dups, backlog = rows[label]
        assert (should, got, lost, backlog) == (str(data["stories_published"]),) * 2 + ("0", "0")
        assert dups.startswith("0 ")
