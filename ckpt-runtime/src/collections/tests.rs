//! Order across save/restore (property test), std comparison, and the std-like API.

use super::{Entry, HashMap, HashSet};
use crate::state::{decode_slice, Encoder, Loader, StableOrder, State};

fn round_trip<T: State>(x: &T) -> T {
    crate::state::from_slice(&crate::state::to_vec(x).unwrap()).unwrap()
}

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The documented order, as a plain list: new keys last, `remove` closes the gap,
/// `swap_remove` moves the last entry into the gap.
#[derive(Default)]
struct Model(Vec<(u32, u64)>);

impl Model {
    fn pos(&self, k: u32) -> Option<usize> {
        self.0.iter().position(|e| e.0 == k)
    }
}

/// One random operation, applied identically to the map, a second map and the model.
fn step(rng: &mut Rng, maps: &mut [&mut HashMap<u32, u64>], model: &mut Model) {
    let k = rng.below(48) as u32;
    let x = rng.below(1000);
    match rng.below(100) {
        0..=39 => {
            for m in maps.iter_mut() {
                m.insert(k, x);
            }
            match model.pos(k) {
                Some(i) => model.0[i].1 = x,
                None => model.0.push((k, x)),
            }
        }
        40..=59 => {
            for m in maps.iter_mut() {
                m.remove(&k);
            }
            if let Some(i) = model.pos(k) {
                model.0.remove(i);
            }
        }
        60..=64 => {
            for m in maps.iter_mut() {
                m.swap_remove(&k);
            }
            if let Some(i) = model.pos(k) {
                model.0.swap_remove(i);
            }
        }
        65..=84 => {
            for m in maps.iter_mut() {
                *m.entry(k).and_modify(|v| *v += x).or_insert(x) += 1;
            }
            match model.pos(k) {
                Some(i) => model.0[i].1 += x + 1,
                None => model.0.push((k, x + 1)),
            }
        }
        85..=89 => {
            for m in maps.iter_mut() {
                if let Entry::Occupied(o) = m.entry(k) {
                    o.remove();
                }
            }
            if let Some(i) = model.pos(k) {
                model.0.remove(i);
            }
        }
        90..=97 => {
            let d = rng.below(5) + 2;
            for m in maps.iter_mut() {
                m.retain(|k, v| !(*k as u64 + *v).is_multiple_of(d));
            }
            model.0.retain(|(k, v)| !(*k as u64 + *v).is_multiple_of(d));
        }
        _ => {
            for m in maps.iter_mut() {
                m.clear();
            }
            model.0.clear();
        }
    }
}

fn order(m: &HashMap<u32, u64>) -> Vec<(u32, u64)> {
    m.iter().map(|(k, v)| (*k, *v)).collect()
}

#[test]
fn property_order_survives_save_and_restore() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..500 {
        let mut a = HashMap::new();
        let mut model = Model::default();
        let n = rng.below(300);
        for _ in 0..n {
            step(&mut rng, &mut [&mut a], &mut model);
        }
        assert_eq!(
            order(&a),
            model.0,
            "case {case}: order differs from the model"
        );

        let mut b = round_trip(&a);
        assert_eq!(
            order(&a),
            order(&b),
            "case {case}: order changed by the restore"
        );
        assert_eq!(a, b);
        let keys_a: Vec<_> = a.keys().copied().collect();
        let keys_b: Vec<_> = b.keys().copied().collect();
        assert_eq!(keys_a, keys_b);

        // Identical operations after the restore keep the orders identical.
        for _ in 0..rng.below(200) {
            step(&mut rng, &mut [&mut a, &mut b], &mut model);
        }
        assert_eq!(
            order(&a),
            order(&b),
            "case {case}: orders diverged after restore"
        );
        assert_eq!(order(&a), model.0, "case {case}");

        // A set built from the same history order round-trips too.
        let s: HashSet<u32> = a.keys().copied().collect();
        let t = round_trip(&s);
        assert!(s.iter().eq(t.iter()), "case {case}: set order changed");
    }
}

#[test]
fn std_map_order_is_not_kept_observation() {
    // Only documents the problem ckpt's map solves; never asserts on std's order.
    let mut rng = Rng(7);
    let mut differing = 0;
    for _ in 0..50 {
        let mut m = std::collections::HashMap::new();
        let mut ours = HashMap::new();
        for _ in 0..200 {
            let k = rng.below(500) as u32;
            if rng.below(3) == 0 {
                m.remove(&k);
                ours.remove(&k);
            } else {
                m.insert(k, k as u64);
                ours.insert(k, k as u64);
            }
        }
        let back: std::collections::HashMap<u32, u64> = round_trip(&m);
        if !m.keys().eq(back.keys()) {
            differing += 1;
        }
        let ours_back = round_trip(&ours);
        assert!(ours.iter().eq(ours_back.iter()));
    }
    println!("std HashMap: {differing}/50 restored maps iterate in a different order");
}

