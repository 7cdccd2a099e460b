"""dvzero bench: the job's products and floor, the steps, the table and the JSON; and the
scripts of benchmarks/, which measure the figures the documentation gives."""

from __future__ import annotations

import importlib
import json
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from dvzero._parallel import available_cores
from dvzero.apps import bench as benchmark
from dvzero.apps.bench import Product, job_products, median_seconds, report_lines
from dvzero.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_the_jobs_products_are_the_networks_own():
    products = job_products(evaluations=18)
    per_step = 2 * 100 * 784 * 50 + 2 * 100 * 50 * 10  # forward
    per_step += 2 * 100 * 50 * 10 * 2 + 2 * 784 * 100 * 50  # dW2, da, dW1
    per_step += 2 * 100 * 784 * 50 + 2 * 100 * 50 * 10  # the loss pass after the update
    per_evaluation = 2 * 70000 * (784 * 50 + 50 * 10)
    total = sum(product.flops * product.count for product in products)
    assert total == 10000 * per_step + 18 * per_evaluation
    assert Product("x", 2, 3, 4, 1).flops == 48


def test_the_steps_own_products_come_first_then_the_loss_pass_and_the_evaluations():
    products = job_products(evaluations=18)
    assert [p.count for p in products] == [10000] * 7 + [18 * (30 + 5)] * 2  # chunks of 2,000
    assert all("loss pass" in p.what for p in products[benchmark.STEP_PRODUCTS:7])
    assert all("evaluation" in p.what for p in products[7:])


def test_median_seconds_times_one_call():
    calls = []
    seconds = median_seconds(lambda: calls.append(1), least=0.001, samples=3)
    assert 0 < seconds < 0.001 and len(calls) > 3


def test_a_product_is_timed_on_the_threads_asked_for(monkeypatch):
    seen = []
    real = benchmark.median_seconds

    def median(work, **options):
        from threadpoolctl import threadpool_info

        seen.append({pool["num_threads"] for pool in threadpool_info()})
        return real(work, **options)

    monkeypatch.setattr(benchmark, "median_seconds", median)
    counts = (1, 2) if available_cores() >= 2 else (1,)  # BLAS may not go past the cores
    for threads in counts:
        seconds = benchmark.product_seconds(Product("x", 100, 784, 50, 1), threads)
        assert 0 < seconds < 0.1
    assert seen == [{threads} for threads in counts]


def test_the_naive_step_is_extrapolated_from_a_part(monkeypatch):
    seconds, timed = benchmark.step_seconds("naive", np.float64, naive_evaluations=100)
    assert timed == 100 and seconds > 0
    backprop, timed = benchmark.step_seconds("backprop", np.float32)
    assert timed == 0 and 0 < backprop < seconds
    autograd, timed = benchmark.step_seconds("autograd", np.float32)
    assert timed == 0 and 0 < autograd < seconds


def fake_result() -> benchmark.BenchResult:
    result = benchmark.BenchResult(cpu="test CPU", threads=2, numpy=np.__version__, cores=2)
    result.products = [{"what": "x @ W1", "shape": [100, 784, 50], "count": 20000,
                        "seconds": {"1": 1e-4, "2": 5e-5}, "gflops": {"1": 78.4, "2": 156.8}}]
    result.floor_seconds, result.job_seconds, result.job_test_acc = 2.0, 5.0, 0.9452
    result.floor_as_run_seconds = 2.5
    result.job_cpu_seconds, result.products_cpu_seconds = 8.75, 4.06
    result.backprop_step, result.structured_step, result.naive_step = 3e-4, 0.06, 12.0
    result.autograd_step = 4.5e-4
    result.naive_timed_evaluations = 2000
    result.projected_job = {"backprop": 5.0, "structured numerical": 602.0,
                            "naive numerical": 120002.0}
    return result


