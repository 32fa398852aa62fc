struct Handle {
    id: u32,
}

#[ckpt::checkpointable]
fn main() {
    let h = Handle { id: 7 };
    ckpt::save().unwrap();
    println!("{}", h.id);
}
