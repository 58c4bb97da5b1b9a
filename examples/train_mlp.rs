//! Trains a small MLP from pure Rust: learn to classify points by which side of a circle
//! they fall on. `cargo run --release --example train_mlp`

use ferrograd::nn::{Linear, Module, ReLU, Sequential, cross_entropy};
use ferrograd::optim::{Adam, AdamConfig, Optimizer};
use ferrograd::{DType, Tensor, manual_seed, no_grad};

fn main() -> ferrograd::Result<()> {
    manual_seed(0);
    // 512 points in [-1, 1]^2; class 1 inside the circle of radius 0.6.
    let x = Tensor::rand(&[512, 2], DType::F32)?
        .mul_scalar(2.0)?
        .sub_scalar(1.0)?;
    let pts = x.to_vec::<f32>()?;
    let labels: Vec<i64> = pts
        .chunks(2)
        .map(|p| i64::from(p[0] * p[0] + p[1] * p[1] < 0.36))
        .collect();
    let y = Tensor::from_vec(labels, &[512])?;

    let net = Sequential::new()
        .add(Linear::new(2, 32, true)?)
        .add(ReLU)
        .add(Linear::new(32, 32, true)?)
        .add(ReLU)
        .add(Linear::new(32, 2, true)?);
    let mut opt = Adam::new(
        net.parameters(),
        AdamConfig {
            lr: 0.01,
            ..AdamConfig::adam()
        },
    )?;

    for epoch in 1..=300 {
        opt.zero_grad();
        let loss = cross_entropy(&net.forward(&x)?, &y)?;
        loss.backward()?;
        opt.step()?;
        if epoch % 50 == 0 {
            println!("epoch {epoch:3}  loss {:.4}", loss.item_f64()?);
        }
    }

    let _guard = no_grad();
    let pred = net.forward(&x)?.argmax(Some(-1), false)?;
    let correct = pred.eq(&y)?.to_dtype(DType::F32)?.mean()?.item_f64()?;
    println!("training accuracy: {correct:.3}");
    Ok(())
}
