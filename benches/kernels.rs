//! Criterion benches for the Rust side: each kernel family (elementwise, reductions, GEMM,
//! convolution, normalisation, softmax and cross-entropy, pooling, data-moving shape ops) at several sizes, on the calling thread
//! ("serial", 1 kernel thread) and on the thread team (2 threads), plus the autograd overhead of
//! small graphs (record + backward). Run with `cargo bench --bench kernels`; absolute figures on
//! a shared machine are noisy, compare within one run. Python-level comparisons with NumPy and
//! PyTorch live in benches/python/compare.py.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ferrograd::kernels::elementwise;
use ferrograd::kernels::matmul::{MatRef, matmul};
use ferrograd::kernels::reduce::reduce;
use ferrograd::shape::Layout;
use ferrograd::{DType, Tensor, no_grad, set_num_threads};
use std::hint::black_box;
use std::time::Duration;

const MODES: [(&str, usize); 2] = [("serial", 1), ("pool", 2)];

fn data(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i % 97) as f32 - 48.0) * 0.01).collect()
}

fn elementwise_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("elementwise");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(20);
    for &n in &[1usize << 10, 1 << 16, 1 << 20, 1 << 24] {
        let (a, b) = (data(n), data(n));
        let l = Layout::contiguous(&[n]);
        for (mode, threads) in MODES {
            set_num_threads(threads);
            g.throughput(Throughput::Bytes((12 * n) as u64));
            g.bench_with_input(BenchmarkId::new(format!("add/{mode}"), n), &n, |bch, _| {
                bch.iter(|| {
                    elementwise::zip(black_box(&a), &l, &b, &l, &[n], |x: f32, y: f32| x + y)
                })
            });
            g.throughput(Throughput::Bytes((8 * n) as u64));
            g.bench_with_input(BenchmarkId::new(format!("exp/{mode}"), n), &n, |bch, _| {
                bch.iter(|| elementwise::map(black_box(&a), &l, 1 << 15, |x: f32| x.exp()))
            });
            g.bench_with_input(BenchmarkId::new(format!("relu/{mode}"), n), &n, |bch, _| {
                bch.iter(|| elementwise::map(black_box(&a), &l, 1 << 16, |x: f32| x.max(0.0)))
            });
        }
        // The bias-add broadcast ([rows, 256] + [256]).
        if n >= 256 {
            let bias = data(256);
            let lm = Layout::contiguous(&[n / 256, 256]);
            let lb = Layout::contiguous(&[256]);
            for (mode, threads) in MODES {
                set_num_threads(threads);
                g.throughput(Throughput::Bytes((8 * n) as u64));
                g.bench_with_input(
                    BenchmarkId::new(format!("bias_add/{mode}"), n),
                    &n,
                    |bch, _| {
                        bch.iter(|| {
                            elementwise::zip(
                                black_box(&a),
                                &lm,
                                &bias,
                                &lb,
                                &[n / 256, 256],
                                |x: f32, y: f32| x + y,
                            )
                        })
                    },
                );
            }
        }
    }
    set_num_threads(2);
    g.finish();
}

fn reduce_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("reduce");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(20);
    for &n in &[1usize << 10, 1 << 16, 1 << 20, 1 << 24] {
        let a = data(n);
        let l = Layout::contiguous(&[n]);
        let rows = Layout::contiguous(&[n / 256, 256]);
        for (mode, threads) in MODES {
            set_num_threads(threads);
            g.throughput(Throughput::Bytes((4 * n) as u64));
            g.bench_with_input(
                BenchmarkId::new(format!("sum_all/{mode}"), n),
                &n,
                |bch, _| {
                    bch.iter(|| reduce(black_box(&a), &l, &[0], 0.0f32, |s, x| s + x, |p, q| p + q))
                },
            );
            g.bench_with_input(
                BenchmarkId::new(format!("sum_rows/{mode}"), n),
                &n,
                |bch, _| {
                    bch.iter(|| {
                        reduce(
                            black_box(&a),
                            &rows,
                            &[1],
                            0.0f32,
                            |s, x| s + x,
                            |p, q| p + q,
                        )
                    })
                },
            );
            g.bench_with_input(
                BenchmarkId::new(format!("sum_cols/{mode}"), n),
                &n,
                |bch, _| {
                    bch.iter(|| {
                        reduce(
                            black_box(&a),
                            &rows,
                            &[0],
                            0.0f32,
                            |s, x| s + x,
                            |p, q| p + q,
                        )
                    })
                },
            );
        }
    }
    set_num_threads(2);
    g.finish();
}

