"""The example scripts run as a learner would run them."""

import re
import shutil
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


def run_example(name: str, *args: str, cwd) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_autograd_seed_example_learns_by_the_graph(tmp_path):
    args = ("--steps", "601") + (("--graph", "graph.svg") if shutil.which("dot") else ())
    lines = run_example("autograd_seed.py", *args, cwd=tmp_path).stdout.splitlines()
    epochs = [line for line in lines if "train acc, test acc" in line]
    assert [line.split()[0] for line in epochs] == ["0", "600"]
    assert re.fullmatch(r"final: train acc 0\.\d{4}, test acc 0\.\d{4} after 601 steps", lines[-1])
    assert float(lines[-1].split("test acc ")[1].split()[0]) > 0.7
    if shutil.which("dot"):
        dot = (tmp_path / "graph.dot").read_text(encoding="utf-8")
        assert "softmax_cross_entropy" in dot and "W1" in dot


def test_newton_example_reaches_the_minimum(tmp_path):
    lines = run_example("newton.py", cwd=tmp_path).stdout.splitlines()
    assert lines[-1] == "reached the minimum x = 1 in 6 steps"
    assert lines[-2].startswith("step 6: x = 1.0000000000")


def test_tanh_example_draws_five_curves(tmp_path):
    args = ("--out", "tanh.png") + (("--graph", "second.png") if shutil.which("dot") else ())
    run_example("tanh_derivatives.py", *args, cwd=tmp_path)
    assert (tmp_path / "tanh.png").read_bytes()[:4] == b"\x89PNG"
    if shutil.which("dot"):
        assert (tmp_path / "second.png").read_bytes()[:4] == b"\x89PNG"
        assert "d2y" in (tmp_path / "second.dot").read_text(encoding="utf-8")
