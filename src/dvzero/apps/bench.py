"""``dvzero bench``: how fast this machine runs the original post's network, and how close
the job comes to what the hardware can do: its *floor*, the least time its matrix products
alone (:func:`job_products`) could take here (:func:`floors`); everything else is overhead
above it. :func:`run_bench` measures the products, a step of each way of computing the
gradient, and the whole job, and returns plain numbers (:class:`BenchResult`).
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._format import duration
from .._i18n import N_, _, ngettext
from .._parallel import available_cores, limit_threads
from ..networks import DeepVisionZeroNet

#: The original post's job: network, batch, steps, and the images evaluated.
INPUT, HIDDEN, OUTPUT, BATCH, STEPS = 784, 50, 10, 100, 10000
TRAIN_IMAGES, TEST_IMAGES = 60000, 10000
#: Rows per evaluation chunk (DeepVisionZeroNet.accuracy's default).
EVAL_CHUNK = 2000
#: Loss evaluations of the naive numerical gradient per step: two per parameter (79,520).
NAIVE_EVALUATIONS = 2 * (INPUT * HIDDEN + HIDDEN + HIDDEN * OUTPUT + OUTPUT)
#: How many of :func:`job_products` are the steps' own.
STEP_PRODUCTS = 5


@dataclass(frozen=True)
class Product:
    """``count`` products of an ``(m, k)`` by a ``(k, n)`` matrix in the job; ``what`` is
    in English (the JSON keeps it so), ``_(what)`` in the user's language."""

    what: str
    m: int
    k: int
    n: int
    count: int

    @property
    def flops(self) -> int:
        return 2 * self.m * self.k * self.n


