"""The model as an assumption: how the parameters make the attention's matrices.

The exact loss is a quadratic form in z_r = sum_h P_h[r, :] (x) Q_h (:mod:`mesacheck.symbolic.
full_model`: its K and J depend on the setting and T only). A model is the map from its
parameters theta to z:

- ``merged`` (the paper's): each head h has W^KQ_h = Q_h (2d x 2d) and W^PV_h = P_h (d x 2d);
- ``separate``: each head has a key and a query matrix W_K,h, W_Q,h (key_dim x 2d) and
  W^KQ_h = W_K,h^T W_Q,h, of rank <= key_dim. (The scores e_i^H W_K^H W_Q e_t of complex
  attention are the same model with W_K conjugated: the flow in real coordinates is the same
  flow, with W_K -> conj(W_K), since conjugation is an isometry; the holomorphic form keeps
  the chain rule complex-linear.)

With H heads the prediction is linear in Z = sum_h P_h (x) W^KQ_h. ``mask`` "prediction-blocks"
is the reference's --clip: the off-diagonal entries of both prediction blocks held at their
start (merged heads only: the separate model has no W^KQ entries to hold).

The paper's model is :data:`PAPER_MODEL` (one merged head, nothing held), and every stage reads
the model from a :class:`Model`: the exact flow, the simulator, the verbs and the command line.
No SymPy here: a model is a description, its numeric maps are
:mod:`mesacheck.numeric.parameterized` and its reduced flows :mod:`mesacheck.symbolic.model_line`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Model",
    "PAPER_MODEL",
    "PARAMETERIZATIONS",
    "MASKS",
    "MAX_HEADS",
    "MAX_KEY_DIM",
    "InvalidModel",
]

PARAMETERIZATIONS = ("merged", "separate")
MASKS = ("none", "prediction-blocks")
# The flow's Hessian is dense in 2 H (3 d^2 + 2 d key_dim) real coordinates (complex parameters):
# H = 8 separate heads with key_dim = 4d at d = 5 is ~14,000, ~1.6 GB as doubles. The limits keep
# every request inside what the cost guard can judge; the command line names them.
MAX_HEADS = 8
MAX_KEY_DIM_PER_D = 4  # key_dim <= 4 d (the full rank of W^KQ is 2d)
MAX_KEY_DIM = 64


class InvalidModel(ValueError):
    """A model that cannot be built; its message is one line."""


def _positive_integer(value, name: str, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidModel(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise InvalidModel(f"{name} must be >= 1, got {value}")
    if value > limit:
        raise InvalidModel(f"{name} must be <= {limit}, got {value}")
    return value


@dataclass(frozen=True)
class Model:
    """The parameterization of the one-layer linear attention.

    ``key_dim`` (separate only) is the rows of W_K and W_Q; ``None`` means 2d (full rank).

    >>> Model().is_paper
    True
    >>> Model("separate", heads=2, key_dim=1).describe()
    'separate K/Q (key dimension 1), 2 heads'
    """

    parameterization: str = "merged"
    heads: int = 1
    key_dim: int | None = None
    mask: str = "none"

    def __post_init__(self):
        if self.parameterization not in PARAMETERIZATIONS:
            raise InvalidModel(
                f"the parameterization is one of {', '.join(PARAMETERIZATIONS)}, "
                f"got {self.parameterization!r}"
            )
        _positive_integer(self.heads, "the number of heads", MAX_HEADS)
        if self.key_dim is not None:
            if self.parameterization == "merged":
                raise InvalidModel("a key dimension needs separate keys and queries (--model separate)")
            _positive_integer(self.key_dim, "the key dimension", MAX_KEY_DIM)
        if self.mask not in MASKS:
            raise InvalidModel(f"the mask is one of {', '.join(MASKS)}, got {self.mask!r}")
        if self.mask != "none" and self.parameterization != "merged":
            raise InvalidModel(
                "the reference's masking holds entries of W^KQ, which the separate model does not have as "
                "parameters: mask only merged heads"
            )

    @property
    def is_paper(self) -> bool:
        """One merged head: the paper's model (masked or not)."""
        return self.parameterization == "merged" and self.heads == 1

    @property
    def masked(self) -> bool:
        return self.mask != "none"

    def keys(self, d: int) -> int:
        """The key dimension at embedding size 2d, checked against its limit for d."""
        if self.key_dim is None:
            return 2 * d
        if self.key_dim > MAX_KEY_DIM_PER_D * d:
            raise InvalidModel(
                f"the key dimension must be <= {MAX_KEY_DIM_PER_D} d = {MAX_KEY_DIM_PER_D * d} at d = {d} "
                f"(W^KQ has rank <= 2d = {2 * d}), got {self.key_dim}"
            )
        return self.key_dim

    def shapes(self, d: int) -> tuple[tuple[str, tuple[int, int]], ...]:
        """The parameter matrices in their order (the flow's packing), with their shapes: per
        head, merged ``W_KQ`` (2d x 2d), ``W_PV`` (d x 2d); separate ``W_K``, ``W_Q``
        (key_dim x 2d), ``W_PV``."""
        n = 2 * d
        if self.parameterization == "merged":
            one = (("W_KQ", (n, n)), ("W_PV", (d, n)))
        else:
            k = self.keys(d)
            one = (("W_K", (k, n)), ("W_Q", (k, n)), ("W_PV", (d, n)))
        return tuple(
            (f"{name}[{h}]" if self.heads > 1 else name, shape)
            for h in range(self.heads)
            for name, shape in one
        )

    def size(self, d: int) -> int:
        """The number of complex parameters."""
        return sum(rows * columns for _, (rows, columns) in self.shapes(d))

    def describe(self) -> str:
        if self.is_paper and not self.masked:
            return "merged W^KQ, one head (the paper's model)"
        kind = (
            "merged W^KQ"
            if self.parameterization == "merged"
            else f"separate K/Q (key dimension {self.key_dim if self.key_dim is not None else '2d'})"
        )
        heads = "one head" if self.heads == 1 else f"{self.heads} heads"
        return f"{kind}, {heads}" + (", prediction blocks masked" if self.masked else "")

    def as_dict(self) -> dict:
        return {
            "parameterization": self.parameterization,
            "heads": self.heads,
            "key_dim": self.key_dim,
            "mask": self.mask,
        }


PAPER_MODEL = Model()