def test_the_table_says_what_was_measured_and_how():
    text = "\n".join(report_lines(fake_result()))
    assert "machine: test CPU, 2 cores" in text
    assert "1 thread  2 threads" in text
    assert "100x784x50" in text and "78.4      156.8" in text
    assert "= 2.50x the floor, 2.00x as run (test acc 0.9452)" in text
    assert "floor as dvzero train runs them (each on one thread)" in text
    assert "its processor time, all threads: 8.8 s on 2 cores, of which its matrix " \
        "products need 4.1 s" in text
    assert "the accuracies beside the steps, on other threads" in text
    assert "timed on 2,000 of its 79,520 loss evaluations and extrapolated" in text
    assert "autograd (float32)                   0.450 ms" in text
    assert "10.0 minutes" in text and "33.3 hours" in text


def test_dvzero_bench_prints_and_writes_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(benchmark, "run_bench", lambda progress: fake_result())
    out = tmp_path / "figures.json"
    assert main(["bench", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "the original post's job" in printed and f"wrote {out}" in printed
    figures = json.loads(out.read_text())
    assert figures["floor_ratio"] == 2.5 and figures["cpu"] == "test CPU"
    assert figures["floor_as_run_ratio"] == 2.0
    assert figures["projected_job"]["naive numerical"] == 120002.0


@pytest.mark.parametrize("name, words", [("figures.txt", "ending in .json"),
                                         ("nowhere/figures.json", "does not exist")])
def test_dvzero_bench_refuses_an_output_it_cannot_write(tmp_path, capsys, name, words):
    assert main(["bench", "--out", str(tmp_path / name)]) == 2
    assert words in capsys.readouterr().err


def test_the_whole_bench_on_a_short_job(monkeypatch, small_mnist_dir):
    # the real measurements, with the job cut short (run_job is what takes seconds)
    monkeypatch.setattr(benchmark, "run_job", lambda: (1.5, 2.5, 0.9, 17))
    monkeypatch.setattr(benchmark, "step_seconds", lambda method, dtype, **_: (
        (2.0, 1000) if method == "naive" else (0.001, 0)))
    heard = []
    result = benchmark.run_bench(heard.append)
    assert len(heard) == 4 and len(result.products) == 9
    products = job_products(18)
    seconds = [{int(k): v for k, v in product["seconds"].items()} for product in result.products]
    assert (result.floor_seconds, result.floor_as_run_seconds) == pytest.approx(
        benchmark.floors(products, seconds, result.threads, result.cores))
    assert result.floor_ratio == pytest.approx(1.5 / result.floor_seconds)
    assert result.floor_seconds <= result.floor_as_run_seconds
    assert result.job_cpu_seconds == 2.5
    assert result.products_cpu_seconds == pytest.approx(benchmark.core_seconds(products, seconds))
    assert result.products_cpu_seconds >= result.floor_seconds  # on 1 or more cores
    for product, times in zip(result.products, seconds, strict=True):
        for count, time in times.items():
            flops = 2 * np.prod(product["shape"])
            assert product["gflops"][str(count)] == pytest.approx(flops / time / 1e9)
    assert 0 < result.evaluation_seconds < 10
    assert result.rest_seconds == 0.0  # 1.5 s less 10,000 steps of 1 ms: none, not -8.5
    assert result.projected_job["naive numerical"] == pytest.approx(
        10000 * 2.0 + result.rest_seconds + 17 * result.evaluation_seconds)


def test_the_floors_in_closed_form():
    # two step products and one evaluation product; times on 1 and 2 threads
    products = [Product("s1", 1, 1, 1, 10), Product("s2", 1, 1, 1, 10),
                Product("e1", 1, 1, 1, 4)]
    products = products[:2] + [Product("pad", 1, 1, 1, 0)] * 3 + products[2:]
    seconds = [{1: 1.0, 2: 0.6}, {1: 2.0, 2: 2.0}] + [{1: 1.0, 2: 1.0}] * 3 + [{1: 5.0, 2: 2.0}]
    floor, as_run = benchmark.floors(products, seconds, threads=2, cores=2)
    # steps at their best: 10 * 0.6 + 10 * 2.0 = 26; the least core-seconds: 10 * 1.0 +
    # 10 * 2.0 + 4 * 4.0 = 46, over 2 cores = 23; the larger
    assert floor == pytest.approx(26.0)
    assert benchmark.core_seconds(products, seconds) == pytest.approx(46.0)
    # steps on one thread 30; evaluations on one thread 20; everything 50 / 2 = 25
    assert as_run == pytest.approx(30.0)
    # with the evaluations the longer part, they bound both
    seconds[-1] = {1: 20.0, 2: 20.0}
    floor, as_run = benchmark.floors(products, seconds, threads=2, cores=2)
    assert floor == pytest.approx((10 + 20 + 80) / 2) and as_run == pytest.approx(80.0)
    # one core: everything one after another
    one = [{1: times[1]} for times in seconds]
    assert benchmark.floors(products, one, threads=1, cores=1) == pytest.approx((110.0, 110.0))


# ------------------------------------------------------------------ the benchmark scripts


@pytest.mark.parametrize("script, option", [("bench_gradient.py", "--repeats"),
                                            ("bench_seed_job.py", "--repeats"),
                                            ("bench_busy.py", "--repeats"),
                                            ("bench_sweep.py", "--threads")])
def test_the_benchmarks_refuse_zero_in_one_line(script, option):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), option, "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"argument {option}: must be at least 1, got 0" in result.stderr


def test_the_cost_sweep_counts_the_products_of_a_step():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_sweep import step_flops
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    # forward x@W1, a@W2; backward dW2 = a.T@dy, da = dy@W2.T, dW1 = x.T@dz
    assert step_flops(100, 50) == 2 * (100 * 784 * 50 + 100 * 50 * 10 + 50 * 100 * 10
                                       + 100 * 10 * 50 + 784 * 100 * 50)


def test_the_job_benchmark_passes_other_options_to_dvzero_train(small_mnist_dir):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_seed_job.py"), "--repeats", "2",
         "--first-seed", "4", "--steps", "3", "--batch-size", "20", "--data-dir",
         str(small_mnist_dir)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "command: dvzero train --steps 3 --batch-size 20 --data-dir" in result.stdout
    assert re.search(r"^seed 4: .*test acc 0\.\d{4}", result.stdout, re.MULTILINE)
    assert re.search(r"^seed 5: ", result.stdout, re.MULTILINE)
    assert "median (range) of 2 runs: wall " in result.stdout


def test_the_job_benchmark_keeps_its_own_seed_and_out(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_seed_job.py"), "--seed", "3"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and "--seed is set by the benchmark for each run" in result.stderr


def test_the_job_benchmark_runs_the_pytorch_side_and_prints_the_ratios(tmp_path):
    # a stand-in for a Python with PyTorch: it writes the figures torch_seed_job.py writes
    fake = tmp_path / "fake-python"
    fake.write_text('#!/bin/sh\nmkdir -p "$3"\nprintf \'{"torch": "0.0-fake", "threads": 2, '
                    '"train_seconds": 8.0, "train_acc": 0.95, "test_acc": 0.94, '
                    '"evaluations": 17}\' > "$3/summary.json"\n')
    fake.chmod(0o755)
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_seed_job.py"), "--repeats", "1",
         "--torch-python", str(fake)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^seed 1: PyTorch 0\.0-fake \(2 threads\) .*test acc 0\.9400, "
                     r"training 8\.00 s", result.stdout, re.MULTILINE)
    assert "PyTorch, median (range) of 1 runs: wall " in result.stdout
    training = float(re.search(r"^dvzero, .* training (\d+\.\d+) ", result.stdout,
                               re.MULTILINE).group(1))
    ratio = float(re.search(r"^dvzero / PyTorch, training: (\d+\.\d+)$", result.stdout,
                            re.MULTILINE).group(1))
    assert ratio == pytest.approx(training / 8.0, abs=0.006)  # of figures rounded to 0.01
    assert "dvzero / PyTorch, peak memory: " in result.stdout


def test_the_job_benchmark_compares_with_pytorch_on_the_original_posts_job_only():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_seed_job.py"), "--torch-python",
         "python3", "--hidden", "100"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--torch-python runs the original post's job: no dvzero train options" in \
        result.stderr


# ------------------------------------------------------------------ the Markdown snippets

#: The line under each table of benchmarks/results: the command, the date, the machine.
MEASURED = {"en": re.compile(r"^Measured with `(python benchmarks/\w+\.py[^`]*)` on "
                             r"(\d{4}-\d\d-\d\d) \(UTC\); CPU: (.+), Python ([\d.]+), "
                             r"NumPy ([\d.]+)\.$"),
            "zh": re.compile(r"^用 `(python benchmarks/\w+\.py[^`]*)` 于 (\d{4}-\d\d-\d\d)"
                             r"（UTC）测得；CPU：(.+)，Python ([\d.]+)，NumPy ([\d.]+)。$")}


def benchmark_module(name: str):
    """A module of benchmarks/ (the scripts import common from there)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def read_snippet(directory: Path, name: str) -> dict[str, tuple[list[list[str]], list[str]]]:
    """Each language's table (its lines split into cells) and the paragraphs under it."""
    snippets = {}
    for language, suffix in (("en", ".md"), ("zh", ".zh.md")):
        text = (directory / f"{name}{suffix}").read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n")
        table, *paragraphs = text.strip().split("\n\n")
        rows = [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
                for line in table.split("\n")]
        assert all(len(row) == len(rows[0]) for row in rows) and set(rows[1]) == {"---"}
        assert all(MEASURED[language].fullmatch(paragraph) is None for paragraph in paragraphs[:-1])
        snippets[language] = rows, paragraphs
    return snippets


def measured(snippets: dict) -> tuple:
    """The command, date, CPU, Python and NumPy a snippet names, the same in both languages."""
    english, chinese = (MEASURED[language].fullmatch(snippets[language][1][-1])
                        for language in ("en", "zh"))
    assert english and chinese and english.groups() == chinese.groups()
    return english.groups()


def test_a_benchmark_writes_its_table_in_both_languages_with_markdown(tmp_path, small_mnist_dir):
    before = datetime.now(timezone.utc).date().isoformat()
    options = ["--repeats", "1", "--steps", "3", "--batch-size", "20", "--data-dir",
               str(small_mnist_dir)]
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_seed_job.py"),
                             *options, "--markdown", str(tmp_path / "snippets")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "dvzero, median (range) of 1 runs: wall " in result.stdout  # printed as before
    snippets = read_snippet(tmp_path / "snippets", "seed-job")
    assert sorted(path.name for path in (tmp_path / "snippets").iterdir()) == [
        "seed-job.md", "seed-job.zh.md"]
    (header, _, dvzero), paragraphs = snippets["en"]
    assert header == ["", "whole command", "training (steps and evaluations)", "peak memory",
                      "test accuracy"]
    wall = re.search(r"^dvzero, median \(range\) of 1 runs: wall (\d+\.\d+) ", result.stdout,
                     re.MULTILINE).group(1)
    assert dvzero[0] == "dvzero" and dvzero[1].endswith(" s")
    assert float(dvzero[1][:-2]) == pytest.approx(float(wall), abs=0.051)  # 0.1 s, of 0.01 s
    assert re.fullmatch(r"\d+ MiB", dvzero[3]) and re.fullmatch(r"0\.\d{4}", dvzero[4])
    assert paragraphs[0].startswith("PyTorch was not measured")
    (header, _, row), paragraphs = snippets["zh"]
    assert header[1:3] == ["整条命令", "训练（各步和评估）"] and row[1].endswith(" 秒")
    assert paragraphs[0].startswith("这次没有测量 PyTorch")
    command, date, cpu, python, numpy = measured(snippets)
    assert command == f"python benchmarks/bench_seed_job.py {' '.join(options)}"
    assert before <= date <= datetime.now(timezone.utc).date().isoformat()
    assert (cpu, python, numpy) == (benchmark.cpu_model(), platform.python_version(),
                                    np.__version__)


def test_a_benchmark_writes_no_markdown_without_the_option(tmp_path, small_mnist_dir):
    results = {path: path.read_bytes() for path in (ROOT / "benchmarks" / "results").iterdir()}
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_seed_job.py"),
                             "--repeats", "1", "--steps", "3", "--batch-size", "20",
                             "--data-dir", str(small_mnist_dir)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []
    assert {path: path.read_bytes()
            for path in (ROOT / "benchmarks" / "results").iterdir()} == results


def test_the_snippet_names_the_command_as_a_reader_types_it(monkeypatch):
    common = benchmark_module("common")
    monkeypatch.setattr(sys, "argv", ["/somewhere/benchmarks/bench_mlp.py", "--repeats", "3",
                                      "--torch-python", "/home/me/torch/bin/python",
                                      "--markdown", "benchmarks/results", "--epochs=2"])
    assert common.command_line() == \
        "python benchmarks/bench_mlp.py --repeats 3 --torch-python PATH --epochs=2"
    monkeypatch.setattr(sys, "argv", ["bench_cnn.py", "--markdown=out", "--torch-python=none"])
    assert common.command_line() == "python benchmarks/bench_cnn.py --torch-python none"


def test_a_snippet_holds_both_languages_cells_and_its_note(tmp_path, monkeypatch):
    common = benchmark_module("common")
    monkeypatch.setattr(sys, "argv", ["bench_x.py"])
    common.write_snippet(tmp_path, "x", ["", ("time", "用时")],
                         [["a | b", common.amount("0.25", "ms")], [("one", "一"), ""]],
                         note=("A note.", "一条说明。"))
    snippets = read_snippet(tmp_path, "x")
    assert snippets["en"][0] == [["", "time"], ["---", "---"], ["a \\| b", "0.25 ms"],
                                 ["one", ""]]
    assert snippets["zh"][0][2:] == [["a \\| b", "0.25 毫秒"], ["一", ""]]
    assert snippets["en"][1][0] == "A note." and snippets["zh"][1][0] == "一条说明。"
    assert measured(snippets)[0] == "python benchmarks/bench_x.py"
    assert (tmp_path / "x.md").read_text(encoding="utf-8").startswith("| | time |\n")
    common.write_snippet(None, "y", ["a"], [["b"]])  # no --markdown: nothing
    assert sorted(path.name for path in tmp_path.iterdir()) == ["x.md", "x.zh.md"]


def test_the_job_table_with_pytorch_has_its_row_and_the_ratios(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["bench_seed_job.py", "--torch-python", "/x/python"])
    run = {"wall": 6.0, "training": 5.0, "peak": 140.0, "test": 0.9452}
    benchmark_module("bench_seed_job").write_table(
        tmp_path, [run], [{"wall": 10.0, "training": 6.3, "peak": 560.0, "test": 0.9471,
                           "torch": "2.13.0"}])
    (_, _, *rows), paragraphs = read_snippet(tmp_path, "seed-job")["en"]
    assert rows == [["dvzero", "6.0 s", "5.0 s", "140 MiB", "0.9452"],
                    ["PyTorch 2.13.0", "10.0 s", "6.3 s", "560 MiB", "0.9471"],
                    ["dvzero / PyTorch", "0.60", "0.79", "0.25", ""]]
    assert len(paragraphs) == 1  # no note: PyTorch was measured


@pytest.mark.parametrize("name", sorted({path.name.split(".")[0] for path in
                                         (ROOT / "benchmarks" / "results").glob("*.md")}))
def test_each_snippet_of_the_documentation_is_in_the_format_the_scripts_write(name):
    snippets = read_snippet(ROOT / "benchmarks" / "results", name)
    (english, _), (chinese, _) = snippets["en"], snippets["zh"]
    assert len(english) == len(chinese) and len(english[0]) == len(chinese[0])
    command = measured(snippets)[0]
    assert (ROOT / command.split()[1]).is_file()


def test_the_refresh_runs_each_benchmark_as_the_documentation_quotes_it():
    refresh = benchmark_module("refresh")
    assert refresh.command("autograd", None)[1:] == [
        "benchmarks/bench_autograd.py", "--repeats", "7", "--cnn-repeats", "2",
        "--markdown", "benchmarks/results"]
    assert refresh.command("sweep", "/t/python")[2:4] == ["--plot", "docs/images/cost.png"]
    for name in refresh.BENCHMARKS:
        words = refresh.command(name, "/t/python")
        assert (ROOT / words[1]).is_file() and words[-2:] == ["--markdown", "benchmarks/results"]
        assert ("/t/python" in words) == (name in ("seed_job", "cnn", "mlp"))
    assert "--torch-python" not in refresh.command("seed_job", None)
    assert refresh.command("cnn", None)[-4:-2] == ["--torch-python", "none"]
