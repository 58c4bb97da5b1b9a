//! Trains a small CNN from pure Rust: tell horizontal bars from vertical ones on 8x8
//! images, a task no linear model on the pixels can solve. `cargo run --release --example train_cnn`

use ferrograd::nn::{
    Conv2d, Conv2dConfig, CrossEntropyLoss, Flatten, Linear, Loss, MaxPool2d, Module, ReLU,
    Sequential,
};
use ferrograd::optim::{Optimizer, Sgd, SgdConfig};
use ferrograd::{DType, Tensor, manual_seed, no_grad};

/// `n` noisy images with one bar each: label 0 horizontal, 1 vertical, at a random place.
fn bars(n: usize) -> ferrograd::Result<(Tensor, Tensor)> {
    let mut img = Tensor::rand(&[n, 1, 8, 8], DType::F32)?
        .mul_scalar(0.2)?
        .to_vec::<f32>()?;
    let picks = Tensor::rand(&[n, 2], DType::F32)?.to_vec::<f32>()?;
    let mut labels = Vec::with_capacity(n);
    for (i, p) in picks.chunks(2).enumerate() {
        let vertical = p[0] >= 0.5;
        let at = ((p[1] * 8.0) as usize).min(7);
        for k in 0..8 {
            let (r, c) = if vertical { (k, at) } else { (at, k) };
            img[i * 64 + r * 8 + c] += 1.0;
        }
        labels.push(i64::from(vertical));
    }
    Ok((
        Tensor::from_vec(img, &[n, 1, 8, 8])?,
        Tensor::from_vec(labels, &[n])?,
    ))
}

fn main() -> ferrograd::Result<()> {
    manual_seed(0);
    let (x, y) = bars(256)?;
    let net = Sequential::new()
        .add(Conv2d::new(1, 8, 3, Conv2dConfig::default().padding(1))?) // 8 x 8 x 8
        .add(ReLU)
        .add(MaxPool2d::new(2)) // 8 x 4 x 4
        .add(Flatten::default())
        .add(Linear::new(8 * 4 * 4, 2, true)?);
    let sgd = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    };
    let mut opt = Sgd::new(net.parameters(), sgd)?;
    let loss_fn = CrossEntropyLoss::default();
    for step in 1..=60 {
        opt.zero_grad();
        let loss = loss_fn.loss(&net.forward(&x)?, &y)?;
        loss.backward()?;
        opt.step()?;
        if step % 10 == 0 {
            println!("step {step:3}  loss {:.4}", loss.item_f64()?);
        }
    }

    let _guard = no_grad();
    let (xt, yt) = bars(256)?;
    let pred = net.forward(&xt)?.argmax(Some(-1), false)?;
    let acc = pred.eq(&yt)?.to_dtype(DType::F32)?.mean()?.item_f64()?;
    println!("held-out accuracy: {acc:.3}");
    Ok(())
}