#[test]
fn map_api() {
    let mut m: HashMap<String, i32> = HashMap::new();
    assert!(m.is_empty());
    assert_eq!(m.insert("b".into(), 1), None);
    assert_eq!(m.insert("a".into(), 2), None);
    assert_eq!(m.insert("b".into(), 3), Some(1));
    assert_eq!(m.len(), 2);
    assert_eq!(m.get("b"), Some(&3));
    assert_eq!(m.get_key_value("a"), Some((&"a".to_string(), &2)));
    assert!(m.contains_key("a") && !m.contains_key("z"));
    *m.get_mut("a").unwrap() += 10;
    assert_eq!(m["a"], 12);
    m["a"] += 1;
    assert_eq!(m["a"], 13);
    assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "a"]);
    assert_eq!(m.values().copied().collect::<Vec<_>>(), [3, 13]);
    for v in m.values_mut() {
        *v *= 2;
    }
    for (_, v) in m.iter_mut() {
        *v += 1;
    }
    for (_, v) in &mut m {
        *v -= 1;
    }
    assert_eq!(
        m.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(),
        [("b", 6), ("a", 26)]
    );
    assert_eq!(m.get_index(1), Some((&"a".to_string(), &26)));
    assert_eq!(m.get_index_of("a"), Some(1));

    // entry
    *m.entry("c".into()).or_insert(0) += 5;
    *m.entry("c".into()).or_insert_with(|| 100) += 1;
    *m.entry("d".into()).or_default() += 7;
    m.entry("d".into()).and_modify(|v| *v = 70).or_insert(0);
    assert_eq!(m.entry("e".into()).key(), "e");
    assert_eq!(
        *m.entry("f".into()).or_insert_with_key(|k| k.len() as i32),
        1
    );
    match m.entry("c".into()) {
        Entry::Occupied(mut o) => {
            assert_eq!(o.get(), &6);
            assert_eq!(o.insert(60), 6);
            *o.get_mut() += 1;
            assert_eq!(o.key(), "c");
        }
        Entry::Vacant(_) => panic!("c is present"),
    }
    match m.entry("g".into()) {
        Entry::Vacant(v) => {
            assert_eq!(v.key(), "g");
            *v.insert(1) += 1;
        }
        Entry::Occupied(_) => panic!("g is absent"),
    }
    assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "a", "c", "d", "f", "g"]);
    assert_eq!(format!("{:?}", m.entry("b".into())), "Occupied(\"b\")");
    if let Entry::Occupied(o) = m.entry("f".into()) {
        assert_eq!(o.remove_entry(), ("f".to_string(), 1));
    }

    // removal keeps order; swap_remove moves the last entry
    assert_eq!(m.remove("a"), Some(26));
    assert_eq!(m.remove("a"), None);
    assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "c", "d", "g"]);
    assert_eq!(m.remove_entry("c"), Some(("c".to_string(), 61)));
    assert_eq!(m.swap_remove("b"), Some(6));
    assert_eq!(m.keys().collect::<Vec<_>>(), ["g", "d"]);
    assert_eq!(m.swap_remove_entry("g"), Some(("g".to_string(), 2)));

    m.extend([
        ("x".to_string(), 1),
        ("y".to_string(), 2),
        ("z".to_string(), 3),
    ]);
    m.retain(|k, _| k != "y");
    assert_eq!(m.keys().collect::<Vec<_>>(), ["d", "x", "z"]);
    assert_eq!(format!("{m:?}"), r#"{"d": 70, "x": 1, "z": 3}"#);
    let c = m.clone();
    assert_eq!(c, m);
    let drained: Vec<_> = m.drain().collect();
    assert_eq!(drained.len(), 3);
    assert!(m.is_empty());
    assert_ne!(c, m);

    let mut n: HashMap<u8, u8> = HashMap::with_capacity(10);
    assert!(n.capacity() >= 10);
    n.reserve(100);
    assert!(n.capacity() >= 100);
    n.extend([(&1, &2), (&3, &4)]);
    n.shrink_to_fit();
    assert_eq!(n.clone().into_keys().collect::<Vec<_>>(), [1, 3]);
    assert_eq!(n.clone().into_values().collect::<Vec<_>>(), [2, 4]);
    assert_eq!(n.clone().into_iter().collect::<Vec<_>>(), [(1, 2), (3, 4)]);
    assert_eq!((&n).into_iter().count(), 2);
    n.clear();
    assert!(n.is_empty() && n == HashMap::default());

    // equality ignores order, like std
    let p: HashMap<u8, u8> = [(1, 1), (2, 2)].into_iter().collect();
    let q = HashMap::from([(2, 2), (1, 1)]);
    assert_eq!(p, q);
    assert!(!p.iter().eq(q.iter()));
    let _: &std::collections::hash_map::RandomState = p.hasher();
}

