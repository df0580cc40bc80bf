"""Root-cause diagnosis: one typo is one finding, at the typed cell.

The checks report each stated figure that disagrees with its computation. One wrong typed figure
usually breaks several of them (a line's allocation breaks its parent's roll-up, its remaining and
four percentages); this step finds the typed cell that explains them all and reports it.

It is consistency-based diagnosis (de Kleer & Williams' GDE, Reiter's hitting sets) over a small
linear problem drawn only from the spec:

* the *components* are the typed cells: every stated number, and every blank input cell (a figure
  left out), and the parent codes of rows;
* the *constraints* are what the spec says must hold: each stated derived cell equals its
  :class:`~osmep_xl.spec.base.Formula` (sums, differences, percentages, KPI achievement), each stated
  parent equals the sum of its lines (:class:`~osmep_xl.model.evaluate.Structure`, every level), the
  two sides of each :class:`~osmep_xl.spec.base.Link`, and each number equals the figure its
  "as stated" text gives (:class:`~osmep_xl.spec.base.StatedText`);
* the *conflict* of a violated constraint is the set of typed cells it depends on (through cells that
  are computed, never through a typed one); violated constraints sharing typed cells form a cluster.

A single-fault diagnosis of a cluster is a typed cell in every conflict whose one corrected value
satisfies every constraint it takes part in. The value is solved from a linear constraint (sums and
differences are exact in Decimal; a percentage is inverted) and then checked against all of them, so
the result is exact, not a guess. One diagnosis is reported as the cause (:data:`CAUSE`, ``expected``
= the corrected value); several are one finding listing them (most typo-like first); a parent code
that moves a line between two parents, or a row entered twice, is tried when no single figure
explains the clusters it touches. The cluster's other findings name the cause (``Finding.cause``).

When no single cell explains a cluster, the double-fault step looks for two (:data:`PAIR`): the minimal
hitting sets of size two of the cluster's conflicts (one cell of its smallest conflict, the other in every
conflict the first misses), or one cell from each of two unexplained clusters (two typos that cancel in a
total that still holds). Both values are solved and verified as above; two lines that only their total
ties (which cannot fix two values) take the one pair of corrections a single keystroke each from what is
typed, which is also preferred to a lone cell that explains a cluster only at a figure far from what is
typed. A unique pair is reported as two causes, several as candidates when their corrections are
typo-like, and nothing is guessed otherwise.

Modules: :mod:`.constraints` (the constraint system), :mod:`.solve` (exact corrections of one or two
cells), :mod:`.search` (clusters and the hypotheses tried on them), :mod:`.report` (findings).
"""

from .report import CAUSE, CAUSE_RULES, PAIR, STATED_TEXT, diagnose_findings
from .search import Diagnoser, Diagnosis
from .solve import typo_distance

__all__ = ["CAUSE", "CAUSE_RULES", "PAIR", "STATED_TEXT", "Diagnoser", "Diagnosis", "diagnose_findings",
           "typo_distance"]
