"""The biased-sign extension: its law reads from the command line, its averages and sampler
agree with its quadrature rule, and its claims can fail."""

import json

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mesacheck.numeric.laws import phase_rule, sample_phases
from mesacheck.proofs_check.cli import main
from mesacheck.proofs_check.extensions import biased_sign
from mesacheck.symbolic.setting import PhaseLaw, roots_of_unity

# Its claims pass at quick settings: tests/proofs_check/test_claims.py::test_claim_holds runs every
# registered claim, this extension's too.

quarters = st.integers(0, 4).map(lambda k: sp.Rational(k, 4))


@given(quarters, st.integers(0, 12), st.integers(0, 12))
def test_the_averages_are_the_quadrature_rules(p, n, m):
    nodes, weights = phase_rule(biased_sign.BiasedSign(p), 4)
    by_rule = np.sum(weights * nodes**n * np.conj(nodes) ** m)
    assert abs(by_rule - float(biased_sign.BiasedSign(p).average(n, m))) < 1e-12


def test_the_fair_sign_is_the_real_process():
    fair = biased_sign.BiasedSign(sp.Rational(1, 2))
    assert all(fair.average(n, m) == roots_of_unity(2).average(n, m) for n in range(8) for m in range(8))


def test_the_sampler_draws_the_law():
    lam = sample_phases(biased_sign.BiasedSign(sp.Rational(3, 4)), (200_000,), np.random.default_rng(0), 5)
    assert set(np.unique(lam)) == {-1, 1}
    assert abs(lam.real.mean() - 0.5) < 5 * 0.87 / np.sqrt(200_000)  # E lambda = 2p - 1, sd ~ 0.87


@pytest.mark.parametrize("text", ["sign:2", "sign:-1/4", "sign:x", "sign:"])
def test_the_command_line_refuses_a_bad_probability(text):
    with pytest.raises(ValueError):
        PhaseLaw.from_option(text)


def test_the_command_line_selects_the_law_by_name():
    arguments = ["limit", "--x1", "gaussian", "--d", "2", "--T", "8", "--phases", "sign:0.75", "--json"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["setting"] == "W = diag of signs +-1, +1 with probability 3/4"
    assert payload["ab_exact_rational"] == "4235/24319"  # the claim biased_sign_limit's p* at T = 8


def test_noise_is_refused_by_the_exact_route_and_sampled_by_the_simulator():
    arguments = ["limit", "--d", "1", "--T", "6", "--phases", "sign:0.75", "--noise", "0.5", "--json"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code != 0 and "not derived" in result.output


class _BiasIgnored(biased_sign.BiasedSign):
    """A wrong law: its odd averages ignore the bias (a subclass, so its cache key differs)."""

    def average(self, n, m):
        return roots_of_unity(2).average(n, m)


def test_the_iff_claim_fails_when_the_law_is_wrong(monkeypatch):
    """With the bias ignored, every p would pass for the fair sign: the claim must fail."""
    monkeypatch.setattr(biased_sign, "BiasedSign", _BiasIgnored)
    check = biased_sign.biased_sign_fair_is_the_real_process(quick=True)
    assert not check.passed
