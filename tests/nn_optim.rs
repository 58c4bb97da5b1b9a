//! The Rust nn and optim building blocks: layers, losses, and the optimizers' fused updates.

use ferrograd::nn::{
    AvgPool2d, BCELoss, BceLoss, BceWithLogitsLoss, Conv2d, Conv2dConfig, CrossEntropyLoss, ELU,
    Flatten, GELU, GeluApprox, KlDivLoss, L1Loss, LeakyReLU, Linear, LogSoftmax, Loss, MSELoss,
    MaxPool2d, Module, MseLoss, NllLoss, ReLU, Reduction, Sequential, SiLU, Sigmoid, SmoothL1Loss,
    Softmax, Softplus, Tanh, cross_entropy, l1_loss, mse_loss,
};
use ferrograd::optim::{
    self, Adagrad, AdagradConfig, Adam, AdamConfig, Optimizer, Rmsprop, RmspropConfig, Sgd,
    SgdConfig,
};
use ferrograd::{DType, Error, Tensor, manual_seed, no_grad};

fn param(v: &[f64]) -> Tensor {
    Tensor::from_slice(v, &[v.len()])
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
    }
}

#[test]
fn linear_shapes_names_and_init_bounds() {
    manual_seed(1);
    let l = Linear::new(16, 4, true).unwrap();
    assert_eq!(l.weight.shape(), &[4, 16]);
    let names: Vec<String> = l.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight", "bias"]);
    let bound = 1.0 / 4.0; // 1/sqrt(16)
    for v in l
        .weight
        .to_vec::<f32>()
        .unwrap()
        .into_iter()
        .chain(l.bias.as_ref().unwrap().to_vec::<f32>().unwrap())
    {
        assert!(v.abs() <= bound as f32);
    }
    assert!(l.weight.requires_grad() && l.weight.is_leaf());
    let y = l
        .forward(&Tensor::ones(&[3, 16], DType::F32).unwrap())
        .unwrap();
    assert_eq!(y.shape(), &[3, 4]);
    assert!(matches!(
        l.forward(&Tensor::ones(&[3, 5], DType::F32).unwrap()),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn sequential_names_parameters_by_index_and_backprops() {
    let net = Sequential::new()
        .add(Flatten::default())
        .add(Linear::new(6, 5, true).unwrap())
        .add(Tanh)
        .add(Linear::new(5, 2, false).unwrap())
        .add(ReLU);
    let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["1.weight", "1.bias", "3.weight"]);
    let x = Tensor::randn(&[4, 2, 3], DType::F32).unwrap();
    net.forward(&x).unwrap().sum().unwrap().backward().unwrap();
    assert!(net.parameters().iter().all(|p| p.grad().is_some()));
    net.zero_grad();
    assert!(net.parameters().iter().all(|p| p.grad().is_none()));
}

#[test]
fn losses() {
    let a = Tensor::from_slice(&[1.0f64, 2.0, 4.0], &[3]).unwrap();
    let b = Tensor::from_slice(&[1.0f64, 0.0, 1.0], &[3]).unwrap();
    assert_eq!(
        mse_loss(&a, &b, Reduction::Mean)
            .unwrap()
            .item_f64()
            .unwrap(),
        13.0 / 3.0
    );
    assert_eq!(
        mse_loss(&a, &b, Reduction::Sum)
            .unwrap()
            .item_f64()
            .unwrap(),
        13.0
    );
    assert_eq!(
        l1_loss(&a, &b, Reduction::None)
            .unwrap()
            .to_vec::<f64>()
            .unwrap(),
        vec![0.0, 2.0, 3.0]
    );
    assert_eq!(
        MseLoss::default().loss(&a, &b).unwrap().item_f64().unwrap(),
        13.0 / 3.0
    );
    assert!(matches!(
        mse_loss(
            &a,
            &Tensor::zeros(&[2], DType::F64).unwrap(),
            Reduction::Mean
        ),
        Err(Error::Shape { .. })
    ));
    let logits = Tensor::from_slice(&[0.0f64, 0.0], &[1, 2]).unwrap();
    let ce = cross_entropy(&logits, &Tensor::from_slice(&[1i64], &[1]).unwrap()).unwrap();
    assert!((ce.item_f64().unwrap() - std::f64::consts::LN_2).abs() < 1e-12);
}

#[test]
fn sgd_with_momentum_matches_the_formula() {
    let p = param(&[1.0, -1.0]);
    let mut opt = Sgd::new(
        vec![p.clone()],
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.5,
            ..Default::default()
        },
    )
    .unwrap();
    let (mut w, mut buf) = ([1.0f64, -1.0], [0.0f64; 2]);
    for step in 0..3 {
        let g = [0.5, 2.0];
        p.set_grad(Some(Tensor::from_slice(&g, &[2]).unwrap()))
            .unwrap();
        opt.step().unwrap();
        for i in 0..2 {
            let d = g[i] + 0.5 * w[i];
            buf[i] = if step == 0 { d } else { 0.9 * buf[i] + d };
            w[i] -= 0.1 * buf[i];
        }
        close(&values(&p), &w);
    }
}

#[test]
fn adam_and_adamw_match_the_formula() {
    for decoupled in [false, true] {
        let p = param(&[0.5, -0.25, 2.0]);
        let cfg = AdamConfig {
            lr: 0.01,
            weight_decay: 0.1,
            ..if decoupled {
                AdamConfig::adamw()
            } else {
                AdamConfig::adam()
            }
        };
        let mut opt = Adam::new(vec![p.clone()], cfg).unwrap();
        let mut w = [0.5f64, -0.25, 2.0];
        let (mut m, mut v) = ([0.0f64; 3], [0.0f64; 3]);
        for t in 1..=4 {
            let g = [0.1 * t as f64, -0.3, 1.0];
            p.set_grad(Some(Tensor::from_slice(&g, &[3]).unwrap()))
                .unwrap();
            opt.step().unwrap();
            for i in 0..3 {
                let mut d = g[i];
                if decoupled {
                    w[i] *= 1.0 - 0.01 * 0.1;
                } else {
                    d += 0.1 * w[i];
                }
                m[i] = 0.9 * m[i] + 0.1 * d;
                v[i] = 0.999 * v[i] + 0.001 * d * d;
                let denom = v[i].sqrt() / (1.0 - 0.999f64.powi(t)).sqrt() + 1e-8;
                w[i] -= 0.01 / (1.0 - 0.9f64.powi(t)) * m[i] / denom;
            }
            close(&values(&p), &w);
        }
    }
}

#[test]
fn rmsprop_and_adagrad_match_the_formula() {
    let p = param(&[1.0]);
    let mut opt = Rmsprop::new(vec![p.clone()], RmspropConfig::default()).unwrap();
    p.set_grad(Some(Tensor::from_slice(&[2.0f64], &[1]).unwrap()))
        .unwrap();
    opt.step().unwrap();
    let sq: f64 = 0.01 * 4.0;
    close(&values(&p), &[1.0 - 0.01 * 2.0 / (sq.sqrt() + 1e-8)]);

    let q = param(&[1.0]);
    let mut ada = Adagrad::new(
        vec![q.clone()],
        AdagradConfig {
            initial_accumulator_value: 1.0,
            ..Default::default()
        },
    )
    .unwrap();
    q.set_grad(Some(Tensor::from_slice(&[3.0f64], &[1]).unwrap()))
        .unwrap();
    ada.step().unwrap();
    close(&values(&q), &[1.0 - 0.01 * 3.0 / (10.0f64.sqrt() + 1e-10)]);
}

#[test]
fn updates_move_the_version_and_invalidate_saved_tensors() {
    let p = param(&[1.0, 2.0]);
    let y = p.mul(&p).unwrap().sum().unwrap();
    let v0 = p.version();
    p.set_grad(Some(Tensor::ones(&[2], DType::F64).unwrap()))
        .unwrap();
    let mut opt = Sgd::new(
        vec![p.clone()],
        SgdConfig {
            lr: 0.5,
            ..Default::default()
        },
    )
    .unwrap();
    opt.step().unwrap();
    assert!(p.version() > v0);
    assert!(p.is_leaf() && p.grad_fn().is_none());
    assert!(matches!(y.backward(), Err(Error::InplaceModified { .. })));
}

#[test]
fn fused_update_checks_its_arguments() {
    let p = param(&[1.0, 2.0]);
    let g = Tensor::ones(&[3], DType::F64).unwrap();
    let c = SgdConfig::default();
    assert!(matches!(
        optim::sgd_update(&p, &g, None, false, &c),
        Err(Error::Shape { .. })
    ));
    let g32 = Tensor::ones(&[2], DType::F32).unwrap();
    assert!(matches!(
        optim::sgd_update(&p, &g32, None, false, &c),
        Err(Error::DType { .. })
    ));
    let ip = Tensor::from_slice(&[1i64], &[1]).unwrap();
    assert!(matches!(
        optim::sgd_update(&ip, &ip, None, false, &c),
        Err(Error::DType { .. })
    ));
    let mom = SgdConfig { momentum: 0.9, ..c };
    assert!(matches!(
        optim::sgd_update(
            &p,
            &Tensor::ones(&[2], DType::F64).unwrap(),
            None,
            false,
            &mom
        ),
        Err(Error::Invalid { .. })
    ));
    assert!(
        Sgd::new(
            vec![],
            SgdConfig {
                nesterov: true,
                ..c
            }
        )
        .is_err()
    );
    assert!(
        Adam::new(
            vec![],
            AdamConfig {
                betas: (1.0, 0.9),
                ..AdamConfig::adam()
            }
        )
        .is_err()
    );
    // The gradient may alias the parameter (it is copied first, no deadlock).
    optim::sgd_update(&p, &p.detach(), None, false, &SgdConfig { lr: 0.5, ..c }).unwrap();
    close(&values(&p), &[0.5, 1.0]);
}

#[test]
fn large_parameters_update_in_parallel_chunks_identically() {
    let n = 1 << 18;
    let w: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.01).collect();
    let g: Vec<f32> = (0..n).map(|i| ((i % 13) as f32 - 6.0) * 0.1).collect();
    let p = Tensor::from_vec(w.clone(), &[n])
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    p.set_grad(Some(Tensor::from_vec(g.clone(), &[n]).unwrap()))
        .unwrap();
    let mut opt = Adam::new(vec![p.clone()], AdamConfig::adam()).unwrap();
    opt.step().unwrap();
    let got = p.to_vec::<f32>().unwrap();
    // step 1 of Adam moves every element with a non-zero gradient by about lr.
    for i in (0..n).step_by(4099) {
        let expect = if g[i] == 0.0 {
            w[i]
        } else {
            w[i] - 1e-3 * g[i].signum()
        };
        assert!(
            (got[i] - expect).abs() < 1e-5,
            "element {i}: {} vs {expect}",
            got[i]
        );
    }
}

