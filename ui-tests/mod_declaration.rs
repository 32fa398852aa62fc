// On a `mod foo;` declaration the macro cannot see the module's file.
#[ckpt::checkpointable]
mod elsewhere;

fn main() {}
