"""ferrograd.autograd.gradcheck and ferrograd.testing.assert_close."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.autograd import GradcheckError, gradcheck
from ferrograd.testing import assert_close


def leaf(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return fg.tensor(rng.standard_normal(shape), dtype=fg.float64, requires_grad=True)


# ----- gradcheck -----


def test_gradcheck_passes_for_correct_gradients():
    x, y = leaf(3, 4), leaf(4, seed=1)
    assert gradcheck(lambda a, b: (a * b).exp() + a / (b * b + 1.0), (x, y)) is True


def test_gradcheck_accepts_single_tensor_and_default_tolerances():
    assert gradcheck(lambda a: a.tanh(), leaf(5)) is True


def test_gradcheck_detects_wrong_gradient():
    # x * x.detach() has true derivative 2x but autograd sees only x.
    x = leaf(2, 3)
    with pytest.raises(GradcheckError, match=r"Jacobian mismatch for output 0 with respect to input 0"):
        gradcheck(lambda a: a * a.detach(), (x,))


def test_gradcheck_error_is_an_autograd_error():
    assert issubclass(GradcheckError, fg.AutogradError)
    assert issubclass(GradcheckError, RuntimeError)


def test_gradcheck_raise_exception_false_returns_false():
    x = leaf(4)
    assert gradcheck(lambda a: a * a.detach(), (x,), raise_exception=False) is False


def test_gradcheck_multiple_outputs_and_mismatch_in_second():
    x = leaf(3)
    assert gradcheck(lambda a: (a.exp(), a * 2.0), (x,))
    with pytest.raises(GradcheckError, match="output 1"):
        gradcheck(lambda a: (a.exp(), a * a.detach()), (x,))


def test_gradcheck_only_checks_inputs_that_require_grad():
    x = leaf(3)
    c = fg.tensor([1.0, 2.0, 3.0], dtype=fg.float64)
    assert gradcheck(lambda a, b, k: a * b * k, (x, c, 2.0))


def test_gradcheck_non_contiguous_inputs():
    base = leaf(4, 3)
    xt = base.t()  # transposed view, non-leaf
    assert not xt.is_contiguous()
    assert gradcheck(lambda a: a.exp() * a, (xt,))
    stepped = leaf(6, 4)[::2, 1:]
    assert gradcheck(lambda a: a.sigmoid(), (stepped,))
    # Inputs are restored exactly after the finite differences.
    before = base.detach().numpy().copy()
    gradcheck(lambda a: a * 3.0, (base,))
    np.testing.assert_array_equal(base.detach().numpy(), before)


def test_gradcheck_refuses_expanded_inputs():
    x = leaf(1, 3).expand(4, 3)
    with pytest.raises(GradcheckError, match="stride 0"):
        gradcheck(lambda a: a * 2.0, (x,))


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="requires grad"):
        gradcheck(lambda a: a * 2.0, (fg.ones(3, dtype=fg.float64),))


def test_gradcheck_warns_on_float32():
    x = fg.tensor([0.5, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        gradcheck(lambda a: a * 2.0, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_gradcheck_zero_dim_input():
    x = fg.tensor(0.7, dtype=fg.float64, requires_grad=True)
    assert gradcheck(lambda a: a.log() * a, (x,))


def test_gradcheck_unused_input_has_zero_jacobian():
    x, y = leaf(2), leaf(2, seed=3)
    assert gradcheck(lambda a, b: a.exp(), (x, y))


# ----- assert_close -----


def test_assert_close_passes_within_default_tolerances():
    a = fg.tensor([1.0, 2.0, 3.0])
    assert_close(a, fg.tensor([1.0, 2.0, 3.0 + 1e-6]))
    assert_close(a, np.array([1.0, 2.0, 3.0], dtype=np.float32))
    assert_close(fg.tensor(2.5), 2.5)


def test_assert_close_default_tolerance_depends_on_dtype():
    # 1e-6 relative error is fine for float32 but not for float64.
    assert_close(fg.tensor([1.0]), fg.tensor([1.000001]))
    with pytest.raises(AssertionError, match="not close"):
        assert_close(fg.tensor([1.0], dtype=fg.float64), fg.tensor([1.000001], dtype=fg.float64))


def test_assert_close_integers_are_exact():
    assert_close(fg.tensor([1, 2]), fg.tensor([1, 2]))
    with pytest.raises(AssertionError, match=r"Mismatched elements: 1 / 2"):
        assert_close(fg.tensor([1, 2]), fg.tensor([1, 3]))


def test_assert_close_reports_the_mismatch():
    with pytest.raises(AssertionError) as e:
        assert_close(fg.tensor([1.0, 2.0, 3.0]), fg.tensor([1.0, 2.5, 3.0]))
    text = str(e.value)
    assert "Mismatched elements: 1 / 3 (33.3%)" in text
    assert "index (1,)" in text
    assert "Greatest absolute difference: 0.5" in text


def test_assert_close_shape_and_dtype_mismatch():
    with pytest.raises(AssertionError, match="shape"):
        assert_close(fg.ones(2, 3), fg.ones(3, 2))
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(fg.ones(2), fg.ones(2, dtype=fg.float64))
    assert_close(fg.ones(2), fg.ones(2, dtype=fg.float64), check_dtype=False)


def test_assert_close_explicit_tolerances_and_nan():
    assert_close(fg.tensor([1.0]), fg.tensor([1.1]), rtol=0.0, atol=0.2)
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol'"):
        assert_close(fg.tensor([1.0]), fg.tensor([1.0]), rtol=0.1)
    nan = fg.tensor([float("nan"), float("inf")])
    with pytest.raises(AssertionError):
        assert_close(nan, nan)
    assert_close(nan, nan, equal_nan=True)


def test_assert_close_rejects_non_numeric():
    with pytest.raises(TypeError):
        assert_close("a", 1.0)


def test_assert_close_custom_message():
    with pytest.raises(AssertionError, match="while checking foo"):
        assert_close(1.0, 2.0, msg="while checking foo")
