"""Layers against NumPy references. Nothing here skips: a layer whose functional op is missing
must fail."""

import math

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn as nn
import ferrograd.nn.functional as F


def npy(t):
    return t.detach().numpy().astype(np.float64)


def test_linear_forward_and_backward():
    lin = nn.Linear(5, 3)
    x = fg.randn(4, 5)
    y = lin(x)
    np.testing.assert_allclose(npy(y), npy(x) @ npy(lin.weight).T + npy(lin.bias), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(npy(lin.weight.grad), np.tile(npy(x).sum(0), (3, 1)), rtol=1e-5)
    np.testing.assert_allclose(npy(lin.bias.grad), [4.0] * 3)
    assert nn.Linear(5, 3, bias=False)(fg.randn(2, 7, 5)).shape == (2, 7, 3)
    assert nn.Linear(2, 2, dtype=fg.float64).weight.dtype == fg.float64


def test_bilinear():
    bl = nn.Bilinear(3, 4, 2)
    a, b = fg.randn(5, 3), fg.randn(5, 4)
    want = np.einsum("ni,oij,nj->no", npy(a), npy(bl.weight), npy(b)) + npy(bl.bias)
    np.testing.assert_allclose(npy(bl(a, b)), want, rtol=1e-4, atol=1e-5)
    assert [n for n, _ in bl.named_parameters()] == ["weight", "bias"]


def test_basic_activation_modules():
    x = fg.randn(3, 4)
    v = npy(x)
    np.testing.assert_allclose(npy(nn.ReLU()(x)), np.maximum(v, 0))
    np.testing.assert_allclose(npy(nn.Sigmoid()(x)), 1 / (1 + np.exp(-v)), rtol=1e-5)
    np.testing.assert_allclose(npy(nn.Tanh()(x)), np.tanh(v), rtol=1e-5, atol=1e-6)
    e = np.exp(v - v.max(1, keepdims=True))
    np.testing.assert_allclose(npy(nn.Softmax(dim=1)(x)), e / e.sum(1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(npy(nn.LogSoftmax(dim=-1)(x)), np.log(e / e.sum(1, keepdims=True)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(npy(nn.Softmax()(x)).sum(1), [1.0] * 3, rtol=1e-5)  # implicit dim=1 for 2-D input
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


@pytest.mark.parametrize("module,ref,fn", [
    (nn.GELU(), lambda v: 0.5 * v * (1 + np.vectorize(math.erf)(v / math.sqrt(2))), "gelu"),
    (nn.SiLU(), lambda v: v / (1 + np.exp(-v)), "silu"),
    (nn.LeakyReLU(0.1), lambda v: np.where(v > 0, v, 0.1 * v), "leaky_relu"),
    (nn.ELU(0.5), lambda v: np.where(v > 0, v, 0.5 * (np.exp(v) - 1)), "elu"),
    (nn.Softplus(beta=2.0), lambda v: np.log1p(np.exp(2 * v)) / 2, "softplus"),
])
def test_other_activation_modules(module, ref, fn):
    assert hasattr(F, fn), f"ferrograd.nn.functional.{fn} is missing"
    x = fg.randn(4, 5)
    np.testing.assert_allclose(npy(module(x)), ref(npy(x)), rtol=1e-4, atol=1e-5)


def test_dropout_is_the_identity_in_eval_mode():
    d = nn.Dropout(0.7).eval()
    x = fg.randn(100)
    assert d(x) is x
    assert nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_dropout_in_training_zeroes_and_rescales():
    fg.manual_seed(0)
    y = npy(nn.Dropout(0.25)(fg.ones(20000)))
    kept = y != 0
    assert abs(1 - kept.mean() - 0.25) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)


def test_batchnorm_running_statistics_and_eval():
    bn = nn.BatchNorm1d(3, momentum=0.1)
    x = fg.randn(8, 3) * 2 + 1
    v = npy(x)
    y = bn(x)
    np.testing.assert_allclose(npy(y), (v - v.mean(0)) / np.sqrt(v.var(0) + 1e-5), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(npy(bn.running_mean), 0.1 * v.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(npy(bn.running_var), 0.9 + 0.1 * v.var(0, ddof=1), rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    z = fg.randn(4, 3)
    want = (npy(z) - npy(bn.running_mean)) / np.sqrt(npy(bn.running_var) + 1e-5)
    np.testing.assert_allclose(npy(bn(z)), want, rtol=1e-4, atol=1e-5)
    assert bn.num_batches_tracked.item() == 1  # eval does not update
    cum = nn.BatchNorm2d(2, momentum=None)
    a, b = fg.randn(2, 2, 3, 3), fg.randn(2, 2, 3, 3)
    cum(a)
    cum(b)
    np.testing.assert_allclose(npy(cum.running_mean), (npy(a).mean((0, 2, 3)) + npy(b).mean((0, 2, 3))) / 2, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="expected 4D input"):
        cum(fg.randn(2, 2))


def test_layernorm():
    ln = nn.LayerNorm(4)
    x = fg.randn(3, 4)
    v = npy(x)
    np.testing.assert_allclose(npy(ln(x)), (v - v.mean(1, keepdims=True)) / np.sqrt(v.var(1, keepdims=True) + 1e-5), rtol=1e-4, atol=1e-5)
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]


def test_groupnorm():
    gn = nn.GroupNorm(2, 4)
    x = fg.randn(2, 4, 3)
    v = npy(x).reshape(2, 2, 6)
    want = ((v - v.mean(2, keepdims=True)) / np.sqrt(v.var(2, keepdims=True) + 1e-5)).reshape(2, 4, 3)
    np.testing.assert_allclose(npy(gn(x)), want, rtol=1e-4, atol=1e-5)


def test_conv2d_against_numpy():
    conv = nn.Conv2d(2, 3, kernel_size=3, padding=1, stride=2)
    x = fg.randn(1, 2, 5, 5)
    xp = np.pad(npy(x), ((0, 0), (0, 0), (1, 1), (1, 1)))
    w, b = npy(conv.weight), npy(conv.bias)
    out = np.zeros((1, 3, 3, 3))
    for o in range(3):
        for i in range(3):
            for j in range(3):
                out[0, o, i, j] = (xp[0, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * w[o]).sum() + b[o]
    np.testing.assert_allclose(npy(conv(x)), out, rtol=1e-4, atol=1e-5)
    assert repr(conv) == "Conv2d(2, 3, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"


def test_conv1d_shape():
    assert nn.Conv1d(3, 5, 3)(fg.randn(2, 3, 10)).shape == (2, 5, 8)


def test_conv_transpose2d_shape():
    m = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    assert m.weight.shape == (4, 2, 3, 3)
    assert m(fg.randn(1, 4, 5, 5)).shape == (1, 2, 10, 10)


def test_pools():
    x = fg.arange(16, dtype=fg.float32).reshape(1, 1, 4, 4)
    assert nn.MaxPool2d(2)(x).tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert nn.AvgPool2d(2)(x).tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]
    assert nn.AdaptiveAvgPool2d(1)(x).reshape(-1).tolist() == [7.5]
    s = fg.arange(6, dtype=fg.float32).reshape(1, 1, 6)
    assert nn.MaxPool1d(2)(s).tolist() == [[[1.0, 3.0, 5.0]]]
    assert nn.AvgPool1d(3)(s).tolist() == [[[1.0, 4.0]]]


def test_embedding_padding_idx_gets_no_gradient():
    emb = nn.Embedding(5, 3, padding_idx=0)
    idx = fg.tensor([[0, 2], [4, 0]])
    out = emb(idx)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(npy(out[0, 1]), npy(emb.weight[2]))
    out.sum().backward()
    g = npy(emb.weight.grad)
    assert (g[0] == 0).all() and (g[2] == 1).all() and (g[1] == 0).all()


def np_sigmoid(v):
    return 1 / (1 + np.exp(-v))


def ref_rnn(kind, mod, x, num_layers):
    """x: [T, N, I] numpy; returns output [T, N, H] and final states."""
    T, N, _ = x.shape
    H = mod.hidden_size
    h_n, c_n = [], []
    inp = x
    for layer in range(num_layers):
        w_ih, w_hh = npy(getattr(mod, f"weight_ih_l{layer}")), npy(getattr(mod, f"weight_hh_l{layer}"))
        b_ih, b_hh = npy(getattr(mod, f"bias_ih_l{layer}")), npy(getattr(mod, f"bias_hh_l{layer}"))
        h, c = np.zeros((N, H)), np.zeros((N, H))
        outs = []
        for t in range(T):
            gi, gh = inp[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
            if kind == "RNN":
                h = np.tanh(gi + gh)
            elif kind == "LSTM":
                g = gi + gh
                i, f, gg, o = np_sigmoid(g[:, :H]), np_sigmoid(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), np_sigmoid(g[:, 3 * H:])
                c = f * c + i * gg
                h = o * np.tanh(c)
            else:
                r = np_sigmoid(gi[:, :H] + gh[:, :H])
                z = np_sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
                h = (1 - z) * n + z * h
            outs.append(h)
        inp = np.stack(outs)
        h_n.append(h)
        c_n.append(c)
    return inp, np.stack(h_n), np.stack(c_n)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_against_numpy(kind):
    mod = getattr(nn, kind)(3, 4, num_layers=2, batch_first=True)
    x = fg.randn(2, 5, 3)  # [N, T, I]
    out, state = mod(x)
    want, h_n, c_n = ref_rnn(kind, mod, npy(x).transpose(1, 0, 2), 2)
    np.testing.assert_allclose(npy(out), want.transpose(1, 0, 2), rtol=1e-4, atol=1e-5)
    h = state[0] if kind == "LSTM" else state
    np.testing.assert_allclose(npy(h), h_n, rtol=1e-4, atol=1e-5)
    if kind == "LSTM":
        np.testing.assert_allclose(npy(state[1]), c_n, rtol=1e-4, atol=1e-5)
    out.sum().backward()
    assert all(p.grad is not None for p in mod.parameters())


def test_recurrent_parameter_names_and_validation():
    lstm = nn.LSTM(3, 4, num_layers=2)
    assert [n for n, _ in lstm.named_parameters()][:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert lstm.weight_ih_l0.shape == (16, 3) and lstm.weight_ih_l1.shape == (16, 4)
    assert nn.GRU(3, 4).weight_hh_l0.shape == (12, 4)
    assert repr(nn.GRU(3, 4, batch_first=True)) == "GRU(3, 4, batch_first=True)"
    with pytest.raises(ValueError, match="input_size"):
        nn.RNN(3, 4)(fg.randn(5, 2, 7))


def ref_mha(m, q, k, v):
    E, h = m.embed_dim, m.num_heads
    d = E // h
    w, b = npy(m.in_proj_weight), npy(m.in_proj_bias)
    Q, K, V = q @ w[:E].T + b[:E], k @ w[E:2 * E].T + b[E:2 * E], v @ w[2 * E:].T + b[2 * E:]
    L, N, _ = Q.shape
    S = K.shape[0]
    Q = Q.reshape(L, N, h, d).transpose(1, 2, 0, 3)
    K = K.reshape(S, N, h, d).transpose(1, 2, 0, 3)
    V = V.reshape(S, N, h, d).transpose(1, 2, 0, 3)
    s = Q @ K.transpose(0, 1, 3, 2) / math.sqrt(d)
    a = np.exp(s - s.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    o = (a @ V).transpose(2, 0, 1, 3).reshape(L, N, E)
    return o @ npy(m.out_proj.weight).T + npy(m.out_proj.bias), a.mean(1)


def test_multihead_attention_against_numpy():
    fg.manual_seed(0)
    m = nn.MultiheadAttention(8, 2)
    with fg.no_grad():
        m.in_proj_bias.copy_(fg.randn(24))  # non-zero biases exercise the bias path
    q, k = fg.randn(4, 3, 8), fg.randn(6, 3, 8)
    out, w = m(q, k, k)
    want, want_w = ref_mha(m, npy(q), npy(k), npy(k))
    np.testing.assert_allclose(npy(out), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(npy(w), want_w, rtol=1e-4, atol=1e-5)
    assert [n for n, _ in m.named_parameters()] == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    bf = nn.MultiheadAttention(8, 2, batch_first=True)
    bf.load_state_dict(m.state_dict())
    out_bf, _ = bf(q.transpose(0, 1), k.transpose(0, 1), k.transpose(0, 1))
    np.testing.assert_allclose(npy(out_bf), want.transpose(1, 0, 2), rtol=1e-4, atol=1e-5)


def test_attention_masks():
    m = nn.MultiheadAttention(4, 1)
    x = fg.randn(3, 1, 4)
    _, w = m(x, x, x, attn_mask=fg.tensor(np.triu(np.ones((3, 3), dtype=bool), 1)))
    wn = npy(w)[0]
    assert wn[0, 1] == 0 and wn[0, 2] == 0 and wn[1, 2] == 0
    np.testing.assert_allclose(wn.sum(-1), 1.0, rtol=1e-5)
    _, w2 = m(x, x, x, key_padding_mask=fg.tensor([[False, False, True]]))
    assert (npy(w2)[0][:, 2] == 0).all()
    _, w3 = m(x, x, x, is_causal=True)
    np.testing.assert_allclose(npy(w3), npy(w), rtol=1e-6)


def test_transformer_encoder_layer():
    layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    names = [n for n, _ in layer.named_parameters()]
    assert names[:4] == ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias"]
    assert "linear1.weight" in names and "norm2.bias" in names
    layer.eval()
    x = fg.randn(2, 5, 8)
    y = layer(x)
    assert y.shape == (2, 5, 8)
    np.testing.assert_allclose(npy(layer(x)), npy(y))  # eval mode is deterministic
    np.testing.assert_allclose(npy(y).mean(-1), 0.0, atol=1e-5)  # ends in a LayerNorm


def test_cross_entropy_loss_module():
    logits, target = fg.randn(4, 3), fg.tensor([0, 2, 1, 2])
    v = npy(logits)
    lsm = v - np.log(np.exp(v).sum(1, keepdims=True))
    want = -lsm[np.arange(4), [0, 2, 1, 2]].mean()
    assert nn.CrossEntropyLoss()(logits, target).item() == pytest.approx(want, rel=1e-5)
    with pytest.raises(ValueError):
        nn.CrossEntropyLoss(reduction="avg")


@pytest.mark.parametrize("cls,fn,ref", [
    (nn.MSELoss, "mse_loss", lambda a, b: ((a - b) ** 2).mean()),
    (nn.L1Loss, "l1_loss", lambda a, b: np.abs(a - b).mean()),
    (nn.SmoothL1Loss, "smooth_l1_loss", lambda a, b: np.where(np.abs(a - b) < 1, 0.5 * (a - b) ** 2, np.abs(a - b) - 0.5).mean()),
])
def test_regression_loss_modules(cls, fn, ref):
    assert hasattr(F, fn), f"ferrograd.nn.functional.{fn} is missing"
    a, b = fg.randn(5, 2) * 2, fg.randn(5, 2)
    assert cls()(a, b).item() == pytest.approx(ref(npy(a), npy(b)), rel=1e-5)
    assert cls(reduction="sum")(a, b).item() == pytest.approx(ref(npy(a), npy(b)) * 10, rel=1e-5)


def test_classification_loss_modules():
    z, t = fg.randn(6), (fg.rand(6) > 0.5).float()
    p = npy(z.sigmoid())
    bce = -(npy(t) * np.log(p) + (1 - npy(t)) * np.log(1 - p)).mean()
    assert nn.BCELoss()(z.sigmoid(), t).item() == pytest.approx(bce, rel=1e-4)
    assert nn.BCEWithLogitsLoss()(z, t).item() == pytest.approx(bce, rel=1e-4)
    lsm = fg.randn(3, 4).log_softmax(1)
    assert nn.NLLLoss()(lsm, fg.tensor([1, 0, 3])).item() == pytest.approx(-npy(lsm)[[0, 1, 2], [1, 0, 3]].mean(), rel=1e-5)
    tgt = fg.randn(3, 4).softmax(1)
    want = (npy(tgt) * (np.log(npy(tgt)) - npy(lsm))).sum() / 3
    assert nn.KLDivLoss(reduction="batchmean")(lsm, tgt).item() == pytest.approx(want, rel=1e-4)
