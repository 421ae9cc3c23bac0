"""``padlint blindspots``: the shifted-stimulus map of one model, its options and what it
prints (the runs are in :mod:`padlint.blindspots`)."""
from __future__ import annotations

from padlint.blindspots.stimulus import DEFAULT, SHAPES
from padlint.cli.common import console, progress_bar, project_config
from padlint.cli.isolate import prints_to_stderr
from padlint.config import FAIL_ON
from padlint.engine.select import codes_of_scope
from padlint.errors import PadlintError
from padlint.ir.shapes import shape_str
from padlint.output.blindspots import caption, facts_of, print_blindspots
from padlint.output.files import write_atomic
from padlint.verification.choices import DEVICES

PADDING_CHOICES = "zeros|reflect|replicate|circular|all"


def add_blindspots_parser(sub, codes) -> None:
    p = sub.add_parser(
        "blindspots", help="map where a small object stops being seen (the shifted-stimulus experiment)",
        description="Place a small stimulus on a constant background at every position of a "
        "mirror-symmetric grid and measure how much the model's last spatial map (or one output "
        "value, --output) changes. Positions that barely change it are blind spots (PAD203). The "
        "same map at the nearest clean input size is shown beside it, and --padding-mode runs it "
        "again with every convolution's padding mode swapped.")
    add = p.add_argument
    add("target", metavar="TARGET", help="one model: a .py file that defines one, path.py:Name or module:attr")
    add("--input-size", "-s", default=None, metavar="SIZE", help="the input size (default: declared, else 224)")
    add("--weights", "-w", default=None, metavar="CKPT",
        help="a state_dict or checkpoint (torch.save, or .safetensors), loaded with weights_only=True")
    add("--no-strict", dest="strict", action="store_false",
        help="load the tensors that match even when the checkpoint has missing or unexpected keys")
    add("--kernels", choices=("symmetric", "real"), default=None,
        help="symmetric: each conv kernel averaged with its flips, the arithmetic alone (the default "
             "without --weights); real: the weights as they are (the default with --weights)")
    add("--stimulus", default=DEFAULT, metavar="SHAPE:SIZE",
        help=f"the stimulus, SHAPE one of {', '.join(SHAPES)} (default {DEFAULT}: one pixel, all channels)")
    add("--step", type=int, default=None, metavar="PX",
        help="grid step in pixels, counted in from both ends (default: as fine as the model's cost allows)")
    add("--output", type=int, default=None, metavar="INDEX",
        help="watch this value of the model's output (flattened per sample) instead of its last map")
    add("--padding-mode", default=None, metavar=PADDING_CHOICES,
        help="run the map again with every convolution padding in this mode (weights unchanged); "
             "all: each of the four, side by side")
    add("--dtype", choices=("float32", "float64"), default="float32",
        help="float32 (default) or float64, for figures below float32's ~1e-5 noise")
    add("--batch-size", type=int, default=None, metavar="N",
        help="positions a forward (default 16 on the CPU, 64 on a GPU)")
    add("--device", choices=DEVICES, default="auto", help="where the maps run (auto: CUDA when available)")
    add("--format", choices=("text", "json"), default="text")
    add("-o", "--plot", default=None, metavar="PNG", help="also draw the maps into this PNG (needs matplotlib)")
    add("--select", type=codes, default=None, metavar="CODES", help="rule codes to enable (default: PAD203)")
    add("--ignore", type=codes, default=None, metavar="CODES")
    add("--fail-on", choices=FAIL_ON, default=None,
        help="exit 1 when a finding is at least this severe (default: warning)")
    add("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    add("--config", default=None, metavar="PYPROJECT")
    add("--isolated", action="store_true", help="ignore every configuration file")
    add("--debug", action="store_true", help="show tracebacks of errors")


def cmd_blindspots(args) -> int:
    from padlint.blindspots.stage import analyze  # lazy: imports torch, which this module must not
    config = project_config(args)
    if args.batch_size is not None and args.batch_size < 1:
        raise PadlintError(f"--batch-size {args.batch_size}: give a positive number of positions")
    if args.plot is not None:
        from padlint.page.figures import require_matplotlib  # lazy: imports numpy, which this module must not
        require_matplotlib()
    select = args.select if args.select is not None else list(codes_of_scope("blindspots"))
    bar, advance = progress_bar("blind-spot maps", "positions")
    try:
        if bar is not None:
            bar.start()
        with prints_to_stderr():
            report = analyze(args.target, args.input_size, args.weights, args.kernels, args.stimulus,
                             args.step, args.output, args.device, args.padding_mode, args.dtype,
                             args.batch_size, select, args.ignore if args.ignore is not None else config.ignore,
                             config.severity, args.strict, config=config, progress=advance)
    finally:
        if bar is not None:
            bar.stop()
    if args.plot is not None:
        from padlint.page.figures import response_figure  # lazy: imports numpy, which this module must not
        b = facts_of(report.results[0])
        maps = [(f"{m.label} ({shape_str(m.input_shape[2:])})", m.response, caption(m))
                for m in b.maps if not m.error and m.response.size]
        write_atomic(args.plot, response_figure(maps), ".png")
    if args.format == "json":
        print(report.to_json())
    else:
        print_blindspots(report, console())
    fail_on = "never" if args.exit_zero else (args.fail_on or config.fail_on)
    return report.exit_code(fail_on)
