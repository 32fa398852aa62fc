//! The Rust book's tree (`Rc<Node>` children in a `RefCell<Vec<..>>`, `Weak` parent links),
//! built in main and summed by a recursive checkpointable function that saves.
use std::cell::RefCell;
use std::rc::{Rc, Weak};

#[derive(Debug, ckpt::State)]
struct Node {
    value: i32,
    parent: RefCell<Weak<Node>>,
    children: RefCell<Vec<Rc<Node>>>,
}

fn new_node(value: i32) -> Rc<Node> {
    Rc::new(Node {
        value,
        parent: RefCell::new(Weak::new()),
        children: RefCell::new(vec![]),
    })
}

fn depth(node: &Rc<Node>) -> usize {
    match node.parent.borrow().upgrade() {
        Some(p) => 1 + depth(&p),
        None => 0,
    }
}

#[ckpt::checkpointable]
fn sum_tree(node: &Rc<Node>) -> i32 {
    let mut total = node.value;
    for child in node.children.borrow().iter() {
        total += sum_tree(child);
    }
    if !node.children.borrow().is_empty() {
        ckpt::save().expect("checkpoint");
        println!("  subtree at {} sums to {total}", node.value);
    }
    total
}

#[ckpt::checkpointable]
fn main() {
    let root = new_node(1);
    for i in 0..3 {
        let child = new_node(10 * (i + 1));
        *child.parent.borrow_mut() = Rc::downgrade(&root);
        root.children.borrow_mut().push(Rc::clone(&child));
        for j in 0..3 {
            let leaf = new_node(child.value + j + 1);
            *leaf.parent.borrow_mut() = Rc::downgrade(&child);
            child.children.borrow_mut().push(leaf);
            if j != 1 {
                ckpt::save().expect("checkpoint");
            }
            println!("added leaf {} under {}", child.value + j + 1, child.value);
        }
    }
    let total = sum_tree(&root);
    println!("tree total {total}");
    let first_leaf = Rc::clone(&root.children.borrow()[0].children.borrow()[0]);
    println!(
        "leaf {} has depth {}, parent {:?}, root strong={} weak={}",
        first_leaf.value,
        depth(&first_leaf),
        first_leaf.parent.borrow().upgrade().map(|p| p.value),
        Rc::strong_count(&root),
        Rc::weak_count(&root)
    );
}