fn matmul_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(10);
    for &n in &[64usize, 128, 512, 1024] {
        let (a, b) = (data(n * n), data(n * n));
        let rm = MatRef {
            offset: 0,
            rs: n,
            cs: 1,
        };
        let tr = MatRef {
            offset: 0,
            rs: 1,
            cs: n,
        };
        g.throughput(Throughput::Elements((2 * n * n * n) as u64));
        for (mode, threads) in MODES {
            set_num_threads(threads);
            g.bench_with_input(BenchmarkId::new(format!("nn/{mode}"), n), &n, |bch, _| {
                bch.iter(|| matmul(black_box(&a), rm, &[0], &b, rm, &[0], n, n, n))
            });
            // B read transposed through its strides, as Linear does with its weight.
            g.bench_with_input(BenchmarkId::new(format!("nt/{mode}"), n), &n, |bch, _| {
                bch.iter(|| matmul(black_box(&a), rm, &[0], &b, tr, &[0], n, n, n))
            });
        }
    }
    // Batched small products, parallel over the batch.
    let (m, batch) = (32usize, 64usize);
    let (a, b) = (data(batch * m * m), data(batch * m * m));
    let offs: Vec<usize> = (0..batch).map(|i| i * m * m).collect();
    let rm = MatRef {
        offset: 0,
        rs: m,
        cs: 1,
    };
    g.throughput(Throughput::Elements((2 * batch * m * m * m) as u64));
    for (mode, threads) in MODES {
        set_num_threads(threads);
        g.bench_function(format!("bmm64x32/{mode}"), |bch| {
            bch.iter(|| matmul(black_box(&a), rm, &offs, &b, rm, &offs, m, m, m))
        });
    }
    set_num_threads(2);
    g.finish();
}

fn autograd_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("autograd");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(30);
    let x = Tensor::from_vec(vec![1.0f32; 100], &[100])
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let y = Tensor::from_vec(vec![2.0f32; 100], &[100]).unwrap();
    // One op: the per-op cost with and without recording.
    g.bench_function("add100/record", |b| {
        b.iter(|| black_box(x.add(&y).unwrap()))
    });
    g.bench_function("add100/no_grad", |b| {
        let _g = no_grad();
        b.iter(|| black_box(x.add(&y).unwrap()))
    });
    // A small graph: 10 ops on 100 elements, then backward.
    g.bench_function("graph10/record+backward", |b| {
        b.iter(|| {
            let mut h = x.clone();
            for i in 0..10 {
                h = if i % 2 == 0 {
                    h.mul(&y).unwrap()
                } else {
                    h.add_scalar(1.0).unwrap()
                };
            }
            h.sum().unwrap().backward().unwrap();
            x.set_grad(None).unwrap();
        })
    });
    // A chain of 10,000 one-element multiplies: engine cost per node.
    let s = Tensor::from_vec(vec![1.0f32], &[1])
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("chain10k/record+backward", |b| {
        b.iter(|| {
            let mut h = s.clone();
            for _ in 0..10_000 {
                h = h.mul_scalar(1.0001).unwrap();
            }
            h.sum().unwrap().backward().unwrap();
            s.set_grad(None).unwrap();
        })
    });
    let _ = DType::F32;
    g.finish();
}

/// Convolution (im2col + GEMM) forward, and forward + backward, at a small-CNN size and a
/// ResNet-block size.
fn conv_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("conv2d");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(10);
    // (name, batch, in channels, out channels, image side)
    for (name, n, ci, co, side) in [
        ("cnn_8x16x28", 8, 8, 16, 28),
        ("resnet_8x64x56", 8, 64, 64, 56),
    ] {
        let x = Tensor::randn(&[n, ci, side, side], DType::F32).unwrap();
        let w = Tensor::randn(&[co, ci, 3, 3], DType::F32)
            .unwrap()
            .requires_grad_(true)
            .unwrap();
        let flops = 2 * n * co * ci * 9 * side * side;
        g.throughput(Throughput::Elements(flops as u64));
        for (mode, threads) in MODES {
            set_num_threads(threads);
            g.bench_function(BenchmarkId::new(format!("forward/{mode}"), name), |b| {
                let _off = no_grad();
                b.iter(|| {
                    black_box(&x)
                        .conv2d(&w, None, [1, 1], [1, 1, 1, 1], [1, 1], 1)
                        .unwrap()
                })
            });
            g.bench_function(
                BenchmarkId::new(format!("forward+backward/{mode}"), name),
                |b| {
                    b.iter(|| {
                        let y = black_box(&x)
                            .conv2d(&w, None, [1, 1], [1, 1, 1, 1], [1, 1], 1)
                            .unwrap();
                        y.sum().unwrap().backward().unwrap();
                        w.set_grad(None).unwrap();
                    })
                },
            );
        }
    }
    g.finish();
}