def job_products(evaluations: int, steps: int = STEPS) -> list[Product]:
    """The matrix products of the original post's job with ``evaluations`` passes over the
    70,000 images (one each epoch, then the final accuracies and the test pictures).

    The first :data:`STEP_PRODUCTS` are the steps' own, one after the other; the rest, the
    loss pass after each update and the evaluations, need not hold the steps up.
    """
    chunks = -(-TRAIN_IMAGES // EVAL_CHUNK) + -(-TEST_IMAGES // EVAL_CHUNK)
    return [
        Product(N_("x @ W1 (forward)"), BATCH, INPUT, HIDDEN, steps),
        Product(N_("a @ W2 (forward)"), BATCH, HIDDEN, OUTPUT, steps),
        Product("a.T @ dy (dW2)", HIDDEN, BATCH, OUTPUT, steps),
        Product("dy @ W2.T (da)", BATCH, OUTPUT, HIDDEN, steps),
        Product("x.T @ dz (dW1)", INPUT, BATCH, HIDDEN, steps),
        Product(N_("x @ W1 (the loss pass after the update)"), BATCH, INPUT, HIDDEN, steps),
        Product(N_("a @ W2 (the loss pass after the update)"), BATCH, HIDDEN, OUTPUT, steps),
        Product(N_("x @ W1 (evaluation, 2,000 images a chunk)"), EVAL_CHUNK, INPUT, HIDDEN,
                evaluations * chunks),
        Product(N_("a @ W2 (evaluation)"), EVAL_CHUNK, HIDDEN, OUTPUT, evaluations * chunks),
    ]


def floors(products: list[Product], seconds: list[dict[int, float]], threads: int,
           cores: int) -> tuple[float, float]:
    """The floor and the floor as run of :func:`job_products` ``products``, product ``i``
    taking ``seconds[i][k]`` on ``k`` BLAS threads (``k`` = 1 is required).

    * The floor: the steps' own products one after another at their best speed, the loss
      passes and the evaluations beside them, but no less than all the work (each
      product's least core-seconds) shared by the ``cores``.
    * The floor as run, as ``dvzero train`` runs them: the steps' own products on one
      thread, the loss passes and the evaluations on a second, but no less than all of it
      on one thread shared by the run's ``threads``.
    """
    def total(share: slice, cost) -> float:
        return _total(products[share], seconds[share], cost)

    steps, beside = slice(0, STEP_PRODUCTS), slice(STEP_PRODUCTS, len(products))
    floor = max(total(steps, lambda times: min(times.values())),
                core_seconds(products, seconds) / cores)
    one_thread = lambda times: times[1]  # noqa: E731
    as_run = max(total(steps, one_thread), total(beside, one_thread),
                 _total(products, seconds, one_thread) / threads)
    return floor, as_run


def core_seconds(products: list[Product], seconds: list[dict[int, float]]) -> float:
    """The processor time ``products`` take at the least: each product's count times its
    least core-seconds (``k`` times its time ``seconds[i][k]`` on ``k`` BLAS threads)."""
    return _total(products, seconds, lambda times: min(k * t for k, t in times.items()))


def _total(products: list[Product], seconds: list[dict[int, float]],
           cost: Callable[[dict[int, float]], float]) -> float:
    """The sum over ``products`` of each one's count times ``cost`` of its times."""
    return sum(product.count * cost(times)
               for product, times in zip(products, seconds, strict=True))


def cpu_model() -> str:
    """The processor's name, as Linux reports it (or what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_seconds(work: Callable[[], Any], least: float = 0.02, samples: int = 7) -> float:
    """The median time of one call of ``work``: ``samples`` samples, each of enough calls to
    take ``least`` seconds, after a warm-up call."""
    work()
    start = time.perf_counter()
    work()
    calls = max(1, int(least / max(time.perf_counter() - start, 1e-7)))
    times = []
    for _sample in range(samples):
        start = time.perf_counter()
        for _call in range(calls):
            work()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def product_seconds(product: Product, threads: int = 1, dtype: Any = np.float32) -> float:
    """Seconds of one product of ``product``'s shape on this machine, with BLAS on
    ``threads`` threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((product.m, product.k)).astype(dtype)
    b = rng.standard_normal((product.k, product.n)).astype(dtype)
    out = np.empty((product.m, product.n), dtype=dtype)
    with threadpool_limits(limits=threads):
        return median_seconds(lambda: np.matmul(a, b, out=out))


@dataclass
class BenchResult:
    """What ``dvzero bench`` measured (seconds unless named otherwise)."""

    cpu: str
    threads: int
    numpy: str
    products: list[dict[str, Any]] = field(default_factory=list)
    #: The products at their best speed, one thread or ``cores``: the floor.
    floor_seconds: float = 0.0
    #: The least time of the products as ``dvzero train`` runs them (see the module).
    floor_as_run_seconds: float = 0.0
    cores: int = 1
    backprop_step: float = 0.0
    autograd_step: float = 0.0
    structured_step: float = 0.0
    naive_step: float = 0.0
    naive_timed_evaluations: int = 0
    #: One evaluation in place (70,000 images), as the numerical runs evaluate.
    evaluation_seconds: float = 0.0
    #: The job less its steps: loading, files, pictures, the final accuracies.
    rest_seconds: float = 0.0
    job_seconds: float = 0.0
    #: The processor time of the job, all its threads together.
    job_cpu_seconds: float = 0.0
    #: The least processor time of the job's matrix products (:func:`core_seconds`).
    products_cpu_seconds: float = 0.0
    job_test_acc: float = 0.0
    projected_job: dict[str, float] = field(default_factory=dict)

    @property
    def floor_ratio(self) -> float:
        return self.job_seconds / self.floor_seconds

    @property
    def floor_as_run_ratio(self) -> float:
        return self.job_seconds / self.floor_as_run_seconds

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "floor_ratio": self.floor_ratio,
                "floor_as_run_ratio": self.floor_as_run_ratio}


def _mnist():
    """The shipped MNIST as a run holds it: bytes, made floats a batch at a time, with the
    values of ``load_mnist(normalize=True)``."""
    from ..runs.data import load_run_data

    train, test, _ = load_run_data({"data_dir": None, "net": "two-layer", "dtype": "float32"})
    return train, test


