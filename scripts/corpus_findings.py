"""The findings of chosen rules on every model and size of the test corpus
(tests/corpus_models.py: torchvision and timm architectures built without weights), and
on torchvision's detection models (not in the corpus: their transform resizes the input,
which PAD109 is about), each at 224, 225 and 480x640.

    python scripts/corpus_findings.py PAD106 PAD107 PAD108 PAD109 > findings.jsonl

One JSON line per finding (model, size, rule, layer, axis, message), one per failed
run ({"model", "size", "error"}), and a count per rule on stderr at the end.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import padlint  # noqa: E402
from corpus_models import CORPUS  # noqa: E402

DETECTION = ["fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_mobilenet_v3_large_fpn",
             "fasterrcnn_mobilenet_v3_large_320_fpn", "retinanet_resnet50_fpn", "retinanet_resnet50_fpn_v2",
             "fcos_resnet50_fpn", "maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_v2",
             "keypointrcnn_resnet50_fpn", "ssd300_vgg16", "ssdlite320_mobilenet_v3_large"]


def detection(name):
    def build():
        import torchvision
        return getattr(torchvision.models.detection, name)(weights=None, weights_backbone=None)
    return build


def main(rules: list[str]) -> int:
    counts, models, runs, failed = Counter(), {}, 0, 0
    start = time.perf_counter()
    entries = list(CORPUS) + [(f"tvdet.{n}", detection(n), (224, 225, "480x640")) for n in DETECTION]
    for entry in entries:
        name, build, sizes = entry[0], entry[1], entry[2]
        model = build()
        for size in sizes:
            runs += 1
            try:
                report = padlint.analyze(model, input_size=size, select=rules)
            except Exception as err:  # noqa: BLE001 - a sweep reports and goes on
                failed += 1
                print(json.dumps({"model": name, "size": str(size), "error": f"{type(err).__name__}: {err}"}))
                continue
            for f in report.findings:
                counts[f.rule] += 1
                models.setdefault(f.rule, set()).add(name)
                print(json.dumps({"model": name, "size": str(size), "rule": f.rule, "layer": f.layer,
                                  "axis": f.axis, "message": f.message}))
    print(f"{runs} runs, {failed} failed, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    for rule in rules:
        print(f"{rule}: {counts[rule]} findings in {len(models.get(rule, ()))} models", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["PAD106", "PAD107", "PAD108", "PAD109"]))