#[test]
fn map_std_conversions() {
    let s: std::collections::HashMap<u32, u32> = (0..50).map(|i| (i, i * i)).collect();
    let order: Vec<_> = s.iter().map(|(k, v)| (*k, *v)).collect();
    let m = HashMap::from(s.clone());
    assert!(m.iter().map(|(k, v)| (*k, *v)).eq(order.iter().copied()));
    let back = m.clone().into_std();
    assert_eq!(back, s);
    let back2: std::collections::HashMap<u32, u32> = m.into();
    assert_eq!(back2, s);
}

#[test]
fn set_api() {
    let mut s = HashSet::new();
    assert!(s.is_empty());
    assert!(s.insert(3));
    assert!(s.insert(1));
    assert!(!s.insert(3));
    assert!(s.insert(2));
    assert_eq!(s.len(), 3);
    assert!(s.contains(&1) && !s.contains(&9));
    assert_eq!(s.get(&2), Some(&2));
    assert_eq!(s.iter().copied().collect::<Vec<_>>(), [3, 1, 2]);
    assert!(s.remove(&3));
    assert!(!s.remove(&3));
    s.extend([7, 8, 9]);
    s.extend([&10]);
    assert_eq!(s.iter().copied().collect::<Vec<_>>(), [1, 2, 7, 8, 9, 10]);
    assert!(s.swap_remove(&1));
    assert_eq!(s.iter().copied().collect::<Vec<_>>(), [10, 2, 7, 8, 9]);
    assert_eq!(s.take(&7), Some(7));
    assert_eq!(s.replace(8), Some(8));
    s.retain(|x| x % 2 == 0);
    assert_eq!(s.iter().copied().collect::<Vec<_>>(), [10, 2, 8]);
    assert_eq!(s.get_index(0), Some(&10));
    assert_eq!(format!("{s:?}"), "{10, 2, 8}");

    let t: HashSet<i32> = [8, 5, 10].into_iter().collect();
    assert_eq!(s.union(&t).copied().collect::<Vec<_>>(), [10, 2, 8, 5]);
    assert_eq!(s.intersection(&t).copied().collect::<Vec<_>>(), [10, 8]);
    assert_eq!(s.difference(&t).copied().collect::<Vec<_>>(), [2]);
    assert_eq!(
        s.symmetric_difference(&t).copied().collect::<Vec<_>>(),
        [2, 5]
    );
    assert!(!s.is_subset(&t) && !s.is_superset(&t) && !s.is_disjoint(&t));
    assert!(HashSet::from([8]).is_subset(&t));

    let c = s.clone();
    assert_eq!(c, HashSet::from([8, 2, 10]));
    assert_eq!((&c).into_iter().count(), 3);
    assert_eq!(c.clone().into_iter().collect::<Vec<_>>(), [10, 2, 8]);
    let std_s: std::collections::HashSet<i32> = c.clone().into();
    assert_eq!(std_s, c.clone().into_std());
    let order: Vec<_> = std_s.iter().copied().collect();
    assert_eq!(HashSet::from(std_s).into_iter().collect::<Vec<_>>(), order);
    assert_eq!(s.drain().count(), 3);
    s.extend([1]);
    s.clear();
    assert_eq!(s, HashSet::default());
    let mut w: HashSet<String> = HashSet::with_capacity(4);
    assert!(w.capacity() >= 4);
    w.reserve(10);
    w.insert("a".into());
    w.shrink_to_fit();
    assert!(w.contains("a") && w.remove("a"));
}

