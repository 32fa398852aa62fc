//! A singly linked list of `Option<Box<Node>>`: pushed, reversed in place and walked with
//! `while let Some(node) = cur` across saves.
#[derive(Debug, ckpt::State)]
struct Node {
    val: i32,
    next: Option<Box<Node>>,
}

#[derive(Debug, ckpt::State)]
struct List {
    head: Option<Box<Node>>,
    len: usize,
}

impl List {
    fn new() -> Self {
        List { head: None, len: 0 }
    }

    fn push(&mut self, val: i32) {
        let old = self.head.take();
        self.head = Some(Box::new(Node { val, next: old }));
        self.len += 1;
    }

    fn pop(&mut self) -> Option<i32> {
        self.head.take().map(|node| {
            self.head = node.next;
            self.len -= 1;
            node.val
        })
    }

    fn reverse(&mut self) {
        let mut prev: Option<Box<Node>> = None;
        let mut cur = self.head.take();
        while let Some(mut node) = cur {
            cur = node.next.take();
            node.next = prev;
            prev = Some(node);
        }
        self.head = prev;
    }

    fn render(&self) -> String {
        let mut parts = Vec::new();
        let mut cur = &self.head;
        while let Some(node) = cur {
            parts.push(node.val.to_string());
            cur = &node.next;
        }
        parts.join(" -> ")
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut list = List::new();
    for i in 0..12 {
        list.push(i * i);
        if i % 2 == 1 {
            ckpt::save().expect("checkpoint");
            println!("pushed {i}: {}", list.render());
        }
    }
    list.reverse();
    ckpt::save().expect("checkpoint");
    println!("reversed: {}", list.render());
    let mut cur = &list.head;
    let mut even_sum = 0;
    while let Some(node) = cur {
        if node.val % 2 == 0 {
            even_sum += node.val;
            if node.val % 3 == 0 {
                ckpt::save().expect("checkpoint");
                println!("even square {} (sum {even_sum})", node.val);
            }
        }
        cur = &node.next;
    }
    while list.len > 8 {
        let v = list.pop();
        println!("popped {:?}", v);
    }
    println!("{} left: {}", list.len, list.render());
}