def step_seconds(method: str, dtype: Any, naive_evaluations: int = 2000) -> tuple[float, int]:
    """Seconds of one step's gradient (``"backprop"``, ``"autograd"``, ``"structured"`` or
    ``"naive"``) and the SGD update; for ``"naive"`` measured on ``naive_evaluations`` of
    the loop's 79,520 loss evaluations and extrapolated (the second number: the evaluations
    timed, or 0)."""
    from ..gradient import numerical_gradient
    from ..optimizers import SGD

    (x_train, t_train), _ = _mnist()
    rows = np.random.default_rng(0).choice(len(x_train), BATCH)
    x, t = x_train[rows].astype(dtype), t_train[rows]
    network = DeepVisionZeroNet(INPUT, HIDDEN, OUTPUT, dtype=dtype, rng=0)
    if method == "naive":
        # the loop of numerical_gradient on the first W1 entries; every entry costs the same
        part = network.params["W1"].reshape(-1)[: naive_evaluations // 2]
        start = time.perf_counter()
        numerical_gradient(lambda _: network.loss(x, t), part)
        seconds = time.perf_counter() - start
        return seconds * NAIVE_EVALUATIONS / (2 * part.size), 2 * part.size

    optimizer = SGD(lr=0.1)  # the original post's update
    fast = method in ("backprop", "autograd")

    def step() -> None:
        optimizer.update(network.params, network.gradient(x, t, method=method) if fast
                         else network.numerical_gradient(x, t, method="structured"))

    return median_seconds(step, least=0.05 if fast else 0.2, samples=7 if fast else 3), 0


def evaluation_seconds() -> float:
    """Seconds of one evaluation of the original post's network in place, on all 70,000
    images, as a run evaluates when it does not evaluate beside its steps."""
    (x_train, t_train), (x_test, t_test) = _mnist()
    network = DeepVisionZeroNet(INPUT, HIDDEN, OUTPUT, dtype=np.float32, rng=0)
    return median_seconds(lambda: (network.accuracy(x_train, t_train),
                                   network.accuracy(x_test, t_test)), least=0.0, samples=3)


def run_job() -> tuple[float, float, float, int]:
    """The original post's job in this process (imports and start-up excluded): its wall
    seconds, its processor seconds (all threads), its test accuracy and the evaluations it
    made."""
    from ..runs import Run

    with tempfile.TemporaryDirectory(prefix="dvzero-bench-") as folder:
        start, cpu_start = time.perf_counter(), time.process_time()
        run = Run.start({"seed": 1}, Path(folder) / "run")
        run.load_data()
        outcome = run.train([], beside=True)  # as dvzero train
        if outcome.status != "finished":
            raise RuntimeError(_("the benchmark's training did not finish: {status}")
                               .format(status=outcome.status))
        summary = run.finish(start)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return seconds, cpu_seconds, summary["test_acc"], summary["epochs_evaluated"]


def run_bench(progress: Callable[[str], None] = lambda message: None) -> BenchResult:
    """Measure everything ``dvzero bench`` reports; ``progress`` hears what is being
    measured."""
    from ..runs.config import default_threads

    cores, threads = available_cores(), default_threads("two-layer")  # as dvzero train runs it
    result = BenchResult(cpu=cpu_model(), threads=threads, numpy=np.__version__, cores=cores)
    progress(_("the whole job (dvzero train --seed 1)"))
    result.job_seconds, result.job_cpu_seconds, result.job_test_acc, evaluations = run_job()
    progress(_("matrix products, on one thread and on every core"))
    # + the final accuracies; the test pictures' 10,000 images are left out (a floor
    # a little too low only makes the ratio to it a little worse)
    products = job_products(evaluations + 1)
    seconds = [{count: product_seconds(product, count) for count in sorted({1, cores})}
               for product in products]
    result.products = [{"what": product.what, "shape": [product.m, product.k, product.n],
                        "count": product.count,
                        "seconds": {str(count): time for count, time in times.items()},
                        "gflops": {str(count): product.flops / time / 1e9
                                   for count, time in times.items()}}
                       for product, times in zip(products, seconds, strict=True)]
    result.floor_seconds, result.floor_as_run_seconds = floors(products, seconds, threads, cores)
    result.products_cpu_seconds = core_seconds(products, seconds)
    with limit_threads(threads, DeepVisionZeroNet.splits_work):  # as dvzero train
        progress(_("one step: backprop, autograd, structured numerical, naive numerical (a "
                   "part of it)"))
        result.backprop_step = step_seconds("backprop", np.float32)[0]
        result.autograd_step = step_seconds("autograd", np.float32)[0]
        result.structured_step = step_seconds("structured", np.float64)[0]
        result.naive_step, result.naive_timed_evaluations = step_seconds("naive", np.float64)
        progress(_("one evaluation in place, as numerical runs evaluate"))
        result.evaluation_seconds = evaluation_seconds()
    # loading, files, pictures, the final accuracies: the evaluations ran beside the steps
    result.rest_seconds = max(result.job_seconds - STEPS * result.backprop_step, 0.0)
    in_place = evaluations * result.evaluation_seconds
    result.projected_job = {
        "backprop": result.job_seconds,
        "structured numerical": STEPS * result.structured_step + result.rest_seconds + in_place,
        "naive numerical": STEPS * result.naive_step + result.rest_seconds + in_place,
    }
    return result


def _columns(text: str) -> int:
    """How many columns ``text`` takes on a terminal: two for a Chinese character."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _left(text: str, width: int) -> str:
    """``text`` padded on the right to ``width`` columns (``f"{text:<width}"`` for English)."""
    return text + " " * max(width - _columns(text), 0)


def _right(text: str, width: int) -> str:
    """``text`` padded on the left to ``width`` columns (``f"{text:>width}"`` for English)."""
    return " " * max(width - _columns(text), 0) + text


def report_lines(result: BenchResult) -> list[str]:
    """The table ``dvzero bench`` prints, in the user's language, its columns aligned."""

    def row(label: str, seconds: float) -> str:
        return "  " + _left(label, 58) + _right(duration(seconds), 12)

    counts = sorted({1, result.cores})
    columns = "".join(_right(ngettext("{count} thread", "{count} threads", count)
                             .format(count=count), 11) for count in counts)
    lines = [_("machine: {cpu}, {cores} cores; NumPy {numpy}")
             .format(cpu=result.cpu, cores=result.cores, numpy=result.numpy),
             "",
             _("matrix products of the original post's job (float32), GFLOP/s:"),
             "  " + _left(_("product"), 52) + " " + _right("m x k x n", 12) + " "
             + _right(_("count"), 7) + columns]
    for product in result.products:
        shape = "x".join(map(str, product["shape"]))
        speeds = "".join(f"{product['gflops'][str(count)]:>11.1f}" for count in counts)
        lines.append("  " + _left(_(product["what"]), 52)
                     + f" {shape:>12} {product['count']:>7,}{speeds}")
    naive_note = _("(timed on {timed:,} of its {total:,} loss evaluations and extrapolated)") \
        .format(timed=result.naive_timed_evaluations, total=NAIVE_EVALUATIONS)
    lines += [
        "",
        _("one step (784-50-10, batch 100, gradient and update):"),
        f"  backprop (float32)              {result.backprop_step * 1e3:10.3f} ms",
        f"  autograd (float32)              {result.autograd_step * 1e3:10.3f} ms",
        f"  structured numerical (float64)  {result.structured_step * 1e3:10.1f} ms",
        f"  naive numerical (float64)       {result.naive_step:10.2f} s  {naive_note}",
        "",
        _("the original post's job (10,000 steps, evaluations, files):"),
        row(_("floor: the least time of its matrix products alone"), result.floor_seconds),
        row(_("floor as dvzero train runs them (each on one thread)"),
            result.floor_as_run_seconds),
        row(_("backprop, measured"), result.job_seconds) + "  "
        + _("= {floor:.2f}x the floor, {as_run:.2f}x as run (test acc {acc:.4f})")
        .format(floor=result.floor_ratio, as_run=result.floor_as_run_ratio,
                acc=result.job_test_acc),
        "    " + ngettext("its processor time, all threads: {cpu:.1f} s on {cores} core, of "
                          "which its matrix products need {products:.1f} s",
                          "its processor time, all threads: {cpu:.1f} s on {cores} cores, of "
                          "which its matrix products need {products:.1f} s", result.cores)
        .format(cpu=result.job_cpu_seconds, cores=result.cores,
                products=result.products_cpu_seconds),
        row(_("structured numerical, projected"), result.projected_job["structured numerical"]),
        row(_("naive numerical, projected"), result.projected_job["naive numerical"]),
        "",
    ]
    # Two paragraphs, each broken into lines by its translation.
    lines += (_("dvzero train keeps each step's products on one thread, as a second BLAS thread "
                "is\nseveral times slower on a busy machine, and measures the loss after each "
                "update and\nthe accuracies beside the steps, on other threads.")
              if result.threads > 1 else
              _("dvzero train keeps each step's products on one thread, as a second BLAS thread "
                "is\nseveral times slower on a busy machine, and measures the loss after each "
                "update and\nthe accuracies between the steps.")).splitlines()
    lines += _("The processor time above its products' is the work around them: activations,\n"
               "softmax, sampling, copies, Python, threads handing work over, files and "
               "pictures.").splitlines()
    return lines
