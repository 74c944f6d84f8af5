"""The verbs of ``import mesacheck``, each against an independent route: the integrated flows
against the closed forms of mesacheck.symbolic, the conditions' verdicts against the moments of
their general form, the sampled training against the exact flow, and every verb against the
JSON its command prints for the same setting."""

import json
from dataclasses import FrozenInstanceError

import pytest
import sympy as sp
from click.testing import CliRunner

import mesacheck
from mesacheck.proofs_check.cli import main
from mesacheck.symbolic.moments import expectation, full_one, gaussian, iid, sparse, token
from mesacheck.symbolic.population_loss import T as T_symbol
from mesacheck.symbolic.stationary import ab_limit


def _command_json(*argv):
    result = CliRunner().invoke(main, [*argv, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("law, T", [(gaussian(5, 1), 100), (gaussian(3, 2), 10), (sparse(4, 3), 20)])
def test_the_limit_of_the_integrated_flow_is_the_closed_form(law, T):
    result = mesacheck.limit(law, T, 0.1, 0.2)
    closed = float(ab_limit(law).subs(T_symbol, T))
    assert result.kind == "mesa-optimizer"
    assert result.ab_flow == pytest.approx(closed, rel=1e-8, abs=0)  # the flow's rtol is 1e-12
    assert result.ab_exact == pytest.approx(closed, rel=1e-12)
    assert result.certificate["gradient_norm"] < 1e-8
    with pytest.raises(FrozenInstanceError):
        result.kind = "other"


def test_the_limit_scales_like_one_over_the_scale_squared():
    one, three = mesacheck.limit(gaussian(3, 1), 10), mesacheck.limit(gaussian(3, 3), 10, 0.1 / 3, 0.1 / 3)
    assert three.ab_flow == pytest.approx(one.ab_flow / 9, rel=1e-8)


@pytest.mark.parametrize(
    "d",
    [
        5,  # an exchangeable law past d = 3: the flow on the invariant line a_j = a, b_j = b
        3,  # the flow of 2 coordinates too: the 2d-coordinate flow leaves a = -b by rounding here
    ],
)
def test_the_half_line_a0_equal_minus_b0_is_the_saddle(d):
    result = mesacheck.limit(gaussian(d, 1), 10, 0.1, -0.1)
    assert result.kind == "saddle" and result.ab_exact == 0.0
    assert abs(result.ab_flow) < 1e-10
    mesa_optimizer = float(ab_limit(gaussian(d, 1)).subs(T_symbol, 10))
    assert result.report["ab_mesa_optimizer"] == pytest.approx(mesa_optimizer)


def test_the_verb_refuses_the_stationary_start_as_the_command_does():
    with pytest.raises(mesacheck.InvalidRequest, match="stationary point") as caught:
        mesacheck.limit(gaussian(3, 1), 10, 0.0, 0.0)
    assert isinstance(caught.value, ValueError)
    result = CliRunner().invoke(main, ["limit", "--d", "3", "--T", "10", "--a0", "0", "--b0", "0"])
    assert result.exit_code == 2 and str(caught.value) in " ".join(result.output.split())


def test_the_limit_beyond_the_papers_process_is_its_commands_answer():
    setting = mesacheck.Setting(gaussian(3, 1), mesacheck.circle(sp.Rational(9, 10)))
    result = mesacheck.limit(setting, 10)
    answer = _command_json("limit", "--d", "3", "--T", "10", "--r", "0.9")
    assert result.ab_exact == answer["ab_exact"] and result.kind == answer["limit_kind"]
    assert result.ab_flow == pytest.approx(result.ab_exact, rel=1e-9)  # flow against beta / alpha
    with pytest.raises(mesacheck.InvalidRequest, match="no closed form"):
        mesacheck.limit(setting, 10, closed_form=True)


def _general_form_vanishes(law) -> bool:
    """The emergence condition's general form for a real token: E[x_j^3 x_k] = E[x_j^5 x_k] =
    E[x_j^3 x_k^3] = E[x_j^3 x_k x_l^2] = 0 for distinct j, k, l."""
    x = token(law.d)
    monomials = [x[0] ** 3 * x[1], x[0] ** 5 * x[1], x[0] ** 3 * x[1] ** 3, x[0] ** 3 * x[1] * x[2] ** 2]
    return all(sp.simplify(expectation(m, law)) == 0 for m in monomials)


BERNOULLI = iid(3, dict.fromkeys(range(1, 7), sp.Rational(1, 2)))  # x_j in {0, 1}: E x^3 x != 0


@pytest.mark.parametrize("law", [gaussian(3, 1), sparse(3, 2), full_one(3), BERNOULLI])
def test_the_emergence_verdict_is_the_general_forms(law):
    result = mesacheck.conditions(law, 10)
    assert result.emergence == _general_form_vanishes(law)
    assert bool(result.emergence_offending) == (not result.emergence)


def test_the_conditions_are_the_commands():
    answer = _command_json("conditions", "--x1", "full-one", "--d", "3", "--T", "10")
    result = mesacheck.conditions(full_one(3), 10)
    offending = {k: str(v) for k, v in result.emergence_offending.items()}
    assert answer["emergence_condition"]["offending"] == offending
    assert result.equal_diagonal is None and answer["equal_diagonal_condition"] is None


def test_recovery_trains_the_step_of_the_limit_and_its_error_is_the_residual():
    law, T = gaussian(4, 1), 30
    result = mesacheck.recovery(law, T)
    p = mesacheck.limit(law, T).ab_flow  # the trained step, by integrating the flow
    assert result.p_T == pytest.approx(p, rel=1e-8)
    # E|x_j|^2 (p |x_j|^2 - 1)^2 per coordinate: m_2 = 1, m_4 = 3, m_6 = 15 for N(0, 1)
    assert result.error_limit == pytest.approx(4 * (15 * p**2 - 6 * p + 1), rel=1e-8)
    assert not result.holds_at_T and not result.holds_as_T_grows
    sparse_result = mesacheck.recovery(sparse(3, 2), 10)
    assert sparse_result.holds_at_T and sparse_result.p_T == pytest.approx(0.25)
    assert sparse_result.error_limit == 0


def test_recovery_refuses_a_failing_emergence_condition():
    with pytest.raises(mesacheck.InvalidRequest, match="emergence condition fails"):
        mesacheck.recovery(full_one(3), 10)


def test_the_full_flow_reaches_the_closed_form_limit():
    law, T = gaussian(2, 1), 6
    result = mesacheck.full_flow(law, T, init="random", seed=1)
    closed = float(ab_limit(law).subs(T_symbol, T))
    assert result.structure == "diagonal" and result.stationary
    assert result.exact_limit["products"] == pytest.approx([closed, closed], rel=1e-8)
    answer = _command_json("flow", "--full", "--d", "2", "--T", "6", "--init", "random", "--seed", "1")
    assert result.ab == pytest.approx(answer["ab"], rel=1e-12)


def test_the_sampled_training_follows_the_exact_flow():
    # eta = 0.01: the flow is at 40%, 90% and 99% of its limit at the logged steps 10, 20, 30
    result = mesacheck.simulate(gaussian(2, 1), 6, eta=0.01, steps=30, m=16000, m_test=100, seed=0)
    assert [row["step"] for row in result.records] == [0, 10, 20, 30]
    for row in result.records[1:]:
        # finite-sample gradient descent against the population flow at tau = eta * step: the
        # step size (5% at step 10, where the flow is steepest) and the sample (~1% at m = 16000)
        assert row["ab"] == pytest.approx(row["ab_exact_flow"], rel=0.08), row
    assert result.records[-1]["ab"] == pytest.approx(result.records[-1]["ab_exact_flow"], rel=0.02)
    assert result.ab_population_limit == pytest.approx(float(ab_limit(gaussian(2, 1)).subs(T_symbol, 6)))


def test_check_gives_each_claims_own_verdict_and_names_unknown_claims():
    from mesacheck.proofs_check.registry import CLAIMS

    report = mesacheck.check(["ab_limit_sparse"], quick=True, workers=1)
    claim = next(c for c in CLAIMS if c.__name__ == "ab_limit_sparse")
    direct = claim(quick=True)
    assert report.passed == direct.passed and report.failed == ()
    assert report.claims[0]["predicted"] == direct.as_dict()["predicted"]
    with pytest.raises(KeyError):
        mesacheck.check(["no_such_claim"])


def test_the_verbs_do_not_import_the_command_line():
    import ast
    from pathlib import Path

    import mesacheck.proofs_check.verbs as verbs

    for path in [*Path(verbs.__file__).parent.glob("*.py"), Path(verbs.__file__).parents[1] / "costs.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom | ast.Import):
                is_from = isinstance(node, ast.ImportFrom)
                names = [node.module or ""] if is_from else [a.name for a in node.names]
                assert not any(n == "click" or "cli" in n.split(".") for n in names), (path.name, names)


def test_the_sampled_training_runs_without_an_exact_flow_where_emergence_fails():
    result = mesacheck.simulate(full_one(2), 6, steps=2, m=10, m_test=10)
    assert result.regime.startswith("no exact flow: the emergence condition fails"), result.regime
    assert result.flow_curve is None and all(row["ab_exact_flow"] is None for row in result.records)


def test_conditions_in_settings_derive_the_condition_and_name_the_driven_blocks():
    """Beyond the paper's process the verb answers: a contraction keeps the Gaussian token's
    diagonal (every block stays zero, vanilla GD), full-one leaves it through the prediction
    blocks only, and W = diag(+-1) drives the upper-right block of W^KQ by even moments."""
    from mesacheck.symbolic.setting import Setting, circle, roots_of_unity

    kept = mesacheck.conditions(Setting(gaussian(2, 1), circle(sp.Rational(1, 2))), 5)
    assert kept.emergence and kept.equal_diagonal
    assert not any(block["driven_entries"] for block in kept.report["blocks"])
    left = mesacheck.conditions(Setting(full_one(2), circle(sp.Rational(1, 2))), 5)
    driven = {b["block"] for b in left.report["blocks"] if b["driven_entries"]}
    assert not left.emergence and driven == {
        "W^KQ lower-left (prediction block)",
        "W^PV left (prediction block)",
    }
    real = mesacheck.conditions(Setting(gaussian(2, 1), roots_of_unity(2)), 5)
    (block,) = [b for b in real.report["blocks"] if b["driven_entries"]]
    assert block["block"] == "W^KQ upper-right" and block["phase_rule_allows"]
    assert "E[x_j^4]" in block["driving_moments"]


def test_recovery_in_settings_gives_the_limiting_error_and_the_noise_floor():
    """Sparse on the roots of unity (N = 3) recovers; a contraction never does (relative error
    1); W = diag(+-1) is refused with the reason, masked or not. (Under noise: the golden line
    recovery_noise_contraction and the noise-floor property.)"""
    from mesacheck.symbolic.setting import Setting, circle, roots_of_unity

    sparse_roots = mesacheck.recovery(Setting(sparse(2, 1), roots_of_unity(3)), 6)
    assert sparse_roots.holds_at_T and sparse_roots.holds_as_T_grows and sparse_roots.error_limit == 0.0
    contraction = mesacheck.recovery(Setting(sparse(2, 1), circle(sp.Rational(1, 2))), 6).report
    assert contraction["relative_error_limit"] == 1.0 and contraction["recovery_holds_at_T"] is False
    for mask in (False, True):
        with pytest.raises(mesacheck.InvalidRequest, match="emergence condition fails in this setting"):
            mesacheck.recovery(Setting(gaussian(2, 1), roots_of_unity(2)), 5, mask=mask)
