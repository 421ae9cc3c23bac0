"""``padlint stats``: its options and what it runs (the command's other subcommands live
in :mod:`padlint.cli`)."""
from __future__ import annotations

from padlint.cli.common import console, progress_bar, project_config
from padlint.cli.isolate import prints_to_stderr
from padlint.config import FAIL_ON
from padlint.engine.select import codes_of_scope
from padlint.errors import PadlintError
from padlint.output.statsview import print_stats
from padlint.verification.choices import DEVICES


def add_stats_parser(sub, codes) -> None:
    stats = sub.add_parser(
        "stats", help="learned-weight and input-patch asymmetries: mean kernels and mean patches",
        description="For every convolution of one model: the mean k×k kernel (weights averaged "
        "over output and input channels, and the mean of |W|) with its asymmetry per axis and "
        "heavier side, whether the layer's padding is uneven at the input size, and with --data "
        "the mean k×k input patch over a dataset. PAD301 and PAD302 fire on strong asymmetries.")
    add_model_arguments(stats, codes, "stop after N samples of --data",
                        "where the data runs through the model (auto: CUDA when available)",
                        "rule codes or prefixes to enable (default: PAD3)")
    stats.add_argument("--format", choices=("text", "json"), default="text")
    stats.add_argument("--all-matrices", action="store_true",
                       help="print the matrices of every convolution, not the first few")


def add_model_arguments(parser, codes, limit_help: str, device_help: str,
                        select_help: str | None = None) -> None:
    """The options `padlint stats` and `padlint report` share: one model, its weights and
    data, the rules and the exit code."""
    add = parser.add_argument
    add("target", metavar="TARGET",
        help="one model: a .py file that defines one, path.py:Name or module:attr")
    add("--weights", "-w", default=None, metavar="CKPT",
        help="a state_dict (or a checkpoint dict holding one) saved with torch.save, or a "
             ".safetensors file; loaded with weights_only=True, never unpickled")
    add("--no-strict", dest="strict", action="store_false",
        help="load the tensors that match even when the checkpoint has missing or unexpected "
             "keys (they are listed)")
    add("--data", "-d", default=None, metavar="SPEC",
        help="your inputs: a .pt/.npy tensor (N, C, H, W), a folder of images (needs Pillow), "
             "or module:callable returning batches (a DataLoader)")
    add("--limit", type=int, default=None, metavar="N", help=limit_help)
    add("--batch-size", type=int, default=8, metavar="N",
        help="batch size for tensor files and image folders (default 8)")
    add("--input-size", "-s", default=None, metavar="SIZE",
        help="the input size to analyse (default: the data's size, else declared, else 224)")
    add("--device", choices=DEVICES, default="auto", help=device_help)
    add("--select", type=codes, default=None, metavar="CODES", help=select_help)
    add("--ignore", type=codes, default=None, metavar="CODES")
    add("--fail-on", choices=FAIL_ON, default=None,
        help="exit 1 when a finding is at least this severe (default: warning)")
    add("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    add("--config", default=None, metavar="PYPROJECT")
    add("--isolated", action="store_true", help="ignore every configuration file")
    add("--train", action="store_true", help="analyse the training-mode forward")
    add("--debug", action="store_true", help="show tracebacks of errors")


def cmd_stats(args) -> int:
    from padlint.stats.facts import analyze  # lazy: imports torch, which this module must not
    config = project_config(args)
    for flag, value in (("--limit", args.limit), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise PadlintError(f"{flag} {value}: give a positive number of samples")
    select = args.select if args.select is not None else list(codes_of_scope("stats"))
    total = args.limit
    bar, advance = progress_bar("mean patches", "samples", total) if args.data else (None, None)
    try:
        if bar is not None:
            bar.start()
        with prints_to_stderr():          # the model file's prints: stdout is the report's
            report = analyze(args.target, args.input_size, args.weights, args.data, args.limit,
                             select, args.ignore if args.ignore is not None else config.ignore,
                             config.severity, args.strict, args.batch_size,
                             args.device, advance, config, args.train)
    finally:
        if bar is not None:
            bar.stop()
    if args.format == "json":
        print(report.to_json())
    else:
        print_stats(report, console(), args.all_matrices)
    fail_on = "never" if args.exit_zero else (args.fail_on or config.fail_on)
    return report.exit_code(fail_on)


