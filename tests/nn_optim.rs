//! The Rust nn and optim building blocks: layers, losses, and the optimizers' fused updates.

use ferrograd::nn::{
    Flatten, Linear, Loss, Module, MseLoss, ReLU, Reduction, Sequential, Tanh, cross_entropy,
    l1_loss, mse_loss,
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
        .add(Flatten)
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