#[test]
fn a_noncontiguous_parameter_is_updated_through_its_view() {
    let base = Tensor::from_slice(&[1.0f64, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let t = base.t().unwrap(); // a strided view
    let g = Tensor::ones(&[2, 2], DType::F64).unwrap();
    {
        let _g = no_grad();
        optim::sgd_update(
            &t,
            &g,
            None,
            false,
            &SgdConfig {
                lr: 1.0,
                ..Default::default()
            },
        )
        .unwrap();
    }
    assert_eq!(base.to_vec::<f64>().unwrap(), vec![0.0, 1.0, 2.0, 3.0]);
}

#[test]
fn trains_xor() {
    manual_seed(3);
    let x = Tensor::from_slice(&[0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]).unwrap();
    let y = Tensor::from_slice(&[0i64, 1, 1, 0], &[4]).unwrap();
    let net = Sequential::new()
        .add(Linear::new(2, 16, true).unwrap())
        .add(Tanh)
        .add(Linear::new(16, 2, true).unwrap());
    let mut opt = Adam::new(
        net.parameters(),
        AdamConfig {
            lr: 0.05,
            ..AdamConfig::adam()
        },
    )
    .unwrap();
    let mut last = f64::MAX;
    for _ in 0..300 {
        opt.zero_grad();
        let loss = cross_entropy(&net.forward(&x).unwrap(), &y).unwrap();
        loss.backward().unwrap();
        opt.step().unwrap();
        last = loss.item_f64().unwrap();
    }
    assert!(last < 0.05, "loss {last}");
    opt.set_lr(0.0);
    assert_eq!(opt.lr(), 0.0);
}

fn t64(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(v, shape).unwrap()
}

fn close_tol(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
    }
}

#[test]
fn conv2d_shapes_init_bounds_and_parameter_names() {
    manual_seed(7);
    let cfg = Conv2dConfig::default().stride(2).padding(1).groups(2);
    let conv = Conv2d::new(4, 6, [3, 2], cfg).unwrap();
    assert_eq!(conv.weight.shape(), &[6, 2, 3, 2]);
    assert_eq!(conv.bias.as_ref().unwrap().shape(), &[6]);
    assert_eq!(
        (conv.in_channels(), conv.out_channels(), conv.kernel_size()),
        (4, 6, [3, 2])
    );
    let names: Vec<String> = conv
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["weight", "bias"]);
    assert!(conv.weight.requires_grad() && conv.weight.is_leaf());
    // fan_in = in_channels / groups * kh * kw = 2 * 3 * 2; weight and bias both use
    // 1/sqrt(fan_in), and the draws fill most of that range.
    let bound = 1.0 / 12f64.sqrt();
    for t in [&conv.weight, conv.bias.as_ref().unwrap()] {
        let v: Vec<f64> = t
            .to_vec::<f32>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        assert!(v.iter().all(|x| x.abs() <= bound + 1e-7), "{v:?}");
        let widest = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(widest > 0.5 * bound, "{widest}");
    }
    // (7 + 2 - 3) / 2 + 1 = 4 rows, (9 + 2 - 2) / 2 + 1 = 5 columns; unbatched works too.
    let y = conv
        .forward(&Tensor::randn(&[2, 4, 7, 9], DType::F32).unwrap())
        .unwrap();
    assert_eq!(y.shape(), &[2, 6, 4, 5]);
    let y = conv
        .forward(&Tensor::randn(&[4, 7, 9], DType::F32).unwrap())
        .unwrap();
    assert_eq!(y.shape(), &[6, 4, 5]);
    assert!(matches!(
        conv.forward(&Tensor::randn(&[2, 3, 7, 9], DType::F32).unwrap()),
        Err(Error::Shape { .. })
    ));

    let nobias = Conv2d::new(3, 5, 1, Conv2dConfig::default().bias(false)).unwrap();
    assert!(nobias.bias.is_none());
    assert_eq!(nobias.parameters().len(), 1);
    // kernel 1 over 3 channels: bound 1/sqrt(3)
    let w = nobias.weight.to_vec::<f32>().unwrap();
    assert!(
        w.iter()
            .all(|x| f64::from(x.abs()) <= 1.0 / 3f64.sqrt() + 1e-7)
    );

    for bad in [
        Conv2dConfig::default().groups(0),
        Conv2dConfig::default().groups(3),
        Conv2dConfig::default().stride(0),
        Conv2dConfig::default().dilation([1, 0]),
    ] {
        assert!(matches!(
            Conv2d::new(4, 6, 3, bad),
            Err(Error::Invalid { .. })
        ));
    }
    assert!(matches!(
        Conv2d::new(4, 5, 3, Conv2dConfig::default().groups(2)),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        Conv2d::new(4, 6, (0, 3), Conv2dConfig::default()),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn conv2d_applies_padding_stride_and_dilation_per_axis() {
    // A 1x1 identity kernel with padding (1, 0): one zero row above and below, no columns.
    let mut conv = Conv2d::new(1, 1, 1, Conv2dConfig::default().padding([1, 0])).unwrap();
    conv.weight = t64(&[1.0], &[1, 1, 1, 1]);
    conv.bias = Some(t64(&[0.5], &[1]));
    let x = t64(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]);
    let y = conv.forward(&x).unwrap();
    assert_eq!(y.shape(), &[1, 1, 4, 2]);
    assert_eq!(values(&y), vec![0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 0.5, 0.5]);

    // 2x2 kernel of ones, dilation (1, 2), stride (1, 2) over a 3x5 ramp: each output sums
    // x[i][j], x[i][j+2], x[i+1][j] and x[i+1][j+2].
    let mut conv = Conv2d::new(
        1,
        1,
        2,
        Conv2dConfig::default()
            .dilation([1, 2])
            .stride((1, 2))
            .bias(false),
    )
    .unwrap();
    conv.weight = t64(&[1.0; 4], &[1, 1, 2, 2]);
    let ramp: Vec<f64> = (0..15).map(f64::from).collect();
    let y = conv.forward(&t64(&ramp, &[1, 1, 3, 5])).unwrap();
    // rows: 3 - 2 + 1 = 2; columns: the dilated kernel spans 3, so (5 - 3) / 2 + 1 = 2.
    assert_eq!(y.shape(), &[1, 1, 2, 2]);
    let at = |r: usize, c: usize| ramp[r * 5 + c];
    let expect: Vec<f64> = (0..2)
        .flat_map(|i| [0, 2].map(|j| at(i, j) + at(i, j + 2) + at(i + 1, j) + at(i + 1, j + 2)))
        .collect();
    assert_eq!(values(&y), expect);

    // Gradients reach the weight and the bias.
    let conv = Conv2d::new(2, 3, 3, Conv2dConfig::default().padding(1)).unwrap();
    conv.forward(&Tensor::randn(&[2, 2, 5, 5], DType::F32).unwrap())
        .unwrap()
        .sum()
        .unwrap()
        .backward()
        .unwrap();
    // d(sum)/d(bias) counts the output positions: 2 images x 5 x 5.
    let gb = conv.bias.as_ref().unwrap().grad().unwrap();
    assert_eq!(gb.to_vec::<f32>().unwrap(), vec![50.0; 3]);
    assert_eq!(conv.weight.grad().unwrap().shape(), &[3, 2, 3, 3]);
}

#[test]
fn pooling_and_flatten_layers() {
    let ramp: Vec<f64> = (0..16).map(f64::from).collect();
    let x = t64(&ramp, &[1, 1, 4, 4]);
    let m = MaxPool2d::new(2);
    assert_eq!(m.stride, [2, 2]);
    assert_eq!(values(&m.forward(&x).unwrap()), vec![5.0, 7.0, 13.0, 15.0]);
    let m = MaxPool2d::new(3).stride(1).padding(1);
    let y = m.forward(&x).unwrap();
    assert_eq!(y.shape(), &[1, 1, 4, 4]);
    assert_eq!(values(&y)[0], 5.0);
    assert_eq!(
        MaxPool2d::new(3)
            .stride(2)
            .ceil_mode(true)
            .forward(&x)
            .unwrap()
            .shape(),
        &[1, 1, 2, 2]
    );
    // Unbatched [C, H, W] input keeps its rank.
    assert_eq!(
        MaxPool2d::new((2, 1))
            .forward(&t64(&ramp, &[1, 4, 4]))
            .unwrap()
            .shape(),
        &[1, 2, 4]
    );

    let a = AvgPool2d::new(2);
    assert_eq!(values(&a.forward(&x).unwrap()), vec![2.5, 4.5, 10.5, 12.5]);
    // A padded corner window sees x[0][0] = 0, x[0][1] = 1, x[1][0] = 4, x[1][1] = 5 plus
    // five zeros of padding: 10 / 9 when the padding counts, 10 / 4 when it does not.
    let a = AvgPool2d::new(3).stride(1).padding(1);
    assert!((values(&a.forward(&x).unwrap())[0] - 10.0 / 9.0).abs() < 1e-12);
    let a = a.count_include_pad(false);
    assert!((values(&a.forward(&x).unwrap())[0] - 2.5).abs() < 1e-12);
    let a = a.divisor_override(Some(2));
    assert!((values(&a.forward(&x).unwrap())[0] - 5.0).abs() < 1e-12);
    assert!(matches!(
        AvgPool2d::new(2).padding(2).forward(&x),
        Err(Error::Invalid { .. })
    ));

    let x = Tensor::zeros(&[2, 3, 4, 5], DType::F32).unwrap();
    assert_eq!(Flatten::default().forward(&x).unwrap().shape(), &[2, 60]);
    assert_eq!(Flatten::new(0, 1).forward(&x).unwrap().shape(), &[6, 4, 5]);
    assert_eq!(
        Flatten::new(-2, -1).forward(&x).unwrap().shape(),
        &[2, 3, 20]
    );
    // Like torch.nn.Flatten(), start_dim 1 does not exist on a 1-D input.
    assert!(
        Flatten::default()
            .forward(&Tensor::zeros(&[3], DType::F32).unwrap())
            .is_err()
    );
}

#[test]
fn every_activation_layer_matches_its_formula() {
    let xs = [-3.0, -0.5, 0.0, 0.7, 2.0];
    let x = t64(&xs, &[5]);
    let check = |m: &dyn Module, f: &dyn Fn(f64) -> f64| {
        let expect: Vec<f64> = xs.iter().map(|&v| f(v)).collect();
        close_tol(&values(&m.forward(&x).unwrap()), &expect, 1e-12);
    };
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    check(&ReLU, &|v| v.max(0.0));
    check(&Tanh, &|v| v.tanh());
    check(&Sigmoid, &sig);
    check(&SiLU, &|v| v * sig(v));
    check(&LeakyReLU::default(), &|v| {
        if v < 0.0 { 0.01 * v } else { v }
    });
    check(
        &LeakyReLU {
            negative_slope: 0.2,
        },
        &|v| if v < 0.0 { 0.2 * v } else { v },
    );
    check(&ELU::default(), &|v| {
        if v > 0.0 { v } else { v.exp() - 1.0 }
    });
    check(&ELU { alpha: 0.5 }, &|v| {
        if v > 0.0 { v } else { 0.5 * (v.exp() - 1.0) }
    });
    check(&Softplus::default(), &|v| v.exp().ln_1p());
    // With beta 2 and threshold 1, beta * x > 1 passes x through (0.7 and 2.0 here).
    check(
        &Softplus {
            beta: 2.0,
            threshold: 1.0,
        },
        &|v| {
            if 2.0 * v > 1.0 {
                v
            } else {
                (2.0 * v).exp().ln_1p() / 2.0
            }
        },
    );
    let tanh_gelu = |v: f64| {
        0.5 * v * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v.powi(3))).tanh())
    };
    check(
        &GELU {
            approximate: GeluApprox::Tanh,
        },
        &tanh_gelu,
    );
    // Exact GELU, x * Phi(x): reference values of the normal CDF.
    let g = values(
        &GELU::default()
            .forward(&t64(&[-1.0, 0.0, 1.0, 2.0], &[4]))
            .unwrap(),
    );
    close_tol(
        &g,
        &[
            -0.158_655_253_931_457_05,
            0.0,
            0.841_344_746_068_542_9,
            1.954_499_736_103_642,
        ],
        1e-12,
    );

    let m = t64(&[1.0, 2.0, 3.0, 1.0, 1.0, 1.0], &[2, 3]);
    let row = |v: [f64; 3]| {
        let s: f64 = v.iter().map(|x| x.exp()).sum();
        v.map(|x| x.exp() / s)
    };
    let (r0, r1) = (row([1.0, 2.0, 3.0]), row([1.0, 1.0, 1.0]));
    let expect: Vec<f64> = r0.iter().chain(&r1).copied().collect();
    close_tol(
        &values(&Softmax::new(1).forward(&m).unwrap()),
        &expect,
        1e-12,
    );
    close_tol(
        &values(&Softmax::new(-1).forward(&m).unwrap()),
        &expect,
        1e-12,
    );
    let logs: Vec<f64> = expect.iter().map(|v| v.ln()).collect();
    close_tol(
        &values(&LogSoftmax::new(1).forward(&m).unwrap()),
        &logs,
        1e-12,
    );
    // Along dim 0 each column sums to one.
    let c = values(&Softmax::new(0).forward(&m).unwrap());
    close_tol(&[c[0] + c[3], c[1] + c[4], c[2] + c[5]], &[1.0; 3], 1e-12);
    assert!(Softmax::new(2).forward(&m).is_err());
}

