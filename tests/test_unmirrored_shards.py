"""The unmirrored markers' shards: each trade's is fixed by its id, they spread over every
shard, and the deployed indexes hold `recorded_at` only behind `shard` (Firestore's
"sharded timestamps": any index holding the sequential field must begin with the shard)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from smart_routing_firebase.stores.unmirrored import (
    COLLECTION,
    RECORDED_AT,
    SHARD,
    SHARDS,
    shard_of,
)
from tools.emulators import ROOT


def test_a_trades_shard_is_the_same_in_every_process():
    ids = [f"trade-{n}" for n in range(5)]
    here = [shard_of(trade_id) for trade_id in ids]
    elsewhere = subprocess.run(
        [sys.executable, "-c", "import sys; from smart_routing_firebase.stores.unmirrored "
         "import shard_of; print([shard_of(i) for i in sys.argv[1:]])", *ids],
        capture_output=True, text=True, check=True, cwd=ROOT, env={"PYTHONPATH": "functions:."},
    ).stdout  # fmt: skip
    assert elsewhere.strip() == str(here)


def test_trades_spread_over_every_shard_about_evenly():
    counts = Counter(shard_of(f"{n:08x}-fill") for n in range(32_000))
    assert sorted(counts) == list(range(SHARDS))
    assert max(counts.values()) < 1.15 * 32_000 / SHARDS


def test_no_deployed_index_holds_recorded_at_without_the_shard_first():
    config = json.loads((ROOT / "firestore.indexes.json").read_text())
    composite = [[f["fieldPath"] for f in index["fields"]] for index in config["indexes"]
                 if index["collectionGroup"] == COLLECTION]  # fmt: skip
    assert composite == [[SHARD, RECORDED_AT]]
    group = next(i for i in config["indexes"] if i["collectionGroup"] == COLLECTION)
    assert group["queryScope"] == "COLLECTION_GROUP"
    overrides = {o["fieldPath"]: o["indexes"] for o in config["fieldOverrides"]
                 if o["collectionGroup"] == COLLECTION}  # fmt: skip
    assert overrides == {RECORDED_AT: [], SHARD: []}
