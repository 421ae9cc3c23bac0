"""The verification stage's acceptance checks on a CUDA GPU (the tests run them on the
CPU in float64; here the probe runs in float32 on the GPU with its own tolerance).

Prints one line per check and exits 1 if any fails. Run where there is a GPU:
    python benchmarks/check_verify_gpu.py
"""
import sys

import torch
import torchvision
from torch import nn

import padlint
from padlint.output.verification import summary

VERIFIED = ("PAD101", "PAD102")


class Rolled(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        return self.b(torch.roll(self.a(x), 1, dims=-1))


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA GPU here")
        return 2
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    failures = 0

    def check(label: str, ok: bool, detail: str = "") -> None:
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {label}{': ' + detail if detail else ''}")

    torch.manual_seed(0)
    for name, size, stem in (("resnet18", 224, "conv1"), ("mobilenet_v2", 224, "features.0.0")):
        model = getattr(torchvision.models, name)().eval()
        report = padlint.verify(model, size, device="cuda")
        result = report.results[0]
        v = result.verification
        verified = [f for f in report.findings if f.rule in VERIFIED]
        confirmed = [f for f in verified if f.verification["status"] == "confirmed"]
        print("    " + summary(v))
        check(f"{name} at {size}: every PAD101/PAD102 confirmed on cuda",
              len(verified) > 0 and len(confirmed) == len(verified) and v.device.startswith("cuda")
              and v.probe.dtype == "float32", f"{len(confirmed)} of {len(verified)}")
        check(f"{name} at {size}: no PAD201, the only origin is {stem}",
              not [f for f in report.findings if f.rule == "PAD201"]
              and [n.name for n in v.probe.origins()] == [stem])
        check(f"{name} at {size}: clean size shows nothing", v.clean is not None and v.clean.asymmetric() == [],
              f"worst {max(x for n in v.clean.nodes for x in n.asym.values()):.1e}")
        check(f"{name}: the model is back on the CPU", next(model.parameters()).device.type == "cpu")
    vgg = torchvision.models.vgg11().eval()
    v = padlint.verify(vgg, 225, device="cuda", baselines=[]).results[0].verification
    print("    " + summary(v))
    check("vgg11 at 225: the first pool is the only origin", [n.name for n in v.probe.origins()] == ["features.2"])
    report = padlint.verify(Rolled(), 32, device="cuda")
    check("torch.roll: PAD201 on W", [(f.rule, f.layer, f.axis) for f in report.findings if f.rule == "PAD201"]
          == [("PAD201", "roll", "W")])
    print("all checks passed" if not failures else f"{failures} checks failed")
    return int(failures > 0)


if __name__ == "__main__":
    sys.exit(main())
