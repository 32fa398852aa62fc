//! BFS through a maze: `while let Some(((r, c), dist)) = queue.pop_front()` on a
//! `VecDeque` with a `HashSet` of visited cells, saving every few expansions.
use std::collections::{HashSet, VecDeque};

const MAZE: [&str; 10] = [
    "S..#......",
    ".#.#.####.",
    ".#...#....",
    ".####.#.#.",
    "......#.#.",
    "#.###.#.##",
    "..#...#...",
    ".##.###.#.",
    "....#...#E",
    ".#....#...",
];

fn find(grid: &[Vec<char>], target: char) -> (usize, usize) {
    for (r, row) in grid.iter().enumerate() {
        if let Some(c) = row.iter().position(|&ch| ch == target) {
            return (r, c);
        }
    }
    panic!("no {target} in the maze");
}

#[ckpt::checkpointable]
fn main() {
    let grid: Vec<Vec<char>> = MAZE.iter().map(|row| row.chars().collect()).collect();
    let start = find(&grid, 'S');
    let end = find(&grid, 'E');
    let mut queue = VecDeque::new();
    queue.push_back((start, 0u32));
    let mut seen = HashSet::new();
    seen.insert(start);
    let mut expanded = 0;
    let mut answer = None;
    while let Some(((r, c), dist)) = queue.pop_front() {
        expanded += 1;
        if expanded % 5 == 0 {
            ckpt::save().expect("checkpoint");
            println!(
                "expanded {expanded}, frontier {}, at ({r},{c}) distance {dist}",
                queue.len()
            );
        }
        if (r, c) == end {
            answer = Some(dist);
            break;
        }
        for (dr, dc) in [(0i32, 1i32), (1, 0), (0, -1), (-1, 0)] {
            let nr = r as i32 + dr;
            let nc = c as i32 + dc;
            if nr < 0 || nc < 0 || nr >= grid.len() as i32 || nc >= grid[0].len() as i32 {
                continue;
            }
            let next = (nr as usize, nc as usize);
            if grid[next.0][next.1] != '#' && seen.insert(next) {
                queue.push_back((next, dist + 1));
            }
        }
    }
    match answer {
        Some(d) => println!("shortest path: {d} steps ({expanded} cells expanded)"),
        None => println!("no path"),
    }
}
