"""The `padlint stats` checks on a CUDA GPU: mean patches computed there equal the CPU's,
and `padlint.stats.analyze(..., device="cuda")` gives the same findings as on the CPU. cuDNN convolutions use TF32 by default
on Ampere and later GPUs, so the activations, and the patches, differ from the CPU by
about 1e-4 relative; 1e-3 is allowed.

Run where there is a GPU: python benchmarks/check_stats_gpu.py
"""
import sys

import numpy as np
import torch
import torchvision

import padlint.stats.facts as stats


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA GPU here")
        return 2
    torch.manual_seed(0)
    model = torchvision.models.resnet18().eval()
    data = torch.rand(16, 3, 224, 224)
    batches = list(torch.split(data, 8))
    cpu = stats.mean_patches(model, batches)
    gpu = stats.mean_patches(model.cuda(), [b.cuda() for b in batches])
    worst = max(float(np.abs(cpu[k] - gpu[k]).max() / np.abs(cpu[k]).max()) for k in cpu)
    same_keys = sorted(cpu) == sorted(gpu)
    print(f"{torch.cuda.get_device_name()}: {len(cpu)} mean patches, same layers: {same_keys}, "
          f"worst relative difference to the CPU {worst:.2e}")
    findings = {}
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = torchvision.models.resnet18().eval()
        report = stats.analyze(model, data=data, device=device)
        findings[device] = sorted((f.rule, f.layer, f.axis) for f in report.findings)
    print(f"findings on cpu {len(findings['cpu'])}, on cuda {len(findings['cuda'])}, "
          f"equal: {findings['cpu'] == findings['cuda']}")
    ok = same_keys and worst < 1e-3 and findings["cpu"] == findings["cuda"]
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
