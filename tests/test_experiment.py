"""experiments/kernel_asymmetry.py keeps working: a one-seed, one-epoch run on a few
hundred images (seconds) writes its JSON with padlint's uneven layers at each size."""
import json
import subprocess
import sys

from paths import ROOT

SCRIPT = ROOT / "experiments" / "kernel_asymmetry.py"


def test_experiment_runs_and_names_the_uneven_layers(tmp_path):
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "1", "--epochs", "1", "--train", "256",
                           "--test", "128", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    # 32 -> 16 -> 8 -> 4 -> 2: every stride-2 layer sees an even input; 33 -> 17 -> 9 -> 5 -> 3: none
    assert result["pad101"] == {"uneven": [f"down{i}:{a}" for i in range(1, 5) for a in "HW"], "clean": []}
    (seed,) = result["per_seed"]
    assert (seed["uneven"]["size"], seed["clean"]["size"]) == (32, 33)
    layers = ["stem"] + [f"{kind}{i}" for i in range(1, 5) for kind in ("down", "conv")]
    for run in ("init", "uneven", "clean"):
        kernels = seed[run]["kernels"] if run != "init" else seed["init"]
        assert sorted(kernels) == sorted(layers)
        for facts in kernels.values():
            assert len(facts["mean_kernel"]) == 3 and len(facts["mean_kernel"][0]) == 3
            assert facts["heavier_H"] in ("top", "bottom") and facts["heavier_W"] in ("left", "right")
    assert "wall time" in proc.stdout
