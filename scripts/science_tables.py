#!/usr/bin/env python
"""The measured tables of ``docs/science.md``, printed as markdown from real padlint runs.

    python scripts/science_tables.py                  # every table, in the page's order
    python scripts/science_tables.py --only clean_sizes coverage
    python scripts/science_tables.py --write          # also replace them in docs/science.md

Every figure comes from ``padlint.analyze``, ``padlint.sweep`` or the geometry functions on
torchvision models built with ``weights=None`` (random initialisation under
``torch.manual_seed(0)``; nothing is downloaded) or on one-op models written here, next to
what a real torch forward and autograd give (SCIENCE.md §5). Each table sits in the page
between ``<!-- table: NAME -->`` and ``<!-- end table -->``, so ``--write`` and
``tests/test_science_doc.py`` find it. The whole run takes about 70 s on 2 shared CPU
cores; the symmetric-kernel probe is most of it.
"""
from __future__ import annotations

import argparse
import functools
import re
import sys
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))            # padlint from this checkout, installed or not

import padlint  # noqa: E402
from padlint.geometry.axis import axis_facts  # noqa: E402
from padlint.geometry.measures import flip_asymmetry  # noqa: E402
from padlint.sizes.sweep import sweep  # noqa: E402

warnings.filterwarnings("ignore", message="Using padding='same'")
DOC = ROOT / "docs" / "science.md"
SWEEP = range(32, 1025)
BEGIN, END = "<!-- table: {} -->", "<!-- end table -->"


# -- shared helpers -----------------------------------------------------------------

@functools.cache
def model(name: str) -> nn.Module:
    """A torchvision model, randomly initialised under seed 0 (built once per run)."""
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None).eval()


@functools.cache
def result(name: str, n: int):
    """padlint's static analysis of a torchvision model at input n x n."""
    return padlint.analyze(model(name), input_size=n).results[0]


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def codes(res, layer: str, axis: str | None = "H") -> str:
    """The finding codes on one layer (and axis), or '-'."""
    found = sorted({f.rule for f in res.findings if f.layer == layer and (axis is None or f.axis == axis)})
    return ", ".join(found) or "-"


