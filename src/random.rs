//! The default random generator: one per process, seeded with a fixed value at start (as
//! PyTorch's CPU generator is) so runs are reproducible; `manual_seed` resets it.

use parking_lot::Mutex;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

const DEFAULT_SEED: u64 = 67_280_421_310_721;

static GENERATOR: Mutex<Option<(u64, Xoshiro256PlusPlus)>> = Mutex::new(None);

/// Seeds the default generator: every random function then repeats its sequence.
pub fn manual_seed(seed: u64) {
    *GENERATOR.lock() = Some((seed, Xoshiro256PlusPlus::seed_from_u64(seed)));
}

/// The seed the default generator was last seeded with.
pub fn initial_seed() -> u64 {
    GENERATOR
        .lock()
        .as_ref()
        .map(|(s, _)| *s)
        .unwrap_or(DEFAULT_SEED)
}

/// Runs `f` with the default generator locked.
pub fn with_rng<R>(f: impl FnOnce(&mut Xoshiro256PlusPlus) -> R) -> R {
    let mut g = GENERATOR.lock();
    let (_, rng) = g.get_or_insert_with(|| {
        (
            DEFAULT_SEED,
            Xoshiro256PlusPlus::seed_from_u64(DEFAULT_SEED),
        )
    });
    f(rng)
}
