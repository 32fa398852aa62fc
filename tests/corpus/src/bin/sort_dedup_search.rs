//! Sorting with `sort_by_key` and `sort_unstable_by`, `dedup`, `binary_search` and
//! `retain`, with saves between the steps and inside a lookup loop.
#[ckpt::checkpointable]
fn main() {
    let mut v: Vec<u32> = (0..40).map(|i| (i * 7919) % 61).collect();
    v.sort_unstable();
    ckpt::save().expect("checkpoint");
    v.dedup();
    println!("{} distinct values", v.len());
    ckpt::save().expect("checkpoint");
    v.retain(|x| x % 3 != 0);
    let queries = [5u32, 17, 18, 33, 60];
    let mut hits = 0;
    for q in queries {
        match v.binary_search(&q) {
            Ok(pos) => {
                hits += 1;
                println!("{q} at {pos}");
            }
            Err(pos) => println!("{q} would go at {pos}"),
        }
        ckpt::save().expect("checkpoint");
    }
    let mut pairs: Vec<(String, u32)> = v.iter().map(|x| (format!("k{}", x % 5), *x)).collect();
    pairs.sort_by_key(|(k, x)| (k.clone(), std::cmp::Reverse(*x)));
    ckpt::save().expect("checkpoint");
    println!("{hits} hits; first pairs {:?}", &pairs[..3]);
}
