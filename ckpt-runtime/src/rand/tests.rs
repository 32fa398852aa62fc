//! Known answers, reproducibility, save/load continuity, range sampling.

use super::Rng;
use crate::state::{decode_slice, Encoder, Value};
use crate::Error;

fn save(rng: &Rng) -> Vec<u8> {
    crate::state::to_vec(rng).unwrap()
}

fn load(bytes: &[u8]) -> Result<Rng, Error> {
    crate::state::from_slice(bytes)
}

fn load_value(v: Value) -> Result<Rng, Error> {
    let mut bytes = Vec::new();
    let mut e = Encoder::new(&mut bytes);
    e.value(&v).unwrap();
    e.finish().unwrap();
    load(&bytes)
}

/// Outputs of the reference C implementation (prng.di.unimi.it/xoshiro256starstar.c)
/// from the state {1, 2, 3, 4}; the same vectors as `rand_xoshiro`'s tests.
#[test]
fn known_answers_of_the_reference_implementation() {
    let mut rng = Rng::from_parts([1, 2, 3, 4], 0);
    let expected: [u64; 10] = [
        11520,
        0,
        1509978240,
        1215971899390074240,
        1216172134540287360,
        607988272756665600,
        16172922978634559625,
        8476171486693032832,
        10595114339597558777,
        2904607092377533576,
    ];
    for want in expected {
        assert_eq!(rng.next_u64(), want);
    }
    assert_eq!(rng.draws(), 10);
    // jump() of the reference, applied after those ten draws.
    rng.jump();
    assert_eq!(
        rng.words(),
        [
            0x8149_1834_344e_efa7,
            0xc211_6dbb_683e_4072,
            0x97c4_2f17_5d4d_bcfe,
            0x8fb9_cbc2_fc16_b73b
        ]
    );
    assert_eq!(rng.draws(), 10, "a jump is not a draw");
    assert_eq!(rng.next_u64(), 0x8824_f8a9_78aa_088d);
    assert_eq!(rng.next_u64(), 0xbdf6_5c1b_de2f_482b);
}

/// SplitMix64 reference outputs for seeds 0 and 42 (the reference C code).
#[test]
fn seed_from_expands_with_splitmix64() {
    assert_eq!(
        Rng::seed_from(0).words(),
        [
            0xe220_a839_7b1d_cdaf,
            0x6e78_9e6a_a1b9_65f4,
            0x06c4_5d18_8009_454f,
            0xf88b_b8a8_724c_81ec
        ]
    );
    let mut rng = Rng::seed_from(42);
    assert_eq!(rng.next_u64(), 0x1578_0b2e_0c2e_c716);
    assert_eq!(rng.next_u64(), 0x6104_d986_6d11_3a7e);
}

#[test]
fn seed_from_is_deterministic_and_seeds_differ() {
    let mut a = Rng::seed_from(7);
    let mut b = Rng::seed_from(7);
    let mut c = Rng::seed_from(8);
    let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
    let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
    let zs: Vec<u64> = (0..100).map(|_| c.next_u64()).collect();
    assert_eq!(xs, ys);
    assert_ne!(xs, zs);
}

#[test]
fn from_seed_reads_little_endian_words_and_avoids_zero() {
    let mut seed = [0u8; 32];
    seed[0] = 1;
    seed[8] = 2;
    seed[16] = 3;
    seed[24] = 4;
    assert_eq!(Rng::from_seed(seed).words(), [1, 2, 3, 4]);
    assert_eq!(Rng::from_seed([0; 32]), Rng::seed_from(0));
}

