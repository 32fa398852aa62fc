//! `match shape` on a `&Shape` parameter and `match &shapes[i]` in main, with saves
//! inside arms and the bound references used after the save.
#[derive(Debug, ckpt::State)]
enum Shape {
    Circle { r: f64 },
    Rect { w: f64, h: f64 },
    Triangle(f64, f64, f64),
}

#[ckpt::checkpointable]
fn area(shape: &Shape) -> f64 {
    match shape {
        Shape::Circle { r } => {
            ckpt::save().expect("checkpoint");
            println!("  circle of radius {r}");
            std::f64::consts::PI * r * r
        }
        Shape::Rect { w, h } => {
            if w == h {
                ckpt::save().expect("checkpoint");
                println!("  square with side {w}");
            } else {
                println!("  rectangle {w} x {h}");
            }
            w * h
        }
        Shape::Triangle(a, b, c) => {
            let s = (a + b + c) / 2.0;
            ckpt::save().expect("checkpoint");
            println!("  triangle {a}, {b}, {c}");
            (s * (s - a) * (s - b) * (s - c)).sqrt()
        }
    }
}

#[ckpt::checkpointable]
fn main() {
    let shapes = vec![
        Shape::Circle { r: 1.0 },
        Shape::Rect { w: 2.0, h: 3.0 },
        Shape::Triangle(3.0, 4.0, 5.0),
        Shape::Rect { w: 4.0, h: 4.0 },
        Shape::Circle { r: 2.5 },
        Shape::Triangle(5.0, 5.0, 6.0),
        Shape::Rect { w: 1.5, h: 0.5 },
        Shape::Circle { r: 0.1 },
        Shape::Circle { r: 3.0 },
        Shape::Triangle(2.0, 3.0, 4.0),
    ];
    let mut total = 0.0;
    for i in 0..shapes.len() {
        match &shapes[i] {
            Shape::Circle { r } if *r > 2.0 => {
                ckpt::save().expect("checkpoint");
                println!("shape {i} is a big circle (r = {r})");
            }
            Shape::Rect { w, .. } => println!("shape {i} is a rectangle {w} wide"),
            _ => println!("shape {i}"),
        }
        let a = area(&shapes[i]);
        total += a;
        println!("shape {i}: area {a:.3}, total {total:.3}");
    }
}
