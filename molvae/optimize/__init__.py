"""Latent-space optimization under an oracle budget: ``random``, ``bo`` and ``gradient``.

Every method moves latent points z, decodes them greedily and sends the molecules to an :class:`Oracle`,
which scores each distinct molecule once and counts the budget the way PMO does (W. Gao, T. Fu, J. Sun,
C. W. Coley, "Sample Efficiency Matters: A Benchmark for Practical Molecular Optimization", NeurIPS 2022
Datasets and Benchmarks): the budget is the number of distinct valid molecules sent to the objective.

* A repeat (same canonical SMILES) is answered from the cache for free.
* An invalid decode (None, or a SMILES RDKit rejects) is never sent to the objective, costs nothing and gets
  no row in the log; the summary counts such decodes in ``invalid_decodes``. (PMO scores them 0 without
  recording them, so they do not count there either.)
* A run stops when the budget is spent, or earlier when a method stops finding new molecules
  (``stopped = "stalled"``); the top-10 AUC then extends the last value to the budget, as PMO does.

Methods (z lives in the model's latent space, prior N(0, I)); ``auto``, the default, runs ``gradient`` with
weighted retraining every 250 calls (:mod:`molvae.optimize.retrain`), or ``bo`` when there is a start
molecule (:func:`molvae.optimize.run.resolve`):

``random``
    Prior sampling in batches: the honest baseline. With a start molecule, z = mu(start) + r * eps with r
    uniform in (0.05, 0.6).
``bo``
    Trust-region Bayesian optimization in the style of TuRBO (D. Eriksson, M. Pearce, J. Gardner, R. Turner,
    M. Poloczek, "Scalable Global Optimization via Local Bayesian Optimization", NeurIPS 2019), with BoTorch.
    See :mod:`molvae.optimize.bo` for what it does and how it differs from PMO's VAE-BO baseline.
``gradient``
    Gradient ascent in z on a small MLP surrogate that is fitted online to the (z, score) pairs the run has
    gathered. See :mod:`molvae.optimize.gradient`.

Layout: oracle.py (the oracle, the AUC, the result, the state a method works with), one module per method
(bo.py, gradient.py; random is in run.py), run.py (checks, the method table METHODS, the summary). A new method
is a function ``method(search, **options) -> stop reason`` in its own module, added to METHODS.

Constrained mode (``start`` and ``similarity_min``): the search starts at mu(start); the start itself is the
first oracle call; every molecule reported in the summary or :meth:`OptimizeResult.best` has Tanimoto
similarity (Morgan radius 2, 2048 bits) >= ``similarity_min`` to the start, and the summary states the
improvement over the start's score. Similarity is checked before the objective: once the start is scored, a
decoded molecule below the floor is not sent to the objective and costs no call (the summary counts them in
``below_floor``); to the optimizer it is worth ``start_value - 1 - (similarity_min - similarity)`` (always
worse than the start, and less bad the closer it is), so the search is steered back towards the feasible
region. A below-floor molecule counts as progress for the stall rule (it is a new molecule, and free), so a
method keeps searching for the feasible region instead of stopping after a few batches below the floor; to
keep that search finite, a run also stops after ``below_limit`` distinct molecules below the floor (20 times
the budget by default; ``stopped = "below_limit"``).

Internally every method maximizes (a minimized objective is negated); the log keeps the objective's own
value in ``score``. Same seed, same run: numpy and torch draws come from generators seeded by ``seed``, and
BoTorch's own draws run under ``torch.manual_seed(seed)`` inside a forked RNG state.
"""
from __future__ import annotations

from .oracle import FREQ_LOG, OptimizeError, OptimizeResult, Oracle, top_auc  # noqa: F401
from .run import METHODS, check_request, default_batch_size, optimize  # noqa: F401
