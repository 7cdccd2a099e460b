"""dvzero bench: the job's products and floor, the steps, the table and the JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dvzero._parallel import available_cores
from dvzero.apps import bench as benchmark
from dvzero.apps.bench import Product, job_products, median_seconds, report_lines
from dvzero.cli import main


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