#[test]
fn from_os_gives_different_seeds() {
    let seeds: Vec<[u64; 4]> = (0..8).map(|_| Rng::from_os().words()).collect();
    for (i, a) in seeds.iter().enumerate() {
        assert_ne!(*a, [0; 4]);
        for b in &seeds[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert_ne!(Rng::new(), Rng::default());
    assert_eq!(Rng::new().draws(), 0);
}

/// Mixes every kind of draw, so continuity is checked for all of them.
fn step(rng: &mut Rng, k: u64) -> u64 {
    match k % 7 {
        0 => rng.next_u64(),
        1 => rng.next_u32() as u64,
        2 => rng.next_f64().to_bits(),
        3 => rng.gen_range(0..=k) ^ rng.gen_range(-3i8..100) as u64,
        4 => rng.gen_bool(0.3) as u64,
        5 => {
            let mut b = [0u8; 11];
            rng.fill_bytes(&mut b);
            b.iter().map(|&x| x as u64).sum()
        }
        _ => *rng.choose(&[1u64, 2, 3, 4, 5]).unwrap(),
    }
}

/// Saved after a random prefix and loaded, the generator continues exactly like the
/// one that was never saved: 1000 prefixes drawn with the generator itself.
#[test]
fn save_then_load_continues_the_same_stream() {
    let mut meta = Rng::seed_from(2024);
    for round in 0..1000u64 {
        let mut rng = Rng::seed_from(meta.next_u64());
        let prefix = meta.gen_range(0..500u64);
        for k in 0..prefix {
            step(&mut rng, k);
        }
        let bytes = save(&rng);
        let mut back = load(&bytes).unwrap();
        assert_eq!(back, rng, "round {round}: state or draws differ after load");
        for k in 0..50 {
            assert_eq!(step(&mut back, k), step(&mut rng, k), "round {round}");
        }
        assert_eq!(back.draws(), rng.draws());
    }
}

#[test]
fn saved_form_is_a_readable_map() {
    let mut rng = Rng::seed_from(1);
    rng.next_u64();
    let (v, _) = decode_slice(&save(&rng)).unwrap();
    assert_eq!(
        v.get("algorithm").and_then(Value::as_str),
        Some("xoshiro256**")
    );
    assert_eq!(v.get("draws").and_then(Value::as_u64), Some(1));
    assert!(v.get("state").is_some());
}

fn rng_value(algorithm: &str, state: Value, draws: Value) -> Value {
    Value::Map(
        vec![
            (
                Value::Text("algorithm".into()),
                Value::Text(algorithm.into()),
            ),
            (Value::Text("state".into()), state),
            (Value::Text("draws".into()), draws),
        ]
        .into(),
    )
}

fn words(ws: [u64; 4]) -> Value {
    Value::Array(ws.iter().map(|&w| Value::Uint(w)).collect())
}

fn type_error_at(r: Result<Rng, Error>) -> String {
    match r {
        Err(Error::Type { at, .. }) => at,
        other => panic!("expected a type error, got {other:?}"),
    }
}

#[test]
fn plain_arrays_load_too() {
    let v = rng_value("xoshiro256**", words([1, 2, 3, 4]), Value::Uint(9));
    let rng = load_value(v).unwrap();
    assert_eq!((rng.words(), rng.draws()), ([1, 2, 3, 4], 9));
}

#[test]
fn malformed_values_give_typed_errors() {
    let ok_state = || words([1, 2, 3, 4]);
    let wrong_alg = rng_value("pcg64", ok_state(), Value::Uint(0));
    assert_eq!(type_error_at(load_value(wrong_alg)), "algorithm");
    let zero = rng_value("xoshiro256**", words([0; 4]), Value::Uint(0));
    assert_eq!(type_error_at(load_value(zero)), "state");
    let short = rng_value(
        "xoshiro256**",
        Value::Array(vec![Value::Uint(1)].into()),
        Value::Uint(0),
    );
    assert_eq!(type_error_at(load_value(short)), "state");
    let bad_draws = rng_value("xoshiro256**", ok_state(), Value::Text("many".into()));
    assert_eq!(type_error_at(load_value(bad_draws)), "draws");
    let missing = Value::Map(
        vec![(
            Value::Text("algorithm".into()),
            Value::Text("xoshiro256**".into()),
        )]
        .into(),
    );
    assert_eq!(type_error_at(load_value(missing)), "state");
    assert!(matches!(
        load_value(Value::Uint(3)),
        Err(Error::Type { .. })
    ));
}

/// Chi-square of `n` draws of `0..k` against the uniform distribution, with a
/// threshold far in the tail (a fixed seed, so the test is deterministic anyway).
fn chi_square_ok(counts: &[u64], n: u64) -> bool {
    let k = counts.len() as f64;
    let expect = n as f64 / k;
    let chi: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expect).powi(2) / expect)
        .sum();
    // Mean k-1, sd sqrt(2(k-1)): six standard deviations above the mean.
    chi < (k - 1.0) + 6.0 * (2.0 * (k - 1.0)).sqrt()
}