#[test]
fn loss_modules_match_their_formulas() {
    let x = t64(&[0.5, -1.0, 3.0], &[3]);
    let y = t64(&[0.0, 0.0, 1.0], &[3]);
    let scalar = |t: Tensor| t.item_f64().unwrap();

    assert_eq!(
        scalar(MSELoss::default().loss(&x, &y).unwrap()),
        (0.25 + 1.0 + 4.0) / 3.0
    );
    assert_eq!(
        scalar(
            L1Loss {
                reduction: Reduction::Sum
            }
            .loss(&x, &y)
            .unwrap()
        ),
        3.5
    );
    // beta 1: |d| < 1 -> 0.5 d^2, else |d| - 0.5
    let sl1 = SmoothL1Loss {
        reduction: Reduction::None,
        ..Default::default()
    };
    assert_eq!(values(&sl1.loss(&x, &y).unwrap()), vec![0.125, 0.5, 1.5]);
    let sl1 = SmoothL1Loss {
        beta: 4.0,
        ..Default::default()
    };
    close_tol(
        &[scalar(sl1.loss(&x, &y).unwrap())],
        &[(0.125 / 4.0 + 0.5 / 4.0 + 2.0 / 4.0) / 3.0],
        1e-12,
    );

    // Cross-entropy of logits equals NLL of their log-softmax, with weights and ignore_index.
    let logits = t64(&[1.0, 2.0, 0.5, 0.0, -1.0, 3.0, 2.0, 2.0, 2.0], &[3, 3]);
    let target = Tensor::from_slice(&[1i64, 2, 0], &[3]).unwrap();
    let lsm = values(&logits.log_softmax(1).unwrap());
    let plain = -(lsm[1] + lsm[5] + lsm[6]) / 3.0;
    close_tol(
        &[scalar(
            CrossEntropyLoss::default().loss(&logits, &target).unwrap(),
        )],
        &[plain],
        1e-12,
    );
    let weight = t64(&[1.0, 2.0, 0.5], &[3]);
    let ce = CrossEntropyLoss {
        weight: Some(weight.clone()),
        ignore_index: 0,
        ..Default::default()
    };
    // Row 2 (class 0) is ignored; the mean divides by the remaining weights 2 + 0.5.
    let weighted = -(2.0 * lsm[1] + 0.5 * lsm[5]) / 2.5;
    close_tol(
        &[scalar(ce.loss(&logits, &target).unwrap())],
        &[weighted],
        1e-12,
    );
    let nll = NllLoss {
        weight: Some(weight),
        ignore_index: 0,
        ..Default::default()
    };
    close_tol(
        &[scalar(
            nll.loss(&logits.log_softmax(1).unwrap(), &target).unwrap(),
        )],
        &[weighted],
        1e-12,
    );
    // Label smoothing 0.3 mixes in the uniform distribution over the 3 classes.
    let smooth = CrossEntropyLoss {
        label_smoothing: 0.3,
        reduction: Reduction::Sum,
        ..Default::default()
    };
    let mut want = 0.0;
    for (r, &t) in [1usize, 2, 0].iter().enumerate() {
        for c in 0..3 {
            let q = 0.1 + if c == t { 0.7 } else { 0.0 };
            want -= q * lsm[r * 3 + c];
        }
    }
    close_tol(
        &[scalar(smooth.loss(&logits, &target).unwrap())],
        &[want],
        1e-12,
    );

    // BCE on probabilities and BCE-with-logits on the matching logits agree.
    let p = t64(&[0.2, 0.9, 0.5], &[3]);
    let yb = t64(&[0.0, 1.0, 1.0], &[3]);
    let bce = -((0.8f64).ln() + 0.9f64.ln() + 0.5f64.ln()) / 3.0;
    close_tol(
        &[scalar(BCELoss::default().loss(&p, &yb).unwrap())],
        &[bce],
        1e-12,
    );
    let logit = p.div(&p.rsub_scalar(1.0).unwrap()).unwrap().log().unwrap();
    close_tol(
        &[scalar(
            BceWithLogitsLoss::default().loss(&logit, &yb).unwrap(),
        )],
        &[bce],
        1e-12,
    );
    // pos_weight scales the positive terms only.
    let pw = BceWithLogitsLoss {
        pos_weight: Some(t64(&[3.0], &[1])),
        reduction: Reduction::Sum,
        ..Default::default()
    };
    close_tol(
        &[scalar(pw.loss(&logit, &yb).unwrap())],
        &[-(0.8f64.ln() + 3.0 * 0.9f64.ln() + 3.0 * 0.5f64.ln())],
        1e-12,
    );
    let weighted_bce = BceLoss {
        weight: Some(t64(&[2.0, 0.0, 1.0], &[3])),
        reduction: Reduction::Sum,
    };
    close_tol(
        &[scalar(weighted_bce.loss(&p, &yb).unwrap())],
        &[-(2.0 * 0.8f64.ln() + 0.5f64.ln())],
        1e-12,
    );
    assert!(
        BceLoss::default()
            .loss(&t64(&[1.5], &[1]), &t64(&[1.0], &[1]))
            .is_err()
    );

    // KL divergence sum(t * (log t - x)): "mean" averages over elements, "batchmean" over rows.
    let logq = t64(
        &[0.25f64.ln(), 0.75f64.ln(), 0.5f64.ln(), 0.5f64.ln()],
        &[2, 2],
    );
    let t = t64(&[0.5, 0.5, 0.1, 0.9], &[2, 2]);
    let total: f64 = [(0.5, 0.25), (0.5, 0.75), (0.1, 0.5), (0.9, 0.5)]
        .iter()
        .map(|&(t, q): &(f64, f64)| t * (t.ln() - q.ln()))
        .sum();
    close_tol(
        &[scalar(KlDivLoss::default().loss(&logq, &t).unwrap())],
        &[total / 4.0],
        1e-12,
    );
    let bm = KlDivLoss {
        reduction: "batchmean",
        ..Default::default()
    };
    close_tol(
        &[scalar(bm.loss(&logq, &t).unwrap())],
        &[total / 2.0],
        1e-12,
    );
    let lt = KlDivLoss {
        reduction: "sum",
        log_target: true,
    };
    close_tol(
        &[scalar(lt.loss(&logq, &t.log().unwrap()).unwrap())],
        &[total],
        1e-12,
    );
    assert!(
        KlDivLoss {
            reduction: "average",
            ..Default::default()
        }
        .loss(&logq, &t)
        .is_err()
    );
}

