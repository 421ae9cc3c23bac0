"""The verify stage's choices, torch-free so that the configuration and the command line can
offer them without importing torch: the devices and the baselines."""

DEVICES = ("auto", "cpu", "cuda", "mps")        # auto: CUDA when there is one, else the CPU
BASELINES = ("constant", "random", "simplified", "zeros")
# zeros shows nothing in a bias-free zero-padded network (SCIENCE.md §3): on request only;
# simplified (padlint's own synthetic shapes) is on request only too
DEFAULT_BASELINES = ("constant", "random")
