//! Conway's Game of Life on a `Vec<Vec<bool>>` with a glider and a blinker; one save per
//! generation (`ckpt::save().unwrap()`), population printed after each.
use ckpt::checkpointable;

const SIZE: usize = 12;

fn neighbours(grid: &[Vec<bool>], r: usize, c: usize) -> usize {
    let mut n = 0;
    for dr in [SIZE - 1, 0, 1] {
        for dc in [SIZE - 1, 0, 1] {
            if dr == 0 && dc == 0 {
                continue;
            }
            if grid[(r + dr) % SIZE][(c + dc) % SIZE] {
                n += 1;
            }
        }
    }
    n
}

fn step(grid: &[Vec<bool>]) -> Vec<Vec<bool>> {
    let mut next = vec![vec![false; SIZE]; SIZE];
    for r in 0..SIZE {
        for c in 0..SIZE {
            let n = neighbours(grid, r, c);
            next[r][c] = matches!((grid[r][c], n), (true, 2) | (true, 3) | (false, 3));
        }
    }
    next
}

#[checkpointable]
fn main() {
    let mut grid = vec![vec![false; SIZE]; SIZE];
    for (r, c) in [
        (0, 1),
        (1, 2),
        (2, 0),
        (2, 1),
        (2, 2),
        (6, 6),
        (6, 7),
        (6, 8),
    ] {
        grid[r][c] = true;
    }
    for generation in 1..=16 {
        grid = step(&grid);
        ckpt::save().unwrap();
        let population: usize = grid
            .iter()
            .map(|row| row.iter().filter(|&&x| x).count())
            .sum();
        println!("generation {generation:>2}: population {population}");
    }
    for row in &grid {
        let line: String = row
            .iter()
            .map(|&alive| if alive { '#' } else { '.' })
            .collect();
        println!("{line}");
    }
}