/// layer_norm over the last dim of a [4096, 1024] activation: the forward under no_grad, and
/// forward + backward of the fused normalisation.
fn norm_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("layer_norm");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(10);
    let x = Tensor::randn(&[4096, 1024], DType::F32).unwrap();
    let leaf = x.detach().requires_grad_(true).unwrap();
    let ones = Tensor::ones(&[4096, 1024], DType::F32).unwrap();
    g.throughput(Throughput::Bytes((8 * x.numel()) as u64));
    for (mode, threads) in MODES {
        set_num_threads(threads);
        g.bench_function(BenchmarkId::new("forward", mode), |bch| {
            let _guard = no_grad();
            bch.iter(|| black_box(&x).layer_norm(&[1024], None, None, 1e-5).unwrap())
        });
        g.bench_function(BenchmarkId::new("forward_backward", mode), |bch| {
            bch.iter(|| {
                let y = leaf.layer_norm(&[1024], None, None, 1e-5).unwrap();
                y.backward_with(Some(&ones), false).unwrap();
                leaf.set_grad(None).unwrap();
            })
        });
    }
    set_num_threads(2);
    g.finish();
}

/// log_softmax of [4096, 1000] logits under no_grad, and cross_entropy forward + backward
/// against class indices for a wide ([4096, 1000]) and a narrow ([512, 10]) classifier.
fn softmax_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("softmax");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(10);
    for (rows, classes) in [(4096usize, 1000usize), (512, 10)] {
        let x = Tensor::randn(&[rows, classes], DType::F32).unwrap();
        let leaf = x.detach().requires_grad_(true).unwrap();
        let target = Tensor::randint(0, classes as i64, &[rows], DType::I64).unwrap();
        let size = format!("{rows}x{classes}");
        for (mode, threads) in MODES {
            set_num_threads(threads);
            g.bench_function(
                BenchmarkId::new(format!("log_softmax/{mode}"), &size),
                |bch| {
                    let _guard = no_grad();
                    bch.iter(|| black_box(&x).log_softmax(1).unwrap())
                },
            );
            g.bench_function(
                BenchmarkId::new(format!("cross_entropy_fwd_bwd/{mode}"), &size),
                |bch| {
                    bch.iter(|| {
                        leaf.cross_entropy(&target).unwrap().backward().unwrap();
                        leaf.set_grad(None).unwrap();
                    })
                },
            );
        }
    }
    set_num_threads(2);
    g.finish();
}

/// 2x2 max and average pooling over a [32, 64, 56, 56] activation.
fn pool_benches(c: &mut Criterion) {
    use ferrograd::ops::nn::pool::PoolArgs;
    let mut g = c.benchmark_group("pool2d");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(10);
    let x = Tensor::randn(&[32, 64, 56, 56], DType::F32).unwrap();
    let args = PoolArgs {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0],
        dilation: [1, 1],
        ceil_mode: false,
    };
    g.throughput(Throughput::Bytes((4 * x.numel()) as u64));
    for (mode, threads) in MODES {
        set_num_threads(threads);
        g.bench_function(BenchmarkId::new("max", mode), |b| {
            b.iter(|| black_box(&x).max_pool2d_with_indices(&args).unwrap())
        });
        g.bench_function(BenchmarkId::new("avg", mode), |b| {
            b.iter(|| black_box(&x).avg_pool(&args, true, None, false).unwrap())
        });
    }
    g.finish();
}

/// Shape ops that move data: cat, a transposed copy, gather and index_select.
fn shape_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("shape");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(10);
    let a = Tensor::randn(&[1024, 1024], DType::F32).unwrap();
    let b = Tensor::randn(&[1024, 1024], DType::F32).unwrap();
    let rows: Vec<i64> = (0..1024).map(|i| (i * 7919) % 1024).collect();
    let idx = Tensor::from_vec(rows.clone(), &[1024]).unwrap();
    let gidx = Tensor::from_vec(
        (0..1024 * 1024)
            .map(|i| ((i * 31) % 1024) as i64)
            .collect::<Vec<_>>(),
        &[1024, 1024],
    )
    .unwrap();
    g.throughput(Throughput::Bytes((8 * a.numel()) as u64));
    for (mode, threads) in MODES {
        set_num_threads(threads);
        g.bench_function(BenchmarkId::new("cat_dim1", mode), |bch| {
            bch.iter(|| Tensor::cat(&[black_box(a.clone()), b.clone()], 1).unwrap())
        });
        g.bench_function(BenchmarkId::new("transpose_contiguous", mode), |bch| {
            bch.iter(|| black_box(&a).transpose(0, 1).unwrap().contiguous().unwrap())
        });
        g.bench_function(BenchmarkId::new("index_select_rows", mode), |bch| {
            bch.iter(|| black_box(&a).index_select(0, &idx).unwrap())
        });
        g.bench_function(BenchmarkId::new("gather_dim1", mode), |bch| {
            bch.iter(|| black_box(&a).gather(1, &gidx).unwrap())
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    elementwise_benches,
    reduce_benches,
    matmul_benches,
    conv_benches,
    norm_benches,
    softmax_benches,
    pool_benches,
    shape_benches,
    autograd_benches
);
criterion_main!(benches);
