"""The example scripts run as a learner would run them."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_seed_train_example_runs_and_learns(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "seed_train.py"), "--steps", "601",
         "--plot", str(tmp_path / "plot.png")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "train acc, test acc" in line]
    assert [line.split()[0] for line in lines] == ["0", "600"]
    test_acc = float(lines[-1].rsplit(",", 1)[1])
    assert test_acc > 0.7
    # The loop measures accuracy once per epoch; the script ends with the final figures.
    final = result.stdout.splitlines()[-2]
    assert re.fullmatch(r"final: train acc 0\.\d{4}, test acc 0\.\d{4} after 601 steps", final)
    assert float(final.split("test acc ")[1].split()[0]) > 0.7
    assert (tmp_path / "params_two_layer.pkl").is_file()
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