/// Bars on an 8x8 canvas: class 0 horizontal, class 1 vertical, at random rows/columns,
/// with a little noise. No linear function of the pixels separates them (the 8 row sums and
/// the 8 column sums of its weights add up to the same total); a conv layer can.
fn bars(n: usize) -> (Tensor, Tensor) {
    let noise = Tensor::rand(&[n, 1, 8, 8], DType::F32)
        .unwrap()
        .mul_scalar(0.2)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let picks = Tensor::rand(&[n, 2], DType::F32)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let mut img = noise;
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = usize::from(picks[2 * i] >= 0.5);
        let at = ((picks[2 * i + 1] * 8.0) as usize).min(7);
        for k in 0..8 {
            let (r, c) = if class == 0 { (at, k) } else { (k, at) };
            img[i * 64 + r * 8 + c] += 1.0;
        }
        labels.push(class as i64);
    }
    (
        Tensor::from_vec(img, &[n, 1, 8, 8]).unwrap(),
        Tensor::from_vec(labels, &[n]).unwrap(),
    )
}

#[test]
fn a_small_cnn_learns_bar_orientation_with_sgd() {
    manual_seed(11);
    let (x, y) = bars(64);
    let net = Sequential::new()
        .add(Conv2d::new(1, 8, 3, Conv2dConfig::default().padding(1)).unwrap())
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::default())
        .add(Linear::new(8 * 4 * 4, 2, true).unwrap());
    let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.weight", "0.bias", "4.weight", "4.bias"]);
    let mut opt = Sgd::new(
        net.parameters(),
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap();
    let loss_fn = CrossEntropyLoss::default();
    let mut losses = Vec::new();
    for _ in 0..40 {
        opt.zero_grad();
        let loss = loss_fn.loss(&net.forward(&x).unwrap(), &y).unwrap();
        loss.backward().unwrap();
        assert!(net.parameters().iter().all(|p| p.grad().is_some()));
        opt.step().unwrap();
        losses.push(loss.item_f64().unwrap());
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(last < 0.5 * first, "loss {first} -> {last}: {losses:?}");
    let _g = no_grad();
    let (xt, yt) = bars(64);
    let pred = net.forward(&xt).unwrap().argmax(Some(-1), false).unwrap();
    let acc = pred
        .eq(&yt)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .mean()
        .unwrap()
        .item_f64()
        .unwrap();
    assert!(acc > 0.8, "held-out accuracy {acc}");
}

// ----- every optimizer option through the Rust optimizers, against hand-written updates -----

const W0: [f64; 3] = [0.5, -1.0, 2.0];
const STEPS: usize = 5;

fn grad_at(t: usize) -> [f64; 3] {
    let t = t as f64;
    [0.3 * t - 0.5, 1.0 - 0.2 * t, 0.7 + 0.1 * t * t]
}

/// Final weights after `STEPS` steps of `opt` (built over one parameter starting at W0).
fn run_rust(make: impl FnOnce(Vec<Tensor>) -> Box<dyn Optimizer>) -> Vec<f64> {
    let p = param(&W0);
    let mut opt = make(vec![p.clone()]);
    for t in 0..STEPS {
        p.set_grad(Some(Tensor::from_slice(&grad_at(t), &[3]).unwrap()))
            .unwrap();
        opt.step().unwrap();
    }
    values(&p)
}

fn sgd_ref(c: &SgdConfig) -> Vec<f64> {
    let (mut w, mut buf) = (W0, [0.0; 3]);
    for t in 0..STEPS {
        let g = grad_at(t);
        for i in 0..3 {
            let mut d = if c.maximize { -g[i] } else { g[i] };
            d += c.weight_decay * w[i];
            if c.momentum != 0.0 {
                buf[i] = if t == 0 {
                    d
                } else {
                    c.momentum * buf[i] + (1.0 - c.dampening) * d
                };
                d = if c.nesterov {
                    d + c.momentum * buf[i]
                } else {
                    buf[i]
                };
            }
            w[i] -= c.lr * d;
        }
    }
    w.to_vec()
}

fn adam_ref(c: &AdamConfig) -> Vec<f64> {
    let (mut w, mut m, mut v, mut vmax) = (W0, [0.0; 3], [0.0; 3], [0.0f64; 3]);
    let (b1, b2) = c.betas;
    for t in 0..STEPS {
        let g = grad_at(t);
        let n = (t + 1) as i32;
        for i in 0..3 {
            let mut d = if c.maximize { -g[i] } else { g[i] };
            if c.decoupled {
                w[i] *= 1.0 - c.lr * c.weight_decay;
            } else {
                d += c.weight_decay * w[i];
            }
            m[i] = b1 * m[i] + (1.0 - b1) * d;
            v[i] = b2 * v[i] + (1.0 - b2) * d * d;
            vmax[i] = vmax[i].max(v[i]);
            let vhat = if c.amsgrad { vmax[i] } else { v[i] };
            let denom = vhat.sqrt() / (1.0 - b2.powi(n)).sqrt() + c.eps;
            w[i] -= c.lr / (1.0 - b1.powi(n)) * m[i] / denom;
        }
    }
    w.to_vec()
}

fn rmsprop_ref(c: &RmspropConfig) -> Vec<f64> {
    let (mut w, mut sq, mut ga, mut buf) = (W0, [0.0; 3], [0.0; 3], [0.0; 3]);
    for t in 0..STEPS {
        let g = grad_at(t);
        for i in 0..3 {
            let mut d = if c.maximize { -g[i] } else { g[i] };
            d += c.weight_decay * w[i];
            sq[i] = c.alpha * sq[i] + (1.0 - c.alpha) * d * d;
            let avg = if c.centered {
                ga[i] = c.alpha * ga[i] + (1.0 - c.alpha) * d;
                (sq[i] - ga[i] * ga[i]).sqrt()
            } else {
                sq[i].sqrt()
            } + c.eps;
            if c.momentum > 0.0 {
                buf[i] = c.momentum * buf[i] + d / avg;
                w[i] -= c.lr * buf[i];
            } else {
                w[i] -= c.lr * d / avg;
            }
        }
    }
    w.to_vec()
}

fn adagrad_ref(c: &AdagradConfig) -> Vec<f64> {
    let (mut w, mut s) = (W0, [c.initial_accumulator_value; 3]);
    for t in 0..STEPS {
        let g = grad_at(t);
        let clr = c.lr / (1.0 + t as f64 * c.lr_decay);
        for i in 0..3 {
            let mut d = if c.maximize { -g[i] } else { g[i] };
            d += c.weight_decay * w[i];
            s[i] += d * d;
            w[i] -= clr * d / (s[i].sqrt() + c.eps);
        }
    }
    w.to_vec()
}

#[test]
fn every_optimizer_option_matches_its_hand_computed_update() {
    let sgd = [
        SgdConfig {
            lr: 0.1,
            weight_decay: 0.2,
            ..Default::default()
        },
        SgdConfig {
            lr: 0.05,
            momentum: 0.5,
            dampening: 0.3,
            ..Default::default()
        },
        SgdConfig {
            lr: 0.05,
            momentum: 0.8,
            nesterov: true,
            weight_decay: 0.1,
            maximize: true,
            ..Default::default()
        },
    ];
    for c in sgd {
        let got = run_rust(|ps| Box::new(Sgd::new(ps, c).unwrap()));
        close_tol(&got, &sgd_ref(&c), 1e-12);
    }
    let adam = [
        AdamConfig {
            lr: 0.01,
            amsgrad: true,
            maximize: true,
            weight_decay: 0.05,
            ..AdamConfig::adam()
        },
        AdamConfig {
            lr: 0.02,
            betas: (0.5, 0.6),
            eps: 1e-4,
            ..AdamConfig::adam()
        },
        AdamConfig {
            lr: 0.01,
            amsgrad: true,
            weight_decay: 0.1,
            ..AdamConfig::adamw()
        },
        AdamConfig {
            lr: 0.01,
            maximize: true,
            ..AdamConfig::adamw()
        },
    ];
    for c in adam {
        let got = run_rust(|ps| Box::new(Adam::new(ps, c).unwrap()));
        close_tol(&got, &adam_ref(&c), 1e-12);
    }
    let rms = [
        RmspropConfig {
            centered: true,
            ..Default::default()
        },
        RmspropConfig {
            momentum: 0.9,
            alpha: 0.8,
            ..Default::default()
        },
        RmspropConfig {
            centered: true,
            momentum: 0.5,
            weight_decay: 0.1,
            maximize: true,
            eps: 1e-3,
            ..Default::default()
        },
    ];
    for c in rms {
        let got = run_rust(|ps| Box::new(Rmsprop::new(ps, c).unwrap()));
        close_tol(&got, &rmsprop_ref(&c), 1e-12);
    }
    let ada = [
        AdagradConfig {
            lr: 0.1,
            lr_decay: 0.2,
            weight_decay: 0.1,
            initial_accumulator_value: 0.5,
            ..Default::default()
        },
        AdagradConfig {
            lr: 0.1,
            eps: 1e-3,
            maximize: true,
            ..Default::default()
        },
    ];
    for c in ada {
        let got = run_rust(|ps| Box::new(Adagrad::new(ps, c).unwrap()));
        close_tol(&got, &adagrad_ref(&c), 1e-12);
    }
}

#[test]
fn every_optimizer_checks_its_options() {
    let bad_rms = [
        RmspropConfig {
            lr: -1.0,
            ..Default::default()
        },
        RmspropConfig {
            alpha: -0.1,
            ..Default::default()
        },
        RmspropConfig {
            momentum: -0.5,
            ..Default::default()
        },
        RmspropConfig {
            eps: f64::NAN,
            ..Default::default()
        },
    ];
    for c in bad_rms {
        assert!(matches!(
            Rmsprop::new(vec![param(&[1.0])], c),
            Err(Error::Invalid { .. })
        ));
    }
    let bad_ada = [
        AdagradConfig {
            lr_decay: -0.1,
            ..Default::default()
        },
        AdagradConfig {
            initial_accumulator_value: -1.0,
            ..Default::default()
        },
        AdagradConfig {
            weight_decay: -1.0,
            ..Default::default()
        },
    ];
    for c in bad_ada {
        assert!(matches!(
            Adagrad::new(vec![param(&[1.0])], c),
            Err(Error::Invalid { .. })
        ));
    }
    assert!(
        Sgd::new(
            vec![],
            SgdConfig {
                lr: -0.1,
                ..Default::default()
            }
        )
        .is_err()
    );
}