#[test]
fn gen_range_is_uniform_for_awkward_spans() {
    let mut rng = Rng::seed_from(11);
    // Spans that do not divide 2^32 / 2^64: a modulo would be visibly biased for 3 * 2^30.
    for span in [3u64, 6, 7, 10, 100, 255] {
        let n = 60_000;
        let mut counts = vec![0u64; span as usize];
        for _ in 0..n {
            counts[rng.gen_range(0..span) as usize] += 1;
        }
        assert!(chi_square_ok(&counts, n), "span {span}: {counts:?}");
    }
    // A huge span: the top third must get a third of the draws (modulo would give ~1/4).
    let span = 3u32 << 30;
    let n = 90_000;
    let top = (0..n).filter(|_| rng.gen_range(0..span) >= 2 << 30).count() as f64;
    assert!(
        (top / n as f64 - 1.0 / 3.0).abs() < 0.01,
        "top third: {top}"
    );
    let span = 3u64 << 62;
    let top = (0..n)
        .filter(|_| rng.gen_range(0..=span - 1) >= 2 << 62)
        .count() as f64;
    assert!(
        (top / n as f64 - 1.0 / 3.0).abs() < 0.01,
        "top third: {top}"
    );
    // Signed ranges across zero.
    let mut counts = [0u64; 7];
    for _ in 0..70_000 {
        counts[(rng.gen_range(-3i64..=3) + 3) as usize] += 1;
    }
    assert!(chi_square_ok(&counts, 70_000), "{counts:?}");
}

#[test]
fn gen_range_stays_in_range_at_the_edges() {
    let mut rng = Rng::seed_from(5);
    let mut seen_i8 = [false; 256];
    for _ in 0..20_000 {
        let x = rng.gen_range(i8::MIN..=i8::MAX);
        seen_i8[(x as i16 + 128) as usize] = true;
        let _: u64 = rng.gen_range(0..=u64::MAX);
        let _: i128 = rng.gen_range(i128::MIN..=i128::MAX);
        assert!(rng.gen_range(u64::MAX - 1..u64::MAX) == u64::MAX - 1);
        assert!(rng.gen_range(i64::MIN..i64::MIN + 2) <= i64::MIN + 1);
        let y = rng.gen_range(-5i128..5);
        assert!((-5..5).contains(&y));
        let z = rng.gen_range(u128::MAX / 3..=u128::MAX / 3 + 2);
        assert!((u128::MAX / 3..=u128::MAX / 3 + 2).contains(&z));
        let w = rng.gen_range(usize::MAX - 3..=usize::MAX);
        assert!(w >= usize::MAX - 3);
        let f = rng.gen_range(-1.5..2.5);
        assert!((-1.5..2.5).contains(&f));
        let g = rng.gen_range(0.25f32..=0.5);
        assert!((0.25..=0.5).contains(&g));
        let h = rng.gen_range(-f64::MAX..f64::MAX);
        assert!(h.is_finite());
    }
    assert!(seen_i8.iter().all(|&s| s), "every i8 is reachable");
    // Single-value ranges return that value.
    assert_eq!(rng.gen_range(7u8..=7), 7);
    assert_eq!(rng.gen_range(-9i32..-8), -9);
    assert_eq!(rng.gen_range(u64::MAX..=u64::MAX), u64::MAX);
    assert_eq!(rng.gen_range(i128::MIN..=i128::MIN), i128::MIN);
    assert_eq!(rng.gen_range(1.5..=1.5), 1.5);
}

#[test]
fn wide_multiplication_is_exact() {
    let (hi, lo) = super::range::wide_mul_u128(u128::MAX, u128::MAX);
    assert_eq!((hi, lo), (u128::MAX - 1, 1));
    let (hi, lo) = super::range::wide_mul_u128(1 << 100, 1 << 100);
    assert_eq!((hi, lo), (1 << 72, 0));
    let (hi, lo) = super::range::wide_mul_u128(u64::MAX as u128 + 7, 3);
    assert_eq!((hi, lo), (0, (u64::MAX as u128 + 7) * 3));
}