#[test]
fn state_round_trips_and_owned_iterators() {
    let m: HashMap<String, Vec<u32>> = [("z", 1), ("a", 2), ("m", 3)]
        .into_iter()
        .map(|(k, n)| (k.to_string(), (0..n).collect()))
        .collect();
    let back = round_trip(&m);
    assert!(m.iter().eq(back.iter()));

    let mut it = m.clone().into_iter();
    it.next();
    let rest = round_trip(&it);
    assert!(it.eq(rest));

    let s: HashSet<String> = ["q", "b", "x"].iter().map(|s| s.to_string()).collect();
    let back = round_trip(&s);
    assert!(s.iter().eq(back.iter()));
    let mut it = s.into_iter();
    it.next();
    let rest = round_trip(&it);
    assert!(it.eq(rest));

    // A map of the wrong shape names the type in the error.
    let mut bytes = Vec::new();
    let mut e = Encoder::new(&mut bytes);
    e.put(&vec![1u32]).unwrap();
    e.finish().unwrap();
    let (v, shared) = decode_slice(&bytes).unwrap();
    let err = Loader::new(shared)
        .load::<HashMap<u32, u32>>(v)
        .unwrap_err();
    assert!(err.to_string().contains("HashMap"), "{err}");
}

fn stable<I: StableOrder>(_: I) {}

#[test]
fn iterators_are_stable_order() {
    let mut m: HashMap<u8, u8> = HashMap::new();
    stable(m.iter());
    stable(m.keys());
    stable(m.values());
    stable((&m).into_iter());
    stable(m.values_mut());
    stable(m.iter_mut());
    stable(m.clone().into_iter());
    stable(m.clone().into_keys());
    stable(m.clone().into_values());
    let s: HashSet<u8> = HashSet::new();
    stable(s.iter());
    stable((&s).into_iter());
    stable(s.union(&s));
    stable(s.intersection(&s));
    stable(s.difference(&s));
    stable(s.symmetric_difference(&s));
    stable(s.into_iter());
}

/// The same source compiled against std's types and ckpt's: a swap of the `use` line
/// is all a program needs.
macro_rules! std_code {
    ($name:ident, $($imp:tt)*) => {
        mod $name {
            $($imp)*

            pub fn run(text: &str) -> Vec<(String, u64)> {
                let mut counts: HashMap<String, u64> = HashMap::new();
                let mut seen = HashSet::new();
                for w in text.split_whitespace() {
                    *counts.entry(w.to_string()).or_insert(0) += 1;
                    seen.insert(w.len());
                }
                let mut other: HashMap<String, u64> = HashMap::with_capacity(4);
                other.extend(counts.iter().map(|(k, v)| (k.clone(), *v)));
                other.retain(|_, v| *v > 1);
                if let Some(v) = other.get_mut("the") {
                    *v += 100;
                }
                other.entry("zz".to_string()).and_modify(|v| *v += 1).or_default();
                let _ = other.remove("fox");
                let _ = other.remove_entry("dog");
                assert!(other.contains_key("the") && other.get("zz") == Some(&0));
                assert_eq!(other.get_key_value("the").map(|(_, v)| *v), Some(103));
                assert_eq!(other["the"], 103);
                let short: HashSet<usize> = seen.iter().copied().filter(|n| *n < 4).collect();
                let long: HashSet<usize> = seen.iter().copied().filter(|n| *n >= 4).collect();
                assert_eq!(short.union(&long).count(), seen.len());
                assert_eq!(short.intersection(&long).count(), 0);
                assert_eq!(seen.difference(&long).count(), short.len());
                let mut out: Vec<(String, u64)> = other.into_iter().collect();
                for (k, v) in &counts {
                    out.push((k.clone(), *v));
                }
                for v in counts.values_mut() {
                    *v = 0;
                }
                assert!(counts.values().all(|v| *v == 0) && counts.keys().count() > 0);
                let n = counts.drain().count();
                out.push(("#".to_string(), n as u64));
                out.sort();
                out
            }
        }
    };
}

std_code!(with_std, use std::collections::{HashMap, HashSet};);
std_code!(with_ckpt, use crate::collections::{HashMap, HashSet};);

#[test]
fn std_code_compiles_and_agrees_with_ckpt_types() {
    let text = "the quick brown fox jumps over the lazy dog the fox dog end";
    assert_eq!(with_std::run(text), with_ckpt::run(text));
}

#[test]
fn set_operators_match_std() {
    let a: HashSet<u32> = [1, 2, 3].into_iter().collect();
    let b: HashSet<u32> = [2, 3, 4].into_iter().collect();
    let sorted = |s: HashSet<u32>| {
        let mut v: Vec<u32> = s.into_iter().collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&a | &b), [1, 2, 3, 4]);
    assert_eq!(sorted(&a & &b), [2, 3]);
    assert_eq!(sorted(&a - &b), [1]);
    assert_eq!(sorted(&a ^ &b), [1, 4]);
}
