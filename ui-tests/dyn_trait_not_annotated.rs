// Trait objects kept across a save point: the trait is not #[checkpointable].
trait Shape {
    fn area(&self) -> f64;
}

#[derive(ckpt::State)]
struct Square(f64);

impl Shape for Square {
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

#[ckpt::checkpointable]
fn main() {
    let shapes: Vec<Box<dyn Shape>> = vec![Box::new(Square(2.0))];
    ckpt::save().unwrap();
    println!("{}", shapes[0].area());
}
