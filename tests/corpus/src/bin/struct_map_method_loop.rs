//! A struct with a `HashMap<String, Vec<u32>>` field; a `&self` method loops over the
//! map with a save inside, a `&mut self` method updates entries between saves.
use std::collections::HashMap;

#[derive(ckpt::State, Default)]
struct Index {
    postings: HashMap<String, Vec<u32>>,
    docs: u32,
}

#[ckpt::checkpointable]
impl Index {
    fn add(&mut self, text: &str) {
        self.docs += 1;
        for word in text.split_whitespace() {
            self.postings
                .entry(word.to_lowercase())
                .or_default()
                .push(self.docs);
        }
        ckpt::save().expect("checkpoint");
    }

    fn longest_posting(&self) -> (String, usize) {
        let mut best = (String::new(), 0);
        for (word, docs) in &self.postings {
            if docs.len() > best.1 || (docs.len() == best.1 && *word < best.0) {
                best = (word.clone(), docs.len());
            }
            ckpt::save().expect("checkpoint");
        }
        best
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut idx = Index::default();
    let docs = [
        "the cat sat on the mat",
        "The dog chased the cat",
        "a bird sat on the dog",
    ];
    for d in docs {
        idx.add(d);
        println!("indexed {} docs, {} words", idx.docs, idx.postings.len());
    }
    let (word, n) = idx.longest_posting();
    println!("most frequent: {word} in {n} postings");
}
