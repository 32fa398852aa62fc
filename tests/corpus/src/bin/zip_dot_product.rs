//! `weights.iter().zip(inputs.iter())` (with `enumerate`) and zip of an array with a
//! borrowed array, saving inside the loop bodies.
#[ckpt::checkpointable]
fn main() {
    let weights = vec![
        0.5, -1.25, 2.0, 0.75, -0.5, 1.5, 3.0, -2.25, 0.125, 1.0, -0.875, 2.5,
    ];
    let inputs: Vec<f64> = (0..weights.len()).map(|i| (i as f64 - 4.0) / 2.0).collect();
    let mut dot = 0.0;
    for (step, (w, x)) in weights.iter().zip(inputs.iter()).enumerate() {
        dot += w * x;
        if step % 2 == 1 {
            ckpt::save().expect("checkpoint");
            println!("after {} terms: {:.4} (last w={w}, x={x})", step + 1, dot);
        }
    }
    let names = ["north", "east", "south", "west"];
    let counts = [3u32, 1, 4, 1];
    for (name, count) in names.iter().zip(counts.iter()) {
        ckpt::save().expect("checkpoint");
        println!("{name:>5}: {}", "#".repeat(*count as usize));
    }
    println!("dot product = {dot:.6}");
}