def autograd_axis(n: int, k: int, s: int, d: int, p_b: int, p_e: int) -> tuple[int, int]:
    """SCIENCE.md §5 on one axis: (output length, input cells with zero gradient) of a
    ones-weight single-channel copy of the geometry (a pool reads as a conv here)."""
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    y = F.conv1d(F.pad(x, (p_b, p_e)), torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    y.sum().backward()
    return y.shape[-1], int((x.grad[0, 0] == 0).sum())


def one_op(module: nn.Module, shape: tuple[int, ...], verify: bool = False):
    """padlint's result for a small model at a full input shape."""
    kwargs = {"verify": True, "device": "cpu", "baselines": []} if verify else {}
    return padlint.analyze(module, input_size=shape, **kwargs).results[0]


# -- §1: worked examples --------------------------------------------------------------

RESNET_LAYERS = ("conv1", "maxpool", "layer2.0.conv2", "layer3.0.conv2", "layer4.0.conv2",
                 "layer2.0.downsample.0", "layer3.0.downsample.0", "layer4.0.downsample.0")


def _example_layers(name: str, res) -> list:
    if name == "resnet50":
        return [layer for layer in res.layers if layer.name in RESNET_LAYERS]
    if name == "vgg16":
        return [layer for layer in res.layers if layer.family == "max_pool"]
    return [layer for layer in res.layers if layer.axis("H").stride > 1]      # mobilenet_v2


def worked_examples() -> str:
    """§1's quantities on H (a square input: W is the same) for the layers the seed names,
    with autograd's output length and ignored input beside padlint's."""
    rows = []
    for name, n in (("resnet50", 224), ("resnet50", 225), ("mobilenet_v2", 224),
                    ("vgg16", 224), ("vgg16", 225)):
        res = result(name, n)
        for layer in _example_layers(name, res):
            f = layer.axis("H")
            out, ignored = autograd_axis(f.n, f.kernel, f.stride, f.dilation, f.pad_begin, f.pad_end)
            rows.append([f"{name} @ {n}", f"`{layer.name}`", layer.describe(), f"{f.n}→{f.out}",
                         f.k_e, f.padded, f.last_read, f.leftover,
                         f"{f.pad_begin} / {f.used_pad_end}", f.unused_pad_end,
                         f"{f.ignored_input_end} / {f.ignored_input}",
                         f"{out} / {ignored}", "yes" if f.uneven else "no", codes(res, layer.name)])
    return table(["model @ n", "layer", "op", "n→o", "k_e", "L", "c", "r", "p_b / used p_e",
                  "unused end pad", "ignored end / all", "autograd o / ignored", "uneven",
                  "findings (H)"], rows)


# -- §1: clean input sizes ------------------------------------------------------------

def progression(clean: list[int], sizes: range) -> str:
    """'n ≡ 1 (mod 32)' when the clean sizes are every such size in ``sizes``, else the list."""
    if len(clean) >= 2:
        period = clean[1] - clean[0]
        offset = clean[0] % period
        every = [v for v in sizes if v % period == offset]
        if clean == every:
            return f"n ≡ {offset} (mod {period})"
    return ", ".join(map(str, clean)) or "none"


CLEAN_MODELS = ("resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "vgg16", "convnext_tiny")


def clean_sizes() -> str:
    """``padlint.sweep`` over 32..1024 on H (W held at 224), PAD101 and PAD102."""
    rows = []
    for name in CLEAN_MODELS:
        s = sweep(model(name), sizes=SWEEP, axis="H")
        h = s.axis("H")
        below, above = h.nearest(224)
        rows.append([name, s.method, f"{len(h.clean)} of {len(h.sizes)}", progression(h.clean, SWEEP),
                     ", ".join(map(str, h.clean[:4])) + ", …", f"{below}, {above}",
                     f"`{h.first_uneven[224]}`" if 224 in h.first_uneven else "-", len(h.invalid)])
    return table(["model", "path", "clean sizes", "which", "first", "nearest to 224",
                  "first uneven layer at 224", "sizes that cannot run"], rows)


# -- §1: where padlint's arithmetic refines the seed's ----------------------------------

class TwoBranch(nn.Module):
    """A 3x3/2 conv added to a 2x2 average pool + 1x1 conv (``pool``) or a 1x1/2 conv."""

    def __init__(self, pool: bool):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.b = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(3, 8, 1)) if pool else nn.Conv2d(3, 8, 1, stride=2)

    def forward(self, x):
        return self.a(x) + self.b(x)


def _seed_ignored_end(n, k, s, d, p_b, p_e) -> int:
    """SCIENCE.md's ``max(0, r - p_e)``."""
    f = axis_facts("L", n, k, s, d, p_b, p_e)
    return max(0, f.leftover - p_e)


def _seed_ceil_out(n, k, s, p_b, p_e) -> int:
    """SCIENCE.md's ceil-mode rule, with the explicit end pad counted as padding."""
    span = n + p_b + p_e - k
    o = -(-span // s) + 1
    return o - ((o - 1) * s >= n + p_b)


def _transposed_profile(n: int, k: int, p: int, op: int) -> float:
    """Flip asymmetry of a 1-D transposed conv (stride 2) of a ones input with a ones kernel:
    how many contributions each output cell gets, mirrored (0: symmetric)."""
    y = F.conv_transpose1d(torch.ones(1, 1, n, dtype=torch.float64), torch.ones(1, 1, k, dtype=torch.float64),
                           stride=2, padding=p, output_padding=op)
    return flip_asymmetry(y[0, 0].numpy(), 0, 1)


def _transposed_row(k: int, p: int, op: int, n: int) -> list:
    """One transposed conv (stride 2) at n x n: the seed's word, torch's output, padlint's
    adjoint facts; the probe's findings too where the static rules are silent."""
    conv = nn.ConvTranspose2d(1, 1, k, stride=2, padding=p, output_padding=op)
    res = one_op(nn.Sequential(conv), (1, 1, n, n))
    f = res.layers[0].axis("H")
    found = codes(res, "0")
    if found == "-" and op:
        found += f"; --verify: {codes(one_op(nn.Sequential(conv), (1, 1, n, n), verify=True), '0')}"
    cells = f"{f.empty_output_end} end cell{'' if f.empty_output_end == 1 else 's'} no input reaches"
    return ["transposed conv", f"ConvTranspose2d k={k} s=2 p={p} output_padding={op}, {n}→{f.out}",
            "asymmetric (output_padding)" if op else "-",
            f"ones through a ones kernel: flip asymmetry {_transposed_profile(n, k, p, op):.3f}",
            f"adjoint conv {f.out}→{n}: r = {f.leftover}, p_b {f.pad_begin} / used p_e {f.used_pad_end}, "
            f"uneven = {'yes' if f.uneven else 'no'}; {cells}", found]


def _begin_padding_row() -> list:
    """Every window ends inside the begin padding: what is the ignored input?"""
    res = one_op(nn.Sequential(nn.Conv1d(1, 1, 1, stride=8, padding=2)), (1, 1, 3))
    f = res.layers[0].axis("L")
    return ["every window ends in the begin padding", "Conv1d k=1 s=8 p=2, n=3",
            f"ignored_input_end = max(0, r - p_e) = {_seed_ignored_end(3, 1, 8, 1, 2, 2)}",
            f"{autograd_axis(3, 1, 8, 1, 2, 2)[1]} input cells with zero gradient (of 3)",
            f"ignored_input_end = {f.ignored_input_end}", codes(res, "0", "L")]


def _ceil_row() -> list:
    """Ceil mode behind an explicit end pad: the output length."""
    pooled = nn.Sequential(nn.ZeroPad1d((0, 1)), nn.MaxPool1d(2, ceil_mode=True))
    res = one_op(pooled, (1, 1, 4))
    real = pooled(torch.ones(1, 1, 4)).shape[-1]
    return ["ceil mode after an explicit end pad", "ZeroPad1d((0,1)), MaxPool1d(2, ceil_mode), n=4",
            f"o = {_seed_ceil_out(4, 2, 2, 0, 1)}", f"o = {real}", f"o = {res.layers[0].axis('L').out}",
            codes(res, "1", "L")]


def _global_row() -> list:
    """A pool whose one window covers the whole map."""
    pool = nn.AvgPool2d(1280, ceil_mode=True)
    res = one_op(nn.Sequential(pool), (1, 8, 7, 7))
    f = res.layers[0].axis("H")
    x = torch.rand(1, 8, 7, 7, generator=torch.Generator().manual_seed(0))
    mean = torch.allclose(pool(x)[..., 0, 0], x.mean(dim=(2, 3)))
    return ["a global window", "AvgPool2d(1280, ceil_mode=True), 7x7",
            f"p_b {f.pad_begin} ≠ used p_e {f.used_pad_end}: uneven",
            f"output = the mean of all {f.n * f.n} cells: {'yes' if mean else 'no'}",
            f"global window: uneven = {'yes' if f.uneven else 'no'}", codes(res, "0")]


def _even_kernel_rows() -> list[list]:
    """Even kernels: the output grid (the centre of cell j) decides."""
    rows = []
    for module, what in ((nn.Conv2d(3, 8, 2), "Conv2d k=2 s=1"), (nn.MaxPool2d(2), "MaxPool2d(2)")):
        res = one_op(nn.Sequential(module), (1, 3, 224, 224))
        grid = res.trace.alignment.outputs[0][2]
        rows.append(["even kernel", f"{what}, 224", "centres half a cell off", "-",
                     f"cell j centred at {grid.centre()}", codes(res, "0")])
    return rows


def edge_cases() -> str:
    """The cases where the seed's formulas and padlint's differ, with what torch does."""
    torch.manual_seed(0)
    rows = [_begin_padding_row(), _ceil_row(), _global_row()]
    rows += [_transposed_row(k, p, op, n) for k, p, op, n in ((3, 1, 1, 28), (4, 1, 0, 28), (2, 0, 1, 4))]
    rows += _even_kernel_rows()
    return table(["case", "op, input", "SCIENCE.md", "torch / autograd", "padlint", "findings"], rows)


# -- §2: alignment ----------------------------------------------------------------------

def alignment() -> str:
    """centre(j) = S*j + O of each merged branch, and PAD107."""
    rows = []
    for pool, what in ((True, "3x3/2 conv + (2x2 avg pool, 1x1 conv)"), (False, "3x3/2 conv + 1x1/2 conv")):
        torch.manual_seed(0)
        res = one_op(TwoBranch(pool), (1, 3, 64, 64))
        merges = [m for m in res.trace.alignment.merges if m.axis == "H"]
        out = res.trace.alignment.outputs[0][2]
        centres = " and ".join(g.centre() for g in merges[0].grids) if merges else f"{out.centre()} (both)"
        pad107 = [f for f in res.findings if f.rule == "PAD107" and f.axis == "H"]
        rows.append([what, centres, pad107[0].message.split(": ")[0] if pad107 else "-"])
    return table(["add of", "cell j centred at (H)", "PAD107 (H)"], rows)


# -- §2: padding dominance (PAD108) ---------------------------------------------------------

def coverage() -> str:
    """The deepest map's path shares and foveation figures, as PAD108 reads them."""
    rows = []
    for name, n in (("resnet18", 224), ("resnet18", 225), ("resnet18", 96), ("resnet50", 224),
                    ("mobilenet_v2", 224), ("vgg16", 224)):
        res = result(name, n)
        deep = res.trace.alignment.deepest_map
        share = deep.padding_share()
        mainly = int((share > 0.5).sum())
        rows.append([f"{name} @ {n}", f"`{res.layers[deep.layer].name}`", "x".join(map(str, share.shape)),
                     f"{mainly} of {share.size}", f"{share.mean():.3f}", f"{deep.reaching().mean():.0%}",
                     f"{deep.corner_ratio():.3f}", codes(res, res.layers[deep.layer].name, None)
                     if any(f.rule == "PAD108" for f in res.findings) else "-"])
    return table(["model @ n", "deepest map", "cells", "cells > 50% padding paths", "mean padding share",
                  "cells reaching padding", "corner / centre use", "PAD108"], rows)


# -- §3.1: the symmetric-kernel probe ---------------------------------------------------------

def _worst(run) -> float:
    return max((v for node in run.nodes for v in node.asym.values()), default=0.0)


def probe() -> str:
    """``padlint.analyze(..., verify=True, device='cpu')``: the probe at the analysed size and
    at the nearest clean size it compares with (float64)."""
    rows = []
    for name, n in (("resnet18", 224), ("mobilenet_v2", 224), ("vgg11", 225)):
        res = padlint.analyze(model(name), input_size=n, verify=True, device="cpu",
                              baselines=[]).results[0]
        v = res.verification
        origins = ", ".join(f"`{v.node_name(node)}` ({','.join(node.origin)})" for node in v.probe.origins())
        statuses = list(v.statuses.values())
        confirmed = sum(s["status"] == "confirmed" for s in statuses)
        clean = v.clean
        rows.append([name, n, f"{len(v.probe.asymmetric())} of {v.probe.windowed}", f"{_worst(v.probe):.3f}",
                     origins or "-", f"{confirmed} of {len(statuses)}",
                     "x".join(map(str, clean.input_shape[2:])),
                     f"{len(clean.asymmetric())} of {clean.windowed}", f"{_worst(clean):.0e}"])
    return table(["model", "n", "asymmetric outputs", "worst", "origins", "PAD101/PAD102 confirmed",
                  "clean input", "asymmetric there", "worst there"], rows)


# -- §4: mean kernels and mean input patches ------------------------------------------------

PATCH_LAYERS = ("conv1", "layer1.0.conv1", "layer1.1.conv2", "layer2.0.conv1")


def patches() -> str:
    """``padlint.stats.analyze`` of resnet18 (random initial weights) on 4 seeded uniform
    random images at 224 and at 225: the §4 facts on H of a few convolutions."""
    from padlint.stats.facts import analyze as stats
    rows = []
    for n in (224, 225):
        data = torch.rand(4, 3, n, n, generator=torch.Generator().manual_seed(0))
        res = stats(model("resnet18"), data=data).results[0]
        for s in res.stats.layers:
            if s.name not in PATCH_LAYERS:
                continue
            first, last = s.coverage[0].mean(), s.coverage[-1].mean()
            rows.append([f"resnet18 @ {n}", f"`{s.name}`", s.describe(), f"{s.asymmetry['H']:.3f}",
                         f"{s.significance['H']:.2f}", f"{s.patch_asymmetry['H']:.3f}",
                         f"{s.patch_relative['H']:.4f}", f"{first:.4f} / {last:.4f}",
                         ", ".join(s.uneven.get("H", [])) or "-", codes(res, s.name)])
    return table(["model @ n", "layer", "op", "kernel asym.", "vs noise", "patch asym.",
                  "patch ‖P − flip P‖/‖P‖", "top / bottom tap row reads input", "uneven",
                  "PAD3xx (H)"], rows)


TABLES = {"worked_examples": worked_examples, "clean_sizes": clean_sizes, "edge_cases": edge_cases,
          "alignment": alignment, "coverage": coverage, "probe": probe, "patches": patches}


def block(name: str, body: str) -> str:
    return f"{BEGIN.format(name)}\n{body}\n{END}"


def _pattern(name: str = r"\w+") -> re.Pattern:
    """A table's block in the page: its markers, and the table between them (maybe none)."""
    return re.compile(re.escape(BEGIN).replace(r"\{\}", f"({name})") + r"\n(?:((?:(?!<!--).)*?)\n)?"
                      + re.escape(END), re.S)


def blocks_in(text: str) -> dict[str, str]:
    """NAME -> the table between its markers in a page."""
    return {m.group(1): m.group(2) or "" for m in _pattern().finditer(text)}


def write(doc: Path, made: dict[str, str]) -> None:
    text = doc.read_text(encoding="utf-8")
    for name, body in made.items():
        text, count = _pattern(name).subn(lambda m: block(name, body), text)  # noqa: B023 - subn calls it at once
        if count != 1:
            raise SystemExit(f"{doc}: {count} blocks for table {name!r}, not 1")
    doc.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(TABLES), help="these tables only")
    parser.add_argument("--write", action="store_true", help=f"replace them in {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    made = {}
    for name in args.only or TABLES:
        made[name] = TABLES[name]()
        print(block(name, made[name]) + "\n", flush=True)
    if args.write:
        write(DOC, made)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
