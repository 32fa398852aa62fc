//! A `Vec` consumed by `for x in batch` in one branch of an `if` and only borrowed (then
//! moved into another Vec) in the other branch, with saves in both branches.
#[ckpt::checkpointable]
fn main() {
    let mut total = 0;
    let mut kept: Vec<Vec<u32>> = Vec::new();
    for batch_no in 0..6u32 {
        let batch: Vec<u32> = (0..6).map(|i| batch_no * 10 + i).collect();
        if batch_no % 2 == 0 {
            for x in batch {
                total += x;
                if x % 3 == 0 {
                    ckpt::save().expect("checkpoint");
                    println!("consumed {x}, total {total}");
                }
            }
        } else {
            ckpt::save().expect("checkpoint");
            println!(
                "kept batch {batch_no}: {:?}, sum {}",
                batch,
                batch.iter().sum::<u32>()
            );
            kept.push(batch);
        }
    }
    let kept_sum: u32 = kept.iter().flatten().sum();
    println!(
        "total consumed {total}, kept {} batches summing to {kept_sum}",
        kept.len()
    );
}
