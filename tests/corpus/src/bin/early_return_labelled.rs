//! Early `return` from a checkpointable search function that saves, and labelled
//! `continue 'rows` / `break 'search` in nested loops with saves inside.
#[ckpt::checkpointable]
fn find_pair(nums: &[i32], target: i32) -> Option<(usize, usize)> {
    for i in 0..nums.len() {
        if i % 3 == 0 {
            ckpt::save().expect("checkpoint");
            println!("  scanning from index {i} for {target}");
        }
        for j in i + 1..nums.len() {
            if nums[i] + nums[j] == target {
                return Some((i, j));
            }
        }
    }
    None
}

#[ckpt::checkpointable]
fn main() {
    let nums = vec![3, 9, -4, 12, 7, 1, 15, -8, 6, 2];
    for target in [16, 100, -2] {
        match find_pair(&nums, target) {
            Some((i, j)) => println!(
                "{target} = nums[{i}] + nums[{j}] = {} + {}",
                nums[i], nums[j]
            ),
            None => println!("no pair sums to {target}"),
        }
    }
    let grid = [
        [1, 2, 3, 4],
        [5, 0, 7, 8],
        [9, 10, 11, 12],
        [13, 14, 0, 16],
        [17, 18, 19, 99],
    ];
    let mut row_sums = Vec::new();
    let mut found = None;
    'search: for (r, row) in grid.iter().enumerate() {
        let mut sum = 0;
        for (c, &v) in row.iter().enumerate() {
            if v == 0 {
                println!("row {r} has a hole at column {c}, skipping");
                continue 'search;
            }
            if v > 50 {
                found = Some((r, c));
                break 'search;
            }
            sum += v;
        }
        ckpt::save().expect("checkpoint");
        println!("row {r} sum {sum}");
        row_sums.push(sum);
    }
    println!("row sums {:?}, big value at {:?}", row_sums, found);
}