#[test]
#[should_panic(expected = "cannot sample empty range 5..5")]
fn empty_range_panics() {
    Rng::seed_from(1).gen_range(5u32..5);
}

#[test]
#[should_panic(expected = "cannot sample empty range 3..=2")]
#[allow(clippy::reversed_empty_ranges)] // the point of the test
fn empty_inclusive_range_panics() {
    Rng::seed_from(1).gen_range(3i64..=2);
}

#[test]
#[should_panic(expected = "cannot sample empty range 1..1")]
fn empty_float_range_panics() {
    Rng::seed_from(1).gen_range(1.0..1.0);
}

#[test]
#[should_panic(expected = "not in [0, 1]")]
fn gen_bool_rejects_bad_probability() {
    Rng::seed_from(1).gen_bool(1.5);
}

#[test]
fn floats_bools_bytes() {
    let mut rng = Rng::seed_from(3);
    let n = 100_000;
    let mean = (0..n).map(|_| rng.next_f64()).sum::<f64>() / n as f64;
    assert!((mean - 0.5).abs() < 0.01, "{mean}");
    let mean32 = (0..n).map(|_| rng.next_f32() as f64).sum::<f64>() / n as f64;
    assert!((mean32 - 0.5).abs() < 0.01, "{mean32}");
    let heads = (0..n).filter(|_| rng.gen_bool(0.25)).count() as f64 / n as f64;
    assert!((heads - 0.25).abs() < 0.01, "{heads}");
    assert!((0..1000).all(|_| rng.gen_bool(1.0)));
    assert!((0..1000).all(|_| !rng.gen_bool(0.0)));

    let before = rng.draws();
    let mut buf = [0u8; 19];
    rng.fill_bytes(&mut buf);
    assert_eq!(rng.draws() - before, 3);
    // fill_bytes takes the little-endian bytes of successive draws.
    let mut copy = Rng::seed_from(9);
    let mut twin = copy.clone();
    let mut b = [0u8; 12];
    copy.fill_bytes(&mut b);
    assert_eq!(b[..8], twin.next_u64().to_le_bytes());
    assert_eq!(b[8..], twin.next_u64().to_le_bytes()[..4]);
}

#[test]
fn shuffle_and_choose_are_uniform() {
    let mut rng = Rng::seed_from(8);
    // All 6 permutations of 3 elements equally often.
    let mut counts = std::collections::HashMap::new();
    let n = 60_000;
    for _ in 0..n {
        let mut xs = [0u8, 1, 2];
        rng.shuffle(&mut xs);
        *counts.entry(xs).or_insert(0u64) += 1;
    }
    let counts: Vec<u64> = counts.into_values().collect();
    assert_eq!(counts.len(), 6);
    assert!(chi_square_ok(&counts, n), "{counts:?}");

    let mut hits = [0u64; 5];
    for _ in 0..50_000 {
        hits[*rng.choose(&[0usize, 1, 2, 3, 4]).unwrap()] += 1;
    }
    assert!(chi_square_ok(&hits, 50_000), "{hits:?}");
    let before = rng.draws();
    assert_eq!(rng.choose::<u8>(&[]), None);
    assert_eq!(rng.draws(), before);
    let mut empty: [u8; 0] = [];
    rng.shuffle(&mut empty);
}

#[test]
fn split_streams_do_not_repeat_each_other() {
    let mut parent = Rng::seed_from(77);
    let mut twin = parent.clone();
    let mut child = parent.split();
    // The child continues the parent's stream; the parent jumped ahead.
    assert_eq!(child.next_u64(), twin.next_u64());
    let mut jumped = Rng::seed_from(77);
    jumped.jump();
    assert_eq!(parent.words(), jumped.words());
    let a: Vec<u64> = (0..1000).map(|_| parent.next_u64()).collect();
    let b: Vec<u64> = (0..1000).map(|_| child.next_u64()).collect();
    assert!(a.iter().all(|x| !b.contains(x)));
}
