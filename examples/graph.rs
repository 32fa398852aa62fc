//! Shortest paths and a PageRank over a graph of `Rc<RefCell<Node>>` with cycles
//! (back edges are `Weak`), checkpointed in the middle of its relaxation rounds.
//!
//! ```text
//! cargo run --release --example graph -- --nodes 3000
//! kill -9 <pid>
//! cargo run --release --example graph -- --restore graph.ckpt
//! ```
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use ckpt::checkpointable;

#[derive(ckpt::State)]
struct Node {
    id: u32,
    dist: u64,
    rank: f64,
    next_rank: f64,
    /// Outgoing edges; `Weak` so the cycles they form do not leak.
    out: Vec<(Weak<RefCell<Node>>, u64)>,
    /// The node this one was first reached from.
    parent: Weak<RefCell<Node>>,
}

/// The graph owns its nodes; edges point between them.
#[derive(ckpt::State)]
struct Graph {
    nodes: Vec<Rc<RefCell<Node>>>,
    /// A second handle on the start node: restored as the same object.
    start: Rc<RefCell<Node>>,
}

fn build(n: u32, seed: u64) -> Graph {
    let mut s = seed | 1;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let nodes: Vec<Rc<RefCell<Node>>> = (0..n)
        .map(|id| {
            Rc::new(RefCell::new(Node {
                id,
                dist: u64::MAX,
                rank: 1.0 / n as f64,
                next_rank: 0.0,
                out: Vec::new(),
                parent: Weak::new(),
            }))
        })
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        // A ring (so every node is reachable and there are cycles) plus random chords.
        let ring = &nodes[(i + 1) % nodes.len()];
        node.borrow_mut()
            .out
            .push((Rc::downgrade(ring), 1 + rnd() % 9));
        for _ in 0..3 {
            let to = &nodes[(rnd() % n as u64) as usize];
            node.borrow_mut()
                .out
                .push((Rc::downgrade(to), 1 + rnd() % 100));
        }
    }
    let start = nodes[0].clone();
    start.borrow_mut().dist = 0;
    Graph { nodes, start }
}

/// One Bellman-Ford relaxation round; returns whether anything changed.
#[checkpointable]
fn relax(g: &mut Graph, round: u32) -> bool {
    let mut changed = false;
    for i in 0..g.nodes.len() {
        let from = g.nodes[i].clone();
        let d = from.borrow().dist;
        if d == u64::MAX {
            continue;
        }
        let out: Vec<(Rc<RefCell<Node>>, u64)> = from
            .borrow()
            .out
            .iter()
            .filter_map(|(w, c)| w.upgrade().map(|n| (n, *c)))
            .collect();
        for (to, cost) in out {
            let mut t = to.borrow_mut();
            if d + cost < t.dist {
                t.dist = d + cost;
                t.parent = Rc::downgrade(&from);
                changed = true;
            }
        }
        if i % 500 == 499 {
            ckpt::save().expect("checkpoint");
        }
    }
    let _ = round;
    changed
}

/// One PageRank iteration with damping 0.85.
#[checkpointable]
fn pagerank_step(g: &mut Graph) {
    let n = g.nodes.len() as f64;
    for node in &g.nodes {
        node.borrow_mut().next_rank = 0.15 / n;
    }
    for i in 0..g.nodes.len() {
        let (share, targets) = {
            let from = g.nodes[i].borrow();
            let targets: Vec<Rc<RefCell<Node>>> =
                from.out.iter().filter_map(|(w, _)| w.upgrade()).collect();
            (0.85 * from.rank / from.out.len() as f64, targets)
        };
        for to in targets {
            to.borrow_mut().next_rank += share;
        }
    }
    for node in &g.nodes {
        let mut nb = node.borrow_mut();
        nb.rank = nb.next_rank;
    }
    ckpt::save().expect("checkpoint");
}

fn nodes_from_args() -> u32 {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--nodes") {
        Some(i) => args
            .get(i + 1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                eprintln!("usage: graph [--nodes N] [--iterations K]");
                std::process::exit(2)
            }),
        None => 3000,
    }
}

fn iterations_from_args() -> u32 {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--iterations") {
        Some(i) => args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(40),
        None => 40,
    }
}

#[checkpointable]
fn main() {
    let n = nodes_from_args();
    let iterations = iterations_from_args();
    let mut g = build(n, 7);
    let mut round = 0u32;
    while relax(&mut g, round) {
        round += 1;
        println!("relaxation round {round}");
    }
    for it in 0..iterations {
        pagerank_step(&mut g);
        if it % 10 == 9 {
            println!("pagerank iteration {}", it + 1);
        }
    }
    let far = g.nodes.iter().map(|n| n.borrow().dist).max().unwrap_or(0);
    let dist_sum: u64 = g.nodes.iter().map(|n| n.borrow().dist).sum();
    // Walk the shortest-path tree back from the farthest node through `parent`.
    let mut hops = 0;
    let mut cur = g
        .nodes
        .iter()
        .max_by_key(|n| (n.borrow().dist, n.borrow().id))
        .cloned();
    while let Some(c) = cur {
        let p = c.borrow().parent.upgrade();
        if p.is_some() {
            hops += 1;
        }
        cur = p;
    }
    let top = g
        .nodes
        .iter()
        .max_by(|a, b| a.borrow().rank.total_cmp(&b.borrow().rank))
        .map(|n| (n.borrow().id, n.borrow().rank))
        .unwrap_or((0, 0.0));
    let rank_sum: f64 = g.nodes.iter().map(|n| n.borrow().rank).sum();
    println!(
        "result: {round} rounds, farthest {far}, distance sum {dist_sum}, path {hops} hops, top node {} rank {:.12}, rank sum {rank_sum:.12}, start shared {}",
        top.0,
        top.1,
        Rc::ptr_eq(&g.start, &g.nodes[0])
    );
}
